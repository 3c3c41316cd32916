//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/hourglass-xp/crossplane-hourglass/apis/hourglass/v1alpha1"
	"github.com/hourglass-xp/crossplane-hourglass/internal/names"
)

// The node-disruption tests drain nodes and make them NotReady, so they run
// on a pool of their own (cluster/kwok/nodes.yaml: kwok-drain-1 and -2,
// tainted so no other performer lands there) and not in parallel with each
// other: each changes the pool's nodes.
const (
	disNS = "e2e-disruption"
	// poolKey selects and tolerates the pool; hardwareKey is on
	// kwok-drain-1 alone.
	poolKey, poolValue    = "hourglass-xp.io/pool", "disruption"
	hardwareKey, hardware = "hourglass-xp.io/hardware", "only-here"
	onlyHardwareNode      = "kwok-drain-1"
	// nodeLost makes kwok play a lost machine (cluster/kwok/stages.yaml):
	// no heartbeat, Ready False.
	nodeLost = "kwok.hourglass-xp.io/node-lost"

	// The platform settings of the tests' Compositions: short, so a test
	// takes seconds.
	e2eDrainTimeout   = 20 * time.Second
	e2eLossToleration = 10 * time.Second

	// drainRetry is how often the drain retries an eviction the budget
	// refused (kubectl drain waits 5 s; shorter here so the drain's
	// duration is measured more finely).
	drainRetry = time.Second
	// callEvery is the gRPC health client's period.
	callEvery = 300 * time.Millisecond
	// recoverySlack bounds scheduling, readiness, the node lifecycle
	// controller's 5 s monitor period and Crossplane's reaction, beyond
	// the configured toleration.
	recoverySlack = 45 * time.Second
)

// useDisruptionComposition applies the tests' Composition with the budget
// on or off, removes it when the test ends, and returns its name.
func (e *env) useDisruptionComposition(t *testing.T, budget bool) string {
	t.Helper()
	comp := "performers-e2e-disruption"
	if !budget {
		comp += "-off"
	}
	e.applyObject(t, e.disruptionComposition(t, comp, budget))
	t.Cleanup(func() { e.mustKubectl(t, nil, "delete", "composition", comp, "--ignore-not-found") })
	return comp
}

// disruptionComposition is the shipped Composition renamed, with the
// tests' drain timeout and node-loss toleration, and the budget on or off.
func (e *env) disruptionComposition(t *testing.T, name string, budget bool) *unstructured.Unstructured {
	t.Helper()
	u := e.readYAML(t, "compositions/performer.yaml")
	u.SetName(name)
	steps, _, _ := unstructured.NestedSlice(u.Object, "spec", "pipeline")
	if len(steps) != 1 {
		t.Fatalf("compositions/performer.yaml: %d pipeline steps, want the performer function's alone", len(steps))
	}
	step, _ := steps[0].(map[string]any)
	in := map[string]any{
		"budget":                    budget,
		"drainTimeoutSeconds":       int64(e2eDrainTimeout / time.Second),
		"nodeLossTolerationSeconds": int64(e2eLossToleration / time.Second),
	}
	if err := unstructured.SetNestedMap(step, in, "input", "disruption"); err != nil {
		t.Fatal(err)
	}
	if err := unstructured.SetNestedSlice(u.Object, steps, "spec", "pipeline"); err != nil {
		t.Fatal(err)
	}
	return u
}

// poolPerformer is a performer for the pool, with the given Composition;
// onlyHere pins it to the one node with the pool's "hardware".
func poolPerformer(name, composition string, onlyHere bool) manifest {
	sel := map[string]any{poolKey: poolValue}
	if onlyHere {
		sel[hardwareKey] = hardware
	}
	return newPerformer(disNS, name, map[string]any{
		"avsAddress": "0x1234567890abcdef1234567890abcdef12345678",
		"image":      "myavs/performer:v1.0.0",
		"scheduling": map[string]any{
			"nodeSelector": sel,
			"tolerations":  []any{map[string]any{"key": poolKey, "operator": "Equal", "value": poolValue, "effect": "NoSchedule"}},
		},
		"crossplane": map[string]any{"compositionRef": map[string]any{"name": composition}},
	})
}

// endpointOf is the gRPC endpoint of a pool performer (the default port).
func endpointOf(name string) string {
	return names.Endpoint(names.Service(name), disNS, 9090)
}

