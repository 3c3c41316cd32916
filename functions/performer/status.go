package main

import (
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/hourglass-xp/crossplane-hourglass/apis/hourglass/v1alpha1"
	observev1alpha1 "github.com/hourglass-xp/crossplane-hourglass/apis/observe/v1alpha1"
	"github.com/hourglass-xp/crossplane-hourglass/internal/names"
)

// Condition is one condition for the composite and its performer.
type Condition struct {
	Type    string
	Status  bool
	Reason  string
	Message string
}

// StatusOf derives the performer's status and conditions from the plan and
// what is observed. rollout says whether the provider must find a revision
// healthy; hw what the performer asks of hardware, which tells a pod
// waiting for it. readyTime is kept while the same revision serves and
// otherwise read from the observed objects (Observed.ReadySince), so
// repeated calls give the same status even from an outdated XR.
func StatusOf(p *Performer, plan *Plan, o *Observed, rollout Rollout, hw *HardwareNeeds, now time.Time) (v1alpha1.PerformerStatus, []Condition) {
	facts := factsOf(p, plan, o, rollout, hw)
	st := v1alpha1.PerformerStatus{
		Phase:                facts.phase(),
		Ready:                facts.available,
		PodName:              facts.podName(),
		ServiceName:          facts.service,
		GRPCEndpoint:         facts.endpoint,
		ConnectionSecretName: names.ConnectionSecret(p.Name),
		LastUpgrade:          plan.LastUpgrade,
		ReadyTime:            facts.readyTime(now),
		Active:               revisionStatus(plan.Serving),
		Target:               revisionStatus(plan.Target),
		UpgradeStartTime:     plan.UpgradeStartTime,
	}
	return st, []Condition{facts.availableCondition(), facts.progressingCondition(), facts.degradedCondition()}
}

// statusFacts are what the status is derived from: the serving revision as
// observed, and why it, or the revision an upgrade failed to reach, is not
// ready.
type statusFacts struct {
	p       *Performer
	plan    *Plan
	o       *Observed
	rollout Rollout
	hw      *HardwareNeeds
	// hardwareLabels are the node label keys of hw's constraints.
	hardwareLabels []string

	service  string
	endpoint string
	// ep is the serving revision's PerformerEndpoint, if observed.
	ep *observev1alpha1.PerformerEndpoint
	// pod is the serving revision's pod, if observed.
	pod *PodState
	// deploymentReady: the serving revision's Deployment is ready.
	deploymentReady bool
	// available: it is ready, the Service has its cluster IP and, when
	// health-checked, the provider finds it serving through the Service.
	available bool
	// unhealthy: all of that but the provider's verdict.
	unhealthy bool
	// failure is why the serving revision is not ready, when it will not
	// become ready without a change.
	failure *Failure
	// targetFailure is why the upgrade failed, when it did.
	targetFailure *Failure
}

func factsOf(p *Performer, plan *Plan, o *Observed, rollout Rollout, hw *HardwareNeeds) *statusFacts {
	facts := &statusFacts{p: p, plan: plan, o: o, rollout: rollout, hw: hw, hardwareLabels: hw.NodeLabelKeys(), service: names.Service(p.Name)}
	id := plan.Serving.ID
	facts.endpoint = names.Endpoint(facts.service, p.Namespace, plan.Serving.GRPCPort)
	facts.ep = o.Endpoints[id]
	facts.pod = facts.podOf(id)
	facts.deploymentReady = DeploymentReady(o.Deployments[id])
	if pod := plan.Serving.Pod; pod != nil {
		// The operator's pod, during a takeover: ready as the kubelet
		// says, since no PerformerEndpoint health-checks it.
		facts.pod = StateOf(pod, facts.hardwareLabels)
		facts.deploymentReady = facts.pod.Ready
	}
	// The Service selects the serving revision from this response on; when
	// traffic just switched, it is ready if the Service object is.
	facts.available = facts.deploymentReady && ServiceReady(o.Service)
	facts.unhealthy = rollout.HealthChecked && plan.Serving.Pod == nil && facts.available && !EndpointReady(facts.ep)
	facts.available = facts.available && !facts.unhealthy
	if !facts.deploymentReady {
		facts.failure = facts.failureOf(facts.pod, id)
		// A lost node explains more than its replacement's wait for one.
		if f := plan.Disruption.failure(); f != nil && (facts.failure == nil || !facts.failure.Terminal()) {
			facts.failure = f
		}
	}
	if plan.UpgradeFailed {
		facts.targetFailure = facts.upgradeFailure()
	}
	return facts
}

