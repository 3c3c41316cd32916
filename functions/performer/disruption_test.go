package main

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"

	"github.com/hourglass-xp/crossplane-hourglass/apis/hourglass/v1alpha1"
	"github.com/hourglass-xp/crossplane-hourglass/functions/performer/input/v1beta1"
	"github.com/hourglass-xp/crossplane-hourglass/internal/names"
)

func onNode(n string) podOpt { return func(p *corev1.Pod) { p.Spec.NodeName = n } }

func createdAgo(d time.Duration) podOpt {
	return func(p *corev1.Pod) { p.CreationTimestamp = metav1.NewTime(testNow.Add(-d)) }
}

func terminating(p *corev1.Pod) { p.DeletionTimestamp = new(metav1.NewTime(testNow)) }

type nodeOpt func(*corev1.Node)

func node(name string, opts ...nodeOpt) *corev1.Node {
	n := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Status:     corev1.NodeStatus{Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}}},
	}
	for _, o := range opts {
		o(n)
	}
	return n
}

func cordoned(n *corev1.Node) { n.Spec.Unschedulable = true }
func lost(n *corev1.Node)     { n.Status.Conditions[0].Status = corev1.ConditionUnknown }

func nodesOf(ns ...*corev1.Node) map[string]*corev1.Node {
	m := map[string]*corev1.Node{}
	for _, n := range ns {
		m[n.Name] = n
	}
	return m
}

