//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	observev1alpha1 "github.com/hourglass-xp/crossplane-hourglass/apis/observe/v1alpha1"
	"github.com/hourglass-xp/crossplane-hourglass/internal/names"
)

// Provider tests (issue 5). The stack runs provider-hourglass as a process
// (cluster/stack.d/10-provider.sh), installed by Crossplane as the
// Configuration's dependency, and a real gRPC performer behind every fake
// performer pod (cluster/stack.d/20-performers.sh: testperformer
// -serve-pods). The pod annotation hourglass-xp.io/health=serving|
// not-serving|down, or an image containing grpc-fault-not-serving or
// grpc-fault-down, sets what a pod's server answers. The tests only talk to
// the API server; the provider, inside the stack's namespace, dials the pods.
const (
	annotationHealth = "hourglass-xp.io/health"
	// reactWithin bounds how long the performer may take to follow a change of
	// its performer's gRPC health: the provider sees the pod change (or
	// polls Ready endpoints every 10 s in the stack) and Crossplane runs
	// the function on the endpoint's change.
	reactWithin = 30 * time.Second
)

var performerEndpointGVK = observev1alpha1.PerformerEndpointGroupVersionKind

// endpoints lists the PerformerEndpoints composed for a performer.
func (e *env) endpoints(ctx context.Context, ns, performer string) ([]unstructured.Unstructured, error) {
	l := &unstructured.UnstructuredList{}
	l.SetGroupVersionKind(performerEndpointGVK.GroupVersion().WithKind(observev1alpha1.PerformerEndpointListKind))
	err := e.c.List(ctx, l, client.InNamespace(ns), client.MatchingLabels{names.LabelPerformerName: performer})
	return l.Items, err
}

// servingEndpoint is the PerformerEndpoint of the performer's active revision.
func (e *env) servingEndpoint(ctx context.Context, u *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	rev, _, _ := unstructured.NestedString(u.Object, "status", "active", "revision")
	eps, err := e.endpoints(ctx, u.GetNamespace(), u.GetName())
	if err != nil {
		return nil, err
	}
	for i := range eps {
		if eps[i].GetLabels()[names.LabelRevision] == rev {
			return &eps[i], nil
		}
	}
	return nil, fmt.Errorf("no PerformerEndpoint of revision %q among %d", rev, len(eps))
}

// endpointServes returns the performer's serving PerformerEndpoint when it
// is Ready, gRPC health Serving behind a ready Service, and agrees with the
// performer's status on the endpoint and the pod.
func (e *env) endpointServes(ctx context.Context, u *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	ep, err := e.servingEndpoint(ctx, u)
	if err != nil {
		return nil, err
	}
	if s, r, m := condition(ep, "Ready"); s != "True" {
		return nil, fmt.Errorf("PerformerEndpoint %s Ready=%q (%s: %s)", ep.GetName(), s, r, m)
	}
	want := map[string]string{"health": "Serving", "healthy": "true", "serviceReady": "true", "reason": "ServiceReady"}
	for k, v := range want {
		if got := atProvider(ep, k); got != v {
			return nil, fmt.Errorf("PerformerEndpoint %s atProvider.%s = %q, want %q", ep.GetName(), k, got, v)
		}
	}
	grpc, _, _ := unstructured.NestedString(u.Object, "status", "grpcEndpoint")
	if got := atProvider(ep, "endpoint"); got != grpc {
		return nil, fmt.Errorf("PerformerEndpoint %s atProvider.endpoint %q, performer status.grpcEndpoint %q", ep.GetName(), got, grpc)
	}
	pod, _, _ := unstructured.NestedString(u.Object, "status", "podName")
	if got := atProvider(ep, "podName"); got != pod {
		return nil, fmt.Errorf("PerformerEndpoint %s atProvider.podName %q, performer status.podName %q", ep.GetName(), got, pod)
	}
	return ep, nil
}

