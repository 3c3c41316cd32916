package main

import (
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/hourglass-xp/crossplane-hourglass/apis/hourglass/v1alpha1"
	"github.com/hourglass-xp/crossplane-hourglass/functions/performer/input/v1beta1"
	"github.com/hourglass-xp/crossplane-hourglass/internal/names"
	"github.com/hourglass-xp/crossplane-hourglass/internal/podstatus"
)

// ResourceDisruptionBudget is the composed resource name of the
// performer's PodDisruptionBudget.
const ResourceDisruptionBudget = "poddisruptionbudget"

// Built-in defaults of the disruption input (documented in the README).
const (
	DefaultDrainTimeoutSeconds       = 600
	DefaultNodeLossTolerationSeconds = 30
)

// surgeReplicas is the serving Deployment's size while its pod sits on a
// cordoned or lost node: the pod there and its replacement.
const surgeReplicas = 2

// Disruption is how the platform protects performers from node drains and
// node loss.
type Disruption struct {
	// Budget composes the PodDisruptionBudget and surges the serving
	// Deployment off cordoned and lost nodes.
	Budget bool
	// DrainTimeout is how long a drain waits for a ready replacement.
	DrainTimeout time.Duration
	// NodeLossTolerationSeconds is the pods' toleration of the not-ready
	// and unreachable taints (nodes.go).
	NodeLossTolerationSeconds int64
}

func defaultDisruption() Disruption {
	return Disruption{
		Budget:                    true,
		DrainTimeout:              DefaultDrainTimeoutSeconds * time.Second,
		NodeLossTolerationSeconds: DefaultNodeLossTolerationSeconds,
	}
}

// apply sets what the input sets. The input's CRD schema has the same
// bounds; the function checks them again because a Composition's input is
// not validated against it by Crossplane.
func (d *Disruption) apply(in *v1beta1.Disruption, path *field.Path) error {
	if in == nil {
		return nil
	}
	setBool(&d.Budget, in.Budget)
	if s := in.DrainTimeoutSeconds; s != nil {
		if *s < 1 {
			return field.Invalid(path.Child("drainTimeoutSeconds"), *s, "must be at least 1")
		}
		d.DrainTimeout = time.Duration(*s) * time.Second
	}
	if s := in.NodeLossTolerationSeconds; s != nil {
		if *s < 0 {
			return field.Invalid(path.Child("nodeLossTolerationSeconds"), *s, "must not be negative")
		}
		d.NodeLossTolerationSeconds = int64(*s)
	}
	return nil
}

// NodeDisruption is what the nodes of the serving revision's pods ask of
// this call. Like the rest of the plan it is derived from observed state
// alone (pods, nodes, their timestamps), so a restart resumes it.
type NodeDisruption struct {
	// Nodes are the nodes of the serving revision's pods, which the
	// function asks Crossplane for (nodes.go).
	Nodes []string
	// Node runs a pod of the serving revision and is cordoned or not
	// ready; empty when no serving pod is disrupted.
	Node string
	// Pod is the serving revision's pod on Node.
	Pod string
	// Cordoned and NotReady are Node's state.
	Cordoned bool
	NotReady bool
	// Surge runs a second pod of the serving revision, on another node.
	Surge bool
	// Since is when the replacement pod was created, nil before it is.
	Since *metav1.Time
	// TimedOut: a drain waited DrainTimeout from Since and no replacement
	// is ready, so the budget lets the eviction through.
	TimedOut bool
	// Timeout is the platform's drain timeout, for messages.
	Timeout time.Duration
	// Requeue is when the timeout falls, zero when nothing waits for it.
	Requeue time.Duration
}

// disrupt plans what the serving revision's nodes ask and adds its requeue
// to the plan.
func (plan *Plan) disrupt(d Disruption, o *Observed, now time.Time) {
	plan.Disruption = PlanDisruption(d, plan.Serving.ID, o, now)
	if plan.Disruption.Requeue > 0 {
		plan.requeue(plan.Disruption.Requeue)
	}
}

// PlanDisruption finds the serving revision's pod on a cordoned or lost
// node and plans its replacement:
//
//  1. The node is cordoned (spec.unschedulable, what kubectl drain does
//     first) or not Ready: the serving Deployment surges to two replicas,
//     so the ReplicaSet starts a pod on another node (a cordoned or lost
//     node takes no new pods). The PodDisruptionBudget (minAvailable 1)
//     refuses the eviction of the old pod while it is the only ready one.
//  2. The replacement is ready: the budget has two healthy pods and lets
//     the eviction through; the Service serves from both meanwhile.
//  3. The old pod is gone (or terminating): back to one replica.
//
// A drain never waits forever: with no ready replacement DrainTimeout
// after the replacement pod's creation (the hardware it needs may exist
// only on the drained node), or after the Deployment began failing to
// create it, the budget allows the eviction (TimedOut).
// The start is the pod's creation, not the clock, so the timeout survives
// restarts and outdated XRs (see Observed.ReadySince).
func PlanDisruption(d Disruption, serving string, o *Observed, now time.Time) *NodeDisruption {
	nd := &NodeDisruption{Timeout: d.DrainTimeout}
	var replacements []*corev1.Pod
	for i := range o.Pods {
		pod := &o.Pods[i]
		if pod.Labels[names.LabelRevision] != serving {
			continue
		}
		node := pod.Spec.NodeName
		if node != "" && !containsString(nd.Nodes, node) {
			nd.Nodes = append(nd.Nodes, node)
		}
		cordoned, notReady := nodeState(o.Nodes[node])
		switch {
		case pod.DeletionTimestamp != nil:
			// Gone for the ReplicaSet. A pod stays terminating on a lost
			// node until the node returns or is deleted: it still tells
			// why the performer does not serve.
			if notReady && nd.Node == "" {
				nd.Node, nd.Pod, nd.NotReady = node, pod.Name, true
			}
		case cordoned || notReady:
			nd.Node, nd.Pod, nd.Cordoned, nd.NotReady = node, pod.Name, cordoned, notReady
			nd.Surge = d.Budget
		default:
			replacements = append(replacements, pod)
		}
	}
	if !nd.Surge {
		return nd
	}
	ready := false
	for _, pod := range replacements {
		ready = ready || podstatus.Ready(pod)
		if nd.Since == nil || pod.CreationTimestamp.Before(nd.Since) {
			nd.Since = new(pod.CreationTimestamp)
		}
	}
	if nd.Since == nil {
		// No replacement pod could be created (a quota, an admission
		// webhook): the Deployment's ReplicaFailure says since when.
		nd.Since = replicaFailureSince(o.Deployments[serving])
	}
	// Only a drain evicts through the budget; a lost node's pod is
	// evicted by its taint, which no budget holds.
	if ready || !nd.Cordoned || nd.Since == nil || nd.Since.IsZero() {
		return nd
	}
	left := nd.Since.Add(d.DrainTimeout).Sub(now)
	if left <= 0 {
		nd.TimedOut = true
		return nd
	}
	nd.Requeue = left
	return nd
}

