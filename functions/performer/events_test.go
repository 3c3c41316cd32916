package main

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/hourglass-xp/crossplane-hourglass/apis/hourglass/v1alpha1"
)

func TestEvents(t *testing.T) {
	blue := &v1alpha1.RevisionStatus{Revision: "aaaaaaaaaa", Image: "myavs/p:v1", Version: "v1"}
	green := &v1alpha1.RevisionStatus{Revision: "bbbbbbbbbb", Image: "myavs/p:v2", Version: "v2"}
	running := v1alpha1.PerformerStatus{Phase: v1alpha1.PhaseRunning, ServiceName: "performer-p", GRPCEndpoint: "performer-p.ns.svc.cluster.local:9090", PodName: "p-1", Active: blue}
	upgrading := running
	upgrading.Phase, upgrading.Target = v1alpha1.PhaseUpgrading, green
	switched := running
	switched.Active = green
	degradedPrev := running
	degradedPrev.Conditions = []metav1.Condition{{Type: v1alpha1.ConditionDegraded, Status: metav1.ConditionTrue, Reason: v1alpha1.ReasonImagePullFailed}}
	pullFailed := []Condition{{Type: v1alpha1.ConditionDegraded, Status: true, Reason: v1alpha1.ReasonImagePullFailed, Message: "pull of myavs/p:v2 failed"}}
	notDegraded := []Condition{{Type: v1alpha1.ConditionDegraded, Status: false, Reason: "AsExpected"}}
	pending := v1alpha1.PerformerStatus{Phase: v1alpha1.PhasePending, Active: blue}
	unschedulable := []Condition{{Type: v1alpha1.ConditionAvailable, Status: false, Reason: v1alpha1.ReasonHardwareUnavailable, Message: "0/6 nodes have nvidia.com/gpu"}}

	type args struct {
		prev, next v1alpha1.PerformerStatus
		conds      []Condition
	}
	cases := map[string]struct {
		reason string
		args   args
		want   []Event
	}{
		"NothingChanged": {
			reason: "A reconcile that changes nothing says nothing, so a Running performer does not fill its events.",
			args:   args{prev: running, next: running, conds: notDegraded},
		},
		"FirstRunning": {
			reason: "Becoming Running names the endpoint and the pod.",
			args:   args{prev: v1alpha1.PerformerStatus{Phase: v1alpha1.PhasePending}, next: running, conds: notDegraded},
			want:   []Event{{Reason: v1alpha1.EventRunning, Message: "serving at performer-p.ns.svc.cluster.local:9090 from pod p-1"}},
		},
		"UpgradeStarted": {
			reason: "A new target names both versions.",
			args:   args{prev: running, next: upgrading, conds: notDegraded},
			want:   []Event{{Reason: v1alpha1.EventUpgradeStarted, Message: "upgrading from version v1 (revision aaaaaaaaaa) to version v2 (revision bbbbbbbbbb)"}},
		},
		"UpgradeContinues": {
			reason: "The same target on the next reconcile is not a new upgrade.",
			args:   args{prev: upgrading, next: upgrading, conds: notDegraded},
		},
		"TrafficSwitched": {
			reason: "The Service moving to the new revision is the moment an upgrade takes effect; leaving Upgrading for Running is not a second 'running' event.",
			args:   args{prev: upgrading, next: switched, conds: notDegraded},
			want:   []Event{{Reason: v1alpha1.EventTrafficSwitched, Message: "Service performer-p now sends traffic to version v2 (revision bbbbbbbbbb) (was version v1 (revision aaaaaaaaaa))"}},
		},
		"Degraded": {
			reason: "Becoming degraded is a warning with the reason and message of the condition.",
			args:   args{prev: upgrading, next: upgrading, conds: pullFailed},
			want:   []Event{{Warning: true, Reason: v1alpha1.EventDegraded, Message: "ImagePullFailed: pull of myavs/p:v2 failed"}},
		},
		"StillDegraded": {
			reason: "Staying degraded for the same reason is not news.",
			args:   args{prev: degradedPrev, next: running, conds: pullFailed},
		},
		"Recovered": {
			reason: "Leaving Degraded says what it was.",
			args:   args{prev: degradedPrev, next: running, conds: notDegraded},
			want:   []Event{{Reason: v1alpha1.EventRecovered, Message: "no longer degraded (was ImagePullFailed)"}},
		},
		"StoppedRunning": {
			reason: "A Running performer falling back to Pending is a warning naming why.",
			args:   args{prev: running, next: pending, conds: unschedulable},
			want:   []Event{{Warning: true, Reason: v1alpha1.EventNotRunning, Message: "phase Pending: HardwareUnavailable: 0/6 nodes have nvidia.com/gpu"}},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := Events(tc.args.prev, tc.args.next, tc.args.conds)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s\nEvents(...): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}
