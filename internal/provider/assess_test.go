package provider

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/hourglass-xp/crossplane-hourglass/apis/observe/v1alpha1"
)

var t0 = metav1.NewTime(time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC))

func createdAt(offset time.Duration) podOption {
	return func(p *corev1.Pod) { p.CreationTimestamp = metav1.NewTime(t0.Add(offset)) }
}

func terminating() podOption {
	return func(p *corev1.Pod) { p.DeletionTimestamp = &t0 }
}

func pods(ps ...*corev1.Pod) []corev1.Pod {
	out := make([]corev1.Pod, 0, len(ps))
	for _, p := range ps {
		out = append(out, *p)
	}
	return out
}

func slice(ready map[string]bool) []discoveryv1.EndpointSlice {
	s := discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Name: "performer-p-abcde", Namespace: "ns"}}
	for name, r := range ready {
		s.Endpoints = append(s.Endpoints, discoveryv1.Endpoint{
			Addresses:  []string{"10.77.0.9"},
			Conditions: discoveryv1.EndpointConditions{Ready: &r},
			TargetRef:  &corev1.ObjectReference{Kind: "Pod", Name: name, Namespace: "ns"},
		})
	}
	return []discoveryv1.EndpointSlice{s}
}

var (
	params = v1alpha1.PerformerEndpointParameters{
		ServiceName: "performer-p",
		Selector:    map[string]string{"app": "performer", "performer-name": "p"},
		Port:        9090,
	}
	podOnly = v1alpha1.PerformerEndpointParameters{Selector: params.Selector, Port: 9090}
	svc     = &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "performer-p", Namespace: "ns"}}
)

const wantEndpoint = "performer-p.ns.svc.cluster.local:9090"

func serving(ps ...string) map[string]HealthResult {
	m := map[string]HealthResult{}
	for _, p := range ps {
		m[p] = HealthResult{State: v1alpha1.HealthServing}
	}
	return m
}

