package main

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"

	"github.com/hourglass-xp/crossplane-hourglass/apis/hourglass/v1alpha1"
	"github.com/hourglass-xp/crossplane-hourglass/internal/names"
	"github.com/hourglass-xp/crossplane-hourglass/internal/podstatus/podstatustest"
)

type podOpt func(*corev1.Pod)

func pod(r *Revision, name string, opts ...podOpt) corev1.Pod {
	p := corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: r.Deployment.Spec.Template.Labels, CreationTimestamp: metav1.NewTime(testNow.Add(-time.Minute))},
		Status: corev1.PodStatus{
			Conditions:        []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionFalse}},
			ContainerStatuses: []corev1.ContainerStatus{{Name: ContainerName, Image: r.Image}},
		},
	}
	for _, o := range opts {
		o(&p)
	}
	return p
}

func scheduled(p *corev1.Pod) { p.Spec.NodeName = "node-1" }
func ready(p *corev1.Pod)     { p.Status.Conditions[0].Status = corev1.ConditionTrue }
func newer(p *corev1.Pod)     { p.CreationTimestamp = metav1.NewTime(testNow) }

// unschedulable is a pod the scheduler found no node for, with its message.
func unschedulable(msg string) podOpt {
	return func(p *corev1.Pod) {
		p.Status.Conditions = append(p.Status.Conditions, corev1.PodCondition{
			Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: corev1.PodReasonUnschedulable, Message: msg,
		})
	}
}

func waiting(reason string) podOpt {
	return func(p *corev1.Pod) {
		p.Status.ContainerStatuses[0].State.Waiting = &corev1.ContainerStateWaiting{Reason: reason, Message: "back-off"}
	}
}

func nodeSelector(k, v string) podOpt {
	return func(p *corev1.Pod) { p.Spec.NodeSelector = map[string]string{k: v} }
}

// Scheduler messages as kube-scheduler v1.34 writes them.
const (
	msgNoGPU    = "0/3 nodes are available: 3 Insufficient nvidia.com/gpu. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod."
	msgNoCPU    = "0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod."
	msgAffinity = "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling."
)

