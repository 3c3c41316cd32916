package main

import (
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/hourglass-xp/crossplane-hourglass/apis/hourglass/v1alpha1"
)

// DeploymentReady reports whether a Deployment runs its current spec with
// its performer pod updated and available. observedGeneration must have
// caught up, or the status describes a spec that no longer exists. One pod
// serves a performer: a Deployment surged off a drained node
// (disruption.go) is ready while one of its two pods is.
func DeploymentReady(d *appsv1.Deployment) bool {
	if d == nil || d.Status.ObservedGeneration < d.Generation {
		return false
	}
	want := int32(1)
	if d.Spec.Replicas != nil {
		want = min(*d.Spec.Replicas, 1)
	}
	if d.Status.UpdatedReplicas < want || d.Status.AvailableReplicas < want {
		return false
	}
	c := deploymentCondition(d, appsv1.DeploymentAvailable)
	return c != nil && c.Status == corev1.ConditionTrue
}

// ServiceReady reports whether a ClusterIP Service has its cluster IP.
func ServiceReady(s *corev1.Service) bool {
	return s != nil && s.Spec.ClusterIP != "" && s.Spec.ClusterIP != corev1.ClusterIPNone
}

func deploymentCondition(d *appsv1.Deployment, t appsv1.DeploymentConditionType) *appsv1.DeploymentCondition {
	for i := range d.Status.Conditions {
		if d.Status.Conditions[i].Type == t {
			return &d.Status.Conditions[i]
		}
	}
	return nil
}

// Failure is why a revision will not become ready without a change: what
// its pod tells (podstatus), or else what its Deployment tells.
type Failure struct {
	Reason  string
	Message string
}

// Terminal reports whether only a change to the performer can fix the failure
// (phase Failed), as opposed to waiting for the cluster, e.g. for a node
// with the hardware to appear (phase Pending).
func (f *Failure) Terminal() bool {
	switch f.Reason {
	case v1alpha1.ReasonSchedulingFailed, v1alpha1.ReasonHardwareUnavailable, v1alpha1.ReasonNodeNotReady:
		return false
	}
	return true
}

// DeploymentFailure returns why the Deployment failed, or nil while it may
// still progress. The Deployment cannot tell an image pull failure from a
// crash or an unschedulable pod; with hardware requirements, an exceeded
// deadline is most often missing hardware, so it says HardwareUnavailable.
func DeploymentFailure(d *appsv1.Deployment, hardware bool) *Failure {
	if d == nil || DeploymentReady(d) {
		return nil
	}
	if c := deploymentCondition(d, appsv1.DeploymentReplicaFailure); c != nil && c.Status == corev1.ConditionTrue {
		return &Failure{Reason: v1alpha1.ReasonPodCreationFailed, Message: c.Message}
	}
	c := deploymentCondition(d, appsv1.DeploymentProgressing)
	if c == nil || c.Status != corev1.ConditionFalse || c.Reason != "ProgressDeadlineExceeded" {
		return nil
	}
	reason := v1alpha1.ReasonProgressDeadlineExceeded
	if hardware {
		reason = v1alpha1.ReasonHardwareUnavailable
	}
	return &Failure{Reason: reason, Message: c.Message}
}
