package main

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"

	"github.com/hourglass-xp/crossplane-hourglass/apis/hourglass/v1alpha1"
	observev1alpha1 "github.com/hourglass-xp/crossplane-hourglass/apis/observe/v1alpha1"
)

func TestEndpoint(t *testing.T) {
	p := testPerformer()
	r := revisionFor(t, p, DefaultPlatform())
	cases := map[string]struct {
		reason  string
		serving bool
		want    observev1alpha1.PerformerEndpointParameters
	}{
		"Serving": {
			reason: "The serving revision's endpoint names the Service, so the provider checks it has ready endpoints.", serving: true,
			want: observev1alpha1.PerformerEndpointParameters{
				ServiceName: "performer-example", Selector: map[string]string{"app": "performer", "performer-name": "example", "hourglass.eigenlayer.io/revision": r.ID},
				Port: 9090, HealthCheck: &observev1alpha1.HealthCheck{Enabled: new(true), TimeoutSeconds: new(int32(2))},
			},
		},
		"Target": {
			reason: "A revision not behind the Service is judged by its pods alone.",
			want: observev1alpha1.PerformerEndpointParameters{
				Selector: map[string]string{"app": "performer", "performer-name": "example", "hourglass.eigenlayer.io/revision": r.ID},
				Port:     9090, HealthCheck: &observev1alpha1.HealthCheck{Enabled: new(true), TimeoutSeconds: new(int32(2))},
			},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := Endpoint(p, DefaultPlatform(), r, tc.serving)
			if got.Name != r.Deployment.Name || got.Namespace != "avs" {
				t.Errorf("%s\nname: want %s in avs, got %s in %s", tc.reason, r.Deployment.Name, got.Name, got.Namespace)
			}
			if diff := cmp.Diff(tc.want, got.Spec.ForProvider); diff != "" {
				t.Errorf("%s\nEndpoint(...).Spec.ForProvider: -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

// healthyEndpoint is the provider's report on a revision.
func healthyEndpoint(healthy, serving bool, reason string) *observev1alpha1.PerformerEndpoint {
	e := &observev1alpha1.PerformerEndpoint{}
	e.Status.AtProvider = observev1alpha1.PerformerEndpointObservation{Healthy: healthy, PodName: "pod-from-provider", Reason: reason, Message: reason + " message"}
	c := xpv2.Unavailable()
	if serving {
		c = xpv2.Available()
	}
	e.Status.SetConditions(c)
	return e
}

func TestUpgradeWaitsForHealth(t *testing.T) {
	r1 := revisionFor(t, testPerformer(func(s *v1alpha1.PerformerSpec) { s.Version = "v1" }), DefaultPlatform())
	r2 := revisionFor(t, testPerformer(func(s *v1alpha1.PerformerSpec) { s.Version = "v2" }), DefaultPlatform())
	p := testPerformer()
	p.Status = v1alpha1.PerformerStatus{Active: revisionStatus(r1), Target: revisionStatus(r2), UpgradeStartTime: ago(0)}
	ready := func(r *Revision) *appsv1.Deployment {
		d := r.Deployment.DeepCopy()
		d.Status = deployment().Status
		return d
	}
	cases := map[string]struct {
		reason   string
		endpoint *observev1alpha1.PerformerEndpoint
		switched bool
	}{
		"NotObserved": {reason: "Available is not enough with the provider: no report, no switch."},
		"Unhealthy":   {reason: "The target's pod does not answer gRPC health: no switch.", endpoint: healthyEndpoint(false, false, "NotServing")},
		"Healthy":     {reason: "The target answers gRPC health: switch.", endpoint: healthyEndpoint(true, false, "PodReady"), switched: true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			o := &Observed{
				Deployments: map[string]*appsv1.Deployment{r1.ID: ready(r1), r2.ID: ready(r2)},
				Endpoints:   map[string]*observev1alpha1.PerformerEndpoint{r2.ID: tc.endpoint},
			}
			if got := PlanRevisions(p, r2, o, Rollout{Deadline: 600 * time.Second, HealthChecked: true}, testNow).Switched; got != tc.switched {
				t.Errorf("%s\nPlanRevisions(...).Switched: want %v, got %v", tc.reason, tc.switched, got)
			}
		})
	}
}

func TestStatusWithEndpoint(t *testing.T) {
	r1 := revisionFor(t, testPerformer(), DefaultPlatform())
	d := r1.Deployment.DeepCopy()
	d.Status = deployment().Status
	svc := &corev1.Service{Spec: corev1.ServiceSpec{ClusterIP: "10.0.0.1"}}
	cases := map[string]struct {
		reason   string
		endpoint *observev1alpha1.PerformerEndpoint
		want     []string
		podName  string
	}{
		"NotObserved": {
			reason: "Before the provider reports, the performer is not Available.",
			want:   []string{"Available=False/EndpointNotObserved", "Progressing=False/AsExpected", "Degraded=False/AsExpected"},
		},
		"NotServing": {
			reason:   "The provider's reason is the Available reason; its podName fills in.",
			endpoint: healthyEndpoint(false, false, "NotServing"), podName: "pod-from-provider",
			want: []string{"Available=False/NotServing", "Progressing=False/AsExpected", "Degraded=False/AsExpected"},
		},
		"Serving": {
			reason:   "Healthy through the Service: Available.",
			endpoint: healthyEndpoint(true, true, "ServiceReady"), podName: "pod-from-provider",
			want: []string{"Available=True/ServiceReady", "Progressing=False/AsExpected", "Degraded=False/AsExpected"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			o := &Observed{
				Deployments: map[string]*appsv1.Deployment{r1.ID: d}, Service: svc,
				Endpoints: map[string]*observev1alpha1.PerformerEndpoint{r1.ID: tc.endpoint},
			}
			st, conds := StatusOf(testPerformer(), &Plan{Serving: r1}, o, Rollout{HealthChecked: true}, &HardwareNeeds{}, testNow)
			if diff := cmp.Diff(tc.want, condSummary(conds)); diff != "" {
				t.Errorf("%s\nStatusOf(...) conditions: -want, +got:\n%s", tc.reason, diff)
			}
			if st.PodName != tc.podName {
				t.Errorf("%s\nStatusOf(...).PodName: want %q, got %q", tc.reason, tc.podName, st.PodName)
			}
		})
	}
}