func atProvider(u *unstructured.Unstructured, field string) string {
	v, _, _ := unstructured.NestedFieldNoCopy(u.Object, "status", "atProvider", field)
	return fmt.Sprint(v)
}

// TestProviderEndpoints applies every example performer and checks that once it
// is Ready, its serving revision's PerformerEndpoint is Ready with gRPC
// health Serving, names the Service, and agrees with the performer.
func TestProviderEndpoints(t *testing.T) {
	t.Parallel()
	e := setup(t)
	performers := readManifests(t, filepath.Join(e.root, "examples", "*.yaml"))
	for _, c := range performers {
		e.apply(t, c)
	}
	for _, c := range performers {
		t.Run(c.name(), func(t *testing.T) {
			t.Parallel()
			var ep *unstructured.Unstructured
			steadily(t, settle, stable, "performer Ready and its PerformerEndpoint Serving", func(ctx context.Context) error {
				u, err := e.existing(ctx, c.namespace(), c.name())
				if err != nil {
					return err
				}
				if s, r, m := condition(u, "Ready"); s != "True" {
					return fmt.Errorf("performer Ready=%q (%s: %s)", s, r, m)
				}
				ep, err = e.endpointServes(ctx, u)
				return err
			})
			svc, _, _ := unstructured.NestedString(ep.Object, "spec", "forProvider", "serviceName")
			if svc != names.Service(c.name()) {
				t.Errorf("PerformerEndpoint %s observes Service %q, want %q", ep.GetName(), svc, names.Service(c.name()))
			}
			t.Logf("PerformerEndpoint %s: Ready, health %s, endpoint %s, pod %s", ep.GetName(), atProvider(ep, "health"), atProvider(ep, "endpoint"), atProvider(ep, "podName"))
		})
	}
}

// servingPod is the pod the performer reports serving.
func (e *env) servingPod(ctx context.Context, ns, name string) (*corev1.Pod, error) {
	u, err := e.existing(ctx, ns, name)
	if err != nil {
		return nil, err
	}
	podName, _, _ := unstructured.NestedString(u.Object, "status", "podName")
	p := &corev1.Pod{}
	if err := e.c.Get(ctx, client.ObjectKey{Namespace: ns, Name: podName}, p); err != nil {
		return nil, fmt.Errorf("status.podName %q: %w", podName, err)
	}
	return p, nil
}

// setHealth sets what the gRPC server behind a pod answers.
func (e *env) setHealth(t *testing.T, ns, pod, health string) {
	t.Helper()
	e.mustKubectl(t, nil, "-n", ns, "annotate", "pod", pod, annotationHealth+"="+health, "--overwrite")
}

// availableIs polls the performer until Available has status and one of
// reasons, within reactWithin, and returns how long that took.
func (e *env) availableIs(t *testing.T, ns, name, status string, reasons ...string) time.Duration {
	t.Helper()
	t0 := time.Now()
	eventually(t, reactWithin, fmt.Sprintf("performer Available=%s %v", status, reasons), func(ctx context.Context) error {
		u, err := e.existing(ctx, ns, name)
		if err != nil {
			return err
		}
		s, r, m := condition(u, "Available")
		if s != status || !slices.Contains(reasons, r) {
			return fmt.Errorf("Available=%q %s (%s)", s, r, m)
		}
		if rs, _, _ := condition(u, "Ready"); (rs == "True") != (status == "True") {
			return fmt.Errorf("Available=%s but Ready=%q", s, rs)
		}
		return nil
	})
	return time.Since(t0)
}

