package main

import (
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/hourglass-xp/crossplane-hourglass/apis/hourglass/v1alpha1"
	observev1alpha1 "github.com/hourglass-xp/crossplane-hourglass/apis/observe/v1alpha1"
	"github.com/hourglass-xp/crossplane-hourglass/internal/names"
)

// Reasons beside those of the Performer API reference, for states it has no
// word for.
const (
	ReasonPodNotReady     = "PodNotReady"
	ReasonServiceNotReady = "ServiceNotReady"
	ReasonRollout         = "RolloutInProgress"
	ReasonAsExpected      = "AsExpected"
	ReasonDeleting        = "Deleting"

	ReasonProgressDeadlineExceeded = "ProgressDeadlineExceeded"
	ReasonPodCreationFailed        = "PodCreationFailed"
	ReasonEndpointNotObserved      = "EndpointNotObserved"
	// ReasonInvalid: the spec (or the platform's input) cannot be composed;
	// the message names the field.
	ReasonInvalid = "InvalidSpec"
	// ReasonInvalidInput: the platform's function input is invalid.
	ReasonInvalidInput = "InvalidInput"
)

// Condition is one condition for the composite and its performer.
type Condition struct {
	Type    string
	Status  bool
	Reason  string
	Message string
}

// StatusOf derives the performer's status and conditions from the plan and
// what is observed. readyTime is kept while the same revision serves and
// otherwise read from the observed objects (Observed.ReadySince), so
// repeated calls give the same status even from an outdated XR.
func StatusOf(p *Performer, pl *Plan, o *Observed, hardware bool, now time.Time) (v1alpha1.PerformerStatus, []Condition) {
	svc := names.Service(p.Name)
	st := v1alpha1.PerformerStatus{
		ServiceName:          svc,
		ConnectionSecretName: names.ConnectionSecret(p.Name),
		GRPCEndpoint:         names.Endpoint(svc, p.Namespace, pl.Serving.GRPCPort),
		LastUpgrade:          pl.LastUpgrade,
		Active:               pl.Active,
		Target:               pl.TargetStatus,
		UpgradeStartTime:     pl.UpgradeStartTime,
	}
	serving := o.Deployments[pl.Serving.ID]
	podReady := DeploymentReady(serving)
	// The Service selects the serving revision from this response on; when
	// traffic just switched, it is ready if the Service object is.
	available := podReady && ServiceReady(o.Service)
	// With the provider, available also means the serving pod answers gRPC
	// health through the Service.
	ep := o.Endpoints[pl.Serving.ID]
	unhealthy := o.RequireHealthy && available && !EndpointServing(ep)
	available = available && !unhealthy
	st.Ready = available

	sameRevision := p.Status.Active != nil && p.Status.Active.Revision == pl.Serving.ID
	switch {
	case available && sameRevision && p.Status.ReadyTime != nil:
		st.ReadyTime = p.Status.ReadyTime
	case available:
		st.ReadyTime = o.ReadySince(pl.Serving.ID)
		if st.ReadyTime == nil {
			st.ReadyTime = new(metav1.NewTime(now))
		}
	case sameRevision:
		st.ReadyTime = p.Status.ReadyTime
	}

	pod := PodOf(o.Pods, pl.Serving.ID, hardware)
	switch {
	case pod != nil:
		st.PodName = pod.Name
	case ep != nil:
		st.PodName = ep.Status.AtProvider.PodName
	}
	failure := failureOf(pod, serving, podReady, hardware)
	var targetFailure *Failure
	if pl.UpgradeFailed {
		targetFailure = failureOf(PodOf(o.Pods, pl.Target.ID, hardware), o.Deployments[pl.Target.ID], false, hardware)
		if targetFailure == nil {
			targetFailure = healthFailure(o, pl.Target.ID)
		}
		if targetFailure == nil {
			targetFailure = &Failure{Reason: ReasonProgressDeadlineExceeded}
		}
	}

	conds := make([]Condition, 0, 3)
	switch {
	case available:
		conds = append(conds, Condition{Type: v1alpha1.ConditionAvailable, Status: true, Reason: v1alpha1.ReasonServiceReady,
			Message: fmt.Sprintf("Deployment %s is available and Service %s serves it at %s", pl.Serving.Deployment.Name, svc, st.GRPCEndpoint)})
	case unhealthy:
		conds = append(conds, Condition{Type: v1alpha1.ConditionAvailable, Reason: endpointReason(ep), Message: endpointMessage(ep)})
	case podReady:
		conds = append(conds, Condition{Type: v1alpha1.ConditionAvailable, Reason: ReasonServiceNotReady,
			Message: fmt.Sprintf("Deployment %s is available; Service %s has no cluster IP yet", pl.Serving.Deployment.Name, svc)})
	case failure != nil:
		conds = append(conds, Condition{Type: v1alpha1.ConditionAvailable, Reason: failure.Reason, Message: failure.Message})
	default:
		conds = append(conds, Condition{Type: v1alpha1.ConditionAvailable, Reason: ReasonPodNotReady,
			Message: fmt.Sprintf("waiting for Deployment %s to have its pod ready", pl.Serving.Deployment.Name)})
	}

	switch {
	case p.Deleting:
		conds = append(conds, Condition{Type: v1alpha1.ConditionProgressing, Status: true, Reason: ReasonDeleting, Message: "the performer is being deleted"})
	case pl.UpgradeFailed:
		conds = append(conds, Condition{Type: v1alpha1.ConditionProgressing, Reason: targetFailure.Reason,
			Message: fmt.Sprintf("upgrade to revision %s (%s) did not become ready in time; revision %s keeps serving", pl.Target.ID, pl.Target.Image, pl.Serving.ID)})
	case pl.Target != nil:
		msg := fmt.Sprintf("upgrading from revision %s (%s) to %s (%s)", pl.Serving.ID, pl.Serving.Image, pl.Target.ID, pl.Target.Image)
		// Say early why the new revision is not ready yet; the upgrade is
		// only given up at its deadline, as pulls and schedulers recover.
		tp := PodOf(o.Pods, pl.Target.ID, hardware)
		switch hf := healthFailure(o, pl.Target.ID); {
		case tp != nil && tp.Failure != nil:
			msg += fmt.Sprintf("; pod %s: %s: %s", tp.Name, tp.Failure.Reason, tp.Failure.Message)
		case hf != nil:
			msg += fmt.Sprintf("; revision %s is available but not healthy: %s: %s", pl.Target.ID, hf.Reason, hf.Message)
		}
		conds = append(conds, Condition{Type: v1alpha1.ConditionProgressing, Status: true, Reason: v1alpha1.ReasonUpgradeInProgress, Message: msg})
	case !podReady && failure == nil && pod != nil && pod.Scheduled:
		conds = append(conds, Condition{Type: v1alpha1.ConditionProgressing, Status: true, Reason: v1alpha1.ReasonScheduled,
			Message: fmt.Sprintf("pod %s of revision %s (%s) is scheduled and starting", pod.Name, pl.Serving.ID, pl.Serving.Image)})
	case !podReady && failure == nil:
		conds = append(conds, Condition{Type: v1alpha1.ConditionProgressing, Status: true, Reason: ReasonRollout,
			Message: fmt.Sprintf("rolling out revision %s (%s)", pl.Serving.ID, pl.Serving.Image)})
	default:
		conds = append(conds, Condition{Type: v1alpha1.ConditionProgressing, Reason: ReasonAsExpected})
	}

	switch {
	case pl.UpgradeFailed:
		conds = append(conds, Condition{Type: v1alpha1.ConditionDegraded, Status: true, Reason: targetFailure.Reason,
			Message: fmt.Sprintf("revision %s (%s) is not ready: %s", pl.Target.ID, pl.Target.Image, targetFailure.Message)})
	case failure != nil:
		conds = append(conds, Condition{Type: v1alpha1.ConditionDegraded, Status: true, Reason: failure.Reason, Message: failure.Message})
	default:
		conds = append(conds, Condition{Type: v1alpha1.ConditionDegraded, Reason: ReasonAsExpected})
	}

	switch {
	case p.Deleting:
		st.Phase = v1alpha1.PhaseTerminating
	case pl.Target != nil && !pl.UpgradeFailed:
		st.Phase = v1alpha1.PhaseUpgrading
	case available:
		st.Phase = v1alpha1.PhaseRunning
	case failure != nil && failure.Terminal():
		st.Phase = v1alpha1.PhaseFailed
	default:
		st.Phase = v1alpha1.PhasePending
	}
	return st, conds
}

