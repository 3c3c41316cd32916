package main

import (
	"maps"
	"slices"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/hourglass-xp/crossplane-hourglass/apis/hourglass/v1alpha1"
)

// How soon the function asks to be called again while something is in
// flight. Crossplane also calls it whenever a composed resource changes;
// this is the backstop for time-based steps (drain end, deadline).
const (
	requeueInFlight = 10 * time.Second
	minRequeue      = 1 * time.Second
)

// Plan is the outcome of the blue-green state machine for one call.
//
//  1. Stable: one revision R serves; status.active is R.
//  2. The spec changes, so the desired revision R' differs from R: R' is
//     composed beside R; the Service keeps selecting R; status.target is R'.
//  3. R' is observed ready: the Service selects R' in this same response;
//     status.active becomes R', status.lastUpgrade now; R is kept.
//  4. R is dropped once lastUpgrade + drain has passed.
//  5. R' not ready by upgradeStartTime (its Deployment's creation) + progress deadline: R keeps serving,
//     the upgrade is marked failed, R' stays for inspection until the spec
//     changes again. Reverting the spec to R drops R'.
//
// Everything is derived from the observed Deployments and Service and the
// XR status, so a restart anywhere resumes where it left.
type Plan struct {
	// Serving is the revision the Service selects.
	Serving *Revision
	// Target is the revision being upgraded to, nil when none.
	Target *Revision
	// Revisions are all revisions to compose: Serving, Target and any
	// draining ones.
	Revisions []*Revision
	// Switched is true when traffic moves to the desired revision in this
	// response.
	Switched bool
	// UpgradeFailed is true when Target missed its deadline.
	UpgradeFailed bool
	// Held is why Target, ready, does not take traffic yet (HeldPort).
	Held *Blocked
	// Requeue is how soon to be called again; zero for the default.
	Requeue time.Duration

	// LastUpgrade is when traffic last switched to another revision.
	LastUpgrade *metav1.Time
	// UpgradeStartTime is when the upgrade to Target began; nil without
	// Target.
	UpgradeStartTime *metav1.Time

	// Disruption is what the serving revision's nodes ask (disruption.go).
	Disruption *NodeDisruption
}

// Rollout is how a performer's revisions are rolled out: the platform's
// settings with the performer's own overrides.
type Rollout struct {
	// Drain is how long a revision keeps running after traffic left it.
	Drain time.Duration
	// Deadline is how long a new revision may take to become ready.
	Deadline time.Duration
	// HealthChecked is true when the platform composes PerformerEndpoints:
	// a revision is ready only once the provider finds it healthy.
	HealthChecked bool
}

// RolloutOf is the rollout of a performer on a platform.
func RolloutOf(p *Performer, pl *Platform) Rollout {
	return Rollout{
		Drain:         time.Duration(drainSeconds(p, pl)) * time.Second,
		Deadline:      time.Duration(progressDeadline(p, pl)) * time.Second,
		HealthChecked: pl.Endpoints,
	}
}

// PlanRevisions runs the state machine.
func PlanRevisions(p *Performer, desired *Revision, o *Observed, rollout Rollout, now time.Time) *Plan {
	st := p.Status
	plan := &Plan{LastUpgrade: st.LastUpgrade}
	activeID := ""
	if st.Active != nil {
		activeID = st.Active.Revision
	}
	if activeID == "" {
		// The XR status was lost: the Service still knows what serves.
		activeID = o.ServedRevision()
	}

	var drop func(id string) bool
	if active := o.activeRevision(p, activeID, st.Active); active == nil || activeID == desired.ID {
		// Stable, first creation, or what served is gone (then nothing is
		// left to protect): the desired revision serves.
		plan.Serving = desired
		plan.Revisions = []*Revision{desired}
		drop = func(id string) bool { return id == desired.ID }
	} else {
		plan.upgrade(p, active, desired, o, rollout, now)
		drop = func(id string) bool { return id == activeID || id == desired.ID }
	}

	// Keep revisions that served before and are still draining; drop the
	// rest, including a failed or superseded target that never served.
	targetID := ""
	if st.Target != nil {
		targetID = st.Target.Revision
	}
	for _, id := range slices.Sorted(maps.Keys(o.Deployments)) {
		if drop(id) || id == targetID || plan.LastUpgrade == nil {
			continue
		}
		left := plan.LastUpgrade.Add(rollout.Drain).Sub(now)
		if left <= 0 {
			continue
		}
		plan.Revisions = append(plan.Revisions, KeptRevision(id, o.Deployments[id], ""))
		plan.requeue(left)
	}
	plan.drainOperatorPod(p, o, rollout, now)
	return plan
}

