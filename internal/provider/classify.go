package provider

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/hourglass-xp/crossplane-hourglass/apis/observe/v1alpha1"
)

// podState is what one pod says about the performer.
type podState struct {
	// reason is one of the v1alpha1 Reason constants.
	reason  string
	message string
	// scheduled: the pod is placed on a node.
	scheduled bool
	// ready: the pod's Ready condition is True.
	ready    bool
	restarts int32
}

// Container waiting reasons the kubelet reports while it cannot get the
// image. RegistryUnavailable and SignatureValidationFailed are CRI-O's.
var imagePullReasons = map[string]bool{
	"ErrImagePull":              true,
	"ImagePullBackOff":          true,
	"InvalidImageName":          true,
	"ErrImageNeverPull":         true,
	"RegistryUnavailable":       true,
	"SignatureValidationFailed": true,
}

// Container waiting reasons that mean the container cannot start as
// configured (a missing Secret or ConfigMap key, a bad command): the pod
// fails, not the image or the scheduler.
var containerErrorReasons = map[string]bool{
	"CreateContainerConfigError": true,
	"CreateContainerError":       true,
	"RunContainerError":          true,
	"PreCreateHookError":         true,
	"PreStartHookError":          true,
	"PostStartHookError":         true,
}

// classifyPod says why a pod is, or is not, serving. The order matters:
// a failed pod is failed whatever its containers say; a pod the scheduler
// rejected has no containers to speak of; image and crash problems explain
// an unready pod better than its Ready condition's generic message.
func classifyPod(p *corev1.Pod) podState {
	s := podState{
		scheduled: p.Spec.NodeName != "" || conditionIs(p, corev1.PodScheduled, corev1.ConditionTrue),
		ready:     conditionIs(p, corev1.PodReady, corev1.ConditionTrue),
		restarts:  restarts(p),
	}

	if p.Status.Phase == corev1.PodFailed {
		s.reason, s.message = v1alpha1.ReasonPodFailed, orDefault(p.Status.Message, "pod "+p.Name+" failed")
		if p.Status.Reason != "" {
			s.message = fmt.Sprintf("pod %s failed (%s): %s", p.Name, p.Status.Reason, p.Status.Message)
		}
		return s
	}

	if c := condition(p, corev1.PodScheduled); c != nil && c.Status == corev1.ConditionFalse {
		s.reason, s.message = v1alpha1.ReasonPodPending, orDefault(c.Message, "pod "+p.Name+" is not scheduled yet")
		if c.Reason == corev1.PodReasonUnschedulable {
			s.reason = v1alpha1.ReasonSchedulingFailed
			if hardwareShortage(c.Message, p) {
				s.reason = v1alpha1.ReasonHardwareUnavailable
			}
		}
		return s
	}

	if r, m, ok := waiting(p); ok {
		s.reason, s.message = r, m
		return s
	}

	switch {
	case s.ready:
		s.reason, s.message = v1alpha1.ReasonPodReady, "pod "+p.Name+" is ready"
	case !s.scheduled:
		s.reason, s.message = v1alpha1.ReasonPodPending, "pod "+p.Name+" is waiting for the scheduler"
	default:
		s.reason, s.message = v1alpha1.ReasonPodNotReady, "pod "+p.Name+" is not ready"
		if c := condition(p, corev1.PodReady); c != nil && c.Message != "" {
			s.message = fmt.Sprintf("pod %s is not ready: %s", p.Name, c.Message)
		}
	}
	return s
}

// waiting finds the most telling container waiting state: init containers
// first (nothing else starts before them), then the app containers.
func waiting(p *corev1.Pod) (reason, message string, ok bool) {
	for _, statuses := range [][]corev1.ContainerStatus{p.Status.InitContainerStatuses, p.Status.ContainerStatuses} {
		for _, cs := range statuses {
			w := cs.State.Waiting
			if w == nil {
				continue
			}
			detail := w.Reason
			if w.Message != "" {
				detail += ": " + w.Message
			}
			switch {
			case imagePullReasons[w.Reason]:
				return v1alpha1.ReasonImagePullFailed, fmt.Sprintf("container %s of pod %s cannot pull image %s (%s)", cs.Name, p.Name, cs.Image, detail), true
			case w.Reason == "CrashLoopBackOff":
				return v1alpha1.ReasonCrashLoopBackOff, fmt.Sprintf("container %s of pod %s keeps crashing (%d restarts): %s", cs.Name, p.Name, cs.RestartCount, lastTermination(cs)), true
			case containerErrorReasons[w.Reason]:
				return v1alpha1.ReasonPodFailed, fmt.Sprintf("container %s of pod %s cannot start (%s)", cs.Name, p.Name, detail), true
			}
		}
	}
	// A container still being created is ordinary progress, reported only
	// when nothing above applies.
	for _, cs := range p.Status.ContainerStatuses {
		if w := cs.State.Waiting; w != nil && w.Reason != "" {
			return v1alpha1.ReasonPodPending, fmt.Sprintf("container %s of pod %s is waiting (%s)", cs.Name, p.Name, w.Reason), true
		}
	}
	return "", "", false
}