func (facts *statusFacts) podOf(id string) *PodState {
	return PodOf(facts.o.Pods, id, facts.hardwareLabels)
}

// failureOf prefers what the pod tells (precise, and at once) over what the
// Deployment tells (after its progress deadline).
func (facts *statusFacts) failureOf(pod *PodState, id string) *Failure {
	if pod != nil && pod.Failure != nil {
		return pod.Failure
	}
	return DeploymentFailure(facts.o.Deployments[id], facts.hw.GPUOrTEE)
}

// upgradeFailure is why the target missed its deadline: its pod, its
// Deployment, the provider's verdict, or else the deadline itself.
func (facts *statusFacts) upgradeFailure() *Failure {
	id := facts.plan.Target.ID
	if failure := facts.failureOf(facts.podOf(id), id); failure != nil {
		return failure
	}
	if failure := facts.healthFailure(id); failure != nil {
		return failure
	}
	return &Failure{Reason: v1alpha1.ReasonProgressDeadlineExceeded}
}

// healthFailure is why a revision whose Deployment is available is still
// not ready when the provider must find it healthy: its PerformerEndpoint's
// reason (NotServing, HealthCheckFailed, ...). Nil otherwise.
func (facts *statusFacts) healthFailure(id string) *Failure {
	e := facts.o.Endpoints[id]
	if !facts.rollout.HealthChecked || !DeploymentReady(facts.o.Deployments[id]) || EndpointHealthy(e) {
		return nil
	}
	return &Failure{Reason: endpointReason(e), Message: endpointMessage(e)}
}

// readyTime is when the serving revision became available: kept from the
// status while the same revision serves, else read from what is observed,
// the clock only when nothing records it.
func (facts *statusFacts) readyTime(now time.Time) *metav1.Time {
	prev := facts.p.Status
	sameRevision := prev.Active != nil && prev.Active.Revision == facts.plan.Serving.ID
	switch {
	case facts.available && sameRevision && prev.ReadyTime != nil:
		return prev.ReadyTime
	case facts.available:
		if t := facts.o.ReadySince(facts.plan.Serving.ID, facts.rollout.HealthChecked); t != nil {
			return t
		}
		return new(metav1.NewTime(now))
	case sameRevision:
		return prev.ReadyTime
	}
	return nil
}

// podName is the serving revision's pod, as observed, or as the provider
// reports it.
func (facts *statusFacts) podName() string {
	switch {
	case facts.pod != nil:
		return facts.pod.Name
	case facts.ep != nil:
		return facts.ep.Status.AtProvider.PodName
	}
	return ""
}

func (facts *statusFacts) availableCondition() Condition {
	c := Condition{Type: v1alpha1.ConditionAvailable}
	w := facts.plan.Serving.workload()
	switch {
	case facts.available:
		c.Status, c.Reason = true, v1alpha1.ReasonServiceReady
		c.Message = fmt.Sprintf("%s is available and Service %s serves it at %s", w, facts.service, facts.endpoint)
	case facts.unhealthy:
		c.Reason, c.Message = endpointReason(facts.ep), endpointMessage(facts.ep)
	case facts.deploymentReady:
		c.Reason = v1alpha1.ReasonServiceNotReady
		c.Message = fmt.Sprintf("%s is available; Service %s has no cluster IP yet", w, facts.service)
	case facts.failure != nil:
		c.Reason, c.Message = facts.failure.Reason, facts.failure.Message
	default:
		c.Reason = v1alpha1.ReasonPodNotReady
		c.Message = fmt.Sprintf("waiting for %s to have its pod ready", w)
	}
	return c
}