// activeRevision is the revision that served last, as observed: nil when
// none is left to serve.
func (o *Observed) activeRevision(p *Performer, id string, st *v1alpha1.RevisionStatus) *Revision {
	if id == RevisionOperator {
		if o.OperatorPod == nil || o.OperatorPod.DeletionTimestamp != nil {
			return nil
		}
		return OperatorRevision(p, o.OperatorPod)
	}
	d := o.Deployments[id]
	if d == nil {
		return nil
	}
	return KeptRevision(id, d, versionOf(st, id))
}

// drainOperatorPod keeps the operator's pod, once traffic left it, for the
// drain like any revision that served; after that the function no longer
// composes it and Crossplane deletes it.
func (plan *Plan) drainOperatorPod(p *Performer, o *Observed, rollout Rollout, now time.Time) {
	if o.OperatorPod == nil || plan.LastUpgrade == nil || slices.ContainsFunc(plan.Revisions, func(r *Revision) bool { return r.Pod != nil }) {
		return
	}
	left := plan.LastUpgrade.Add(rollout.Drain).Sub(now)
	if left <= 0 {
		return
	}
	plan.Revisions = append(plan.Revisions, OperatorRevision(p, o.OperatorPod))
	plan.requeue(left)
}

// upgrade handles steps 2, 3 and 5: active serves until desired is ready.
func (plan *Plan) upgrade(p *Performer, active, desired *Revision, o *Observed, rollout Rollout, now time.Time) {
	// The start is the target Deployment's creation once it exists (see
	// Observed.ReadySince for why), the clock only before.
	st := p.Status
	start := metav1.NewTime(now)
	switch created := o.CreatedAt(desired.ID); {
	case created != nil:
		start = *created
	case st.Target != nil && st.Target.Revision == desired.ID && st.UpgradeStartTime != nil:
		start = *st.UpgradeStartTime
	}
	ready := o.RevisionReady(desired.ID, rollout.HealthChecked)
	if ready {
		plan.Held = HeldPort(p, o.Service, o.HeldPorts, desired)
	}
	if ready && plan.Held == nil {
		// Step 3: switch in one write; active drains.
		plan.Serving, plan.Switched = desired, true
		// The clock, not the target's ReadySince: its Deployment may have
		// been available long before its health check passed, and the
		// drain must run its full length after traffic really moved. An
		// outdated XR can make this switch be computed twice; that only
		// lengthens the drain.
		plan.LastUpgrade = new(metav1.NewTime(now))
		plan.Revisions = []*Revision{desired}
		if rollout.Drain > 0 {
			plan.Revisions = append(plan.Revisions, active)
			plan.requeue(rollout.Drain)
		}
		return
	}
	plan.Serving, plan.Target = active, desired
	plan.UpgradeStartTime = &start
	plan.Revisions = []*Revision{active, desired}
	if plan.Held != nil {
		// Ready, so not failing: waiting for the hold to be released,
		// which changes the Service and calls the function again.
		plan.requeue(requeueInFlight)
		return
	}
	left := start.Add(rollout.Deadline).Sub(now)
	if left <= 0 {
		plan.UpgradeFailed = true
		return
	}
	plan.requeue(min(left, requeueInFlight))
}

func (plan *Plan) requeue(d time.Duration) {
	d = max(d, minRequeue)
	if plan.Requeue == 0 || d < plan.Requeue {
		plan.Requeue = d
	}
}

func versionOf(rs *v1alpha1.RevisionStatus, id string) string {
	if rs != nil && rs.Revision == id {
		return rs.Version
	}
	return ""
}

func revisionStatus(r *Revision) *v1alpha1.RevisionStatus {
	if r == nil {
		return nil
	}
	rs := &v1alpha1.RevisionStatus{Revision: r.ID, Image: r.Image, Version: r.Version}
	if r.Deployment != nil {
		rs.Deployment = r.Deployment.Name
	}
	return rs
}
