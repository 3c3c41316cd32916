package endpoint

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	hgv1alpha1 "github.com/hourglass-xp/crossplane-hourglass/apis/hourglass/v1alpha1"
	"github.com/hourglass-xp/crossplane-hourglass/apis/observe/v1alpha1"
)

// ReasonAsExpected is the reason of a condition that is as it should be
// (Degraded False).
const ReasonAsExpected = "AsExpected"

// Condition has the fields of the composition function's Condition, so the
// function converts one with a plain type conversion.
type Condition struct {
	Type    string
	Status  bool
	Reason  string
	Message string
}

// Status is the part of the Performer's status the provider's observation
// decides. Progressing is left to the function: only it knows about
// upgrades.
type Status struct {
	PodName   string
	Phase     string
	ReadyTime *metav1.Time
	// Conditions are Available and Degraded.
	Conditions []Condition
}

// verdict says what a provider reason means for the Performer.
type verdict struct {
	phase    string
	degraded bool
}

// verdicts maps every reason the provider reports. Failures that will not
// go away by waiting (an image that cannot be pulled, hardware the cluster
// lacks, a crash loop) make the performer Failed; a pod that is ready but
// not answering gRPC is Degraded but may still recover, so Pending.
var verdicts = map[string]verdict{
	v1alpha1.ReasonServiceReady:        {phase: hgv1alpha1.PhaseRunning},
	v1alpha1.ReasonPodReady:            {phase: hgv1alpha1.PhaseRunning},
	v1alpha1.ReasonImagePullFailed:     {phase: hgv1alpha1.PhaseFailed, degraded: true},
	v1alpha1.ReasonSchedulingFailed:    {phase: hgv1alpha1.PhaseFailed, degraded: true},
	v1alpha1.ReasonHardwareUnavailable: {phase: hgv1alpha1.PhaseFailed, degraded: true},
	v1alpha1.ReasonCrashLoopBackOff:    {phase: hgv1alpha1.PhaseFailed, degraded: true},
	v1alpha1.ReasonPodFailed:           {phase: hgv1alpha1.PhaseFailed, degraded: true},
	v1alpha1.ReasonNotServing:          {phase: hgv1alpha1.PhasePending, degraded: true},
	v1alpha1.ReasonHealthCheckFailed:   {phase: hgv1alpha1.PhasePending, degraded: true},
	v1alpha1.ReasonNoPods:              {phase: hgv1alpha1.PhasePending},
	v1alpha1.ReasonPodPending:          {phase: hgv1alpha1.PhasePending},
	v1alpha1.ReasonPodNotReady:         {phase: hgv1alpha1.PhasePending},
	v1alpha1.ReasonServiceNotFound:     {phase: hgv1alpha1.PhasePending},
	v1alpha1.ReasonNoReadyEndpoints:    {phase: hgv1alpha1.PhasePending},
}

// Status maps the observation to the Performer's phase, pod, ready time
// and Available/Degraded conditions, with the reasons of the Performer API
// (PodReady, ServiceReady, Scheduled, ImagePullFailed, SchedulingFailed,
// HardwareUnavailable) where they apply and the provider's more precise
// ones (CrashLoopBackOff, NotServing, ...) where they do not.
func (o Observation) Status() Status {
	a := o.AtProvider
	v, ok := verdicts[a.Reason]
	if !ok {
		// A reason from a newer provider: not ready, nothing known to be
		// wrong.
		v = verdict{phase: hgv1alpha1.PhasePending}
	}
	if o.Ready {
		v = verdict{phase: hgv1alpha1.PhaseRunning}
	}
	reason := a.Reason
	// A scheduled pod whose containers are still starting: the API's own
	// word for it.
	if reason == v1alpha1.ReasonPodPending && a.Scheduled {
		reason = hgv1alpha1.ReasonScheduled
	}

	s := Status{PodName: a.PodName, Phase: v.phase}
	if o.Ready {
		s.ReadyTime = o.ReadySince
	}
	s.Conditions = []Condition{
		{Type: hgv1alpha1.ConditionAvailable, Status: o.Ready, Reason: reason, Message: a.Message},
		{Type: hgv1alpha1.ConditionDegraded, Status: v.degraded, Reason: ReasonAsExpected},
	}
	if v.degraded {
		s.Conditions[1].Reason, s.Conditions[1].Message = reason, a.Message
	}
	return s
}