// replicaFailureSince is when a Deployment started failing to create pods,
// nil when it does not.
func replicaFailureSince(d *appsv1.Deployment) *metav1.Time {
	if d == nil {
		return nil
	}
	c := deploymentCondition(d, appsv1.DeploymentReplicaFailure)
	if c == nil || c.Status != corev1.ConditionTrue || c.LastTransitionTime.IsZero() {
		return nil
	}
	return new(c.LastTransitionTime)
}

// DisruptionBudget is the PodDisruptionBudget of a performer: at least one
// pod of the serving revision stays available through voluntary
// disruptions (drains, autoscaler scale-downs), unless a drain timed out.
// Unhealthy pods may always be evicted: a performer that is not serving
// anyway must not block a drain.
func DisruptionBudget(p *Performer, plan *Plan) *policyv1.PodDisruptionBudget {
	minAvailable := intstr.FromInt32(1)
	if plan.Disruption.TimedOut {
		minAvailable = intstr.FromInt32(0)
	}
	return &policyv1.PodDisruptionBudget{
		TypeMeta: metav1.TypeMeta{APIVersion: "policy/v1", Kind: "PodDisruptionBudget"},
		ObjectMeta: metav1.ObjectMeta{
			Name:      names.PodDisruptionBudget(p.Name),
			Namespace: p.Namespace,
			Labels:    names.Labels(p.Name, p.Spec.AVSAddress, "", ""),
		},
		Spec: policyv1.PodDisruptionBudgetSpec{
			MinAvailable:               &minAvailable,
			Selector:                   &metav1.LabelSelector{MatchLabels: names.Selector(p.Name, plan.Serving.ID)},
			UnhealthyPodEvictionPolicy: new(policyv1.AlwaysAllow),
		},
	}
}

// withReplicas sizes a revision's Deployment: one pod, two while the
// serving one surges. A surged Deployment may have one of two pods
// unavailable and still be Available, so its Available condition (and the
// ready time read from it) does not move while the replacement starts.
func withReplicas(d *appsv1.Deployment, surge bool) {
	if !surge {
		d.Spec.Replicas = new(int32(1))
		d.Spec.Strategy = appsv1.DeploymentStrategy{}
		return
	}
	d.Spec.Replicas = new(int32(surgeReplicas))
	d.Spec.Strategy = appsv1.DeploymentStrategy{
		Type:          appsv1.RollingUpdateDeploymentStrategyType,
		RollingUpdate: &appsv1.RollingUpdateDeployment{MaxUnavailable: new(intstr.FromInt32(1))},
	}
}

// failure is why the serving revision does not serve when its pod's node
// is lost: nil when no serving pod is on a lost node.
func (nd *NodeDisruption) failure() *Failure {
	if nd == nil || !nd.NotReady {
		return nil
	}
	return &Failure{
		Reason:  v1alpha1.ReasonNodeNotReady,
		Message: fmt.Sprintf("node %s of pod %s is not ready; the pod is replaced on another node", nd.Node, nd.Pod),
	}
}

// drainTimedOut is the Degraded condition of a drain that timed out, nil
// otherwise.
func (nd *NodeDisruption) drainTimedOut() *Condition {
	if nd == nil || !nd.TimedOut {
		return nil
	}
	return &Condition{
		Type: v1alpha1.ConditionDegraded, Status: true, Reason: v1alpha1.ReasonDrainTimedOut,
		Message: fmt.Sprintf("node %s is drained and no other node ran a ready replacement of pod %s within %s: the eviction is allowed",
			nd.Node, nd.Pod, nd.Timeout),
	}
}

// moving is the Progressing condition while a serving pod moves off a
// cordoned or lost node, nil otherwise.
func (nd *NodeDisruption) moving(revision string) *Condition {
	if nd == nil || !nd.Surge {
		return nil
	}
	state := "cordoned"
	if nd.NotReady {
		state = "not ready"
	}
	return &Condition{
		Type: v1alpha1.ConditionProgressing, Status: true, Reason: v1alpha1.ReasonNodeDisrupted,
		Message: fmt.Sprintf("node %s of pod %s is %s: starting another pod of revision %s elsewhere", nd.Node, nd.Pod, state, revision),
	}
}

func containsString(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}
