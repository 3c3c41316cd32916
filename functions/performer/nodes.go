package main

import (
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/crossplane/crossplane-runtime/v2/pkg/errors"
	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"
)

const (
	// RequiredNodePrefix starts the name of each node requirement: one per
	// node that runs a pod of the serving revision, by name. Crossplane
	// watches what it required, so cordoning the node or losing it calls
	// the function.
	RequiredNodePrefix = "node-"

	errFmtParseNode = "cannot parse required node %q"
)

// NodeRequirements asks for nodes by name.
func NodeRequirements(nodes []string) map[string]*fnv1.ResourceSelector {
	rs := make(map[string]*fnv1.ResourceSelector, len(nodes))
	for _, n := range nodes {
		rs[RequiredNodePrefix+n] = &fnv1.ResourceSelector{
			ApiVersion: "v1",
			Kind:       "Node",
			Match:      &fnv1.ResourceSelector_MatchName{MatchName: n},
		}
	}
	return rs
}

// withNodes adds the node requirements to the others.
func withNodes(r *fnv1.Requirements, nodes []string) *fnv1.Requirements {
	if len(nodes) == 0 {
		return r
	}
	if r == nil {
		r = &fnv1.Requirements{}
	}
	if r.Resources == nil {
		r.Resources = map[string]*fnv1.ResourceSelector{}
	}
	for k, v := range NodeRequirements(nodes) {
		r.Resources[k] = v
	}
	return r
}

// NodesFrom reads the required nodes by name, with only what nodeState
// reads: a node's status carries images and volumes that are most of it.
func NodesFrom(req *fnv1.RunFunctionRequest) (map[string]*corev1.Node, error) {
	out := map[string]*corev1.Node{}
	for k, rs := range req.GetRequiredResources() {
		if !strings.HasPrefix(k, RequiredNodePrefix) {
			continue
		}
		for _, i := range rs.GetItems() {
			f := i.GetResource().GetFields()
			obj := map[string]any{"metadata": metadataOf(f["metadata"])}
			if spec := f["spec"].GetStructValue().GetFields(); spec["unschedulable"] != nil {
				obj["spec"] = map[string]any{"unschedulable": spec["unschedulable"].AsInterface()}
			}
			if c := f["status"].GetStructValue().GetFields()["conditions"]; c != nil {
				obj["status"] = map[string]any{"conditions": c.AsInterface()}
			}
			n := &corev1.Node{}
			if err := runtime.DefaultUnstructuredConverter.FromUnstructured(obj, n); err != nil {
				return nil, errors.Wrapf(err, errFmtParseNode, strings.TrimPrefix(k, RequiredNodePrefix))
			}
			out[n.Name] = n
		}
	}
	return out, nil
}

// nodeState tells whether a node is cordoned and whether it is not Ready
// (False, or Unknown when its kubelet stopped reporting). A node not
// observed (not required yet, or gone) is neither: nothing is known.
func nodeState(n *corev1.Node) (cordoned, notReady bool) {
	if n == nil {
		return false, false
	}
	i := slices.IndexFunc(n.Status.Conditions, func(c corev1.NodeCondition) bool { return c.Type == corev1.NodeReady })
	notReady = i >= 0 && n.Status.Conditions[i].Status != corev1.ConditionTrue
	return n.Spec.Unschedulable, notReady
}

// NodeLossTolerations adds the platform's tolerations of the not-ready and
// unreachable NoExecute taints, which decide how long a pod stays bound to
// a lost node (Kubernetes' admission adds 300 s otherwise). A toleration
// the Performer or its hardware already has for such a taint wins: it may
// mean to wait longer, or forever.
func NodeLossTolerations(ts []corev1.Toleration, seconds int64) []corev1.Toleration {
	out := slices.Clip(ts)
	for _, key := range []string{corev1.TaintNodeNotReady, corev1.TaintNodeUnreachable} {
		if slices.ContainsFunc(ts, func(t corev1.Toleration) bool { return toleratesNoExecute(t, key) }) {
			continue
		}
		out = append(out, corev1.Toleration{
			Key: key, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: new(seconds),
		})
	}
	return out
}

// toleratesNoExecute reports whether t covers the NoExecute taint key,
// whatever its value.
func toleratesNoExecute(t corev1.Toleration, key string) bool {
	if t.Effect != "" && t.Effect != corev1.TaintEffectNoExecute {
		return false
	}
	return t.Key == key || (t.Key == "" && t.Operator == corev1.TolerationOpExists)
}
