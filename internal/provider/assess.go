package provider

import (
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/hourglass-xp/crossplane-hourglass/apis/observe/v1alpha1"
	"github.com/hourglass-xp/crossplane-hourglass/internal/names"
	"github.com/hourglass-xp/crossplane-hourglass/internal/podstatus"
)

// MaxHealthChecks bounds how many ready pods one observation health-checks,
// so a scaled-up performer cannot make one reconcile take many timeouts.
const MaxHealthChecks = 3

// Observed is everything one observation of a PerformerEndpoint read.
type Observed struct {
	Namespace string
	Params    v1alpha1.PerformerEndpointParameters

	// Pods are the pods matching Params.Selector.
	Pods []corev1.Pod
	// Service is nil when Params.ServiceName is empty or the Service does
	// not exist.
	Service *corev1.Service
	// Slices are the Service's EndpointSlices.
	Slices []discoveryv1.EndpointSlice

	// HealthEnabled is true when both the resource and the provider want
	// the gRPC health check.
	HealthEnabled bool
	// Health holds the results of the checked pods, by pod name.
	Health map[string]HealthResult
}

// An Assessment is what an observation concludes.
type Assessment struct {
	AtProvider v1alpha1.PerformerEndpointObservation
	// Ready: a ready pod passes the health check (or is ready, with the
	// check disabled) and, when a Service is named, the Service has a
	// ready endpoint.
	Ready bool
}

// HealthTargets returns the pods to health-check, in order of preference:
// ready pods behind the Service's ready endpoints first, then the newest.
// Pods without an IP are included; the checker reports them.
func HealthTargets(o Observed) []HealthTarget {
	behind := readyEndpointPods(o.Slices)
	var ready []corev1.Pod
	for _, p := range active(o.Pods) {
		if podstatus.Ready(&p) {
			ready = append(ready, p)
		}
	}
	sort.SliceStable(ready, func(i, j int) bool {
		bi, bj := behind[ready[i].Name], behind[ready[j].Name]
		if bi != bj {
			return bi
		}
		return podstatus.Newer(&ready[i], &ready[j])
	})
	if len(ready) > MaxHealthChecks {
		ready = ready[:MaxHealthChecks]
	}
	out := make([]HealthTarget, 0, len(ready))
	for _, p := range ready {
		out = append(out, HealthTarget{Namespace: p.Namespace, Pod: p.Name, IP: p.Status.PodIP, Port: o.Params.Port})
	}
	return out
}

// Assess turns an observation into the resource's status. It is pure: the
// same objects and health results always give the same assessment.
func Assess(o Observed) Assessment {
	a := v1alpha1.PerformerEndpointObservation{Health: v1alpha1.HealthUnknown}
	if o.Params.ServiceName != "" {
		a.Endpoint = names.Endpoint(o.Params.ServiceName, o.Namespace, o.Params.Port)
	}
	if !o.HealthEnabled {
		a.Health = v1alpha1.HealthDisabled
	}

	pods := active(o.Pods)
	states := make(map[string]podstatus.Diagnosis, len(pods))
	for i := range pods {
		s := podstatus.Diagnose(&pods[i])
		states[pods[i].Name] = s
		a.Pods.Total++
		if s.Scheduled {
			a.Pods.Scheduled++
		}
		if s.Ready {
			a.Pods.Ready++
			if !o.HealthEnabled || o.Health[pods[i].Name].State == v1alpha1.HealthServing {
				a.Pods.Serving++
			}
		}
	}
	for range readyEndpointPods(o.Slices) {
		a.ReadyEndpoints++
	}
	a.ServiceReady = o.Service != nil && a.ReadyEndpoints > 0
	a.Healthy = a.Pods.Serving > 0

	if len(pods) == 0 {
		a.Reason = v1alpha1.ReasonNoPods
		a.Message = fmt.Sprintf("no pod in namespace %s matches selector %s", o.Namespace, labels.SelectorFromSet(o.Params.Selector))
		return Assessment{AtProvider: a}
	}

	rep := representative(o, pods)
	st := states[rep.Name]
	a.PodName, a.Scheduled, a.Restarts = rep.Name, st.Scheduled, st.Restarts
	if o.HealthEnabled {
		if r, ok := o.Health[rep.Name]; ok {
			a.Health = r.State
		}
	}

	switch {
	case !st.Ready:
		a.Reason, a.Message = st.Reason, st.Message
	case !a.Healthy:
		a.Reason, a.Message = unhealthy(rep.Name, o.Health[rep.Name])
	case o.Params.ServiceName == "":
		a.Reason, a.Message = v1alpha1.ReasonPodReady, servingMessage(rep.Name, o.HealthEnabled)
	case o.Service == nil:
		a.Reason = v1alpha1.ReasonServiceNotFound
		a.Message = fmt.Sprintf("%s, but Service %s/%s does not exist", servingMessage(rep.Name, o.HealthEnabled), o.Namespace, o.Params.ServiceName)
	case a.ReadyEndpoints == 0:
		a.Reason = v1alpha1.ReasonNoReadyEndpoints
		a.Message = fmt.Sprintf("%s, but Service %s has no ready endpoints", servingMessage(rep.Name, o.HealthEnabled), o.Params.ServiceName)
	default:
		a.Reason = v1alpha1.ReasonServiceReady
		a.Message = fmt.Sprintf("%s; Service %s has %d ready endpoint(s) at %s", servingMessage(rep.Name, o.HealthEnabled), o.Params.ServiceName, a.ReadyEndpoints, a.Endpoint)
	}
	return Assessment{AtProvider: a, Ready: a.Healthy && (o.Params.ServiceName == "" || a.ServiceReady)}
}

