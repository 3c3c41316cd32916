package main

import (
	"sort"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/crossplane/crossplane-runtime/v2/pkg/errors"
	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"
	"github.com/crossplane/function-sdk-go/resource"

	"github.com/hourglass-xp/crossplane-hourglass/internal/names"
	"github.com/hourglass-xp/crossplane-hourglass/internal/podstatus"
)

const (
	// RequiredPods names the pods the function asks Crossplane for. The
	// function never calls the API server itself: it declares what it needs
	// and Crossplane calls it again with the pods (and watches them, so a pod
	// changing state reconciles the performer).
	RequiredPods = "pods"

	errFmtParsePod = "cannot parse required pod %q"
)

// PodRequirement selects every pod of the performer, all revisions.
func PodRequirement(p *Performer) *fnv1.ResourceSelector {
	return &fnv1.ResourceSelector{
		ApiVersion: "v1",
		Kind:       "Pod",
		Namespace:  new(p.Namespace),
		Match:      &fnv1.ResourceSelector_MatchLabels{MatchLabels: &fnv1.MatchLabels{Labels: names.Identity(p.Name)}},
	}
}

// RequiredPodsOf reads the pods Crossplane passed for RequiredPods, with
// only what PodOf reads: apiVersion, kind, metadata without managedFields,
// status, and of the spec the node it runs on and the node selector and
// affinity that tell a pod waiting for hardware. The rest of a pod
// (containers, volumes, the managed fields) is most of it, and converting
// it twice, protobuf to map and map to typed, was a large part of a call's
// work for nothing.
func RequiredPodsOf(req *fnv1.RunFunctionRequest) []resource.Required {
	items := req.GetRequiredResources()[RequiredPods].GetItems()
	out := make([]resource.Required, 0, len(items))
	for _, i := range items {
		f := i.GetResource().GetFields()
		obj := map[string]any{"metadata": metadataOf(f["metadata"])}
		for _, k := range []string{"apiVersion", "kind", "status"} {
			if v, ok := f[k]; ok {
				obj[k] = v.AsInterface()
			}
		}
		spec := map[string]any{}
		for k, v := range f["spec"].GetStructValue().GetFields() {
			if podSpecRead[k] {
				spec[k] = v.AsInterface()
			}
		}
		if len(spec) > 0 {
			obj["spec"] = spec
		}
		out = append(out, resource.Required{Resource: &unstructured.Unstructured{Object: obj}})
	}
	return out
}

// podSpecRead are the pod spec fields PodOf reads.
var podSpecRead = map[string]bool{"nodeName": true, "nodeSelector": true, "affinity": true}

// PodsFrom parses the required pods.
func PodsFrom(rs []resource.Required) ([]corev1.Pod, error) {
	pods := make([]corev1.Pod, 0, len(rs))
	for _, r := range rs {
		pod := corev1.Pod{}
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(r.Resource.Object, &pod); err != nil {
			return nil, errors.Wrapf(err, errFmtParsePod, r.Resource.GetName())
		}
		pods = append(pods, pod)
	}
	return pods, nil
}

// PodState is what one revision's pod tells.
type PodState struct {
	// Name is the pod serving the revision, or the newest one when none
	// is ready: the one whose state explains why.
	Name      string
	Ready     bool
	Scheduled bool
	// Failure is set when the pod will not become ready without a change.
	Failure *Failure
}

// PodOf picks and diagnoses the pod of a revision. It returns nil when the
// revision has no pod (yet, or pods are not observed). hardwareLabels are
// the node label keys of the performer's hardware constraints: the pod
// waits for hardware when nodes are rejected on them.
func PodOf(pods []corev1.Pod, revision string, hardwareLabels []string) *PodState {
	var mine []corev1.Pod
	for _, pod := range pods {
		if pod.Labels[names.LabelRevision] == revision && pod.DeletionTimestamp == nil {
			mine = append(mine, pod)
		}
	}
	if len(mine) == 0 {
		return nil
	}
	// Ready pods first, then the newest: deterministic.
	sort.SliceStable(mine, func(i, j int) bool {
		ri, rj := podstatus.Ready(&mine[i]), podstatus.Ready(&mine[j])
		if ri != rj {
			return ri
		}
		return podstatus.Newer(&mine[i], &mine[j])
	})
	return StateOf(&mine[0], hardwareLabels)
}

// StateOf diagnoses one pod.
func StateOf(pod *corev1.Pod, hardwareLabels []string) *PodState {
	d := podstatus.Diagnose(pod, hardwareLabels...)
	st := &PodState{Name: pod.Name, Ready: d.Ready, Scheduled: d.Scheduled}
	if d.Failed() {
		st.Failure = &Failure{Reason: d.Reason, Message: d.Message}
	}
	return st
}
