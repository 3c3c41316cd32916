package main

import (
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/crossplane/crossplane-runtime/v2/pkg/errors"
	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"
	"github.com/crossplane/function-sdk-go/resource"

	"github.com/hourglass-xp/crossplane-hourglass/apis/hourglass/v1alpha1"
	"github.com/hourglass-xp/crossplane-hourglass/internal/names"
)

const (
	// RequiredPods names the pods the function asks Crossplane for. The
	// function never calls the API server itself: it declares what it needs
	// and Crossplane calls it again with the pods (and watches them, so a pod
	// changing state reconciles the performer).
	RequiredPods = "pods"

	errFmtParsePod = "cannot parse required pod %q"

	// Pod-level reasons beside the Performer API reference's.
	ReasonCrashLoopBackOff = "CrashLoopBackOff"
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
// spec.nodeName and status. The rest of a pod (containers, volumes, the
// managed fields) is most of it, and converting it twice, protobuf to map
// and map to typed, was a large part of a call's work for nothing.
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
		if n, ok := f["spec"].GetStructValue().GetFields()["nodeName"]; ok {
			obj["spec"] = map[string]any{"nodeName": n.AsInterface()}
		}
		out = append(out, resource.Required{Resource: &unstructured.Unstructured{Object: obj}})
	}
	return out
}

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
	// Failure is set when the pod cannot become ready by itself.
	Failure *Failure
}

// PodOf picks and diagnoses the pod of a revision. It returns nil when the
// revision has no pod (yet, or pods are not observed).
func PodOf(pods []corev1.Pod, revision string, hardware bool) *PodState {
	var mine []corev1.Pod
	for _, p := range pods {
		if p.Labels[names.LabelRevision] == revision && p.DeletionTimestamp == nil {
			mine = append(mine, p)
		}
	}
	if len(mine) == 0 {
		return nil
	}
	// Ready pods first, then the newest, then by name: deterministic.
	sort.SliceStable(mine, func(i, j int) bool {
		ri, rj := podReady(&mine[i]), podReady(&mine[j])
		if ri != rj {
			return ri
		}
		if !mine[i].CreationTimestamp.Equal(&mine[j].CreationTimestamp) {
			return mine[j].CreationTimestamp.Before(&mine[i].CreationTimestamp)
		}
		return mine[i].Name < mine[j].Name
	})
	p := &mine[0]
	st := &PodState{Name: p.Name, Ready: podReady(p), Scheduled: p.Spec.NodeName != ""}
	if !st.Ready {
		st.Failure = podFailure(p, hardware)
	}
	return st
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// podFailure explains a pod that is not ready, with the reasons of the
// Performer API reference where they apply.
func podFailure(p *corev1.Pod, hardware bool) *Failure {
	for _, c := range p.Status.Conditions {
		if c.Type != corev1.PodScheduled || c.Status != corev1.ConditionFalse || c.Reason != corev1.PodReasonUnschedulable {
			continue
		}
		// The scheduler's message lists why nodes were rejected. With
		// hardware requirements, missing resources or node constraints mean
		// no node has the hardware.
		if hardware && (strings.Contains(c.Message, "Insufficient") || strings.Contains(c.Message, "affinity") ||
			strings.Contains(c.Message, "selector") || strings.Contains(c.Message, "runtime class")) {
			return &Failure{Reason: v1alpha1.ReasonHardwareUnavailable, Message: c.Message}
		}
		return &Failure{Reason: v1alpha1.ReasonSchedulingFailed, Message: c.Message}
	}
	for _, cs := range p.Status.ContainerStatuses {
		w := cs.State.Waiting
		if w == nil {
			continue
		}
		switch w.Reason {
		case "ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull":
			// The message may quote the registry's answer, never env values.
			return &Failure{Reason: v1alpha1.ReasonImagePullFailed, Message: w.Message}
		case ReasonCrashLoopBackOff:
			return &Failure{Reason: ReasonCrashLoopBackOff, Message: w.Message}
		}
	}
	return nil
}
