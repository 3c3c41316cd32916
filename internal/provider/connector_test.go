package provider

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/hourglass-xp/crossplane-hourglass/apis/observe/v1alpha1"
)

func TestLastHealthCheck(t *testing.T) {
	now := time.Date(2026, 11, 22, 16, 0, 0, 0, time.UTC)
	at := func(d time.Duration) *metav1.Time { return new(metav1.NewTime(now.Add(d))) }
	serving := v1alpha1.PerformerEndpointObservation{Health: v1alpha1.HealthServing, Healthy: true, ServiceReady: true, ReadyEndpoints: 1, Reason: v1alpha1.ReasonServiceReady}
	notServing := v1alpha1.PerformerEndpointObservation{Health: v1alpha1.HealthNotServing, Reason: v1alpha1.ReasonNotServing}
	with := func(o v1alpha1.PerformerEndpointObservation, t *metav1.Time) v1alpha1.PerformerEndpointObservation {
		o.LastHealthCheck = t
		return o
	}

	type args struct {
		prev, next v1alpha1.PerformerEndpointObservation
	}
	cases := map[string]struct {
		reason string
		args   args
		want   *metav1.Time
	}{
		"Unchanged": {
			reason: "A check that confirms what status says keeps the recorded time: no status write, no composition round.",
			args:   args{prev: with(serving, at(-time.Minute)), next: serving},
			want:   at(-time.Minute),
		},
		"Changed": {
			reason: "A check whose result differs records its time.",
			args:   args{prev: with(serving, at(-time.Minute)), next: notServing},
			want:   at(0),
		},
		"Stale": {
			reason: "A recorded time as old as the refresh interval moves, so a stale time still means the checks stopped.",
			args:   args{prev: with(serving, at(-10*time.Minute)), next: serving},
			want:   at(0),
		},
		"Never": {
			reason: "A first check records its time.",
			args:   args{prev: serving, next: serving},
			want:   at(0),
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			e := &external{connector: &connector{now: func() time.Time { return now }, refresh: 10 * time.Minute}}
			got := e.lastHealthCheck(tc.args.prev, tc.args.next)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s\nlastHealthCheck(...): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}
