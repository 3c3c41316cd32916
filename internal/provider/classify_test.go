package provider

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/hourglass-xp/crossplane-hourglass/apis/observe/v1alpha1"
)

// Scheduler messages as kube-scheduler v1.34 writes them.
const (
	msgGPU      = "0/3 nodes are available: 3 Insufficient nvidia.com/gpu. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod."
	msgSGX      = "0/2 nodes are available: 1 Insufficient sgx.intel.com/epc, 1 Insufficient cpu. preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod."
	msgCPU      = "0/3 nodes are available: 3 Insufficient cpu, 3 Insufficient memory. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod."
	msgHuge     = "0/1 nodes are available: 1 Insufficient hugepages-2Mi."
	msgAffinity = "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling."
	msgTaint    = "0/1 nodes are available: 1 node(s) had untolerated taint {dedicated: other}. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling."
)

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

func nodeSelector(k, v string) podOption {
	return func(p *corev1.Pod) { p.Spec.NodeSelector = map[string]string{k: v} }
}

func requiredAffinity(key string) podOption {
	return func(p *corev1.Pod) {
		p.Spec.Affinity = &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{
			RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{{
				MatchExpressions: []corev1.NodeSelectorRequirement{{Key: key, Operator: corev1.NodeSelectorOpIn, Values: []string{"true"}}},
			}}},
		}}
	}
}

