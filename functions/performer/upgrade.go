package main

import (
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
	// Requeue is how soon to be called again; zero for the default.
	Requeue time.Duration

	Active           *v1alpha1.RevisionStatus
	TargetStatus     *v1alpha1.RevisionStatus
	LastUpgrade      *metav1.Time
	UpgradeStartTime *metav1.Time
}

// PlanRevisions runs the state machine.
func PlanRevisions(p *Performer, desired *Revision, o *Observed, now time.Time, drain, deadline time.Duration) *Plan {
	st := p.Status
	pl := &Plan{LastUpgrade: st.LastUpgrade}
	activeID := ""
	if st.Active != nil {
		activeID = st.Active.Revision
	}
	if activeID == "" {
		// The XR status was lost: the Service still knows what serves.
		activeID = o.ServedRevision()
	}
	activeDep := o.Deployments[activeID]

	var drop func(id string) bool
	if activeID == "" || activeID == desired.ID || activeDep == nil {
		// Stable, first creation, or the serving Deployment is gone (then
		// nothing is left to protect): the desired revision serves.
		pl.Serving = desired
		pl.Revisions = []*Revision{desired}
		drop = func(id string) bool { return id == desired.ID }
	} else {
		active := KeptRevision(activeID, activeDep, versionOf(st.Active, activeID))
		pl.upgrade(p, active, desired, o, now, drain, deadline)
		drop = func(id string) bool { return id == activeID || id == desired.ID }
	}
	pl.Active = revisionStatus(pl.Serving)
	pl.TargetStatus = revisionStatus(pl.Target)

	// Keep revisions that served before and are still draining; drop the
	// rest, including a failed or superseded target that never served.
	targetID := ""
	if st.Target != nil {
		targetID = st.Target.Revision
	}
	for _, id := range o.RevisionIDs() {
		if drop(id) || id == targetID || pl.LastUpgrade == nil {
			continue
		}
		left := pl.LastUpgrade.Add(drain).Sub(now)
		if left <= 0 {
			continue
		}
		pl.Revisions = append(pl.Revisions, KeptRevision(id, o.Deployments[id], ""))
		pl.requeue(left)
	}
	return pl
}

// upgrade handles steps 2, 3 and 5: active serves until desired is ready.
func (pl *Plan) upgrade(p *Performer, active, desired *Revision, o *Observed, now time.Time, drain, deadline time.Duration) {
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
	if o.RevisionReady(desired.ID) {
		// Step 3: switch in one write; active drains.
		pl.Serving, pl.Switched = desired, true
		// The clock, not the target's ReadySince: its Deployment may have
		// been available long before its health check passed, and the
		// drain must run its full length after traffic really moved. An
		// outdated XR can make this switch be computed twice; that only
		// lengthens the drain.
		pl.LastUpgrade = new(metav1.NewTime(now))
		pl.Revisions = []*Revision{desired}
		if drain > 0 {
			pl.Revisions = append(pl.Revisions, active)
			pl.requeue(drain)
		}
		return
	}
	pl.Serving, pl.Target = active, desired
	pl.UpgradeStartTime = &start
	pl.Revisions = []*Revision{active, desired}
	left := start.Add(deadline).Sub(now)
	if left <= 0 {
		pl.UpgradeFailed = true
		return
	}
	pl.requeue(min(left, requeueInFlight))
}

func (pl *Plan) requeue(d time.Duration) {
	d = max(d, minRequeue)
	if pl.Requeue == 0 || d < pl.Requeue {
		pl.Requeue = d
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
	return &v1alpha1.RevisionStatus{Revision: r.ID, Image: r.Image, Version: r.Version, Deployment: r.Deployment.Name}
}