// failureOf prefers what the pod tells (precise, and at once) over what the
// Deployment tells (after its progress deadline).
func failureOf(pod *PodState, d *appsv1.Deployment, ready, hardware bool) *Failure {
	if ready {
		return nil
	}
	if pod != nil && pod.Failure != nil {
		return pod.Failure
	}
	return DeploymentFailure(d, hardware)
}

// healthFailure is why a revision whose Deployment is available is still
// not ready when the provider must find it healthy: its PerformerEndpoint's
// reason (NotServing, HealthCheckFailed, ...). Nil otherwise.
func healthFailure(o *Observed, id string) *Failure {
	if !o.RequireHealthy || !DeploymentReady(o.Deployments[id]) || EndpointReady(o.Endpoints[id]) {
		return nil
	}
	e := o.Endpoints[id]
	return &Failure{Reason: endpointReason(e), Message: endpointMessage(e)}
}

// endpointReason is the provider's reason for a revision it does not find
// serving, or a generic one before it has observed anything.
func endpointReason(e *observev1alpha1.PerformerEndpoint) string {
	if e == nil || e.Status.AtProvider.Reason == "" {
		return ReasonEndpointNotObserved
	}
	return e.Status.AtProvider.Reason
}

func endpointMessage(e *observev1alpha1.PerformerEndpoint) string {
	if e == nil || e.Status.AtProvider.Message == "" {
		return "waiting for the provider to health-check the performer"
	}
	return e.Status.AtProvider.Message
}
