// Package podstatus turns a pod's status, as the scheduler and the kubelet
// write it, into the Performer API's reasons. The composition function (for
// the Performer's conditions) and the provider (for a PerformerEndpoint's)
// both diagnose pods here, so a pod means the same on both.
package podstatus

import (
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/hourglass-xp/crossplane-hourglass/apis/hourglass/v1alpha1"
)

// A Diagnosis is what one pod says about the performer.
type Diagnosis struct {
	// Reason is one of the v1alpha1 Reason constants: PodReady, PodPending,
	// PodNotReady, or, when Failed, one of SchedulingFailed,
	// HardwareUnavailable, ImagePullFailed, CrashLoopBackOff, PodFailed.
	Reason string
	// Message explains Reason with the scheduler's or kubelet's own words
	// where there are some. It never quotes environment values: the
	// kubelet names a missing Secret key, not a value.
	Message string
	// Scheduled: the pod is placed on a node.
	Scheduled bool
	// Ready: the pod's Ready condition is True.
	Ready bool
	// Restarts is the sum of the pod's container restarts.
	Restarts int32
}

// Failed reports whether the pod will not become ready without a change:
// to the spec, to the cluster's nodes, or to what the pod refers to.
func (d Diagnosis) Failed() bool {
	switch d.Reason {
	case v1alpha1.ReasonSchedulingFailed, v1alpha1.ReasonHardwareUnavailable, v1alpha1.ReasonImagePullFailed,
		v1alpha1.ReasonCrashLoopBackOff, v1alpha1.ReasonPodFailed:
		return true
	}
	return false
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

// waitingCrashLoop is the kubelet's waiting reason of a container it
// restarts with back-off.
const waitingCrashLoop = "CrashLoopBackOff"

// Diagnose says why a pod is, or is not, serving. The order matters: a
// failed pod is failed whatever its containers say; a pod the scheduler
// rejected has no containers to speak of; image and crash problems explain
// an unready pod better than its Ready condition's generic message.
//
// hardwareLabels are node label keys that select hardware for this pod
// beside the well-known ones (IsHardwareLabel): a composer that knows its
// platform's hardware profiles passes their keys.
func Diagnose(p *corev1.Pod, hardwareLabels ...string) Diagnosis {
	d := Diagnosis{
		Scheduled: p.Spec.NodeName != "" || conditionIs(p, corev1.PodScheduled, corev1.ConditionTrue),
		Ready:     Ready(p),
		Restarts:  restarts(p),
	}
	switch {
	case p.Status.Phase == corev1.PodFailed:
		d.Reason, d.Message = v1alpha1.ReasonPodFailed, failedMessage(p)
	case conditionIs(p, corev1.PodScheduled, corev1.ConditionFalse):
		d.Reason, d.Message = notScheduled(p, hardwareLabels)
	default:
		d.Reason, d.Message = containers(p, d)
	}
	return d
}

func failedMessage(p *corev1.Pod) string {
	switch {
	case p.Status.Reason != "":
		return fmt.Sprintf("pod %s failed (%s): %s", p.Name, p.Status.Reason, p.Status.Message)
	case p.Status.Message != "":
		return p.Status.Message
	}
	return "pod " + p.Name + " failed"
}

// notScheduled explains a pod whose PodScheduled condition is False: the
// scheduler found no node (Unschedulable), or has not decided yet
// (scheduling gates, a scheduler error it retries).
func notScheduled(p *corev1.Pod, hardwareLabels []string) (reason, message string) {
	c := condition(p, corev1.PodScheduled)
	message = orDefault(c.Message, "pod "+p.Name+" is not scheduled yet")
	switch {
	case c.Reason != corev1.PodReasonUnschedulable:
		return v1alpha1.ReasonPodPending, message
	case lacksHardware(c.Message, p, hardwareLabels):
		return v1alpha1.ReasonHardwareUnavailable, message
	}
	return v1alpha1.ReasonSchedulingFailed, message
}

// containers explains a scheduled pod by its containers, or by its Ready
// condition when they say nothing.
func containers(p *corev1.Pod, d Diagnosis) (reason, message string) {
	if r, m, ok := waiting(p); ok {
		return r, m
	}
	switch {
	case d.Ready:
		return v1alpha1.ReasonPodReady, "pod " + p.Name + " is ready"
	case !d.Scheduled:
		return v1alpha1.ReasonPodPending, "pod " + p.Name + " is waiting for the scheduler"
	}
	if c := condition(p, corev1.PodReady); c != nil && c.Message != "" {
		return v1alpha1.ReasonPodNotReady, fmt.Sprintf("pod %s is not ready: %s", p.Name, c.Message)
	}
	return v1alpha1.ReasonPodNotReady, "pod " + p.Name + " is not ready"
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
			case w.Reason == waitingCrashLoop:
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

// Ready reports whether the pod's Ready condition is True.
func Ready(p *corev1.Pod) bool {
	return conditionIs(p, corev1.PodReady, corev1.ConditionTrue)
}

// Newer orders pods newest first, then by name, so a choice among pods
// does not depend on the order they were listed in.
func Newer(a, b *corev1.Pod) bool {
	if !a.CreationTimestamp.Equal(&b.CreationTimestamp) {
		return b.CreationTimestamp.Before(&a.CreationTimestamp)
	}
	return a.Name < b.Name
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

// lacksHardware tells, from the scheduler's Unschedulable message and the
// pod's own constraints, whether the pod waits for hardware the cluster
// lacks rather than for ordinary capacity or a misconfiguration: a
// shortage of an extended resource (device plugins advertise them:
// nvidia.com/gpu, sgx.intel.com/epc, ...), or nodes rejected by a node
// selector or required affinity on a hardware label. A shortage of cpu or
// memory is not, even for a pod that also asks for a GPU: the nodes with
// the GPU are there, only full.
func lacksHardware(msg string, p *corev1.Pod, hardwareLabels []string) bool {
	for _, r := range insufficient(msg) {
		if isExtendedResource(r) {
			return true
		}
	}
	return strings.Contains(msg, msgAffinityMismatch) && hasHardwareNodeConstraint(p, hardwareLabels)
}

// msgAffinityMismatch is how kube-scheduler's NodeAffinity plugin reports
// nodes rejected by a pod's node selector or required node affinity.
const msgAffinityMismatch = "didn't match Pod's node affinity/selector"

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

// isExtendedResource reports whether a resource is an extended resource,
// as Kubernetes defines it: a domain-prefixed name outside kubernetes.io.
// cpu, memory, ephemeral-storage, pods and hugepages-* are native.
func isExtendedResource(name string) bool {
	return strings.Contains(name, "/") && !strings.Contains(name, corev1.ResourceDefaultNamespacePrefix)
}

func hasHardwareNodeConstraint(p *corev1.Pod, hardwareLabels []string) bool {
	hardware := func(k string) bool { return IsHardwareLabel(k) || slices.Contains(hardwareLabels, k) }
	for k := range p.Spec.NodeSelector {
		if hardware(k) {
			return true
		}
	}
	a := p.Spec.Affinity
	if a == nil || a.NodeAffinity == nil || a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution == nil {
		return false
	}
	for _, t := range a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms {
		for _, e := range t.MatchExpressions {
			if hardware(e.Key) {
				return true
			}
		}
	}
	return false
}

// Node label keys (exact) and prefixes that describe hardware: what GPU
// Feature Discovery, Node Feature Discovery, the cloud GPU node pools and
// the function's built-in hardware profiles select on.
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

// IsHardwareLabel reports whether a node label key is a well-known
// hardware label.
func IsHardwareLabel(k string) bool {
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
