package main

import (
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/hourglass-xp/crossplane-hourglass/apis/hourglass/v1alpha1"
)

// Event is one change worth telling the user about, with one of the
// v1alpha1 Event reasons. Crossplane records a function's results as events
// on the Performer, the composite they target.
type Event struct {
	Warning bool
	Reason  string
	Message string
}

// Events compares the status the performer had with the one just derived
// and names each change once. The function keeps no memory: the observed
// status is the "before", so an event repeats only until Crossplane has
// written the new status, and Kubernetes folds repeats into one event with a
// count.
func Events(prev, next v1alpha1.PerformerStatus, conds []Condition) []Event {
	var ev []Event
	if next.Target != nil && (prev.Target == nil || prev.Target.Revision != next.Target.Revision) {
		ev = append(ev, Event{Reason: v1alpha1.EventUpgradeStarted, Message: fmt.Sprintf("upgrading from %s to %s",
			describeRevision(next.Active), describeRevision(next.Target))})
	}
	if prev.Active != nil && next.Active != nil && prev.Active.Revision != next.Active.Revision {
		ev = append(ev, Event{Reason: v1alpha1.EventTrafficSwitched, Message: fmt.Sprintf("Service %s now sends traffic to %s (was %s)",
			next.ServiceName, describeRevision(next.Active), describeRevision(prev.Active))})
	}
	switch {
	case next.Phase == v1alpha1.PhaseRunning && prev.Phase != v1alpha1.PhaseRunning && prev.Phase != v1alpha1.PhaseUpgrading:
		msg := "serving at " + next.GRPCEndpoint
		if next.PodName != "" {
			msg += " from pod " + next.PodName
		}
		ev = append(ev, Event{Reason: v1alpha1.EventRunning, Message: msg})
	case prev.Phase == v1alpha1.PhaseRunning && (next.Phase == v1alpha1.PhasePending || next.Phase == v1alpha1.PhaseFailed):
		ev = append(ev, Event{Warning: true, Reason: v1alpha1.EventNotRunning, Message: fmt.Sprintf("phase %s: %s", next.Phase, conditionMessage(conds, v1alpha1.ConditionAvailable))})
	}
	wasDegraded := degraded(prev.Conditions)
	d, isDegraded := degradedNow(conds)
	switch {
	case isDegraded && (!wasDegraded.ok || wasDegraded.reason != d.Reason):
		ev = append(ev, Event{Warning: true, Reason: v1alpha1.EventDegraded, Message: d.Reason + ": " + d.Message})
	case !isDegraded && wasDegraded.ok:
		ev = append(ev, Event{Reason: v1alpha1.EventRecovered, Message: "no longer degraded (was " + wasDegraded.reason + ")"})
	}
	return ev
}

func describeRevision(r *v1alpha1.RevisionStatus) string {
	if r == nil {
		return "nothing"
	}
	if r.Version != "" {
		return fmt.Sprintf("version %s (revision %s)", r.Version, r.Revision)
	}
	return fmt.Sprintf("%s (revision %s)", r.Image, r.Revision)
}

type prevDegraded struct {
	ok     bool
	reason string
}

func degraded(cs []metav1.Condition) prevDegraded {
	for _, c := range cs {
		if c.Type == v1alpha1.ConditionDegraded && c.Status == "True" {
			return prevDegraded{ok: true, reason: c.Reason}
		}
	}
	return prevDegraded{}
}

func degradedNow(conds []Condition) (Condition, bool) {
	for _, c := range conds {
		if c.Type == v1alpha1.ConditionDegraded && c.Status {
			return c, true
		}
	}
	return Condition{}, false
}

func conditionMessage(conds []Condition, t string) string {
	for _, c := range conds {
		if c.Type == t {
			if c.Message != "" {
				return c.Reason + ": " + c.Message
			}
			return c.Reason
		}
	}
	return "unknown"
}
