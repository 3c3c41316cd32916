package main

import (
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/hourglass-xp/crossplane-hourglass/apis/hourglass/v1alpha1"
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
)

// Condition is one condition for the composite and its claim.
type Condition struct {
	Type    string
	Status  bool
	Reason  string
	Message string
}

// StatusOf derives the performer's status and conditions from the plan and
// what is observed. readyTime is kept while the same revision serves, so
// repeated calls give the same status.
func StatusOf(p *Performer, pl *Plan, o *Observed, hardware bool, now time.Time) (v1alpha1.PerformerStatus, []Condition) {
	svc := names.Service(p.Name)
	st := v1alpha1.PerformerStatus{
		ServiceName:      svc,
		GRPCEndpoint:     names.Endpoint(svc, p.Namespace, pl.Serving.GRPCPort),
		LastUpgrade:      pl.LastUpgrade,
		Active:           pl.Active,
		Target:           pl.TargetStatus,
		UpgradeStartTime: pl.UpgradeStartTime,
	}
	serving := o.Deployments[pl.Serving.ID]
	podReady := DeploymentReady(serving)
	// The Service selects the serving revision from this response on; when
	// traffic just switched, it is ready if the Service object is.
	available := podReady && ServiceReady(o.Service)

	sameRevision := p.Status.Active != nil && p.Status.Active.Revision == pl.Serving.ID
	switch {
	case available && sameRevision && p.Status.ReadyTime != nil:
		st.ReadyTime = p.Status.ReadyTime
	case available:
		st.ReadyTime = new(metav1.NewTime(now))
	case sameRevision:
		st.ReadyTime = p.Status.ReadyTime
	}

	failure := DeploymentFailure(serving, hardware)
	var targetFailure *Failure
	if pl.UpgradeFailed {
		targetFailure = DeploymentFailure(o.Deployments[pl.Target.ID], hardware)
		if targetFailure == nil {
			targetFailure = &Failure{Reason: "ProgressDeadlineExceeded"}
		}
	}

	conds := make([]Condition, 0, 3)
	switch {
	case available:
		conds = append(conds, Condition{Type: v1alpha1.ConditionAvailable, Status: true, Reason: v1alpha1.ReasonServiceReady,
			Message: fmt.Sprintf("Deployment %s is available and Service %s serves it at %s", pl.Serving.Deployment.Name, svc, st.GRPCEndpoint)})
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
		conds = append(conds, Condition{Type: v1alpha1.ConditionProgressing, Status: true, Reason: v1alpha1.ReasonUpgradeInProgress,
			Message: fmt.Sprintf("upgrading from revision %s (%s) to %s (%s)", pl.Serving.ID, pl.Serving.Image, pl.Target.ID, pl.Target.Image)})
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
	case failure != nil:
		st.Phase = v1alpha1.PhaseFailed
	default:
		st.Phase = v1alpha1.PhasePending
	}
	return st, conds
}