// TestHealthFollowsGRPC makes the server behind a Running performer's pod
// answer NOT_SERVING, then refuse connections, restoring it after each: the
// pod stays Ready to Kubernetes throughout, yet the performer loses Available
// (NotServing, HealthCheckFailed) within seconds and gets it back.
func TestHealthFollowsGRPC(t *testing.T) {
	t.Parallel()
	e := setup(t)
	const ns, name = "e2e-health", "health"
	c := newPerformer(ns, name, map[string]any{
		"avsAddress": "0x00000000000000000000000000000000000000e5",
		"image":      "example.com/e2e/performer:v1.0.0",
	})
	e.apply(t, c)
	defer e.deletePerformer(t, ns, name)
	e.readyAndStable(t, ns, name)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	pod, err := e.servingPod(ctx, ns, name)
	if err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct{ health, reason, atProvider string }{
		{"not-serving", "NotServing", "NotServing"},
		{"down", "HealthCheckFailed", "Unreachable"},
	} {
		t.Run(tc.health, func(t *testing.T) {
			e.setHealth(t, ns, pod.Name, tc.health)
			lost := e.availableIs(t, ns, name, "False", tc.reason)
			u, _ := e.existing(ctx, ns, name)
			ep, err := e.servingEndpoint(ctx, u)
			if err != nil {
				t.Fatal(err)
			}
			if got := atProvider(ep, "health"); got != tc.atProvider {
				t.Errorf("PerformerEndpoint %s atProvider.health %q, want %q", ep.GetName(), got, tc.atProvider)
			}
			p := &corev1.Pod{}
			if err := e.c.Get(ctx, client.ObjectKeyFromObject(pod), p); err != nil {
				t.Fatal(err)
			}
			if !podReady(*p) {
				t.Errorf("pod %s is not Ready: the performer should have lost Available for gRPC health alone", p.Name)
			}
			e.setHealth(t, ns, pod.Name, "serving")
			back := e.availableIs(t, ns, name, "True", "ServiceReady")
			t.Logf("server behind %s %s: performer not Available (%s) after %.1fs; serving again: Available after %.1fs",
				pod.Name, tc.health, tc.reason, lost.Seconds(), back.Seconds())
		})
	}
	e.readyAndStable(t, ns, name)
}

// TestUpgradeToSilentRevision upgrades to a revision whose pods are Ready
// to Kubernetes but whose gRPC server does not answer SERVING (images
// grpc-fault-down and grpc-fault-not-serving): the Service never switches
// to it; after the progress deadline the performer is Degraded with the
// provider's reason while blue serves; once green's server answers, the
// upgrade completes.
func TestUpgradeToSilentRevision(t *testing.T) {
	t.Parallel()
	e := setup(t)
	xc := xclient(t, e)
	const ns = "e2e-upgrade-silent"
	for fault, reason := range map[string]string{"down": "HealthCheckFailed", "not-serving": "NotServing"} {
		t.Run(fault, func(t *testing.T) {
			t.Parallel()
			name := "silent-" + fault
			const deadline = 15
			c := newPerformer(ns, name, upgradeSpec(goodRepo, "v1.0.0", deadline))
			e.apply(t, c)
			defer e.deletePerformer(t, ns, name)
			rev1, _ := e.running(t, ns, name, "v1.0.0")

			s := startSampler(t, xc, ns, name)
			t0 := time.Now()
			e.setSpec(t, c, upgradeSpec("example.com/e2e/grpc-fault-"+fault, "v2.0.0", deadline))
			var green string
			steadily(t, 2*time.Minute, 2*stable, "upgrade failed on health, blue serving", func(ctx context.Context) error {
				u, err := e.existing(ctx, ns, name)
				if err != nil {
					return err
				}
				st := stateOf(u)
				if ds, r, m := condition(u, "Degraded"); ds != "True" || r != reason {
					return fmt.Errorf("Degraded=%q %s (%s), want True %s; status %+v", ds, r, m, reason, st)
				}
				if rs, _, _ := condition(u, "Ready"); rs != "True" {
					return fmt.Errorf("Ready=%q: blue should keep the performer Ready", rs)
				}
				if st.Phase != "Running" || st.Active != rev1 || st.TargetVersion != "v2.0.0" {
					return fmt.Errorf("status %+v, want Running on %s with target v2.0.0 kept", st, rev1)
				}
				green = st.Target
				// Green's pod is Ready to Kubernetes: only gRPC health
				// holds the switch back.
				pods, err := e.pods(ctx, ns, name)
				if err != nil {
					return err
				}
				for _, p := range pods {
					if p.Labels[names.LabelRevision] == green && !podReady(p) {
						return fmt.Errorf("green pod %s is not Ready", p.Name)
					}
				}
				return nil
			})
			u, _ := e.get(context.Background(), ns, name)
			_, _, msg := condition(u, "Degraded")
			t.Logf("green %s never served; Degraded %s after %.1fs (deadline %ds): %s", green, reason, time.Since(t0).Seconds(), deadline, msg)
			s.mu.Lock()
			before := slices.Clone(s.serving)
			s.mu.Unlock()
			if !slices.Equal(before, []string{rev1}) {
				t.Errorf("before green answered gRPC the Service served %v, want only %s", before, rev1)
			}

			// Green's server starts answering: the upgrade completes.
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			pods, err := e.pods(ctx, ns, name)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range pods {
				if p.Labels[names.LabelRevision] == green {
					e.setHealth(t, ns, p.Name, "serving")
				}
			}
			t1 := time.Now()
			rev2, _ := e.running(t, ns, name, "v2.0.0")
			if rev2 != green {
				t.Errorf("revision %s serves, want green %s", rev2, green)
			}
			t.Logf("green %s answered SERVING: Running %.1fs later", green, time.Since(t1).Seconds())
			s.check(t, rev1, green)
		})
	}
}

