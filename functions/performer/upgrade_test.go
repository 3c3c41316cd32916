package main

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/hourglass-xp/crossplane-hourglass/apis/hourglass/v1alpha1"
	"github.com/hourglass-xp/crossplane-hourglass/internal/names"
)

// planSummary is what a test of the state machine looks at.
type planSummary struct {
	Serving, Target  string
	Revisions        []string
	Switched, Failed bool
	Requeue          time.Duration
	LastUpgrade      *time.Time
	UpgradeStart     *time.Time
}

func summarize(p *Plan) planSummary {
	s := planSummary{Serving: p.Serving.ID, Switched: p.Switched, Failed: p.UpgradeFailed, Requeue: p.Requeue}
	if p.Target != nil {
		s.Target = p.Target.ID
	}
	for _, r := range p.Revisions {
		s.Revisions = append(s.Revisions, r.ID)
	}
	if p.LastUpgrade != nil {
		s.LastUpgrade = &p.LastUpgrade.Time
	}
	if p.UpgradeStartTime != nil {
		s.UpgradeStart = &p.UpgradeStartTime.Time
	}
	return s
}

func ago(d time.Duration) *metav1.Time { return new(metav1.NewTime(testNow.Add(-d))) }
func at(d time.Duration) *time.Time    { return new(testNow.Add(-d)) }

