package main

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	observev1alpha1 "github.com/hourglass-xp/crossplane-hourglass/apis/observe/v1alpha1"
)

// availableSince sets when the Deployment became available.
func availableSince(d time.Duration) depOpt {
	return func(dep *appsv1.Deployment) { dep.Status.Conditions[0].LastTransitionTime = *ago(d) }
}

// readySince gives the endpoint a Ready condition that changed d ago.
func readySince(e *observev1alpha1.PerformerEndpoint, d time.Duration) *observev1alpha1.PerformerEndpoint {
	e.Status.Conditions[0].LastTransitionTime = *ago(d)
	return e
}

func TestReadySince(t *testing.T) {
	type args struct {
		d             *appsv1.Deployment
		ep            *observev1alpha1.PerformerEndpoint
		healthChecked bool
	}
	cases := map[string]struct {
		reason string
		args   args
		want   *metav1.Time
	}{
		"NoDeployment": {
			reason: "Nothing observed: no time.",
			want:   nil,
		},
		"Unavailable": {
			reason: "A Deployment that is not available has not become ready.",
			args:   args{d: deployment(unavailable, availableSince(time.Minute))},
			want:   nil,
		},
		"NoTransitionTime": {
			reason: "An Available condition without a time gives none (the caller uses its clock).",
			args:   args{d: deployment()},
			want:   nil,
		},
		"Deployment": {
			reason: "Without health checks, when the Deployment became available.",
			args:   args{d: deployment(availableSince(time.Minute)), ep: readySince(healthyEndpoint(true, true, ""), 10*time.Second)},
			want:   ago(time.Minute),
		},
		"EndpointLater": {
			reason: "With health checks, the endpoint's Ready transition when it came later.",
			args:   args{d: deployment(availableSince(time.Minute)), ep: readySince(healthyEndpoint(true, true, ""), 10*time.Second), healthChecked: true},
			want:   ago(10 * time.Second),
		},
		"EndpointEarlier": {
			reason: "An endpoint Ready before its Deployment's latest availability does not move the time back.",
			args:   args{d: deployment(availableSince(time.Minute)), ep: readySince(healthyEndpoint(true, true, ""), time.Hour), healthChecked: true},
			want:   ago(time.Minute),
		},
		"EndpointNotReady": {
			reason: "An endpoint not Ready has no Ready transition to offer.",
			args:   args{d: deployment(availableSince(time.Minute)), ep: readySince(healthyEndpoint(false, false, ""), time.Second), healthChecked: true},
			want:   ago(time.Minute),
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			o := &Observed{Deployments: map[string]*appsv1.Deployment{}, Endpoints: map[string]*observev1alpha1.PerformerEndpoint{}}
			if tc.args.d != nil {
				o.Deployments["r1"] = tc.args.d
			}
			if tc.args.ep != nil {
				o.Endpoints["r1"] = tc.args.ep
			}
			if diff := cmp.Diff(tc.want, o.ReadySince("r1", tc.args.healthChecked)); diff != "" {
				t.Errorf("%s\nReadySince(...): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestCreatedAt(t *testing.T) {
	d := deployment()
	o := &Observed{Deployments: map[string]*appsv1.Deployment{"r1": d}}
	if got := o.CreatedAt("r1"); got != nil {
		t.Errorf("CreatedAt of a Deployment without creationTimestamp = %v, want nil", got)
	}
	d.CreationTimestamp = *ago(time.Minute)
	if diff := cmp.Diff(ago(time.Minute), o.CreatedAt("r1")); diff != "" {
		t.Errorf("CreatedAt(...): -want, +got:\n%s", diff)
	}
	if got := o.CreatedAt("r2"); got != nil {
		t.Errorf("CreatedAt of a revision not observed = %v, want nil", got)
	}
}
