package podstatus

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/hourglass-xp/crossplane-hourglass/apis/hourglass/v1alpha1"
	"github.com/hourglass-xp/crossplane-hourglass/internal/podstatus/podstatustest"
)

// TestDiagnose runs the table both callers share: pods as the scheduler
// and the kubelet write them.
func TestDiagnose(t *testing.T) {
	for _, tc := range podstatustest.Cases(t) {
		t.Run(tc.Name, func(t *testing.T) {
			d := Diagnose(&tc.Pod)
			got := podstatustest.Diagnosis{Reason: d.Reason, Message: d.Message}
			if diff := cmp.Diff(tc.Want, got); diff != "" {
				t.Errorf("%s\nDiagnose(...): -want, +got:\n%s", tc.Why, diff)
			}
		})
	}
}

// TestDiagnosis checks what Diagnose tells beside the reason, on pods of
// the shared table.
func TestDiagnosis(t *testing.T) {
	pods := map[string]*corev1.Pod{}
	for _, tc := range podstatustest.Cases(t) {
		pods[tc.Name] = &tc.Pod
	}
	type want struct {
		scheduled, ready, failed bool
		restarts                 int32
	}
	cases := map[string]struct {
		reason string
		pod    string
		want   want
	}{
		"Unschedulable":     {reason: "A pod no node takes is not scheduled and failed: it waits for a change.", pod: "unschedulable-gpu-and-affinity", want: want{failed: true}},
		"SchedulingGated":   {reason: "A gated pod is not scheduled, and not failed: the gate is lifted by design.", pod: "scheduling-gated"},
		"ContainerCreating": {reason: "A placed pod whose container is being created is scheduled, not failed.", pod: "container-creating", want: want{scheduled: true}},
		"CrashLoop":         {reason: "A crash loop counts the restarts and is failed.", pod: "crash-loop-back-off", want: want{scheduled: true, failed: true, restarts: 4}},
		"ConfigError":       {reason: "A container that cannot be created is failed.", pod: "create-container-config-error", want: want{scheduled: true, failed: true}},
		"Evicted":           {reason: "An evicted pod is failed.", pod: "failed-evicted", want: want{scheduled: true, failed: true}},
		"NotReady":          {reason: "A running pod failing its readiness probe may still become ready.", pod: "running-not-ready", want: want{scheduled: true}},
		"Ready":             {reason: "A ready pod is scheduled and ready.", pod: "ready", want: want{scheduled: true, ready: true}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			p, ok := pods[tc.pod]
			if !ok {
				t.Fatalf("no pod %q in the shared table", tc.pod)
			}
			d := Diagnose(p)
			got := want{scheduled: d.Scheduled, ready: d.Ready, failed: d.Failed(), restarts: d.Restarts}
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(want{})); diff != "" {
				t.Errorf("%s\nDiagnose(%s): -want, +got:\n%s", tc.reason, tc.pod, diff)
			}
		})
	}
}

// TestHardwareLabels checks that a composer's own hardware label keys make
// an affinity mismatch on them missing hardware, and nothing else.
func TestHardwareLabels(t *testing.T) {
	const msg = "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling."
	pod := func(selector map[string]string, message string) *corev1.Pod {
		return &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: "p"},
			Spec:       corev1.PodSpec{NodeSelector: selector},
			Status: corev1.PodStatus{Phase: corev1.PodPending, Conditions: []corev1.PodCondition{{
				Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: corev1.PodReasonUnschedulable, Message: message,
			}}},
		}
	}
	type args struct {
		pod    *corev1.Pod
		labels []string
	}
	cases := map[string]struct {
		reason string
		args   args
		want   string
	}{
		"PlatformLabel": {
			reason: "A platform's own GPU label (its fallback node label) is hardware when the composer names it.",
			args:   args{pod: pod(map[string]string{"example.com/gpu-model": "a100"}, msg), labels: []string{"example.com/gpu-model"}},
			want:   v1alpha1.ReasonHardwareUnavailable,
		},
		"PlatformLabelUnnamed": {
			reason: "Without the composer's word, an unknown label is an ordinary scheduling constraint.",
			args:   args{pod: pod(map[string]string{"example.com/gpu-model": "a100"}, msg)},
			want:   v1alpha1.ReasonSchedulingFailed,
		},
		"OtherLabelNamed": {
			reason: "Naming hardware labels does not make the pod's other constraints hardware.",
			args:   args{pod: pod(map[string]string{"workload-type": "batch"}, msg), labels: []string{"example.com/gpu-model"}},
			want:   v1alpha1.ReasonSchedulingFailed,
		},
		"NotAnAffinityFailure": {
			reason: "A hardware selector does not matter when the scheduler names another cause.",
			args: args{pod: pod(map[string]string{"example.com/gpu-model": "a100"}, "0/3 nodes are available: 3 Insufficient memory."),
				labels: []string{"example.com/gpu-model"}},
			want: v1alpha1.ReasonSchedulingFailed,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := Diagnose(tc.args.pod, tc.args.labels...).Reason; got != tc.want {
				t.Errorf("%s\nDiagnose(...).Reason: want %s, got %s", tc.reason, tc.want, got)
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
		"None": {reason: "A message without shortages names none.", msg: "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector."},
		"Several": {reason: "Every shortage is found, dots and slashes kept, the sentence's full stop dropped.",
			msg: "0/2 nodes are available: 1 Insufficient sgx.intel.com/epc, 1 Insufficient cpu. preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod.", want: []string{"sgx.intel.com/epc", "cpu"}},
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

func TestIsExtendedResource(t *testing.T) {
	cases := map[string]struct {
		reason string
		name   string
		want   bool
	}{
		"GPU":       {reason: "A device plugin's resource is extended.", name: "nvidia.com/gpu", want: true},
		"EPC":       {reason: "SGX enclave memory is a device plugin's resource.", name: "sgx.intel.com/epc", want: true},
		"CPU":       {reason: "cpu is native.", name: "cpu"},
		"HugePages": {reason: "Huge pages are native.", name: "hugepages-1Gi"},
		"Prefixed":  {reason: "Names under kubernetes.io are native.", name: "kubernetes.io/batch-slots"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := isExtendedResource(tc.name); got != tc.want {
				t.Errorf("%s\nisExtendedResource(%q): want %v, got %v", tc.reason, tc.name, tc.want, got)
			}
		})
	}
}

func TestNewer(t *testing.T) {
	at := func(name string, sec int64) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, CreationTimestamp: metav1.Unix(sec, 0)}}
	}
	cases := map[string]struct {
		reason string
		a, b   *corev1.Pod
		want   bool
	}{
		"Newer":    {reason: "The later creation comes first.", a: at("b", 2), b: at("a", 1), want: true},
		"Older":    {reason: "The earlier creation comes after.", a: at("a", 1), b: at("b", 2)},
		"SameTime": {reason: "Created in the same second: by name.", a: at("a", 1), b: at("b", 1), want: true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := Newer(tc.a, tc.b); got != tc.want {
				t.Errorf("%s\nNewer(%s, %s): want %v, got %v", tc.reason, tc.a.Name, tc.b.Name, tc.want, got)
			}
		})
	}
}