func TestPlanDisruption(t *testing.T) {
	r := revisionFor(t, testPerformer(), DefaultPlatform())
	other := revisionFor(t, testPerformer(func(s *v1alpha1.PerformerSpec) { s.Version = "v2" }), DefaultPlatform())
	d := defaultDisruption()
	d.DrainTimeout = 5 * time.Minute
	off := d
	off.Budget = false

	cases := map[string]struct {
		reason string
		d      Disruption
		pods   []corev1.Pod
		nodes  map[string]*corev1.Node
		dep    *appsv1.Deployment
		want   *NodeDisruption
	}{
		"NoPods": {
			reason: "Without observed pods nothing is known and nothing is asked.",
			d:      d,
			want:   &NodeDisruption{Timeout: d.DrainTimeout},
		},
		"Healthy": {
			reason: "A serving pod on a schedulable, ready node: its node is required, nothing else.",
			d:      d,
			pods:   []corev1.Pod{pod(r, "a", onNode("n1"), ready)},
			nodes:  nodesOf(node("n1")),
			want:   &NodeDisruption{Nodes: []string{"n1"}, Timeout: d.DrainTimeout},
		},
		"NodeNotObservedYet": {
			reason: "A node Crossplane has not passed yet is neither cordoned nor lost.",
			d:      d,
			pods:   []corev1.Pod{pod(r, "a", onNode("n1"), ready)},
			want:   &NodeDisruption{Nodes: []string{"n1"}, Timeout: d.DrainTimeout},
		},
		"OtherRevisionIgnored": {
			reason: "Only the serving revision's pods count: a draining revision on a cordoned node is left to go.",
			d:      d,
			pods:   []corev1.Pod{pod(r, "a", onNode("n1"), ready), pod(other, "b", onNode("n2"), ready)},
			nodes:  nodesOf(node("n1"), node("n2", cordoned)),
			want:   &NodeDisruption{Nodes: []string{"n1"}, Timeout: d.DrainTimeout},
		},
		"CordonedSurges": {
			reason: "The serving pod's node is cordoned: surge; no replacement pod yet, so no timeout runs.",
			d:      d,
			pods:   []corev1.Pod{pod(r, "a", onNode("n1"), ready)},
			nodes:  nodesOf(node("n1", cordoned)),
			want:   &NodeDisruption{Nodes: []string{"n1"}, Node: "n1", Pod: "a", Cordoned: true, Surge: true, Timeout: d.DrainTimeout},
		},
		"ReplacementStarting": {
			reason: "The replacement is pending: the timeout runs from its creation and the function asks to be called when it falls.",
			d:      d,
			pods:   []corev1.Pod{pod(r, "a", onNode("n1"), ready), pod(r, "b", createdAgo(time.Minute))},
			nodes:  nodesOf(node("n1", cordoned)),
			want: &NodeDisruption{Nodes: []string{"n1"}, Node: "n1", Pod: "a", Cordoned: true, Surge: true, Timeout: d.DrainTimeout,
				Since: new(metav1.NewTime(testNow.Add(-time.Minute))), Requeue: 4 * time.Minute},
		},
		"ReplacementReady": {
			reason: "The replacement is ready: the budget lets the eviction through by itself; no timeout.",
			d:      d,
			pods:   []corev1.Pod{pod(r, "a", onNode("n1"), ready), pod(r, "b", onNode("n2"), ready, createdAgo(time.Minute))},
			nodes:  nodesOf(node("n1", cordoned), node("n2")),
			want: &NodeDisruption{Nodes: []string{"n1", "n2"}, Node: "n1", Pod: "a", Cordoned: true, Surge: true, Timeout: d.DrainTimeout,
				Since: new(metav1.NewTime(testNow.Add(-time.Minute)))},
		},
		"TimedOut": {
			reason: "No ready replacement the drain timeout after its creation: the eviction is allowed.",
			d:      d,
			pods:   []corev1.Pod{pod(r, "a", onNode("n1"), ready), pod(r, "b", createdAgo(6*time.Minute)), pod(r, "c", createdAgo(time.Minute))},
			nodes:  nodesOf(node("n1", cordoned)),
			want: &NodeDisruption{Nodes: []string{"n1"}, Node: "n1", Pod: "a", Cordoned: true, Surge: true, Timeout: d.DrainTimeout,
				Since: new(metav1.NewTime(testNow.Add(-6 * time.Minute))), TimedOut: true},
		},
		"ReplacementNotCreated": {
			reason: "The Deployment cannot create the replacement (a quota): the timeout runs from its ReplicaFailure.",
			d:      d,
			pods:   []corev1.Pod{pod(r, "a", onNode("n1"), ready)},
			nodes:  nodesOf(node("n1", cordoned)),
			dep: &appsv1.Deployment{Status: appsv1.DeploymentStatus{Conditions: []appsv1.DeploymentCondition{{
				Type: appsv1.DeploymentReplicaFailure, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(testNow.Add(-10 * time.Minute)),
			}}}},
			want: &NodeDisruption{Nodes: []string{"n1"}, Node: "n1", Pod: "a", Cordoned: true, Surge: true, Timeout: d.DrainTimeout,
				Since: new(metav1.NewTime(testNow.Add(-10 * time.Minute))), TimedOut: true},
		},
		"OldPodGone": {
			reason: "The pod on the cordoned node is terminating: back to one replica.",
			d:      d,
			pods:   []corev1.Pod{pod(r, "a", onNode("n1"), terminating), pod(r, "b", onNode("n2"), ready)},
			nodes:  nodesOf(node("n1", cordoned), node("n2")),
			want:   &NodeDisruption{Nodes: []string{"n1", "n2"}, Timeout: d.DrainTimeout},
		},
		"LostNodeSurges": {
			reason: "A lost node surges too (the replacement need not wait for the taint eviction), with no drain timeout: no budget holds that eviction.",
			d:      d,
			pods:   []corev1.Pod{pod(r, "a", onNode("n1")), pod(r, "b", createdAgo(time.Hour))},
			nodes:  nodesOf(node("n1", lost)),
			want: &NodeDisruption{Nodes: []string{"n1"}, Node: "n1", Pod: "a", NotReady: true, Surge: true, Timeout: d.DrainTimeout,
				Since: new(metav1.NewTime(testNow.Add(-time.Hour)))},
		},
		"LostNodeTerminatingPod": {
			reason: "A pod evicted from a lost node stays terminating there; it still says why, but the Deployment is back to one.",
			d:      d,
			pods:   []corev1.Pod{pod(r, "a", onNode("n1"), terminating), pod(r, "b")},
			nodes:  nodesOf(node("n1", lost)),
			want:   &NodeDisruption{Nodes: []string{"n1"}, Node: "n1", Pod: "a", NotReady: true, Timeout: d.DrainTimeout},
		},
		"BudgetOff": {
			reason: "With the budget off the platform neither surges nor times out, but a lost node is still told.",
			d:      off,
			pods:   []corev1.Pod{pod(r, "a", onNode("n1"))},
			nodes:  nodesOf(node("n1", lost, cordoned)),
			want:   &NodeDisruption{Nodes: []string{"n1"}, Node: "n1", Pod: "a", Cordoned: true, NotReady: true, Timeout: d.DrainTimeout},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := PlanDisruption(tc.d, r.ID, &Observed{Pods: tc.pods, Nodes: tc.nodes, Deployments: map[string]*appsv1.Deployment{r.ID: tc.dep}}, testNow)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s\nPlanDisruption(...): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestDisruptionBudget(t *testing.T) {
	p := testPerformer()
	r := revisionFor(t, p, DefaultPlatform())
	budget := func(minAvailable int32) *policyv1.PodDisruptionBudget {
		return &policyv1.PodDisruptionBudget{
			TypeMeta: metav1.TypeMeta{APIVersion: "policy/v1", Kind: "PodDisruptionBudget"},
			ObjectMeta: metav1.ObjectMeta{
				Name: names.PodDisruptionBudget(p.Name), Namespace: p.Namespace, Labels: names.Labels(p.Name, p.Spec.AVSAddress, "", ""),
			},
			Spec: policyv1.PodDisruptionBudgetSpec{
				MinAvailable:               new(intstr.FromInt32(minAvailable)),
				Selector:                   &metav1.LabelSelector{MatchLabels: names.Selector(p.Name, r.ID)},
				UnhealthyPodEvictionPolicy: new(policyv1.AlwaysAllow),
			},
		}
	}
	cases := map[string]struct {
		reason string
		nd     *NodeDisruption
		want   *policyv1.PodDisruptionBudget
	}{
		"Guards": {
			reason: "One pod of the serving revision must stay available; unhealthy pods may go.",
			nd:     &NodeDisruption{},
			want:   budget(1),
		},
		"TimedOut": {
			reason: "A drain that timed out may evict the last pod.",
			nd:     &NodeDisruption{TimedOut: true},
			want:   budget(0),
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := DisruptionBudget(p, &Plan{Serving: r, Disruption: tc.nd})
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s\nDisruptionBudget(...): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestWithReplicas(t *testing.T) {
	cases := map[string]struct {
		reason string
		surge  bool
		want   appsv1.DeploymentSpec
	}{
		"One": {
			reason: "One pod with the default strategy, also after a surge (a kept Deployment may have been observed with two).",
			want:   appsv1.DeploymentSpec{Replicas: new(int32(1))},
		},
		"Surge": {
			reason: "Two pods, one of which may be unavailable without the Deployment losing Available.",
			surge:  true,
			want: appsv1.DeploymentSpec{Replicas: new(int32(2)), Strategy: appsv1.DeploymentStrategy{
				Type: appsv1.RollingUpdateDeploymentStrategyType, RollingUpdate: &appsv1.RollingUpdateDeployment{MaxUnavailable: new(intstr.FromInt32(1))},
			}},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			d := &appsv1.Deployment{Spec: appsv1.DeploymentSpec{Replicas: new(int32(2))}}
			withReplicas(d, tc.surge)
			if diff := cmp.Diff(tc.want, d.Spec); diff != "" {
				t.Errorf("%s\nwithReplicas(...): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

// runningPerformer is the test performer with its one revision serving.
func runningPerformer(t *testing.T) (*Performer, *Revision) {
	t.Helper()
	p := testPerformer()
	r := revisionFor(t, p, DefaultPlatform())
	p.Status.Active = revisionStatus(r)
	p.Status.Phase = v1alpha1.PhaseRunning
	return p, r
}

// TestComposeDisruption follows a drain through Compose: the Deployment's
// size, the budget, the status and conditions at each step.
func TestComposeDisruption(t *testing.T) {
	p, r := runningPerformer(t)
	dep := r.Deployment.DeepCopy()
	dep.Status = deployment().Status

	type want struct {
		replicas     int32
		minAvailable int32
		phase        string
		podName      string
		available    string
		progressing  string
		degraded     string
		requeue      time.Duration
	}
	cases := map[string]struct {
		reason string
		pods   []corev1.Pod
		nodes  map[string]*corev1.Node
		want   want
	}{
		"Steady": {
			reason: "Nothing disrupted: one replica, the budget guards one pod.",
			pods:   []corev1.Pod{pod(r, "a", onNode("n1"), ready)},
			nodes:  nodesOf(node("n1")),
			want: want{replicas: 1, minAvailable: 1, phase: v1alpha1.PhaseRunning, podName: "a", available: v1alpha1.ReasonServiceReady,
				progressing: v1alpha1.ReasonAsExpected, degraded: v1alpha1.ReasonAsExpected},
		},
		"Cordoned": {
			reason: "Cordoned: two replicas, still Running and serving from the old pod, Progressing says why.",
			pods:   []corev1.Pod{pod(r, "a", onNode("n1"), ready), pod(r, "b", createdAgo(time.Second))},
			nodes:  nodesOf(node("n1", cordoned)),
			want: want{replicas: 2, minAvailable: 1, phase: v1alpha1.PhaseRunning, podName: "a", available: v1alpha1.ReasonServiceReady,
				progressing: v1alpha1.ReasonNodeDisrupted, degraded: v1alpha1.ReasonAsExpected, requeue: DefaultDrainTimeoutSeconds*time.Second - time.Second},
		},
		"ReplacementReady": {
			reason: "The replacement is ready: podName follows it, the pod that stays.",
			pods:   []corev1.Pod{pod(r, "a", onNode("n1"), ready), pod(r, "b", onNode("n2"), ready, newer)},
			nodes:  nodesOf(node("n1", cordoned), node("n2")),
			want: want{replicas: 2, minAvailable: 1, phase: v1alpha1.PhaseRunning, podName: "b", available: v1alpha1.ReasonServiceReady,
				progressing: v1alpha1.ReasonNodeDisrupted, degraded: v1alpha1.ReasonAsExpected},
		},
		"TimedOut": {
			reason: "No node takes the replacement in time: the budget lets the eviction through, Degraded says DrainTimedOut.",
			pods:   []corev1.Pod{pod(r, "a", onNode("n1"), ready), pod(r, "b", createdAgo(time.Hour))},
			nodes:  nodesOf(node("n1", cordoned)),
			want: want{replicas: 2, minAvailable: 0, phase: v1alpha1.PhaseRunning, podName: "a", available: v1alpha1.ReasonServiceReady,
				progressing: v1alpha1.ReasonNodeDisrupted, degraded: v1alpha1.ReasonDrainTimedOut},
		},
		"Moved": {
			reason: "The old pod is gone: one replica again.",
			pods:   []corev1.Pod{pod(r, "b", onNode("n2"), ready)},
			nodes:  nodesOf(node("n2")),
			want: want{replicas: 1, minAvailable: 1, phase: v1alpha1.PhaseRunning, podName: "b", available: v1alpha1.ReasonServiceReady,
				progressing: v1alpha1.ReasonAsExpected, degraded: v1alpha1.ReasonAsExpected},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			o := &Observed{Deployments: map[string]*appsv1.Deployment{r.ID: dep}, Service: readyService(), Pods: tc.pods, Nodes: tc.nodes}
			res, err := Compose(p, DefaultPlatform(), o, testNow)
			if err != nil {
				t.Fatal(err)
			}
			got := want{
				replicas:     *res.Resources[ResourceDeployment(r.ID)].Object.(*appsv1.Deployment).Spec.Replicas,
				minAvailable: res.Resources[ResourceDisruptionBudget].Object.(*policyv1.PodDisruptionBudget).Spec.MinAvailable.IntVal,
				phase:        res.Status.Phase,
				podName:      res.Status.PodName,
				requeue:      res.Plan.Requeue,
			}
			for _, c := range res.Conditions {
				switch c.Type {
				case v1alpha1.ConditionAvailable:
					got.available = c.Reason
				case v1alpha1.ConditionProgressing:
					got.progressing = c.Reason
				case v1alpha1.ConditionDegraded:
					got.degraded = c.Reason
				}
			}
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(want{})); diff != "" {
				t.Errorf("%s\nCompose(...): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

// TestComposeNodeLoss: the serving pod's node is lost and the pod is not
// ready any more; the Performer says NodeNotReady until a pod elsewhere
// serves.
func TestComposeNodeLoss(t *testing.T) {
	p, r := runningPerformer(t)
	unready := r.Deployment.DeepCopy()
	unready.Status = appsv1.DeploymentStatus{Replicas: 1, UpdatedReplicas: 1}

	o := &Observed{
		Deployments: map[string]*appsv1.Deployment{r.ID: unready}, Service: readyService(),
		Pods:  []corev1.Pod{pod(r, "a", onNode("n1"), terminating), pod(r, "b", newer)},
		Nodes: nodesOf(node("n1", lost)),
	}
	res, err := Compose(p, DefaultPlatform(), o, testNow)
	if err != nil {
		t.Fatal(err)
	}
	want := []Condition{
		{Type: v1alpha1.ConditionAvailable, Reason: v1alpha1.ReasonNodeNotReady, Message: "node n1 of pod a is not ready; the pod is replaced on another node"},
		{Type: v1alpha1.ConditionDegraded, Status: true, Reason: v1alpha1.ReasonNodeNotReady, Message: "node n1 of pod a is not ready; the pod is replaced on another node"},
	}
	got := []Condition{}
	for _, c := range res.Conditions {
		if c.Type != v1alpha1.ConditionProgressing {
			got = append(got, c)
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("conditions: -want, +got:\n%s", diff)
	}
	if res.Status.Phase != v1alpha1.PhasePending {
		t.Errorf("phase: want %s, got %s", v1alpha1.PhasePending, res.Status.Phase)
	}
	msg := "NodeNotReady: node n1 of pod a is not ready; the pod is replaced on another node"
	wantEvents := []Event{
		{Warning: true, Reason: v1alpha1.EventNotRunning, Message: "phase Pending: " + msg},
		{Warning: true, Reason: v1alpha1.EventDegraded, Message: msg},
	}
	if diff := cmp.Diff(wantEvents, res.Events); diff != "" {
		t.Errorf("events: -want, +got:\n%s", diff)
	}
}

func TestDisruptionInput(t *testing.T) {
	cases := map[string]struct {
		reason string
		in     *v1beta1.Disruption
		want   Disruption
		err    string
	}{
		"Defaults": {
			reason: "No input: budget on, 600 s drain timeout, 30 s toleration.",
			want:   Disruption{Budget: true, DrainTimeout: 600 * time.Second, NodeLossTolerationSeconds: 30},
		},
		"Set": {
			reason: "Every field set.",
			in:     &v1beta1.Disruption{Budget: new(false), DrainTimeoutSeconds: new(int32(20)), NodeLossTolerationSeconds: new(int32(0))},
			want:   Disruption{DrainTimeout: 20 * time.Second},
		},
		"ZeroTimeout": {
			reason: "A drain timeout of 0 would never protect anything: refused, naming the field.",
			in:     &v1beta1.Disruption{DrainTimeoutSeconds: new(int32(0))},
			err:    "disruption.drainTimeoutSeconds: Invalid value: 0: must be at least 1",
		},
		"NegativeToleration": {
			reason: "A negative toleration is refused, naming the field.",
			in:     &v1beta1.Disruption{NodeLossTolerationSeconds: new(int32(-1))},
			err:    "disruption.nodeLossTolerationSeconds: Invalid value: -1: must not be negative",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			pl, err := NewPlatform(&v1beta1.Input{Disruption: tc.in})
			if diff := cmp.Diff(tc.err, errString(err)); diff != "" {
				t.Fatalf("%s\nNewPlatform(...): -want error, +got error:\n%s", tc.reason, diff)
			}
			if err != nil {
				return
			}
			if diff := cmp.Diff(tc.want, pl.Disruption); diff != "" {
				t.Errorf("%s\nNewPlatform(...).Disruption: -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func readyService() *corev1.Service {
	return &corev1.Service{Spec: corev1.ServiceSpec{ClusterIP: "10.0.0.1"}}
}

// TestRunFunctionDrain goes through the SDK plumbing: a serving pod on a
// node makes the function ask for that node; the node, passed back
// cordoned, surges the serving Deployment and keeps the budget.
func TestRunFunctionDrain(t *testing.T) {
	xr := minimalXR(t)
	observed := map[string]map[string]any{
		"deployment-" + minimalRevision: observedDeployment(t, xr, true),
		ResourceService:                 observedService(t, xr, "10.96.0.17"),
	}
	podOn := map[string]any{
		"apiVersion": "v1", "kind": "Pod",
		"metadata": map[string]any{"name": "p", "namespace": "my-avs-project", "labels": map[string]any{
			names.LabelApp: names.AppPerformer, names.LabelPerformerName: "minimal-performer", names.LabelRevision: minimalRevision,
		}},
		"spec":   map[string]any{"nodeName": "n1"},
		"status": map[string]any{"phase": "Running", "conditions": []any{map[string]any{"type": "Ready", "status": "True"}}},
	}
	nodeN1 := func(unschedulable bool) map[string]any {
		return map[string]any{
			"apiVersion": "v1", "kind": "Node", "metadata": map[string]any{"name": "n1"},
			"spec":   map[string]any{"unschedulable": unschedulable},
			"status": map[string]any{"conditions": []any{map[string]any{"type": "Ready", "status": "True"}}},
		}
	}
	type want struct {
		askNode  bool
		replicas float64
	}
	cases := map[string]struct {
		reason string
		node   map[string]any
		want   want
	}{
		"AsksForTheNode": {
			reason: "The pod's node is asked for; not known yet, nothing changes.",
			want:   want{askNode: true, replicas: 1},
		},
		"Schedulable": {
			reason: "A schedulable node: one replica.",
			node:   nodeN1(false),
			want:   want{askNode: true, replicas: 1},
		},
		"Cordoned": {
			reason: "A cordoned node: two replicas.",
			node:   nodeN1(true),
			want:   want{askNode: true, replicas: 2},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			req := newRequest(t, xr, observed, nil)
			req.RequiredResources = map[string]*fnv1.Resources{RequiredPods: {Items: []*fnv1.Resource{{Resource: mustStruct(t, podOn)}}}}
			if tc.node != nil {
				req.RequiredResources[RequiredNodePrefix+"n1"] = &fnv1.Resources{Items: []*fnv1.Resource{{Resource: mustStruct(t, tc.node)}}}
			}
			rsp, err := newTestFunction().RunFunction(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			sel := rsp.GetRequirements().GetResources()[RequiredNodePrefix+"n1"]
			got := want{
				askNode:  sel.GetKind() == "Node" && sel.GetMatchName() == "n1",
				replicas: rsp.GetDesired().GetResources()["deployment-"+minimalRevision].GetResource().AsMap()["spec"].(map[string]any)["replicas"].(float64),
			}
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(want{})); diff != "" {
				t.Errorf("%s\nRunFunction(...): -want, +got:\n%s", tc.reason, diff)
			}
			if rsp.GetDesired().GetResources()[ResourceDisruptionBudget] == nil {
				t.Errorf("%s\nno PodDisruptionBudget composed", tc.reason)
			}
		})
	}
}
