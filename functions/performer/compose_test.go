package main

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"

	"github.com/hourglass-xp/crossplane-hourglass/apis/hourglass/v1alpha1"
)

func TestCompose(t *testing.T) {
	v1 := testPerformer(func(s *v1alpha1.PerformerSpec) { s.Version = "v1" })
	v2 := testPerformer(func(s *v1alpha1.PerformerSpec) { s.Version = "v2" })
	r1, r2 := revisionFor(t, v1, DefaultPlatform()), revisionFor(t, v2, DefaultPlatform())
	readyDep := func(r *Revision) *appsv1.Deployment {
		d := r.Deployment.DeepCopy()
		d.Status = deployment().Status
		return d
	}
	upgrading := testPerformer(func(s *v1alpha1.PerformerSpec) { s.Version = "v2" })
	upgrading.Status = v1alpha1.PerformerStatus{Active: revisionStatus(r1)}

	type res struct {
		Ready   bool
		Traffic string
	}
	cases := map[string]struct {
		reason string
		p      *Performer
		pl     func(*Platform)
		o      *Observed
		want   map[string]res
	}{
		"New": {
			reason: "A new performer: its Deployment (serving, not ready), Service and connection Secret (ready once it exists).",
			p:      v1, o: &Observed{},
			want: map[string]res{"deployment-" + r1.ID: {Traffic: "Serving"}, "service": {}, "connection-secret": {Ready: true}, "poddisruptionbudget": {Ready: true}},
		},
		"Everything": {
			reason: "With NetworkPolicy and endpoints on: one of each beside the Deployment and Service.",
			p:      v1, o: &Observed{}, pl: func(p *Platform) { p.NetworkPolicyEnabled, p.Endpoints = true, true },
			want: map[string]res{"deployment-" + r1.ID: {Traffic: "Serving"}, "service": {}, "connection-secret": {Ready: true}, "networkpolicy": {Ready: true}, "endpoint-" + r1.ID: {}, "poddisruptionbudget": {Ready: true}},
		},
		"Upgrading": {
			reason: "During an upgrade the candidate does not gate readiness; labels tell which serves.",
			p:      upgrading,
			o:      &Observed{Deployments: map[string]*appsv1.Deployment{r1.ID: readyDep(r1)}},
			want: map[string]res{
				"deployment-" + r1.ID: {Ready: true, Traffic: "Serving"},
				"deployment-" + r2.ID: {Ready: true, Traffic: "Candidate"},
				"service":             {},
				"connection-secret":   {Ready: true},
				"poddisruptionbudget": {Ready: true},
			},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			pl := DefaultPlatform()
			if tc.pl != nil {
				tc.pl(pl)
			}
			if tc.o.Deployments == nil {
				tc.o.Deployments = map[string]*appsv1.Deployment{}
			}
			r, err := Compose(tc.p, pl, tc.o, testNow)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]res{}
			for n, d := range r.Resources {
				g := res{Ready: d.Ready}
				if dep, ok := d.Object.(*appsv1.Deployment); ok {
					g.Traffic = dep.Labels["hourglass.eigenlayer.io/traffic"]
				}
				got[string(n)] = g
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s\nCompose(...): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestComposeDoesNotMutateObserved(t *testing.T) {
	// Kept revisions come from observed Deployments; labelling them must
	// not write through to what was observed.
	r1 := revisionFor(t, testPerformer(func(s *v1alpha1.PerformerSpec) { s.Version = "v1" }), DefaultPlatform())
	d := r1.Deployment.DeepCopy()
	d.Status = deployment().Status
	p := testPerformer(func(s *v1alpha1.PerformerSpec) { s.Version = "v2" })
	p.Status.Active = revisionStatus(r1)
	o := &Observed{Deployments: map[string]*appsv1.Deployment{r1.ID: d}}
	before := d.DeepCopy()
	if _, err := Compose(p, DefaultPlatform(), o, testNow); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(before, d); diff != "" {
		t.Errorf("Compose changed an observed Deployment: -before, +after:\n%s", diff)
	}
}