func lastTermination(cs corev1.ContainerStatus) string {
	t := cs.LastTerminationState.Terminated
	if t == nil {
		return "no termination recorded"
	}
	s := fmt.Sprintf("last exit code %d", t.ExitCode)
	if t.Reason != "" {
		s += " (" + t.Reason + ")"
	}
	return s
}

func restarts(p *corev1.Pod) int32 {
	var n int32
	for _, cs := range p.Status.InitContainerStatuses {
		n += cs.RestartCount
	}
	for _, cs := range p.Status.ContainerStatuses {
		n += cs.RestartCount
	}
	return n
}

func condition(p *corev1.Pod, t corev1.PodConditionType) *corev1.PodCondition {
	for i := range p.Status.Conditions {
		if p.Status.Conditions[i].Type == t {
			return &p.Status.Conditions[i]
		}
	}
	return nil
}

func conditionIs(p *corev1.Pod, t corev1.PodConditionType, s corev1.ConditionStatus) bool {
	c := condition(p, t)
	return c != nil && c.Status == s
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// Resources every node has: a shortage of these is ordinary capacity, not
// missing hardware.
var commonResources = map[string]bool{
	string(corev1.ResourceCPU):              true,
	string(corev1.ResourceMemory):           true,
	string(corev1.ResourceEphemeralStorage): true,
	string(corev1.ResourcePods):             true,
	string(corev1.ResourceStorage):          true,
}

// Node label keys (exact) and prefixes that describe hardware: what GPU
// Feature Discovery, Node Feature Discovery, the cloud GPU node pools and
// the function's hardware profiles select on.
var (
	hardwareLabelKeys = map[string]bool{
		"accelerator":                          true,
		"cloud.google.com/gke-accelerator":     true,
		"cloud.google.com/gke-tpu-accelerator": true,
		"k8s.amazonaws.com/accelerator":        true,
		"hourglass.eigenlayer.io/gpu":          true,
		"hourglass.eigenlayer.io/tee":          true,
	}
	hardwareLabelPrefixes = []string{
		"nvidia.com/",
		"amd.com/",
		"gpu.intel.com/",
		"sgx.intel.com/",
		"tdx.intel.com/",
		"feature.node.kubernetes.io/",
		"intel.feature.node.kubernetes.io/",
	}
)

// msgAffinityMismatch is how kube-scheduler's NodeAffinity plugin reports
// nodes rejected by a pod's node selector or required node affinity.
const msgAffinityMismatch = "didn't match Pod's node affinity/selector"

// hardwareShortage tells, from the scheduler's Unschedulable message and
// the pod's own constraints, whether the pod waits for hardware the
// cluster lacks rather than for ordinary capacity or a misconfiguration:
// a shortage of an extended resource (device plugins: nvidia.com/gpu,
// sgx.intel.com/epc, ...), or nodes rejected by a node selector or
// affinity on hardware labels.
func hardwareShortage(msg string, p *corev1.Pod) bool {
	for _, r := range insufficient(msg) {
		if !commonResources[r] && !strings.HasPrefix(r, corev1.ResourceHugePagesPrefix) {
			return true
		}
	}
	return strings.Contains(msg, msgAffinityMismatch) && hasHardwareNodeConstraint(p)
}

// insufficient returns the resource names of every "Insufficient <name>"
// in a scheduler message, e.g. "0/3 nodes are available: 1 Insufficient
// cpu, 2 Insufficient nvidia.com/gpu."
func insufficient(msg string) []string {
	const marker = "Insufficient "
	var out []string
	for {
		i := strings.Index(msg, marker)
		if i < 0 {
			return out
		}
		msg = msg[i+len(marker):]
		end := strings.IndexAny(msg, ", ;")
		name := msg
		if end >= 0 {
			name = msg[:end]
		}
		out = append(out, strings.TrimRight(name, "."))
	}
}

func hasHardwareNodeConstraint(p *corev1.Pod) bool {
	for k := range p.Spec.NodeSelector {
		if isHardwareLabel(k) {
			return true
		}
	}
	a := p.Spec.Affinity
	if a == nil || a.NodeAffinity == nil || a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution == nil {
		return false
	}
	for _, t := range a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms {
		for _, e := range t.MatchExpressions {
			if isHardwareLabel(e.Key) {
				return true
			}
		}
	}
	return false
}

func isHardwareLabel(k string) bool {
	if hardwareLabelKeys[k] {
		return true
	}
	for _, p := range hardwareLabelPrefixes {
		if strings.HasPrefix(k, p) {
			return true
		}
	}
	return false
}
