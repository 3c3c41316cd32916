package endpoint

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"

	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"

	hgv1alpha1 "github.com/hourglass-xp/crossplane-hourglass/apis/hourglass/v1alpha1"
	"github.com/hourglass-xp/crossplane-hourglass/apis/observe/v1alpha1"
)

func TestDesired(t *testing.T) {
	cases := map[string]struct {
		reason string
		p      Params
		want   map[string]any
	}{
		"Defaults": {
			reason: "The Service performer-{name}, every revision's pods, the gRPC port, the Secret {service}-endpoint; no health check settings.",
			p:      Params{Performer: "example", Namespace: "avs", GRPCPort: 9090},
			want: map[string]any{
				"apiVersion": "observe.hourglass.eigenlayer.io/v1alpha1",
				"kind":       "PerformerEndpoint",
				"metadata":   map[string]any{"name": "performer-example", "namespace": "avs"},
				"spec": map[string]any{
					"writeConnectionSecretToRef": map[string]any{"name": "performer-example-endpoint"},
					"forProvider": map[string]any{
						"serviceName": "performer-example",
						"selector":    map[string]any{"app": "performer", "performer-name": "example"},
						"port":        int64(9090),
					},
				},
			},
		},
		"HealthCheck": {
			reason: "Health check settings, a revision selector and labels are carried over.",
			p: Params{Performer: "example", Namespace: "avs", GRPCPort: 8080, HealthCheck: ptr.To(false), TimeoutSeconds: ptr.To[int32](5),
				Selector: map[string]string{"app": "performer", "performer-name": "example", "hourglass.eigenlayer.io/revision": "r1"},
				Labels:   map[string]string{"app": "performer"}},
			want: map[string]any{
				"apiVersion": "observe.hourglass.eigenlayer.io/v1alpha1",
				"kind":       "PerformerEndpoint",
				"metadata":   map[string]any{"name": "performer-example", "namespace": "avs", "labels": map[string]any{"app": "performer"}},
				"spec": map[string]any{
					"writeConnectionSecretToRef": map[string]any{"name": "performer-example-endpoint"},
					"forProvider": map[string]any{
						"serviceName": "performer-example",
						"selector":    map[string]any{"app": "performer", "performer-name": "example", "hourglass.eigenlayer.io/revision": "r1"},
						"port":        int64(8080),
						"healthCheck": map[string]any{"enabled": false, "timeoutSeconds": int64(5)},
					},
				},
			},
		},
		"Revision": {
			reason: "A revision's own endpoint: named after its Deployment, its pods only, no Service, no Secret.",
			p:      Params{Performer: "example", Namespace: "avs", GRPCPort: 9090, Revision: "r2"},
			want: map[string]any{
				"apiVersion": "observe.hourglass.eigenlayer.io/v1alpha1",
				"kind":       "PerformerEndpoint",
				"metadata":   map[string]any{"name": "performer-example-r2", "namespace": "avs"},
				"spec": map[string]any{
					"forProvider": map[string]any{
						"selector": map[string]any{"app": "performer", "performer-name": "example", "hourglass.eigenlayer.io/revision": "r2"},
						"port":     int64(9090),
					},
				},
			},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := Desired(tc.p)
			if err != nil {
				t.Fatalf("%s\nDesired(...): %v", tc.reason, err)
			}
			if diff := cmp.Diff(tc.want, got.Object); diff != "" {
				t.Errorf("%s\nDesired(...): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

var t0 = metav1.NewTime(time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC))

func observed(t *testing.T, ready bool, a v1alpha1.PerformerEndpointObservation) *unstructured.Unstructured {
	t.Helper()
	pe := &v1alpha1.PerformerEndpoint{}
	pe.Status.AtProvider = a
	c := xpv2.Condition{Type: xpv2.TypeReady, Status: corev1.ConditionFalse, Reason: xpv2.ConditionReason(a.Reason), LastTransitionTime: t0}
	if ready {
		c = xpv2.Available()
		c.LastTransitionTime = t0
	}
	pe.SetConditions(c)
	obj, err := runtime.DefaultUnstructuredConverter.ToUnstructured(pe)
	if err != nil {
		t.Fatal(err)
	}
	return &unstructured.Unstructured{Object: obj}
}

func TestObserve(t *testing.T) {
	ready := v1alpha1.PerformerEndpointObservation{PodName: "p-0", Reason: v1alpha1.ReasonServiceReady, Healthy: true, ServiceReady: true, ReadyEndpoints: 1}
	cases := map[string]struct {
		reason string
		u      *unstructured.Unstructured
		want   Observation
		wantOK bool
	}{
		"NotComposedYet": {reason: "No observed object: nothing observed."},
		"NotObservedYet": {reason: "An object the provider has not observed yet: nothing observed.", u: &unstructured.Unstructured{Object: map[string]any{"kind": "PerformerEndpoint"}}},
		"Ready": {
			reason: "A Ready endpoint is Ready since its condition's transition.",
			u:      observed(t, true, ready),
			want:   Observation{Ready: true, ReadySince: &t0, Healthy: true, AtProvider: ready},
			wantOK: true,
		},
		"NotReady": {
			reason: "A not-ready endpoint carries its observation.",
			u:      observed(t, false, v1alpha1.PerformerEndpointObservation{PodName: "p-0", Reason: v1alpha1.ReasonImagePullFailed}),
			want:   Observation{AtProvider: v1alpha1.PerformerEndpointObservation{PodName: "p-0", Reason: v1alpha1.ReasonImagePullFailed}},
			wantOK: true,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, ok, err := Observe(tc.u)
			if err != nil {
				t.Fatalf("%s\nObserve(...): %v", tc.reason, err)
			}
			if ok != tc.wantOK {
				t.Errorf("%s\nObserve(...): ok %t, want %t", tc.reason, ok, tc.wantOK)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s\nObserve(...): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestStatus(t *testing.T) {
	avail := func(ok bool, reason, msg string) Condition {
		return Condition{Type: hgv1alpha1.ConditionAvailable, Status: ok, Reason: reason, Message: msg}
	}
	notDegraded := Condition{Type: hgv1alpha1.ConditionDegraded, Reason: ReasonAsExpected}
	degraded := func(reason, msg string) Condition {
		return Condition{Type: hgv1alpha1.ConditionDegraded, Status: true, Reason: reason, Message: msg}
	}
	obs := func(reason string, scheduled bool) v1alpha1.PerformerEndpointObservation {
		return v1alpha1.PerformerEndpointObservation{PodName: "p-0", Reason: reason, Message: "m", Scheduled: scheduled}
	}
	cases := map[string]struct {
		reason string
		o      Observation
		want   Status
	}{
		"ServiceReady": {
			reason: "Ready behind the Service: Running, Available ServiceReady, readyTime from the provider.",
			o:      Observation{Ready: true, ReadySince: &t0, AtProvider: obs(v1alpha1.ReasonServiceReady, true)},
			want:   Status{PodName: "p-0", Phase: hgv1alpha1.PhaseRunning, ReadyTime: &t0, Conditions: []Condition{avail(true, v1alpha1.ReasonServiceReady, "m"), notDegraded}},
		},
		"ImagePullFailed": {
			reason: "An image that cannot be pulled: Failed, Degraded ImagePullFailed.",
			o:      Observation{AtProvider: obs(v1alpha1.ReasonImagePullFailed, true)},
			want:   Status{PodName: "p-0", Phase: hgv1alpha1.PhaseFailed, Conditions: []Condition{avail(false, v1alpha1.ReasonImagePullFailed, "m"), degraded(v1alpha1.ReasonImagePullFailed, "m")}},
		},
		"HardwareUnavailable": {
			reason: "Missing hardware: Failed, Degraded HardwareUnavailable.",
			o:      Observation{AtProvider: obs(v1alpha1.ReasonHardwareUnavailable, false)},
			want:   Status{PodName: "p-0", Phase: hgv1alpha1.PhaseFailed, Conditions: []Condition{avail(false, v1alpha1.ReasonHardwareUnavailable, "m"), degraded(v1alpha1.ReasonHardwareUnavailable, "m")}},
		},
		"SchedulingFailed": {
			reason: "Unschedulable: Failed, Degraded SchedulingFailed.",
			o:      Observation{AtProvider: obs(v1alpha1.ReasonSchedulingFailed, false)},
			want:   Status{PodName: "p-0", Phase: hgv1alpha1.PhaseFailed, Conditions: []Condition{avail(false, v1alpha1.ReasonSchedulingFailed, "m"), degraded(v1alpha1.ReasonSchedulingFailed, "m")}},
		},
		"NotServing": {
			reason: "A ready pod not answering SERVING: Pending (it may recover), Degraded NotServing.",
			o:      Observation{AtProvider: obs(v1alpha1.ReasonNotServing, true)},
			want:   Status{PodName: "p-0", Phase: hgv1alpha1.PhasePending, Conditions: []Condition{avail(false, v1alpha1.ReasonNotServing, "m"), degraded(v1alpha1.ReasonNotServing, "m")}},
		},
		"Scheduled": {
			reason: "A scheduled pod still creating its containers is the API's Scheduled.",
			o:      Observation{AtProvider: obs(v1alpha1.ReasonPodPending, true)},
			want:   Status{PodName: "p-0", Phase: hgv1alpha1.PhasePending, Conditions: []Condition{avail(false, hgv1alpha1.ReasonScheduled, "m"), notDegraded}},
		},
		"WaitingForScheduler": {
			reason: "A pod the scheduler has not placed yet is PodPending.",
			o:      Observation{AtProvider: obs(v1alpha1.ReasonPodPending, false)},
			want:   Status{PodName: "p-0", Phase: hgv1alpha1.PhasePending, Conditions: []Condition{avail(false, v1alpha1.ReasonPodPending, "m"), notDegraded}},
		},
		"UnknownReason": {
			reason: "A reason from a newer provider is Pending and not Degraded.",
			o:      Observation{AtProvider: obs("SomethingNew", true)},
			want:   Status{PodName: "p-0", Phase: hgv1alpha1.PhasePending, Conditions: []Condition{avail(false, "SomethingNew", "m"), notDegraded}},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, tc.o.Status()); diff != "" {
				t.Errorf("%s\nStatus(): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

// TestVerdictsCoverEveryReason guards the mapping against a reason added to
// the provider but forgotten here.
func TestVerdictsCoverEveryReason(t *testing.T) {
	for _, r := range []string{
		v1alpha1.ReasonPodReady, v1alpha1.ReasonServiceReady, v1alpha1.ReasonImagePullFailed, v1alpha1.ReasonSchedulingFailed,
		v1alpha1.ReasonHardwareUnavailable, v1alpha1.ReasonNoPods, v1alpha1.ReasonPodPending, v1alpha1.ReasonPodNotReady,
		v1alpha1.ReasonCrashLoopBackOff, v1alpha1.ReasonPodFailed, v1alpha1.ReasonNotServing, v1alpha1.ReasonHealthCheckFailed,
		v1alpha1.ReasonServiceNotFound, v1alpha1.ReasonNoReadyEndpoints,
	} {
		if _, ok := verdicts[r]; !ok {
			t.Errorf("no verdict for provider reason %q", r)
		}
	}
}