func (e *env) clientset(t *testing.T) *kubernetes.Clientset {
	t.Helper()
	cfg, err := clientcmd.BuildConfigFromFlags("", e.kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	cfg.QPS, cfg.Burst = 100, 200
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

// uniqueName is base with the time of day: a performer of the same name
// deleted minutes before would share Crossplane's per-XR watch circuit
// breaker, which may still be open from that run (docs/benchmarks.md).
func uniqueName(base string) string {
	return base + "-" + time.Now().Format("150405")
}

// setUp starts a performer on the pool, waits until it serves (and, with
// the budget, until its PodDisruptionBudget guards its one healthy pod) and
// returns the node of its pod and its revision.
func (e *env) setUp(t *testing.T, cs *kubernetes.Clientset, m manifest, budget bool) (node, revision string) {
	t.Helper()
	e.apply(t, m)
	t.Cleanup(func() { e.deletePerformer(t, disNS, m.name()) })
	u := e.readyAndStable(t, disNS, m.name())
	if budget {
		eventually(t, time.Minute, "the PodDisruptionBudget guarding the pod", func(ctx context.Context) error {
			pdb, err := cs.PolicyV1().PodDisruptionBudgets(disNS).Get(ctx, names.PodDisruptionBudget(m.name()), metav1.GetOptions{})
			if err != nil {
				return err
			}
			st := pdb.Status
			if st.ObservedGeneration < pdb.Generation || st.ExpectedPods != 1 || st.CurrentHealthy != 1 || st.DisruptionsAllowed != 0 {
				return fmt.Errorf("generation %d, status %+v", pdb.Generation, st)
			}
			return nil
		})
	}
	podName, _, _ := unstructured.NestedString(u.Object, "status", "podName")
	revision, _, _ = unstructured.NestedString(u.Object, "status", "active", "revision")
	pod, err := cs.CoreV1().Pods(disNS).Get(t.Context(), podName, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("status.podName %q: %v", podName, err)
	}
	return pod.Spec.NodeName, revision
}

// cordon sets a node's spec.unschedulable, as kubectl cordon and uncordon.
func cordon(ctx context.Context, cs *kubernetes.Clientset, node string, on bool) error {
	_, err := cs.CoreV1().Nodes().Patch(ctx, node, types.MergePatchType, fmt.Appendf(nil, `{"spec":{"unschedulable":%t}}`, on), metav1.PatchOptions{})
	return err
}

// drain does what kubectl drain does: cordon, then evict every pod on the
// node through the eviction API, retrying those a PodDisruptionBudget
// refuses (429), until none is left. It returns how long it took and how
// many evictions were refused.
func drain(ctx context.Context, cs *kubernetes.Clientset, node string) (time.Duration, int, error) {
	start, refused := time.Now(), 0
	if err := cordon(ctx, cs, node, true); err != nil {
		return 0, 0, err
	}
	for {
		pods, err := cs.CoreV1().Pods(metav1.NamespaceAll).List(ctx, metav1.ListOptions{FieldSelector: "spec.nodeName=" + node})
		if err != nil {
			return time.Since(start), refused, err
		}
		left := 0
		for _, p := range pods.Items {
			if p.DeletionTimestamp != nil {
				continue
			}
			left++
			err := cs.CoreV1().Pods(p.Namespace).EvictV1(ctx, &policyv1.Eviction{ObjectMeta: metav1.ObjectMeta{Namespace: p.Namespace, Name: p.Name}})
			switch {
			case apierrors.IsTooManyRequests(err):
				refused++
			case err != nil && !apierrors.IsNotFound(err):
				return time.Since(start), refused, fmt.Errorf("evict %s/%s: %w", p.Namespace, p.Name, err)
			}
		}
		if left == 0 {
			return time.Since(start), refused, nil
		}
		select {
		case <-ctx.Done():
			return time.Since(start), refused, fmt.Errorf("drain of %s: %d pods left: %w", node, left, ctx.Err())
		case <-time.After(drainRetry):
		}
	}
}

// loseNode makes a node a lost machine: kwok stops heartbeating it and
// reports it not Ready (cluster/kwok/stages.yaml, node-lost), and its pods
// turn not ready — the state the node lifecycle controller leaves a silent
// node in once its grace period (node-monitor-grace-period, 50 s by
// default; kwokctl's 200 s) has passed, played at once. The controller then
// taints it not-ready:NoExecute, which evicts the performer's pod after its
// tolerationSeconds.
func loseNode(ctx context.Context, cs *kubernetes.Clientset, node string) error {
	if _, err := cs.CoreV1().Nodes().Patch(ctx, node, types.MergePatchType,
		fmt.Appendf(nil, `{"metadata":{"annotations":{%q:"true"}}}`, nodeLost), metav1.PatchOptions{}); err != nil {
		return err
	}
	for {
		n, err := cs.CoreV1().Nodes().Get(ctx, node, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if i := slices.IndexFunc(n.Status.Conditions, func(c corev1.NodeCondition) bool { return c.Type == corev1.NodeReady }); i >= 0 && n.Status.Conditions[i].Status != corev1.ConditionTrue {
			break
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("node %s still Ready: %w", node, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
	pods, err := cs.CoreV1().Pods(metav1.NamespaceAll).List(ctx, metav1.ListOptions{FieldSelector: "spec.nodeName=" + node})
	if err != nil {
		return err
	}
	now := time.Now().UTC().Format(time.RFC3339)
	notReady, err := json.Marshal(map[string]any{"status": map[string]any{"conditions": []any{
		map[string]any{"type": "Ready", "status": "False", "reason": "NodeLost", "lastTransitionTime": now},
		map[string]any{"type": "ContainersReady", "status": "False", "reason": "NodeLost", "lastTransitionTime": now},
	}}})
	if err != nil {
		return err
	}
	for _, p := range pods.Items {
		if _, err := cs.CoreV1().Pods(p.Namespace).Patch(ctx, p.Name, types.StrategicMergePatchType, notReady, metav1.PatchOptions{}, "status"); err != nil {
			return fmt.Errorf("mark pod %s/%s not ready: %w", p.Namespace, p.Name, err)
		}
	}
	return nil
}

// restoreNode brings a node back: uncordoned, found again by kwok (its
// node-initialize stage makes it Ready), and waits until it is Ready with
// none of the node lifecycle controller's taints and no pod left on it.
func (e *env) restoreNode(t *testing.T, cs *kubernetes.Clientset, node string) {
	t.Helper()
	ctx := context.Background()
	if err := cordon(ctx, cs, node, false); err != nil {
		t.Errorf("uncordon %s: %v", node, err)
	}
	if _, err := cs.CoreV1().Nodes().Patch(ctx, node, types.MergePatchType,
		fmt.Appendf(nil, `{"metadata":{"annotations":{%q:null}}}`, nodeLost), metav1.PatchOptions{}); err != nil {
		t.Errorf("give %s back to kwok: %v", node, err)
	}
	eventually(t, 2*time.Minute, "node "+node+" back", func(ctx context.Context) error {
		n, err := cs.CoreV1().Nodes().Get(ctx, node, metav1.GetOptions{})
		if err != nil {
			return err
		}
		for _, c := range n.Status.Conditions {
			if c.Type == corev1.NodeReady && c.Status != corev1.ConditionTrue {
				return fmt.Errorf("Ready=%s", c.Status)
			}
		}
		for _, taint := range n.Spec.Taints {
			if strings.HasPrefix(taint.Key, "node.kubernetes.io/") {
				return fmt.Errorf("still tainted %s", taint.Key)
			}
		}
		return nil
	})
}

// healthCaller is an executor-shaped client: it calls gRPC health on the
// performer's endpoint from inside the stack every callEvery, retrying a
// failed call once at once (after resolving the endpoint again), and
// records every call that failed twice.
type healthCaller struct {
	cancel context.CancelFunc
	done   chan struct{}

	mu       sync.Mutex
	calls    int
	retried  int
	failures []string
}

func (e *env) startHealthCaller(t *testing.T, endpoint string) *healthCaller {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	h := &healthCaller{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(h.done)
		for ctx.Err() == nil {
			st, err := e.healthFromStack(ctx, endpoint)
			retried := false
			if err != nil || st != "SERVING" {
				retried = true
				st, err = e.healthFromStack(ctx, endpoint)
			}
			if ctx.Err() != nil {
				return
			}
			h.mu.Lock()
			h.calls++
			if retried {
				h.retried++
			}
			if err != nil || st != "SERVING" {
				h.failures = append(h.failures, fmt.Sprintf("%s: %q, %v", time.Now().Format("15:04:05.000"), st, err))
			}
			h.mu.Unlock()
			select {
			case <-ctx.Done():
			case <-time.After(callEvery):
			}
		}
	}()
	t.Cleanup(h.stop)
	return h
}

func (h *healthCaller) stop() {
	h.cancel()
	<-h.done
}

// check fails on any call that failed after its one retry.
func (h *healthCaller) check(t *testing.T) {
	t.Helper()
	h.stop()
	h.mu.Lock()
	defer h.mu.Unlock()
	t.Logf("gRPC health calls: %d, %d of them needed their retry, %d failed after it", h.calls, h.retried, len(h.failures))
	if h.calls < 10 {
		t.Errorf("only %d gRPC health calls; the caller did not run", h.calls)
	}
	for _, f := range h.failures {
		t.Errorf("gRPC health call failed after one retry: %s", f)
	}
}

// reasonWatcher polls a performer and records every condition reason it
// shows, by condition type.
type reasonWatcher struct {
	cancel context.CancelFunc
	done   chan struct{}
	mu     sync.Mutex
	seen   map[string]map[string]bool
}

func (e *env) watchReasons(t *testing.T, name string) *reasonWatcher {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	w := &reasonWatcher{cancel: cancel, done: make(chan struct{}), seen: map[string]map[string]bool{}}
	go func() {
		defer close(w.done)
		for ctx.Err() == nil {
			if u, err := e.get(ctx, disNS, name); err == nil && u != nil {
				w.mu.Lock()
				for _, typ := range []string{v1alpha1.ConditionAvailable, v1alpha1.ConditionProgressing, v1alpha1.ConditionDegraded} {
					if w.seen[typ] == nil {
						w.seen[typ] = map[string]bool{}
					}
					_, r, _ := condition(u, typ)
					w.seen[typ][r] = true
				}
				w.mu.Unlock()
			}
			select {
			case <-ctx.Done():
			case <-time.After(200 * time.Millisecond):
			}
		}
	}()
	t.Cleanup(w.stop)
	return w
}

func (w *reasonWatcher) stop() {
	w.cancel()
	<-w.done
}

func (w *reasonWatcher) saw(typ, reason string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.seen[typ][reason]
}

func (w *reasonWatcher) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := []string{}
	for typ, rs := range w.seen {
		out = append(out, fmt.Sprintf("%s: %v", typ, keys(rs)))
	}
	return strings.Join(out, "; ")
}

// servingElsewhere returns nil once the performer's Service has a ready
// endpoint on a pod that is not on node, and that endpoint answers gRPC
// health SERVING from inside the stack.
func (e *env) servingElsewhere(ctx context.Context, cs *kubernetes.Clientset, name, node, endpoint string) error {
	sl, err := cs.DiscoveryV1().EndpointSlices(disNS).List(ctx, metav1.ListOptions{LabelSelector: discoveryv1.LabelServiceName + "=" + names.Service(name)})
	if err != nil {
		return err
	}
	for _, s := range sl.Items {
		for _, ep := range s.Endpoints {
			if (ep.Conditions.Ready != nil && !*ep.Conditions.Ready) || ep.NodeName == nil || *ep.NodeName == node {
				continue
			}
			st, err := e.healthFromStack(ctx, endpoint)
			if err != nil {
				return fmt.Errorf("ready endpoint on %s, but gRPC health: %w", *ep.NodeName, err)
			}
			if st != "SERVING" {
				return fmt.Errorf("ready endpoint on %s, but gRPC health %q", *ep.NodeName, st)
			}
			return nil
		}
	}
	return fmt.Errorf("no ready endpoint off %s", node)
}

// TestDrainKeepsServing drains the node of a serving performer as kubectl
// drain does: the eviction waits until a replacement is ready on the other
// node, the Service never lacks a ready endpoint and no gRPC health call
// fails beyond one retry.
func TestDrainKeepsServing(t *testing.T) {
	e := setup(t)
	cs := e.clientset(t)
	e.ensureNamespace(t, disNS)
	comp := e.useDisruptionComposition(t, true)
	name := uniqueName("drained")

	node, rev := e.setUp(t, cs, poolPerformer(name, comp, false), true)
	endpoint := endpointOf(name)
	sampler := startDrainSampler(t, e, name)
	caller := e.startHealthCaller(t, endpoint)
	reasons := e.watchReasons(t, name)
	t.Cleanup(func() { e.restoreNode(t, cs, node) })

	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	took, refused, err := drain(ctx, cs, node)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("drain of %s (cordon to last pod evicted, retries every %s): %.1fs, %d evictions refused", node, drainRetry, took.Seconds(), refused)
	if refused == 0 {
		t.Error("no eviction was refused: the PodDisruptionBudget did not hold the only ready pod")
	}
	eventually(t, time.Minute, "performer serving off "+node, func(ctx context.Context) error {
		return e.servingElsewhere(ctx, cs, name, node, endpoint)
	})
	e.readyAndStable(t, disNS, name)
	// One more stretch of calls against the moved performer.
	time.Sleep(2 * time.Second)
	caller.check(t)
	sampler.check(t, rev)
	sampler.deployments(t, 1)
	t.Logf("ready endpoints naming the evicted pod (terminating or deleted) seen in samples: %d", sampler.terminating)
	reasons.stop()
	if !reasons.saw(v1alpha1.ConditionProgressing, v1alpha1.ReasonNodeDisrupted) {
		t.Errorf("the performer never said %s while its node was drained; reasons seen: %s", v1alpha1.ReasonNodeDisrupted, reasons)
	}
	dep, err := cs.AppsV1().Deployments(disNS).List(t.Context(), metav1.ListOptions{LabelSelector: "performer-name=" + name})
	if err != nil || len(dep.Items) != 1 {
		t.Fatalf("Deployments of %s: %v, %v", name, dep, err)
	}
	eventually(t, time.Minute, "the Deployment back to one replica", func(ctx context.Context) error {
		d, err := cs.AppsV1().Deployments(disNS).Get(ctx, dep.Items[0].Name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if *d.Spec.Replicas != 1 || d.Status.Replicas != 1 {
			return fmt.Errorf("spec.replicas %d, status.replicas %d", *d.Spec.Replicas, d.Status.Replicas)
		}
		return nil
	})
}

// TestDrainWithoutBudget is the same drain with the platform's protection
// off: the eviction goes through at once and the performer is replaced
// after it. It shows what the budget buys (docs/benchmarks.md) and that
// turning it off leaves a working performer.
func TestDrainWithoutBudget(t *testing.T) {
	e := setup(t)
	cs := e.clientset(t)
	e.ensureNamespace(t, disNS)
	comp := e.useDisruptionComposition(t, false)
	name := uniqueName("drained-unprotected")

	node, _ := e.setUp(t, cs, poolPerformer(name, comp, false), false)
	endpoint := endpointOf(name)
	t.Cleanup(func() { e.restoreNode(t, cs, node) })
	if _, err := cs.PolicyV1().PodDisruptionBudgets(disNS).Get(t.Context(), names.Service(name), metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("with disruption.budget false, want no PodDisruptionBudget, got %v", err)
	}

	sampler := startSampler(t, xclient(t, e), disNS, name)
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	took, refused, err := drain(ctx, cs, node)
	if err != nil {
		t.Fatal(err)
	}
	if refused != 0 {
		t.Errorf("%d evictions refused with the budget off", refused)
	}
	start := time.Now()
	eventually(t, 2*time.Minute, "performer serving off "+node, func(ctx context.Context) error {
		return e.servingElsewhere(ctx, cs, name, node, endpoint)
	})
	t.Logf("drain of %s without the budget: %.1fs; serving again %.1fs after it", node, took.Seconds(), time.Since(start).Seconds())
	time.Sleep(2 * time.Second)
	sampler.stop()
	t.Logf("EndpointSlice samples without a ready endpoint: %d of %d (every %s)", sampler.withoutEndpoint(), sampler.samples, sampleEvery)
}

// withoutEndpoint is how many samples saw no ready endpoint.
func (s *trafficSampler) withoutEndpoint() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, v := range s.violations {
		if strings.Contains(v, "no ready endpoint") {
			n++
		}
	}
	return n
}

// TestDrainOnlyNodeTimesOut drains the only node with the hardware a
// performer needs: no replacement can become ready, so the eviction is
// refused until the platform's drain timeout and then let through, and the
// performer says why (Degraded DrainTimedOut, and an event).
func TestDrainOnlyNodeTimesOut(t *testing.T) {
	e := setup(t)
	cs := e.clientset(t)
	e.ensureNamespace(t, disNS)
	comp := e.useDisruptionComposition(t, true)
	name := uniqueName("only-here")

	node, _ := e.setUp(t, cs, poolPerformer(name, comp, true), true)
	if node != onlyHardwareNode {
		t.Fatalf("the performer runs on %s, want %s, the only node with %s=%s", node, onlyHardwareNode, hardwareKey, hardware)
	}
	reasons := e.watchReasons(t, name)
	t.Cleanup(func() { e.restoreNode(t, cs, node) })

	ctx, cancel := context.WithTimeout(t.Context(), e2eDrainTimeout+3*time.Minute)
	defer cancel()
	took, refused, err := drain(ctx, cs, node)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("drain of the only node with the hardware: %.1fs, %d evictions refused (drain timeout %s)", took.Seconds(), refused, e2eDrainTimeout)
	if took < e2eDrainTimeout || took > e2eDrainTimeout+recoverySlack {
		t.Errorf("the drain took %s, want at least the drain timeout %s and at most %s more", took, e2eDrainTimeout, recoverySlack)
	}
	eventually(t, time.Minute, "a DrainTimedOut event on the performer", func(ctx context.Context) error {
		out, errs, err := e.kubectl(ctx, nil, "-n", disNS, "get", "events",
			"--field-selector", "involvedObject.kind=Performer,involvedObject.name="+name,
			"-o", `jsonpath={range .items[*]}{.type} {.reason} {.message}{"\n"}{end}`)
		if err != nil {
			return fmt.Errorf("%w: %s", err, errs)
		}
		for _, l := range strings.Split(out, "\n") {
			if strings.HasPrefix(l, "Warning "+v1alpha1.EventDegraded) && strings.Contains(l, v1alpha1.ReasonDrainTimedOut) {
				return nil
			}
		}
		return fmt.Errorf("no Warning %s event naming %s among:\n%s", v1alpha1.EventDegraded, v1alpha1.ReasonDrainTimedOut, out)
	})
	reasons.stop()
	if !reasons.saw(v1alpha1.ConditionDegraded, v1alpha1.ReasonDrainTimedOut) {
		t.Errorf("the performer's Degraded condition never said %s; reasons seen: %s", v1alpha1.ReasonDrainTimedOut, reasons)
	}
	// Uncordoned, the hardware is back and so is the performer.
	if err := cordon(t.Context(), cs, node, false); err != nil {
		t.Fatal(err)
	}
	e.readyAndStable(t, disNS, name)
}

// TestNodeLossRecovers loses the node of a serving performer, with the
// platform's protection (a replacement starts as soon as the node is seen
// not ready) and without it (the pod is evicted after the platform's
// toleration seconds, 10 here where Kubernetes' default is 300): either way
// the performer serves from the other node within the toleration plus
// scheduling and readiness.
func TestNodeLossRecovers(t *testing.T) {
	e := setup(t)
	cs := e.clientset(t)
	e.ensureNamespace(t, disNS)
	for _, tc := range []struct {
		name   string
		budget bool
		// reason is what the performer must have said meanwhile.
		typ, reason string
	}{
		{name: "lost-node", budget: true, typ: v1alpha1.ConditionProgressing, reason: v1alpha1.ReasonNodeDisrupted},
		{name: "lost-node-unprotected", budget: false, typ: v1alpha1.ConditionAvailable, reason: v1alpha1.ReasonNodeNotReady},
	} {
		t.Run(tc.name, func(t *testing.T) {
			comp := e.useDisruptionComposition(t, tc.budget)
			name := uniqueName(tc.name)
			node, _ := e.setUp(t, cs, poolPerformer(name, comp, false), tc.budget)
			endpoint := endpointOf(name)
			reasons := e.watchReasons(t, name)
			t.Cleanup(func() { e.restoreNode(t, cs, node) })

			start := time.Now()
			if err := loseNode(t.Context(), cs, node); err != nil {
				t.Fatal(err)
			}
			bound := e2eLossToleration + recoverySlack
			eventually(t, bound, "performer serving off the lost node "+node, func(ctx context.Context) error {
				return e.servingElsewhere(ctx, cs, name, node, endpoint)
			})
			took := time.Since(start)
			t.Logf("node %s lost → serving from another node: %.1fs (toleration %s, budget %t)", node, took.Seconds(), e2eLossToleration, tc.budget)
			eventually(t, 30*time.Second, "the performer telling "+tc.reason, func(context.Context) error {
				if !reasons.saw(tc.typ, tc.reason) {
					return fmt.Errorf("%s never %s; seen %s", tc.typ, tc.reason, reasons)
				}
				return nil
			})
			e.readyAndStable(t, disNS, name)
		})
	}
}

// startDrainSampler is startReadySampler for a drain: a ready endpoint may
// name the evicted pod for a moment (see trafficSampler.evictions).
func startDrainSampler(t *testing.T, e *env, name string) *trafficSampler {
	t.Helper()
	s := startReadySampler(t, xclient(t, e), disNS, name)
	s.mu.Lock()
	s.evictions = true
	s.mu.Unlock()
	return s
}