func TestAssess(t *testing.T) {
	cases := map[string]struct {
		reason string
		o      Observed
		want   Assessment
	}{
		"NoPods": {
			reason: "No pod matches: NoPods, with the selector; the endpoint is already known.",
			o:      Observed{Namespace: "ns", Params: params, Service: svc, HealthEnabled: true},
			want: Assessment{AtProvider: v1alpha1.PerformerEndpointObservation{
				Endpoint: wantEndpoint, Health: v1alpha1.HealthUnknown, Reason: v1alpha1.ReasonNoPods,
				Message: "no pod in namespace ns matches selector app=performer,performer-name=p",
			}},
		},
		"ServiceReady": {
			reason: "A ready pod answering SERVING behind a Service with a ready endpoint is Ready: ServiceReady.",
			o: Observed{Namespace: "ns", Params: params, Service: svc, Slices: slice(map[string]bool{"a": true}),
				Pods: pods(pod("a", scheduledOn("n1"), running(true))), HealthEnabled: true, Health: serving("a")},
			want: Assessment{Ready: true, AtProvider: v1alpha1.PerformerEndpointObservation{
				Endpoint: wantEndpoint, PodName: "a", Scheduled: true, Healthy: true, ServiceReady: true, ReadyEndpoints: 1,
				Pods:   v1alpha1.PodsSummary{Total: 1, Scheduled: 1, Ready: 1, Serving: 1},
				Health: v1alpha1.HealthServing, Reason: v1alpha1.ReasonServiceReady,
				Message: "pod a answers gRPC health checks with SERVING; Service performer-p has 1 ready endpoint(s) at " + wantEndpoint,
			}},
		},
		"HealthDisabled": {
			reason: "With the check disabled a ready pod counts as serving.",
			o: Observed{Namespace: "ns", Params: params, Service: svc, Slices: slice(map[string]bool{"a": true}),
				Pods: pods(pod("a", scheduledOn("n1"), running(true)))},
			want: Assessment{Ready: true, AtProvider: v1alpha1.PerformerEndpointObservation{
				Endpoint: wantEndpoint, PodName: "a", Scheduled: true, Healthy: true, ServiceReady: true, ReadyEndpoints: 1,
				Pods:   v1alpha1.PodsSummary{Total: 1, Scheduled: 1, Ready: 1, Serving: 1},
				Health: v1alpha1.HealthDisabled, Reason: v1alpha1.ReasonServiceReady,
				Message: "pod a is ready (gRPC health check disabled); Service performer-p has 1 ready endpoint(s) at " + wantEndpoint,
			}},
		},
		"NotServing": {
			reason: "A ready pod answering NOT_SERVING is not Ready: NotServing.",
			o: Observed{Namespace: "ns", Params: params, Service: svc, Slices: slice(map[string]bool{"a": true}),
				Pods: pods(pod("a", scheduledOn("n1"), running(true))), HealthEnabled: true,
				Health: map[string]HealthResult{"a": {State: v1alpha1.HealthNotServing, Message: "a reports NOT_SERVING"}}},
			want: Assessment{AtProvider: v1alpha1.PerformerEndpointObservation{
				Endpoint: wantEndpoint, PodName: "a", Scheduled: true, ServiceReady: true, ReadyEndpoints: 1,
				Pods:   v1alpha1.PodsSummary{Total: 1, Scheduled: 1, Ready: 1},
				Health: v1alpha1.HealthNotServing, Reason: v1alpha1.ReasonNotServing,
				Message: "pod a is ready but its gRPC health check is not SERVING: a reports NOT_SERVING",
			}},
		},
		"Timeout": {
			reason: "A ready pod that does not answer in time is not Ready: HealthCheckFailed.",
			o: Observed{Namespace: "ns", Params: params, Service: svc, Slices: slice(map[string]bool{"a": true}),
				Pods: pods(pod("a", scheduledOn("n1"), running(true))), HealthEnabled: true,
				Health: map[string]HealthResult{"a": {State: v1alpha1.HealthTimeout, Message: "no answer from a within the timeout"}}},
			want: Assessment{AtProvider: v1alpha1.PerformerEndpointObservation{
				Endpoint: wantEndpoint, PodName: "a", Scheduled: true, ServiceReady: true, ReadyEndpoints: 1,
				Pods:   v1alpha1.PodsSummary{Total: 1, Scheduled: 1, Ready: 1},
				Health: v1alpha1.HealthTimeout, Reason: v1alpha1.ReasonHealthCheckFailed,
				Message: "pod a is ready but its gRPC health check failed (Timeout): no answer from a within the timeout",
			}},
		},
		"ServiceNotFound": {
			reason: "A serving pod without its Service is healthy but not Ready.",
			o: Observed{Namespace: "ns", Params: params,
				Pods: pods(pod("a", scheduledOn("n1"), running(true))), HealthEnabled: true, Health: serving("a")},
			want: Assessment{AtProvider: v1alpha1.PerformerEndpointObservation{
				Endpoint: wantEndpoint, PodName: "a", Scheduled: true, Healthy: true,
				Pods:   v1alpha1.PodsSummary{Total: 1, Scheduled: 1, Ready: 1, Serving: 1},
				Health: v1alpha1.HealthServing, Reason: v1alpha1.ReasonServiceNotFound,
				Message: "pod a answers gRPC health checks with SERVING, but Service ns/performer-p does not exist",
			}},
		},
		"NoReadyEndpoints": {
			reason: "A serving pod the Service does not (yet) list as ready is healthy but not Ready.",
			o: Observed{Namespace: "ns", Params: params, Service: svc, Slices: slice(map[string]bool{"a": false}),
				Pods: pods(pod("a", scheduledOn("n1"), running(true))), HealthEnabled: true, Health: serving("a")},
			want: Assessment{AtProvider: v1alpha1.PerformerEndpointObservation{
				Endpoint: wantEndpoint, PodName: "a", Scheduled: true, Healthy: true,
				Pods:   v1alpha1.PodsSummary{Total: 1, Scheduled: 1, Ready: 1, Serving: 1},
				Health: v1alpha1.HealthServing, Reason: v1alpha1.ReasonNoReadyEndpoints,
				Message: "pod a answers gRPC health checks with SERVING, but Service performer-p has no ready endpoints",
			}},
		},
		"PodsOnly": {
			reason: "Without a Service a serving pod is Ready: PodReady, and no endpoint is published.",
			o: Observed{Namespace: "ns", Params: podOnly,
				Pods: pods(pod("a", scheduledOn("n1"), running(true))), HealthEnabled: true, Health: serving("a")},
			want: Assessment{Ready: true, AtProvider: v1alpha1.PerformerEndpointObservation{
				PodName: "a", Scheduled: true, Healthy: true,
				Pods:   v1alpha1.PodsSummary{Total: 1, Scheduled: 1, Ready: 1, Serving: 1},
				Health: v1alpha1.HealthServing, Reason: v1alpha1.ReasonPodReady,
				Message: "pod a answers gRPC health checks with SERVING",
			}},
		},
		"HardwareUnavailable": {
			reason: "The only pod waits for a GPU: HardwareUnavailable with the scheduler's message.",
			o: Observed{Namespace: "ns", Params: params, Service: svc, HealthEnabled: true,
				Pods: pods(pod("a", unschedulable(msgGPU)))},
			want: Assessment{AtProvider: v1alpha1.PerformerEndpointObservation{
				Endpoint: wantEndpoint, PodName: "a", Pods: v1alpha1.PodsSummary{Total: 1},
				Health: v1alpha1.HealthUnknown, Reason: v1alpha1.ReasonHardwareUnavailable, Message: msgGPU,
			}},
		},
		"NewestPodExplains": {
			reason: "With no ready pod the newest one speaks; terminating pods are ignored; restarts are the newest pod's.",
			o: Observed{Namespace: "ns", Params: params, Service: svc, HealthEnabled: true,
				Pods: pods(
					pod("old", createdAt(0), scheduledOn("n1"), running(false)),
					pod("gone", createdAt(2*time.Minute), terminating(), scheduledOn("n1"), running(true)),
					pod("new", createdAt(time.Minute), scheduledOn("n1"), waitingOn("CrashLoopBackOff", "", 3)),
				)},
			want: Assessment{AtProvider: v1alpha1.PerformerEndpointObservation{
				Endpoint: wantEndpoint, PodName: "new", Scheduled: true, Restarts: 3,
				Pods:   v1alpha1.PodsSummary{Total: 2, Scheduled: 2},
				Health: v1alpha1.HealthUnknown, Reason: v1alpha1.ReasonCrashLoopBackOff,
				Message: "container performer of pod new keeps crashing (3 restarts): no termination recorded",
			}},
		},
		"ServingPodWins": {
			reason: "One serving pod among failing ones makes the performer Ready and is the one named.",
			o: Observed{Namespace: "ns", Params: params, Service: svc, Slices: slice(map[string]bool{"b": true}),
				Pods: pods(
					pod("a", createdAt(time.Minute), scheduledOn("n1"), running(true)),
					pod("b", createdAt(0), scheduledOn("n1"), running(true)),
					pod("c", createdAt(2*time.Minute), scheduledOn("n1"), waitingOn("ImagePullBackOff", "", 0)),
				),
				HealthEnabled: true,
				Health: map[string]HealthResult{
					"a": {State: v1alpha1.HealthUnreachable, Message: "connection refused"},
					"b": {State: v1alpha1.HealthServing},
				}},
			want: Assessment{Ready: true, AtProvider: v1alpha1.PerformerEndpointObservation{
				Endpoint: wantEndpoint, PodName: "b", Scheduled: true, Healthy: true, ServiceReady: true, ReadyEndpoints: 1,
				Pods:   v1alpha1.PodsSummary{Total: 3, Scheduled: 3, Ready: 2, Serving: 1},
				Health: v1alpha1.HealthServing, Reason: v1alpha1.ReasonServiceReady,
				Message: "pod b answers gRPC health checks with SERVING; Service performer-p has 1 ready endpoint(s) at " + wantEndpoint,
			}},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := Assess(tc.o)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s\nAssess(...): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestHealthTargets(t *testing.T) {
	cases := map[string]struct {
		reason string
		o      Observed
		want   []HealthTarget
	}{
		"OrderAndCap": {
			reason: "Ready pods behind the Service come first, then the newest; unready and terminating pods are skipped; at most MaxHealthChecks.",
			o: Observed{Params: params, Slices: slice(map[string]bool{"old": true}), Pods: pods(
				pod("old", createdAt(0), scheduledOn("n1"), running(true)),
				pod("p1", createdAt(time.Minute), scheduledOn("n1"), running(true)),
				pod("p2", createdAt(2*time.Minute), scheduledOn("n1"), running(true)),
				pod("p3", createdAt(3*time.Minute), scheduledOn("n1"), running(true)),
				pod("unready", createdAt(4*time.Minute), scheduledOn("n1"), running(false)),
				pod("gone", createdAt(5*time.Minute), terminating(), scheduledOn("n1"), running(true)),
			)},
			want: []HealthTarget{
				{Namespace: "ns", Pod: "old", IP: "10.77.0.9", Port: 9090},
				{Namespace: "ns", Pod: "p3", IP: "10.77.0.9", Port: 9090},
				{Namespace: "ns", Pod: "p2", IP: "10.77.0.9", Port: 9090},
			},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, HealthTargets(tc.o)); diff != "" {
				t.Errorf("%s\nHealthTargets(...): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestConnectionDetails(t *testing.T) {
	cases := map[string]struct {
		reason string
		p      v1alpha1.PerformerEndpointParameters
		want   map[string][]byte
	}{
		"Service": {
			reason: "The Service's DNS name and port, as the Performer API documents them.",
			p:      params,
			want: map[string][]byte{
				"endpoint": []byte(wantEndpoint),
				"host":     []byte("performer-p.ns.svc.cluster.local"),
				"port":     []byte("9090"),
			},
		},
		"NoService": {reason: "Nothing to publish without a Service.", p: podOnly},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, ConnectionDetails("ns", tc.p)); diff != "" {
				t.Errorf("%s\nConnectionDetails(...): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}