// TestProviderRestart stops the provider (SIGTERM: it hands its leader
// Lease back, as in a rolling update), creates a performer while it is
// down, and starts it again: the new performer is not Ready until the
// provider has health-checked it, the others stay Ready, and nothing is
// lost. Not parallel: other tests' performers would stall while it is down.
func TestProviderRestart(t *testing.T) {
	e := setup(t)
	const ns, up, name = "e2e-provider-restart", "before", "while-down"
	spec := func(avs string) map[string]any {
		return map[string]any{"avsAddress": avs, "image": "example.com/e2e/performer:v1.0.0"}
	}
	e.apply(t, newPerformer(ns, up, spec("0x00000000000000000000000000000000000000e6")))
	defer e.deletePerformer(t, ns, up)
	e.readyAndStable(t, ns, up)

	stackProcess(t, e, "stop", "provider")
	started := false
	t.Cleanup(func() {
		if !started {
			stackProcess(t, e, "start", "provider")
		}
	})
	e.apply(t, newPerformer(ns, name, spec("0x00000000000000000000000000000000000000e7")))
	defer e.deletePerformer(t, ns, name)
	// Its Deployment becomes available, but no one has health-checked it.
	steadily(t, 2*time.Minute, 2*stable, "new performer not Ready while the provider is down, the old one Ready", func(ctx context.Context) error {
		u, err := e.existing(ctx, ns, name)
		if err != nil {
			return err
		}
		ds, err := e.deployments(ctx, ns, name)
		if err != nil {
			return err
		}
		if len(ds) != 1 || ds[0].Status.AvailableReplicas != 1 {
			return fmt.Errorf("waiting for its Deployment to be available")
		}
		if s, r, _ := condition(u, "Available"); s == "True" || r != "EndpointNotObserved" {
			return fmt.Errorf("new performer Available=%q %s, want False EndpointNotObserved", s, r)
		}
		old, err := e.existing(ctx, ns, up)
		if err != nil {
			return err
		}
		if s, r, m := condition(old, "Ready"); s != "True" {
			return fmt.Errorf("performer %s Ready=%q (%s: %s) while the provider is down", up, s, r, m)
		}
		return nil
	})
	stackProcess(t, e, "start", "provider")
	started = true
	t0 := time.Now()
	e.readyAndStable(t, ns, name)
	t.Logf("provider restarted: the performer created while it was down is Ready %.1fs later", time.Since(t0).Seconds())
	e.readyAndStable(t, ns, up)
}