// ConnectionDetails are the Service's endpoint, host and port, under the
// same keys as the performer's connection Secret: an executor reads or
// mounts them. The DNS name is known before the Service has endpoints, so
// it is published at once and never flaps.
func ConnectionDetails(namespace string, p v1alpha1.PerformerEndpointParameters) map[string][]byte {
	if p.ServiceName == "" {
		return nil
	}
	return names.Connection(p.ServiceName, namespace, p.Port)
}

// representative is the pod the status speaks of: a serving pod if there
// is one, else a ready pod (its failed health check explains), else the
// newest pod (most likely the one the current Deployment wants).
func representative(o Observed, pods []corev1.Pod) corev1.Pod {
	targets := HealthTargets(o)
	for _, t := range targets {
		if !o.HealthEnabled || o.Health[t.Pod].State == v1alpha1.HealthServing {
			return byName(pods, t.Pod)
		}
	}
	if len(targets) > 0 {
		return byName(pods, targets[0].Pod)
	}
	newest := pods[0]
	for i := range pods[1:] {
		if podstatus.Newer(&pods[i+1], &newest) {
			newest = pods[i+1]
		}
	}
	return newest
}

func unhealthy(pod string, r HealthResult) (reason, message string) {
	switch r.State {
	case v1alpha1.HealthNotServing:
		return v1alpha1.ReasonNotServing, fmt.Sprintf("pod %s is ready but its gRPC health check is not SERVING: %s", pod, r.Message)
	case "":
		return v1alpha1.ReasonHealthCheckFailed, fmt.Sprintf("pod %s is ready but was not health-checked", pod)
	default:
		return v1alpha1.ReasonHealthCheckFailed, fmt.Sprintf("pod %s is ready but its gRPC health check failed (%s): %s", pod, r.State, r.Message)
	}
}

func servingMessage(pod string, checked bool) string {
	if checked {
		return "pod " + pod + " answers gRPC health checks with SERVING"
	}
	return "pod " + pod + " is ready (gRPC health check disabled)"
}

// active drops terminating pods: they are on their way out and say nothing
// about the performer's future.
func active(pods []corev1.Pod) []corev1.Pod {
	out := make([]corev1.Pod, 0, len(pods))
	for _, p := range pods {
		if p.DeletionTimestamp == nil {
			out = append(out, p)
		}
	}
	return out
}

// readyEndpointPods returns the distinct ready endpoints of the slices, by
// target pod name (or address, for endpoints without a pod). An endpoint
// without a ready condition is ready, as the EndpointSlice API defines;
// dual-stack Services list a pod once per address family.
func readyEndpointPods(slices []discoveryv1.EndpointSlice) map[string]bool {
	out := map[string]bool{}
	for _, s := range slices {
		for _, e := range s.Endpoints {
			if e.Conditions.Ready != nil && !*e.Conditions.Ready {
				continue
			}
			key := strings.Join(e.Addresses, ",")
			if e.TargetRef != nil && e.TargetRef.Name != "" {
				key = e.TargetRef.Name
			}
			out[key] = true
		}
	}
	return out
}

func byName(pods []corev1.Pod, name string) corev1.Pod {
	for _, p := range pods {
		if p.Name == name {
			return p
		}
	}
	return corev1.Pod{}
}