func TestClassifyPod(t *testing.T) {
	cases := map[string]struct {
		reason string
		pod    *corev1.Pod
		want   podState
	}{
		"Ready": {
			reason: "A scheduled, running, ready pod is PodReady.",
			pod:    pod("a", scheduledOn("n1"), running(true)),
			want:   podState{reason: v1alpha1.ReasonPodReady, message: "pod a is ready", scheduled: true, ready: true},
		},
		"NotReady": {
			reason: "A running pod whose readiness probe has not passed is PodNotReady, with the kubelet's message.",
			pod:    pod("a", scheduledOn("n1"), running(false)),
			want:   podState{reason: v1alpha1.ReasonPodNotReady, message: "pod a is not ready: containers with unready status: [performer]", scheduled: true},
		},
		"NotScheduledYet": {
			reason: "A new pod the scheduler has not looked at is PodPending.",
			pod:    pod("a"),
			want:   podState{reason: v1alpha1.ReasonPodPending, message: "pod a is waiting for the scheduler"},
		},
		"SchedulingGated": {
			reason: "PodScheduled False for another reason than Unschedulable is still pending, not a failure.",
			pod:    pod("a", withCondition(corev1.PodScheduled, corev1.ConditionFalse, "SchedulingGated", "Scheduling is blocked due to non-empty scheduling gates")),
			want:   podState{reason: v1alpha1.ReasonPodPending, message: "Scheduling is blocked due to non-empty scheduling gates"},
		},
		"InsufficientCPU": {
			reason: "Running out of ordinary capacity is SchedulingFailed.",
			pod:    pod("a", unschedulable(msgCPU)),
			want:   podState{reason: v1alpha1.ReasonSchedulingFailed, message: msgCPU},
		},
		"InsufficientHugePages": {
			reason: "Huge pages are node memory, not special hardware.",
			pod:    pod("a", unschedulable(msgHuge)),
			want:   podState{reason: v1alpha1.ReasonSchedulingFailed, message: msgHuge},
		},
		"InsufficientGPU": {
			reason: "No node with a free nvidia.com/gpu is HardwareUnavailable.",
			pod:    pod("a", unschedulable(msgGPU)),
			want:   podState{reason: v1alpha1.ReasonHardwareUnavailable, message: msgGPU},
		},
		"InsufficientSGX": {
			reason: "A shortage of a TEE device plugin resource, even beside a CPU shortage, is HardwareUnavailable.",
			pod:    pod("a", unschedulable(msgSGX)),
			want:   podState{reason: v1alpha1.ReasonHardwareUnavailable, message: msgSGX},
		},
		"AffinityHardwareSelector": {
			reason: "No node carrying the GPU product label the pod selects is HardwareUnavailable.",
			pod:    pod("a", nodeSelector("nvidia.com/gpu.product", "NVIDIA-A100-SXM4-40GB"), unschedulable(msgAffinity)),
			want:   podState{reason: v1alpha1.ReasonHardwareUnavailable, message: msgAffinity},
		},
		"AffinityHardwareRequired": {
			reason: "No node with the NFD TEE feature the pod requires by affinity is HardwareUnavailable.",
			pod:    pod("a", requiredAffinity("feature.node.kubernetes.io/cpu-security.sgx.enabled"), unschedulable(msgAffinity)),
			want:   podState{reason: v1alpha1.ReasonHardwareUnavailable, message: msgAffinity},
		},
		"AffinityOrdinarySelector": {
			reason: "A node selector on an ordinary label that matches no node is a scheduling problem, not missing hardware.",
			pod:    pod("a", nodeSelector("workload-type", "compute-intensive"), unschedulable(msgAffinity)),
			want:   podState{reason: v1alpha1.ReasonSchedulingFailed, message: msgAffinity},
		},
		"Taint": {
			reason: "An untolerated taint is SchedulingFailed.",
			pod:    pod("a", unschedulable(msgTaint)),
			want:   podState{reason: v1alpha1.ReasonSchedulingFailed, message: msgTaint},
		},
		"ImagePullBackOff": {
			reason: "ImagePullBackOff is ImagePullFailed and names the image.",
			pod:    pod("a", scheduledOn("n1"), waitingOn("ImagePullBackOff", `Back-off pulling image "example/performer:v1"`, 0)),
			want: podState{reason: v1alpha1.ReasonImagePullFailed, scheduled: true,
				message: `container performer of pod a cannot pull image example/performer:v1 (ImagePullBackOff: Back-off pulling image "example/performer:v1")`},
		},
		"ErrImagePull": {
			reason: "ErrImagePull is ImagePullFailed.",
			pod:    pod("a", scheduledOn("n1"), waitingOn("ErrImagePull", "not found", 0)),
			want:   podState{reason: v1alpha1.ReasonImagePullFailed, scheduled: true, message: "container performer of pod a cannot pull image example/performer:v1 (ErrImagePull: not found)"},
		},
		"InitContainerImage": {
			reason: "An init container that cannot pull its image blocks the pod: ImagePullFailed.",
			pod: pod("a", scheduledOn("n1"), waitingOn("PodInitializing", "", 0), func(p *corev1.Pod) {
				p.Status.InitContainerStatuses = []corev1.ContainerStatus{{Name: "init", Image: "example/init:v1",
					State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ImagePullBackOff"}}}}
			}),
			want: podState{reason: v1alpha1.ReasonImagePullFailed, scheduled: true, message: "container init of pod a cannot pull image example/init:v1 (ImagePullBackOff)"},
		},
		"CrashLoop": {
			reason: "CrashLoopBackOff counts restarts and gives the last exit code.",
			pod: pod("a", scheduledOn("n1"), waitingOn("CrashLoopBackOff", "back-off 40s restarting failed container", 4), func(p *corev1.Pod) {
				p.Status.ContainerStatuses[0].LastTerminationState.Terminated = &corev1.ContainerStateTerminated{ExitCode: 1, Reason: "Error"}
			}),
			want: podState{reason: v1alpha1.ReasonCrashLoopBackOff, scheduled: true, restarts: 4, message: "container performer of pod a keeps crashing (4 restarts): last exit code 1 (Error)"},
		},
		"ConfigError": {
			reason: "A container that cannot be created (missing Secret key) fails the pod.",
			pod:    pod("a", scheduledOn("n1"), waitingOn("CreateContainerConfigError", `secret "api-secrets" not found`, 0)),
			want:   podState{reason: v1alpha1.ReasonPodFailed, scheduled: true, message: `container performer of pod a cannot start (CreateContainerConfigError: secret "api-secrets" not found)`},
		},
		"ContainerCreating": {
			reason: "A container being created is progress: PodPending.",
			pod:    pod("a", scheduledOn("n1"), waitingOn("ContainerCreating", "", 0)),
			want:   podState{reason: v1alpha1.ReasonPodPending, scheduled: true, message: "container performer of pod a is waiting (ContainerCreating)"},
		},
		"Failed": {
			reason: "A pod in phase Failed is PodFailed with its reason, whatever else it says.",
			pod: pod("a", scheduledOn("n1"), func(p *corev1.Pod) {
				p.Status.Phase, p.Status.Reason, p.Status.Message = corev1.PodFailed, "Evicted", "The node was low on resource: memory."
			}),
			want: podState{reason: v1alpha1.ReasonPodFailed, scheduled: true, message: "pod a failed (Evicted): The node was low on resource: memory."},
		},
		"RestartsOfReadyPod": {
			reason: "Restarts are counted for a ready pod too, init containers included.",
			pod: pod("a", scheduledOn("n1"), running(true), func(p *corev1.Pod) {
				p.Status.ContainerStatuses[0].RestartCount = 2
				p.Status.InitContainerStatuses = []corev1.ContainerStatus{{Name: "init", RestartCount: 1}}
			}),
			want: podState{reason: v1alpha1.ReasonPodReady, message: "pod a is ready", scheduled: true, ready: true, restarts: 3},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := classifyPod(tc.pod)
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(podState{})); diff != "" {
				t.Errorf("%s\nclassifyPod(...): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestInsufficient(t *testing.T) {
	cases := map[string]struct {
		reason string
		msg    string
		want   []string
	}{
		"None":     {reason: "A message without shortages names none.", msg: msgAffinity},
		"Several":  {reason: "Every shortage is found, dots and slashes kept, the sentence's full stop dropped.", msg: msgSGX, want: []string{"sgx.intel.com/epc", "cpu"}},
		"AtTheEnd": {reason: "A shortage ending the message is found.", msg: "1 Insufficient nvidia.com/gpu", want: []string{"nvidia.com/gpu"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, insufficient(tc.msg)); diff != "" {
				t.Errorf("%s\ninsufficient(...): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}