func TestPodOf(t *testing.T) {
	r1 := revisionFor(t, testPerformer(), DefaultPlatform())
	type args struct {
		pods           []corev1.Pod
		hardwareLabels []string
	}
	cases := map[string]struct {
		reason string
		args   args
		want   *PodState
	}{
		"None": {reason: "No pod of the revision: nothing known."},
		"ReadyFirst": {
			reason: "A ready pod serves, even when a newer one is starting.",
			args:   args{pods: []corev1.Pod{pod(r1, "b", scheduled, newer), pod(r1, "a", scheduled, ready)}},
			want:   &PodState{Name: "a", Ready: true, Scheduled: true},
		},
		"NewestExplains": {
			reason: "Without a ready pod, the newest one explains why.",
			args:   args{pods: []corev1.Pod{pod(r1, "old", scheduled), pod(r1, "new", newer, unschedulable(msgNoCPU))}},
			want:   &PodState{Name: "new", Failure: &Failure{Reason: "SchedulingFailed", Message: msgNoCPU}},
		},
		"GPUShortage": {
			reason: "No node with a free GPU is HardwareUnavailable, however the GPU was asked for: the scheduler names the device plugin's resource.",
			args:   args{pods: []corev1.Pod{pod(r1, "p", unschedulable(msgNoGPU))}},
			want:   &PodState{Name: "p", Failure: &Failure{Reason: "HardwareUnavailable", Message: msgNoGPU}},
		},
		"PlatformHardwareLabel": {
			reason: "Nodes rejected on a hardware label of the platform's own (a GPU fallback label) are missing hardware.",
			args: args{
				pods:           []corev1.Pod{pod(r1, "p", nodeSelector("example.com/gpu-model", "a100"), unschedulable(msgAffinity))},
				hardwareLabels: []string{"example.com/gpu-model"},
			},
			want: &PodState{Name: "p", Failure: &Failure{Reason: "HardwareUnavailable", Message: msgAffinity}},
		},
		"ImagePull": {
			reason: "ErrImagePull and ImagePullBackOff are ImagePullFailed.",
			args:   args{pods: []corev1.Pod{pod(r1, "p", scheduled, waiting("ErrImagePull"))}},
			want: &PodState{Name: "p", Scheduled: true, Failure: &Failure{Reason: "ImagePullFailed",
				Message: "container performer of pod p cannot pull image myavs/performer:v1.0.0 (ErrImagePull: back-off)"}},
		},
		"CrashLoop": {
			reason: "A crash loop is reported as such.",
			args:   args{pods: []corev1.Pod{pod(r1, "p", scheduled, waiting("CrashLoopBackOff"))}},
			want: &PodState{Name: "p", Scheduled: true, Failure: &Failure{Reason: "CrashLoopBackOff",
				Message: "container performer of pod p keeps crashing (0 restarts): no termination recorded"}},
		},
		"OtherRevision": {
			reason: "Pods of another revision do not count.",
			args: args{pods: []corev1.Pod{func() corev1.Pod {
				p := pod(r1, "p", scheduled, ready)
				p.Labels = map[string]string{names.LabelRevision: "other"}
				return p
			}()}},
		},
		"Terminating": {
			reason: "A pod being deleted does not serve.",
			args: args{pods: []corev1.Pod{func() corev1.Pod {
				p := pod(r1, "p", scheduled, ready)
				p.DeletionTimestamp = new(metav1.NewTime(testNow))
				return p
			}()}},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, PodOf(tc.args.pods, r1.ID, tc.args.hardwareLabels)); diff != "" {
				t.Errorf("%s\nPodOf(...): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

// TestPodsAsTheProviderSeesThem runs the pod table the provider shares
// (internal/podstatus): each pod, passed in as Crossplane passes required
// pods and read as RequiredPodsOf reads it, gives the Performer the reason
// and message the provider gives its PerformerEndpoint, and the phase that
// reason means.
func TestPodsAsTheProviderSeesThem(t *testing.T) {
	r1 := revisionFor(t, testPerformer(), DefaultPlatform())
	svc := &corev1.Service{Spec: corev1.ServiceSpec{ClusterIP: "10.0.0.1"}}
	// Reasons the Performer reports as Degraded, and whether waiting for
	// the cluster (Pending) may fix them rather than only a change (Failed).
	degraded := map[string]string{
		v1alpha1.ReasonSchedulingFailed: v1alpha1.PhasePending, v1alpha1.ReasonHardwareUnavailable: v1alpha1.PhasePending,
		v1alpha1.ReasonImagePullFailed: v1alpha1.PhaseFailed, v1alpha1.ReasonCrashLoopBackOff: v1alpha1.PhaseFailed, v1alpha1.ReasonPodFailed: v1alpha1.PhaseFailed,
	}
	type want struct {
		Phase     string
		Available Condition
		Degraded  Condition
	}
	for _, tc := range podstatustest.Cases(t) {
		t.Run(tc.Name, func(t *testing.T) {
			obj, err := runtime.DefaultUnstructuredConverter.ToUnstructured(&tc.Pod)
			if err != nil {
				t.Fatal(err)
			}
			obj["metadata"].(map[string]any)["labels"] = map[string]any{names.LabelRevision: r1.ID}
			req := &fnv1.RunFunctionRequest{RequiredResources: map[string]*fnv1.Resources{
				RequiredPods: {Items: []*fnv1.Resource{{Resource: mustStruct(t, obj)}}},
			}}
			pods, err := PodsFrom(RequiredPodsOf(req))
			if err != nil {
				t.Fatal(err)
			}
			dep := r1.Deployment.DeepCopy()
			dep.Generation, dep.Status = 2, deployment(unavailable).Status

			w := want{
				Phase:     v1alpha1.PhasePending,
				Available: Condition{Type: v1alpha1.ConditionAvailable, Reason: v1alpha1.ReasonPodNotReady, Message: "waiting for Deployment " + dep.Name + " to have its pod ready"},
				Degraded:  Condition{Type: v1alpha1.ConditionDegraded, Reason: v1alpha1.ReasonAsExpected},
			}
			if phase, ok := degraded[tc.Want.Reason]; ok {
				w.Phase = phase
				w.Available = Condition{Type: v1alpha1.ConditionAvailable, Reason: tc.Want.Reason, Message: tc.Want.Message}
				w.Degraded = Condition{Type: v1alpha1.ConditionDegraded, Status: true, Reason: tc.Want.Reason, Message: tc.Want.Message}
			}
			if tc.Want.Reason == v1alpha1.ReasonPodReady {
				dep.Status = deployment().Status
				w.Phase = v1alpha1.PhaseRunning
				w.Available = Condition{Type: v1alpha1.ConditionAvailable, Status: true, Reason: v1alpha1.ReasonServiceReady,
					Message: "Deployment " + dep.Name + " is available and Service performer-example serves it at performer-example.avs.svc.cluster.local:9090"}
			}

			o := &Observed{Deployments: map[string]*appsv1.Deployment{r1.ID: dep}, Service: svc, Pods: pods}
			st, conds := StatusOf(testPerformer(), &Plan{Serving: r1}, o, Rollout{}, &HardwareNeeds{}, testNow)
			got := want{Phase: st.Phase, Available: conds[0], Degraded: conds[2]}
			if diff := cmp.Diff(w, got); diff != "" {
				t.Errorf("%s\nStatusOf(...) of the pod: -want, +got:\n%s", tc.Why, diff)
			}
			if st.PodName != tc.Pod.Name {
				t.Errorf("StatusOf(...).PodName: want %q, got %q", tc.Pod.Name, st.PodName)
			}
		})
	}
}

func TestPodRequirement(t *testing.T) {
	p := testPerformer()
	got := PodRequirement(p)
	if got.GetNamespace() != "avs" || got.GetKind() != "Pod" || got.GetApiVersion() != "v1" {
		t.Errorf("PodRequirement(...): %v", got)
	}
	if diff := cmp.Diff(map[string]string{"app": "performer", "performer-name": "example"}, got.GetMatchLabels().GetLabels()); diff != "" {
		t.Errorf("PodRequirement(...) labels: -want, +got:\n%s", diff)
	}
}

// TestRequiredPodsOf checks that a pod is read with what PodOf needs (its
// node, node selector and affinity, its status) and without the bulk it
// never reads (its containers, volumes and managed fields).
func TestRequiredPodsOf(t *testing.T) {
	affinity := map[string]any{"nodeAffinity": map[string]any{"requiredDuringSchedulingIgnoredDuringExecution": map[string]any{
		"nodeSelectorTerms": []any{map[string]any{"matchExpressions": []any{
			map[string]any{"key": "feature.node.kubernetes.io/cpu-security.tdx.enabled", "operator": "In", "values": []any{"true"}},
		}}},
	}}}
	full := map[string]any{
		"apiVersion": "v1", "kind": "Pod",
		"metadata": map[string]any{
			"name": "p", "namespace": "ns", "labels": map[string]any{"app": "performer"},
			"creationTimestamp": "2026-11-22T11:59:00Z",
			"managedFields":     []any{map[string]any{"manager": "kubelet", "operation": "Update"}},
		},
		"spec": map[string]any{
			"nodeName": "node-1", "containers": []any{map[string]any{"name": "performer", "image": "i"}},
			"nodeSelector": map[string]any{"nvidia.com/gpu.product": "NVIDIA-L4"}, "affinity": affinity,
			"volumes": []any{map[string]any{"name": "kube-api-access", "projected": map[string]any{}}},
		},
		"status": map[string]any{"phase": "Running", "conditions": []any{map[string]any{"type": "Ready", "status": "True"}}},
	}
	req := &fnv1.RunFunctionRequest{RequiredResources: map[string]*fnv1.Resources{
		RequiredPods: {Items: []*fnv1.Resource{{Resource: mustStruct(t, full)}}},
	}}
	want := []map[string]any{{
		"apiVersion": "v1", "kind": "Pod",
		"metadata": map[string]any{
			"name": "p", "namespace": "ns", "labels": map[string]any{"app": "performer"},
			"creationTimestamp": "2026-11-22T11:59:00Z",
		},
		"spec":   map[string]any{"nodeName": "node-1", "nodeSelector": map[string]any{"nvidia.com/gpu.product": "NVIDIA-L4"}, "affinity": affinity},
		"status": map[string]any{"phase": "Running", "conditions": []any{map[string]any{"type": "Ready", "status": "True"}}},
	}}
	var got []map[string]any
	for _, r := range RequiredPodsOf(req) {
		got = append(got, r.Resource.Object)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("RequiredPodsOf(...): -want, +got:\n%s", diff)
	}
	if got := RequiredPodsOf(&fnv1.RunFunctionRequest{}); len(got) != 0 {
		t.Errorf("RequiredPodsOf(no pods): want none, got %v", got)
	}
}