func TestPlanRevisions(t *testing.T) {
	version := func(v string) *Performer {
		return testPerformer(func(s *v1alpha1.PerformerSpec) { s.Version = v })
	}
	r1 := revisionFor(t, version("v1"), DefaultPlatform())
	r2 := revisionFor(t, version("v2"), DefaultPlatform())
	r3 := revisionFor(t, version("v3"), DefaultPlatform())
	observed := func(ready map[*Revision]bool, served *Revision) *Observed {
		o := &Observed{Deployments: map[string]*appsv1.Deployment{}}
		for r, ok := range ready {
			d := r.Deployment.DeepCopy()
			d.Status = deployment().Status
			if !ok {
				unavailable(d)
			}
			o.Deployments[r.ID] = d
		}
		if served != nil {
			o.Service = &corev1.Service{Spec: corev1.ServiceSpec{Selector: map[string]string{names.LabelRevision: served.ID}, ClusterIP: "10.0.0.1"}}
		}
		return o
	}
	created := func(o *Observed, r *Revision, d time.Duration) *Observed {
		o.Deployments[r.ID].CreationTimestamp = *ago(d)
		return o
	}
	status := func(active, target *Revision, lastUpgrade, start *metav1.Time) v1alpha1.PerformerStatus {
		return v1alpha1.PerformerStatus{Active: revisionStatus(active), Target: revisionStatus(target), LastUpgrade: lastUpgrade, UpgradeStartTime: start}
	}
	const drain, deadline = 30 * time.Second, 600 * time.Second

	cases := map[string]struct {
		reason  string
		desired *Revision
		status  v1alpha1.PerformerStatus
		o       *Observed
		drain   time.Duration
		want    planSummary
	}{
		"FirstCreation": {
			reason:  "Nothing exists: the desired revision serves at once.",
			desired: r1, o: observed(nil, nil),
			want: planSummary{Serving: r1.ID, Revisions: []string{r1.ID}},
		},
		"Stable": {
			reason:  "The desired revision is the active one.",
			desired: r1, status: status(r1, nil, nil, nil), o: observed(map[*Revision]bool{r1: true}, r1),
			want: planSummary{Serving: r1.ID, Revisions: []string{r1.ID}},
		},
		"UpgradeStarts": {
			reason:  "A new desired revision is composed beside the active one, which keeps serving.",
			desired: r2, status: status(r1, nil, nil, nil), o: observed(map[*Revision]bool{r1: true}, r1),
			want: planSummary{Serving: r1.ID, Target: r2.ID, Revisions: []string{r1.ID, r2.ID}, Requeue: 10 * time.Second, UpgradeStart: at(0)},
		},
		"UpgradeWaiting": {
			reason:  "The upgrade keeps its start time while the target is not ready.",
			desired: r2, status: status(r1, r2, nil, ago(5*time.Minute)), o: observed(map[*Revision]bool{r1: true, r2: false}, r1),
			want: planSummary{Serving: r1.ID, Target: r2.ID, Revisions: []string{r1.ID, r2.ID}, Requeue: 10 * time.Second, UpgradeStart: at(5 * time.Minute)},
		},
		"UpgradeNearDeadline": {
			reason:  "Called again when the deadline falls, if sooner than the usual backstop.",
			desired: r2, status: status(r1, r2, nil, ago(deadline-3*time.Second)), o: observed(map[*Revision]bool{r1: true, r2: false}, r1),
			want: planSummary{Serving: r1.ID, Target: r2.ID, Revisions: []string{r1.ID, r2.ID}, Requeue: 3 * time.Second, UpgradeStart: at(deadline - 3*time.Second)},
		},
		"Switch": {
			reason:  "The target is ready: traffic switches in this response, the old revision drains.",
			desired: r2, status: status(r1, r2, nil, ago(time.Minute)), o: observed(map[*Revision]bool{r1: true, r2: true}, r1),
			want: planSummary{Serving: r2.ID, Revisions: []string{r2.ID, r1.ID}, Switched: true, Requeue: drain, LastUpgrade: at(0)},
		},
		"SwitchWithoutDrain": {
			reason:  "With a zero drain period the old revision goes at the switch.",
			desired: r2, status: status(r1, r2, nil, ago(time.Minute)), o: observed(map[*Revision]bool{r1: true, r2: true}, r1), drain: -1,
			want: planSummary{Serving: r2.ID, Revisions: []string{r2.ID}, Switched: true, LastUpgrade: at(0)},
		},
		"Draining": {
			reason:  "After the switch the old revision stays until lastUpgrade + drain.",
			desired: r2, status: status(r2, nil, ago(10*time.Second), nil), o: observed(map[*Revision]bool{r1: true, r2: true}, r2),
			want: planSummary{Serving: r2.ID, Revisions: []string{r2.ID, r1.ID}, Requeue: 20 * time.Second, LastUpgrade: at(10 * time.Second)},
		},
		"Drained": {
			reason:  "Once the drain period is over the old revision is dropped.",
			desired: r2, status: status(r2, nil, ago(time.Minute), nil), o: observed(map[*Revision]bool{r1: true, r2: true}, r2),
			want: planSummary{Serving: r2.ID, Revisions: []string{r2.ID}, LastUpgrade: at(time.Minute)},
		},
		"UpgradeFailed": {
			reason:  "A target not ready by its deadline is marked failed; the active one keeps serving; the target stays for inspection.",
			desired: r2, status: status(r1, r2, nil, ago(11*time.Minute)), o: observed(map[*Revision]bool{r1: true, r2: false}, r1),
			want: planSummary{Serving: r1.ID, Target: r2.ID, Revisions: []string{r1.ID, r2.ID}, Failed: true, UpgradeStart: at(11 * time.Minute)},
		},
		"Revert": {
			reason:  "Reverting the spec to the active revision drops the failed target, which never served.",
			desired: r1, status: status(r1, r2, ago(time.Second), ago(11*time.Minute)), o: observed(map[*Revision]bool{r1: true, r2: false}, r1),
			want: planSummary{Serving: r1.ID, Revisions: []string{r1.ID}, LastUpgrade: at(time.Second)},
		},
		"ChangeMidUpgrade": {
			reason:  "A new spec mid-upgrade replaces the target; the superseded one is dropped and the clock restarts.",
			desired: r3, status: status(r1, r2, nil, ago(time.Minute)), o: observed(map[*Revision]bool{r1: true, r2: false}, r1),
			want: planSummary{Serving: r1.ID, Target: r3.ID, Revisions: []string{r1.ID, r3.ID}, Requeue: 10 * time.Second, UpgradeStart: at(0)},
		},
		"UpgradeStartFromDeployment": {
			reason:  "An XR read before its last status write lost upgradeStartTime: the target Deployment's creation is the start, as it was.",
			desired: r2, status: status(r1, nil, nil, nil), o: created(observed(map[*Revision]bool{r1: true, r2: false}, r1), r2, 2*time.Minute),
			want: planSummary{Serving: r1.ID, Target: r2.ID, Revisions: []string{r1.ID, r2.ID}, Requeue: 10 * time.Second, UpgradeStart: at(2 * time.Minute)},
		},
		"StatusLost": {
			reason:  "Without XR status the Service's selector tells which revision serves.",
			desired: r2, o: observed(map[*Revision]bool{r1: true}, r1),
			want: planSummary{Serving: r1.ID, Target: r2.ID, Revisions: []string{r1.ID, r2.ID}, Requeue: 10 * time.Second, UpgradeStart: at(0)},
		},
		"ActiveGone": {
			reason:  "If the active revision's Deployment is gone there is nothing to protect: the desired one serves.",
			desired: r2, status: status(r1, nil, nil, nil), o: observed(nil, r1),
			want: planSummary{Serving: r2.ID, Revisions: []string{r2.ID}},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			p := testPerformer()
			p.Status = tc.status
			rollout := Rollout{Drain: drain, Deadline: deadline}
			if tc.drain != 0 {
				rollout.Drain = 0
			}
			got := summarize(PlanRevisions(p, tc.desired, tc.o, rollout, testNow))
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s\nPlanRevisions(...): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestKeptRevision(t *testing.T) {
	r := revisionFor(t, testPerformer(func(s *v1alpha1.PerformerSpec) { s.Config.GRPCPort = 8080 }), DefaultPlatform())
	observed := r.Deployment.DeepCopy()
	observed.ResourceVersion, observed.UID, observed.Generation = "42", "uid", 3
	observed.Annotations = map[string]string{"deployment.kubernetes.io/revision": "1"}
	observed.Status = deployment().Status
	got := KeptRevision(r.ID, observed, "v1.0.0")
	if diff := cmp.Diff(r.Deployment, got.Deployment); diff != "" {
		t.Errorf("KeptRevision(...) should give back exactly what the function composed: -want, +got:\n%s", diff)
	}
	if got.GRPCPort != 8080 || got.Image != r.Image || got.Version != "v1.0.0" {
		t.Errorf("KeptRevision(...): port %d, image %q, version %q", got.GRPCPort, got.Image, got.Version)
	}
}

func TestRolloutOf(t *testing.T) {
	withEndpoints := DefaultPlatform()
	withEndpoints.Endpoints = true
	cases := map[string]struct {
		reason string
		p      *Performer
		pl     *Platform
		want   Rollout
	}{
		"PlatformDefaults": {
			reason: "Without overrides, the platform's drain and deadline; no health check without PerformerEndpoints.",
			p:      testPerformer(),
			pl:     DefaultPlatform(),
			want:   Rollout{Drain: DefaultDrainSeconds * time.Second, Deadline: DefaultProgressDeadlineSeconds * time.Second},
		},
		"PerformerOverrides": {
			reason: "The performer's spec.upgrade overrides the platform's drain and deadline.",
			p: testPerformer(func(s *v1alpha1.PerformerSpec) {
				s.Upgrade = &v1alpha1.UpgradeConfig{DrainSeconds: new(int32(0)), ProgressDeadlineSeconds: new(int32(60))}
			}),
			pl:   DefaultPlatform(),
			want: Rollout{Drain: 0, Deadline: time.Minute},
		},
		"HealthChecked": {
			reason: "A platform that composes PerformerEndpoints makes revisions wait for the provider's health check.",
			p:      testPerformer(),
			pl:     withEndpoints,
			want:   Rollout{Drain: DefaultDrainSeconds * time.Second, Deadline: DefaultProgressDeadlineSeconds * time.Second, HealthChecked: true},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, RolloutOf(tc.p, tc.pl)); diff != "" {
				t.Errorf("%s\nRolloutOf(...): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}
