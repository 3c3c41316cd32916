package provider

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/hourglass-xp/crossplane-hourglass/apis/observe/v1alpha1"
	"github.com/hourglass-xp/crossplane-hourglass/internal/podstatus/podstatustest"
)

// msgGPU is kube-scheduler's (v1.34) message for a pod no node has a GPU
// for.
const msgGPU = "0/3 nodes are available: 3 Insufficient nvidia.com/gpu. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod."

type podOption func(*corev1.Pod)

func pod(name string, opts ...podOption) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", Labels: map[string]string{"app": "performer", "performer-name": "p"}},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "performer", Image: "example/performer:v1"}}},
		Status:     corev1.PodStatus{Phase: corev1.PodPending},
	}
	for _, o := range opts {
		o(p)
	}
	return p
}

func withCondition(t corev1.PodConditionType, s corev1.ConditionStatus, reason, msg string) podOption {
	return func(p *corev1.Pod) {
		p.Status.Conditions = append(p.Status.Conditions, corev1.PodCondition{Type: t, Status: s, Reason: reason, Message: msg})
	}
}

func unschedulable(msg string) podOption {
	return withCondition(corev1.PodScheduled, corev1.ConditionFalse, corev1.PodReasonUnschedulable, msg)
}

func scheduledOn(node string) podOption {
	return func(p *corev1.Pod) {
		p.Spec.NodeName = node
		withCondition(corev1.PodScheduled, corev1.ConditionTrue, "", "")(p)
	}
}

func running(ready bool) podOption {
	return func(p *corev1.Pod) {
		p.Status.Phase = corev1.PodRunning
		p.Status.PodIP = "10.77.0.9"
		st := corev1.ConditionFalse
		msg := "containers with unready status: [performer]"
		if ready {
			st, msg = corev1.ConditionTrue, ""
		}
		withCondition(corev1.PodReady, st, "", msg)(p)
		p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "performer", Image: "example/performer:v1", Ready: ready,
			State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}}}
	}
}

func waitingOn(reason, msg string, restarts int32) podOption {
	return func(p *corev1.Pod) {
		p.Status.ContainerStatuses = []corev1.ContainerStatus{{
			Name: "performer", Image: "example/performer:v1", RestartCount: restarts,
			State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason, Message: msg}},
		}}
	}
}

// TestAssessPods runs the pod table the composition function shares
// (internal/podstatus): a PerformerEndpoint observing one of its pods
// reports the reason and message the Performer shows for it. A ready pod
// only says PodReady here; the health check and the Service say the rest.
func TestAssessPods(t *testing.T) {
	for _, tc := range podstatustest.Cases(t) {
		t.Run(tc.Name, func(t *testing.T) {
			o := Observed{Namespace: tc.Pod.Namespace, Params: v1alpha1.PerformerEndpointParameters{Selector: tc.Pod.Labels, Port: 9090}, Pods: []corev1.Pod{tc.Pod}}
			a := Assess(o).AtProvider
			got := podstatustest.Diagnosis{Reason: a.Reason, Message: a.Message}
			want := tc.Want
			if want.Reason == v1alpha1.ReasonPodReady {
				want.Message = "pod " + tc.Pod.Name + " is ready (gRPC health check disabled)"
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("%s\nAssess(...): -want, +got:\n%s", tc.Why, diff)
			}
		})
	}
}