func (facts *statusFacts) progressingCondition() Condition {
	c := Condition{Type: v1alpha1.ConditionProgressing, Status: true}
	serving, target := facts.plan.Serving, facts.plan.Target
	starting := !facts.deploymentReady && facts.failure == nil
	switch {
	case facts.p.Deleting:
		c.Reason, c.Message = v1alpha1.ReasonDeleting, "the performer is being deleted"
	case facts.plan.UpgradeFailed:
		c.Status, c.Reason = false, facts.targetFailure.Reason
		c.Message = fmt.Sprintf("upgrade to revision %s (%s) did not become ready in time; revision %s keeps serving", target.ID, target.Image, serving.ID)
	case target != nil:
		c.Reason = v1alpha1.ReasonUpgradeInProgress
		c.Message = fmt.Sprintf("upgrading from revision %s (%s) to %s (%s)", serving.ID, serving.Image, target.ID, target.Image) + facts.targetProgress()
	case facts.plan.Disruption.moving(serving.ID) != nil:
		return *facts.plan.Disruption.moving(serving.ID)
	case starting && facts.pod != nil && facts.pod.Scheduled:
		c.Reason = v1alpha1.ReasonScheduled
		c.Message = fmt.Sprintf("pod %s of revision %s (%s) is scheduled and starting", facts.pod.Name, serving.ID, serving.Image)
	case starting:
		c.Reason = v1alpha1.ReasonRolloutInProgress
		c.Message = fmt.Sprintf("rolling out revision %s (%s)", serving.ID, serving.Image)
	default:
		c.Status, c.Reason = false, v1alpha1.ReasonAsExpected
	}
	return c
}

// targetProgress says early why the target is not ready yet; the upgrade
// is only given up at its deadline, as pulls and schedulers recover.
func (facts *statusFacts) targetProgress() string {
	id := facts.plan.Target.ID
	if tp := facts.podOf(id); tp != nil && tp.Failure != nil {
		return fmt.Sprintf("; pod %s: %s: %s", tp.Name, tp.Failure.Reason, tp.Failure.Message)
	}
	if hf := facts.healthFailure(id); hf != nil {
		return fmt.Sprintf("; revision %s is available but not healthy: %s: %s", id, hf.Reason, hf.Message)
	}
	return ""
}

func (facts *statusFacts) degradedCondition() Condition {
	c := Condition{Type: v1alpha1.ConditionDegraded, Status: true}
	switch {
	case facts.plan.Held != nil:
		c.Reason, c.Message = facts.plan.Held.Reason, facts.plan.Held.Error()
	case facts.plan.UpgradeFailed:
		t := facts.plan.Target
		c.Reason = facts.targetFailure.Reason
		c.Message = fmt.Sprintf("revision %s (%s) is not ready: %s", t.ID, t.Image, facts.targetFailure.Message)
	case facts.plan.Disruption.drainTimedOut() != nil:
		return *facts.plan.Disruption.drainTimedOut()
	case facts.failure != nil:
		c.Reason, c.Message = facts.failure.Reason, facts.failure.Message
	default:
		c.Status, c.Reason = false, v1alpha1.ReasonAsExpected
	}
	return c
}

func (facts *statusFacts) phase() string {
	switch {
	case facts.p.Deleting:
		return v1alpha1.PhaseTerminating
	case facts.plan.Target != nil && !facts.plan.UpgradeFailed:
		return v1alpha1.PhaseUpgrading
	case facts.available:
		return v1alpha1.PhaseRunning
	case facts.failure != nil && facts.failure.Terminal():
		return v1alpha1.PhaseFailed
	}
	return v1alpha1.PhasePending
}

// endpointReason is the provider's reason for a revision it does not find
// serving, or a generic one before it has observed anything.
func endpointReason(e *observev1alpha1.PerformerEndpoint) string {
	if e == nil || e.Status.AtProvider.Reason == "" {
		return v1alpha1.ReasonEndpointNotObserved
	}
	return e.Status.AtProvider.Reason
}

func endpointMessage(e *observev1alpha1.PerformerEndpoint) string {
	if e == nil || e.Status.AtProvider.Message == "" {
		return "waiting for the provider to health-check the performer"
	}
	return e.Status.AtProvider.Message
}
