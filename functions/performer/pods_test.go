package main

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"

	"github.com/hourglass-xp/crossplane-hourglass/internal/names"
)

type podOpt func(*corev1.Pod)

func pod(r *Revision, name string, opts ...podOpt) corev1.Pod {
	p := corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: r.Deployment.Spec.Template.Labels, CreationTimestamp: metav1.NewTime(testNow.Add(-time.Minute))},
		Status: corev1.PodStatus{
			Conditions:        []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionFalse}},
			ContainerStatuses: []corev1.ContainerStatus{{Name: ContainerName}},
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
func unschedulable(p *corev1.Pod) {
	p.Status.Conditions = append(p.Status.Conditions, corev1.PodCondition{
		Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: corev1.PodReasonUnschedulable,
		Message: "0/3 nodes are available: 3 Insufficient nvidia.com/gpu.",
	})
}
func waiting(reason string) podOpt {
	return func(p *corev1.Pod) {
		p.Status.ContainerStatuses[0].State.Waiting = &corev1.ContainerStateWaiting{Reason: reason, Message: "back-off"}
	}
}

func TestPodOf(t *testing.T) {
	r1 := revisionFor(t, testPerformer(), DefaultPlatform())
	cases := map[string]struct {
		reason   string
		pods     []corev1.Pod
		hardware bool
		want     *PodState
	}{
		"None": {reason: "No pod of the revision: nothing known."},
		"ReadyFirst": {
			reason: "A ready pod serves, even when a newer one is starting.",
			pods:   []corev1.Pod{pod(r1, "b", scheduled, newer), pod(r1, "a", scheduled, ready)},
			want:   &PodState{Name: "a", Ready: true, Scheduled: true},
		},
		"NewestExplains": {
			reason: "Without a ready pod, the newest one explains why.",
			pods:   []corev1.Pod{pod(r1, "old", scheduled), pod(r1, "new", newer, unschedulable)},
			want:   &PodState{Name: "new", Failure: &Failure{Reason: "SchedulingFailed", Message: "0/3 nodes are available: 3 Insufficient nvidia.com/gpu."}},
		},
		"HardwareUnavailable": {
			reason:   "Unschedulable for want of a resource the performer's hardware asks for.",
			pods:     []corev1.Pod{pod(r1, "p", unschedulable)},
			hardware: true,
			want:     &PodState{Name: "p", Failure: &Failure{Reason: "HardwareUnavailable", Message: "0/3 nodes are available: 3 Insufficient nvidia.com/gpu."}},
		},
		"ImagePull": {
			reason: "ErrImagePull and ImagePullBackOff are ImagePullFailed.",
			pods:   []corev1.Pod{pod(r1, "p", scheduled, waiting("ErrImagePull"))},
			want:   &PodState{Name: "p", Scheduled: true, Failure: &Failure{Reason: "ImagePullFailed", Message: "back-off"}},
		},
		"CrashLoop": {
			reason: "A crash loop is reported as such.",
			pods:   []corev1.Pod{pod(r1, "p", scheduled, waiting("CrashLoopBackOff"))},
			want:   &PodState{Name: "p", Scheduled: true, Failure: &Failure{Reason: "CrashLoopBackOff", Message: "back-off"}},
		},
		"OtherRevision": {
			reason: "Pods of another revision do not count.",
			pods: []corev1.Pod{func() corev1.Pod {
				p := pod(r1, "p", scheduled, ready)
				p.Labels = map[string]string{names.LabelRevision: "other"}
				return p
			}()},
		},
		"Terminating": {
			reason: "A pod being deleted does not serve.",
			pods: []corev1.Pod{func() corev1.Pod {
				p := pod(r1, "p", scheduled, ready)
				p.DeletionTimestamp = new(metav1.NewTime(testNow))
				return p
			}()},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, PodOf(tc.pods, r1.ID, tc.hardware)); diff != "" {
				t.Errorf("%s\nPodOf(...): -want, +got:\n%s", tc.reason, diff)
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

// TestRequiredPodsOf checks that a pod is read with what PodOf needs and
// without the bulk it never reads (its containers, its managed fields).
func TestRequiredPodsOf(t *testing.T) {
	full := map[string]any{
		"apiVersion": "v1", "kind": "Pod",
		"metadata": map[string]any{
			"name": "p", "namespace": "ns", "labels": map[string]any{"app": "performer"},
			"creationTimestamp": "2026-11-22T11:59:00Z",
			"managedFields":     []any{map[string]any{"manager": "kubelet", "operation": "Update"}},
		},
		"spec":   map[string]any{"nodeName": "node-1", "containers": []any{map[string]any{"name": "performer", "image": "i"}}},
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
		"spec":   map[string]any{"nodeName": "node-1"},
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
