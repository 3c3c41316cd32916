//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/hourglass-xp/crossplane-hourglass/apis/hourglass/v1alpha1"
	"github.com/hourglass-xp/crossplane-hourglass/internal/names"
)

// Upgrade tests (issue 6). Every performer here has a short drain so the old
// revision's removal is observed within the test, and its own namespace so
// the tests run in parallel with the rest of the suite.
const (
	upgradeAVS = "0x00000000000000000000000000000000000000b6"
	// sampleEvery is the EndpointSlice sampling period; maxSamples bounds
	// a sampler whatever the test does (3000 × 100 ms = 5 min).
	sampleEvery = 100 * time.Millisecond
	maxSamples  = 3000
	drainSecs   = 5
)

// upgradeSpec is a performer spec for version v of image repo; repo may name a
// kwok fault (e.g. example.com/e2e/kwok-fault-not-ready).
func upgradeSpec(repo, version string, deadline int64) map[string]any {
	return map[string]any{
		"avsAddress": upgradeAVS,
		"image":      repo + ":" + version,
		"version":    version,
		"upgrade":    map[string]any{"drainSeconds": int64(drainSecs), "progressDeadlineSeconds": deadline},
	}
}

const goodRepo = "example.com/e2e/performer"

func faultRepo(fault string) string { return "example.com/e2e/kwok-fault-" + fault }

// xclient is a client that also watches and knows EndpointSlices.
func xclient(t *testing.T, e *env) client.WithWatch {
	t.Helper()
	cfg, err := clientcmd.BuildConfigFromFlags("", e.kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	cfg.QPS, cfg.Burst = 100, 200
	s := runtime.NewScheme()
	_ = corev1.AddToScheme(s)
	_ = appsv1.AddToScheme(s)
	_ = discoveryv1.AddToScheme(s)
	c, err := client.NewWithWatch(cfg, client.Options{Scheme: s})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// ---- traffic sampling -----------------------------------------------------------

// trafficSampler lists the Service's EndpointSlices and the performer's pods
// in a tight loop and checks every sample: at least one ready endpoint, every
// ready endpoint a ready pod of the performer, all of one revision. It also
// records the sequence of serving revisions, the Deployments and Services
// seen and, when asked to, whether the performer itself stayed Ready.
type trafficSampler struct {
	c                 client.Client
	ns, performer, sv string
	// ready also samples the performer: Ready True and status.ready true.
	ready bool
	// operator also counts the original Hourglass operator's pod of the
	// performer as one of its pods (revision names.RevisionOperator).
	operator bool
	// evictions accepts a ready endpoint naming a terminating or deleted
	// pod: after an eviction the EndpointSlice follows the pod's deletion a
	// moment later. Such an endpoint is counted in terminating, not as
	// ready: the sample must still have another.
	evictions   bool
	terminating int

	cancel context.CancelFunc
	done   chan struct{}

	mu         sync.Mutex
	samples    int
	violations []string
	serving    []string        // distinct consecutive serving revisions
	deploys    map[string]bool // Deployment names seen
	// mostDeploys is the most Deployments one sample saw at once.
	mostDeploys int
	// services are the UIDs of every Service of the performer seen.
	services map[types.UID]bool
	// traffic is every hourglass.eigenlayer.io/traffic label value seen on
	// each revision's Deployment.
	traffic map[string]map[string]bool
	// overlap is true when a sample saw the previously serving revision's
	// Deployment still present after traffic had moved: the drain.
	overlap bool
	// switched is when the last change of serving revision was sampled,
	// drainedAt the last sample that still saw the previous one's Deployment.
	switched, drainedAt time.Time
}

func startSampler(t *testing.T, c client.Client, ns, performer string) *trafficSampler {
	t.Helper()
	return newSampler(t, c, ns, performer, false, false)
}

// startTakeoverSampler is startSampler for a performer the original
// Hourglass operator made: its pod is the first serving revision.
func startTakeoverSampler(t *testing.T, c client.Client, ns, performer string) *trafficSampler {
	t.Helper()
	return newSampler(t, c, ns, performer, false, true)
}

// startReadySampler is startSampler that also fails on any sample where the
// performer is not Ready or its status.ready is not true.
func startReadySampler(t *testing.T, c client.Client, ns, performer string) *trafficSampler {
	t.Helper()
	return newSampler(t, c, ns, performer, true, false)
}

func newSampler(t *testing.T, c client.Client, ns, performer string, ready, operator bool) *trafficSampler {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(maxSamples)*sampleEvery+time.Minute)
	s := &trafficSampler{c: c, ns: ns, performer: performer, sv: names.Service(performer), ready: ready, operator: operator,
		cancel: cancel, done: make(chan struct{}), deploys: map[string]bool{}, services: map[types.UID]bool{},
		traffic: map[string]map[string]bool{}}
	go func() {
		defer close(s.done)
		for i := 0; i < maxSamples; i++ {
			s.sample(ctx)
			select {
			case <-ctx.Done():
				return
			case <-time.After(sampleEvery):
			}
		}
	}()
	t.Cleanup(s.stop)
	return s
}

func (s *trafficSampler) stop() {
	s.cancel()
	<-s.done
}

func (s *trafficSampler) sample(ctx context.Context) {
	sl := &discoveryv1.EndpointSliceList{}
	if err := s.c.List(ctx, sl, client.InNamespace(s.ns), client.MatchingLabels{discoveryv1.LabelServiceName: s.sv}); err != nil {
		return // a cancelled context or a transient error is not a sample
	}
	// Pods after slices: a pod a slice names existed when the slice was read.
	pods := &corev1.PodList{}
	if err := s.c.List(ctx, pods, client.InNamespace(s.ns), client.MatchingLabels{names.LabelPerformerName: s.performer}); err != nil {
		return
	}
	if s.operator {
		op := &corev1.PodList{}
		if err := s.c.List(ctx, op, client.InNamespace(s.ns), client.MatchingLabels(names.OperatorSelector(s.performer))); err != nil {
			return
		}
		pods.Items = append(pods.Items, op.Items...)
	}
	ds := &appsv1.DeploymentList{}
	if err := s.c.List(ctx, ds, client.InNamespace(s.ns), client.MatchingLabels{names.LabelPerformerName: s.performer}); err != nil {
		return
	}
	// Every Service in the namespace: a second one for the performer need
	// not carry the name or labels of the first.
	svcs := &corev1.ServiceList{}
	if err := s.c.List(ctx, svcs, client.InNamespace(s.ns)); err != nil {
		return
	}
	var problems []string
	if s.ready {
		u := &unstructured.Unstructured{}
		u.SetGroupVersionKind(performerGVK)
		if err := s.c.Get(ctx, client.ObjectKey{Namespace: s.ns, Name: s.performer}, u); err != nil {
			if ctx.Err() != nil {
				return
			}
			problems = append(problems, fmt.Sprintf("performer: %v", err))
		} else {
			r, reason, msg := condition(u, "Ready")
			ready, _, _ := unstructured.NestedBool(u.Object, "status", "ready")
			if r != "True" || !ready {
				problems = append(problems, fmt.Sprintf("performer Ready=%q (%s: %s), status.ready %t", r, reason, msg, ready))
			}
		}
	}
	byName := map[string]corev1.Pod{}
	for _, p := range pods.Items {
		byName[p.Name] = p
	}
	revs := map[string]bool{}
	ready, terminating := 0, 0
	s.mu.Lock()
	evictions := s.evictions
	s.mu.Unlock()
	for _, slice := range sl.Items {
		for _, ep := range slice.Endpoints {
			// nil means unknown, which consumers treat as ready.
			if ep.Conditions.Ready != nil && !*ep.Conditions.Ready {
				continue
			}
			if ep.TargetRef == nil || ep.TargetRef.Kind != "Pod" {
				ready++
				problems = append(problems, fmt.Sprintf("ready endpoint %v without a pod", ep.Addresses))
				continue
			}
			p, ok := byName[ep.TargetRef.Name]
			if evictions && (!ok || p.DeletionTimestamp != nil) {
				// Evicted: terminating, or gone since the slice was read.
				// Not counted as ready, so the sample still needs another.
				terminating++
				continue
			}
			ready++
			if !ok {
				problems = append(problems, fmt.Sprintf("ready endpoint names pod %s, which is not a pod of the performer", ep.TargetRef.Name))
				continue
			}
			if !podReady(p) {
				problems = append(problems, fmt.Sprintf("ready endpoint names pod %s, which is not ready", p.Name))
			}
			rev := p.Labels[names.LabelRevision]
			if p.Labels[names.LabelApp] == names.AppOperatorPerformer {
				rev = names.RevisionOperator
			}
			revs[rev] = true
		}
	}
	if ready == 0 {
		problems = append(problems, fmt.Sprintf("no ready endpoint in %d EndpointSlice(s)", len(sl.Items)))
	}
	if len(revs) > 1 {
		problems = append(problems, fmt.Sprintf("ready endpoints of %d revisions at once: %v", len(revs), keys(revs)))
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if ctx.Err() != nil {
		return
	}
	s.samples++
	s.terminating += terminating
	for _, p := range problems {
		s.violations = append(s.violations, fmt.Sprintf("sample %d (%s): %s", s.samples, time.Now().Format("15:04:05.000"), p))
	}
	if len(revs) == 1 {
		r := keys(revs)[0]
		if n := len(s.serving); n == 0 || s.serving[n-1] != r {
			s.serving = append(s.serving, r)
			if n > 0 {
				s.switched = time.Now()
			}
		}
	}
	s.mostDeploys = max(s.mostDeploys, len(ds.Items))
	for _, sv := range svcs.Items {
		if sv.Name == s.sv || sv.Labels[names.LabelPerformerName] == names.LabelValue(s.performer) {
			s.services[sv.UID] = true
		}
	}
	for _, d := range ds.Items {
		s.deploys[d.Name] = true
		r := d.Labels[names.LabelRevision]
		if s.traffic[r] == nil {
			s.traffic[r] = map[string]bool{}
		}
		s.traffic[r][d.Labels[names.LabelTraffic]] = true
		if n := len(s.serving); n > 1 && d.Labels[names.LabelRevision] == s.serving[n-2] {
			s.overlap = true
			s.drainedAt = time.Now()
		}
	}
}

// check fails the test on any violation and unless the serving revisions
// were exactly want, in order.
func (s *trafficSampler) check(t *testing.T, want ...string) {
	t.Helper()
	s.stop()
	s.mu.Lock()
	defer s.mu.Unlock()
	t.Logf("EndpointSlices of %s/%s: %d samples every %s, serving revisions %v, Deployments seen %v, their traffic labels %v",
		s.ns, s.sv, s.samples, sampleEvery, s.serving, keys(s.deploys), s.traffic)
	if s.samples < 20 {
		t.Errorf("only %d EndpointSlice samples; the sampler did not run", s.samples)
	}
	for i, v := range s.violations {
		if i == 20 {
			t.Errorf("... and %d more", len(s.violations)-20)
			break
		}
		t.Error(v)
	}
	if !slices.Equal(s.serving, want) {
		t.Errorf("serving revisions were %v, want %v", s.serving, want)
	}
}

// sameService fails unless every sample saw the performer's one Service,
// the one with uid: never a second, never a re-created one.
func (s *trafficSampler) sameService(t *testing.T, uid types.UID) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.services) != 1 || !s.services[uid] {
		t.Errorf("Services of %s/%s seen (by UID): %v, want only %s (uid %s) throughout", s.ns, s.performer, keys(s.services), s.sv, uid)
	}
}

// deployments fails unless exactly n Deployments of the performer were seen
// and all n at once at some sample: 2 for a blue-green upgrade (the pair,
// overlapping), 1 when nothing should have changed.
func (s *trafficSampler) deployments(t *testing.T, n int) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.deploys) != n || s.mostDeploys != n {
		t.Errorf("Deployments of %s/%s seen: %v, at most %d at once; want exactly %d, all at once", s.ns, s.performer, keys(s.deploys), s.mostDeploys, n)
	}
}

// drained fails unless the previous revision's Deployment stayed for about
// the drain period after traffic moved (EndpointSlices follow the switch by
// a moment, so a little less is fine) and then went away.
func (s *trafficSampler) drained(t *testing.T, drain time.Duration) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.switched.IsZero() || s.drainedAt.IsZero() {
		t.Errorf("no drain sampled (switched %v, old Deployment last seen %v)", s.switched, s.drainedAt)
		return
	}
	kept := s.drainedAt.Sub(s.switched)
	t.Logf("the previous revision's Deployment was kept %.1fs after traffic moved (drainSeconds %s)", kept.Seconds(), drain)
	if kept < drain-2*time.Second || kept > drain+time.Minute {
		t.Errorf("the previous revision's Deployment was kept %s after traffic moved, want about %s", kept, drain)
	}
}

// labelled fails unless revision rev's Deployment was seen with each of the
// traffic labels want (kubectl -L hourglass.eigenlayer.io/traffic shows
// what serves).
func (s *trafficSampler) labelled(t *testing.T, rev string, want ...string) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, w := range want {
		if !s.traffic[rev][w] {
			t.Errorf("revision %s's Deployment never labelled %s=%s; seen %v", rev, names.LabelTraffic, w, keys(s.traffic[rev]))
		}
	}
}

func podReady(p corev1.Pod) bool {
	if p.DeletionTimestamp != nil {
		return false
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func keys[K ~string](m map[K]bool) []K {
	out := make([]K, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// ---- status recording ----------------------------------------------------------

// statusState is what a test asserts about one status write.
type statusState struct {
	Phase, Progressing, Active, Target, ActiveVersion, TargetVersion, ActiveImage string
}

func stateOf(u *unstructured.Unstructured) statusState {
	s := statusState{}
	s.Phase, _, _ = unstructured.NestedString(u.Object, "status", "phase")
	_, s.Progressing, _ = condition(u, "Progressing")
	s.Active, _, _ = unstructured.NestedString(u.Object, "status", "active", "revision")
	s.ActiveVersion, _, _ = unstructured.NestedString(u.Object, "status", "active", "version")
	s.ActiveImage, _, _ = unstructured.NestedString(u.Object, "status", "active", "image")
	s.Target, _, _ = unstructured.NestedString(u.Object, "status", "target", "revision")
	s.TargetVersion, _, _ = unstructured.NestedString(u.Object, "status", "target", "version")
	return s
}

// statusRecorder watches every write of the performer (a watch sees each
// one, where polling could miss a short Upgrading) and keeps the distinct
// states in order.
type statusRecorder struct {
	mu     sync.Mutex
	states []statusState
	w      watch.Interface
	done   chan struct{}
}

func recordStatus(t *testing.T, c client.WithWatch, ns, name string) *statusRecorder {
	t.Helper()
	l := &unstructured.UnstructuredList{}
	l.SetGroupVersionKind(performerGVK.GroupVersion().WithKind(v1alpha1.PerformerListKind))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	w, err := c.Watch(ctx, l, client.InNamespace(ns), client.MatchingFields{"metadata.name": name})
	if err != nil {
		cancel()
		t.Fatalf("watch performer %s/%s: %v", ns, name, err)
	}
	r := &statusRecorder{w: w, done: make(chan struct{})}
	go func() {
		defer close(r.done)
		defer cancel()
		for ev := range w.ResultChan() {
			u, ok := ev.Object.(*unstructured.Unstructured)
			if !ok {
				continue
			}
			st := stateOf(u)
			r.mu.Lock()
			if n := len(r.states); n == 0 || r.states[n-1] != st {
				r.states = append(r.states, st)
			}
			r.mu.Unlock()
		}
	}()
	t.Cleanup(r.stop)
	return r
}

func (r *statusRecorder) stop() {
	r.w.Stop()
	<-r.done
}

// sawUpgrading fails unless some write showed phase Upgrading, Progressing
// UpgradeInProgress, and both revisions: from serving, to target.
func (r *statusRecorder) sawUpgrading(t *testing.T, from, to string) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range r.states {
		if s.Phase == "Upgrading" && s.Progressing == "UpgradeInProgress" && s.Active == from && s.Target == to {
			return
		}
	}
	t.Errorf("the performer never showed phase Upgrading, Progressing UpgradeInProgress, active %s, target %s; states seen:\n%s", from, to, r.dump())
}

func (r *statusRecorder) dump() string {
	var b strings.Builder
	for _, s := range r.states {
		fmt.Fprintf(&b, "  %+v\n", s)
	}
	return b.String()
}

// ---- steps shared by the upgrade tests ----------------------------------------

// running waits until the performer is Ready and stable, phase Running, serving
// version with no upgrade in flight and no other revision's Deployment left,
// and returns the serving revision.
func (e *env) running(t *testing.T, ns, name, version string) (string, *unstructured.Unstructured) {
	t.Helper()
	return e.runningAs(t, ns, name, "version "+version, func(st statusState) bool { return st.ActiveVersion == version })
}

// runningImage is running for a performer known by its image (the
// examples set no version).
func (e *env) runningImage(t *testing.T, ns, name, image string) (string, *unstructured.Unstructured) {
	t.Helper()
	return e.runningAs(t, ns, name, "image "+image, func(st statusState) bool { return st.ActiveImage == image })
}

// runningAs is running with the serving revision told by serves.
func (e *env) runningAs(t *testing.T, ns, name, what string, serves func(statusState) bool) (string, *unstructured.Unstructured) {
	t.Helper()
	var u *unstructured.Unstructured
	var rev string
	steadily(t, settle, stable, fmt.Sprintf("performer %s/%s Running %s alone", ns, name, what), func(ctx context.Context) error {
		var err error
		if u, err = e.existing(ctx, ns, name); err != nil {
			return err
		}
		if err := readyNow(u); err != nil {
			return err
		}
		if s, r, m := condition(u, "Degraded"); s == "True" {
			return fmt.Errorf("Degraded (%s: %s)", r, m)
		}
		st := stateOf(u)
		if st.Phase != "Running" || !serves(st) || st.Target != "" {
			return fmt.Errorf("status %+v, want Running %s with no target", st, what)
		}
		rev = st.Active
		ds, err := e.deployments(ctx, ns, name)
		if err != nil {
			return err
		}
		if len(ds) != 1 || ds[0].Labels[names.LabelRevision] != rev {
			return fmt.Errorf("%d Deployments (%v), want only revision %s's", len(ds), deploymentNames(ds), rev)
		}
		return nil
	})
	return rev, u
}

// existing reads a performer and fails when it does not exist.
func (e *env) existing(ctx context.Context, ns, name string) (*unstructured.Unstructured, error) {
	u, err := e.get(ctx, ns, name)
	if err == nil && u == nil {
		err = fmt.Errorf("performer %s/%s does not exist", ns, name)
	}
	return u, err
}

func deploymentNames(ds []appsv1.Deployment) []string {
	out := make([]string, 0, len(ds))
	for _, d := range ds {
		out = append(out, d.Name+"("+d.Labels[names.LabelTraffic]+")")
	}
	return out
}

// upgrading waits until the performer is stably Upgrading from `from` to the
// revision of version to, and returns that revision.
func (e *env) upgrading(t *testing.T, ns, name, from, to string) string {
	t.Helper()
	var target string
	steadily(t, 2*time.Minute, stable, fmt.Sprintf("performer %s/%s Upgrading to %s", ns, name, to), func(ctx context.Context) error {
		u, err := e.existing(ctx, ns, name)
		if err != nil {
			return err
		}
		st := stateOf(u)
		if st.Phase != "Upgrading" || st.Progressing != "UpgradeInProgress" || st.Active != from || st.TargetVersion != to {
			return fmt.Errorf("status %+v, want Upgrading/UpgradeInProgress from %s to version %s", st, from, to)
		}
		// Blue serves: the performer stays Ready through the upgrade.
		if s, _, _ := condition(u, "Ready"); s != "True" {
			return fmt.Errorf("Ready=%q during the upgrade", s)
		}
		target = st.Target
		return nil
	})
	return target
}

// upgradedAfter checks lastUpgrade is set and not before t0.
func upgradedAfter(t *testing.T, u *unstructured.Unstructured, t0 time.Time) {
	t.Helper()
	s, _, _ := unstructured.NestedString(u.Object, "status", "lastUpgrade")
	lu, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatalf("status.lastUpgrade %q: %v", s, err)
	}
	if lu.Before(t0.Truncate(time.Second)) {
		t.Errorf("status.lastUpgrade %s is before the upgrade started (%s)", lu, t0)
	}
}

func (e *env) setSpec(t *testing.T, c manifest, spec map[string]any) {
	t.Helper()
	c.obj.Object["spec"] = spec
	e.apply(t, c)
}

// blueGreen upgrades a performer serving revision from to version while
// sampling its Service's EndpointSlices, and returns the new revision. The
// upgrade must pass through Upgrading; traffic is never lost, never split
// between revisions, and moves only to ready pods; the old revision drains
// and goes away.
func (e *env) blueGreen(t *testing.T, xc client.WithWatch, c manifest, from, version string) string {
	t.Helper()
	ns, name := c.namespace(), c.name()
	rec := recordStatus(t, xc, ns, name)
	s := startSampler(t, xc, ns, name)
	t0 := time.Now()
	e.setSpec(t, c, upgradeSpec(goodRepo, version, 120))
	to, u := e.running(t, ns, name, version)
	if to == from {
		t.Fatalf("the revision did not change: %s", from)
	}
	upgradedAfter(t, u, t0)
	t.Logf("upgrade to %s (%s → %s) Running, old Deployment gone, stable %s: %.1fs after the edit", version, from, to, stable, time.Since(t0).Seconds())
	rec.sawUpgrading(t, from, to)
	s.check(t, from, to)
	if !s.overlap {
		t.Errorf("revision %s's Deployment was never seen draining after the switch", from)
	}
	s.labelled(t, from, names.TrafficServing, names.TrafficDraining)
	s.drained(t, drainSecs*time.Second)
	s.labelled(t, to, names.TrafficServing)
	return to
}

// ---- the tests -----------------------------------------------------------------

// TestUpgradeBlueGreen upgrades a Running performer twice while sampling the
// Service's EndpointSlices: v1 → v2 directly, then v2 → v3 that never becomes
// ready → v4 (a new version mid-upgrade). Traffic is never lost, never split
// between revisions, and moves only to ready pods; each old revision drains
// and goes away.
func TestUpgradeBlueGreen(t *testing.T) {
	t.Parallel()
	e := setup(t)
	xc := xclient(t, e)
	const ns, name = "e2e-upgrade", "blue-green"
	c := newPerformer(ns, name, upgradeSpec(goodRepo, "v1.0.0", 120))
	e.apply(t, c)
	defer e.deletePerformer(t, ns, name)
	rev1, _ := e.running(t, ns, name, "v1.0.0")

	t.Run("v1 to v2", func(t *testing.T) {
		rev1 = e.blueGreen(t, xc, c, rev1, "v2.0.0")
	})

	t.Run("new version mid-upgrade", func(t *testing.T) {
		s := startSampler(t, xc, ns, name)
		// v3 never becomes ready (kwok's not-ready fault): the upgrade stays
		// in flight, visibly, and v2 keeps serving.
		e.setSpec(t, c, upgradeSpec(faultRepo("not-ready"), "v3.0.0", 120))
		rev3 := e.upgrading(t, ns, name, rev1, "v3.0.0")
		t0 := time.Now()
		e.setSpec(t, c, upgradeSpec(goodRepo, "v4.0.0", 120))
		rev4, u := e.running(t, ns, name, "v4.0.0")
		upgradedAfter(t, u, t0)
		// running also proved v3's Deployment is gone.
		t.Logf("v3 (%s) superseded by v4 (%s) mid-upgrade; Running %.1fs after the edit", rev3, rev4, time.Since(t0).Seconds())
		s.check(t, rev1, rev4)
		s.drained(t, drainSecs*time.Second)
		s.labelled(t, rev3, names.TrafficCandidate)
	})
}

// TestUpgradeFailedGreen upgrades to a version whose pods fail (kwok fault
// stages: image pull error, crash loop). Blue keeps serving; after the
// performer's short progress deadline the performer is Degraded with the reason;
// reverting the version removes green.
func TestUpgradeFailedGreen(t *testing.T) {
	t.Parallel()
	e := setup(t)
	xc := xclient(t, e)
	const ns = "e2e-upgrade-failed"
	for fault, reason := range map[string]string{"image-pull-error": "ImagePullFailed", "crash-loop": "CrashLoopBackOff"} {
		t.Run(fault, func(t *testing.T) {
			t.Parallel()
			name := "green-" + fault
			c := newPerformer(ns, name, upgradeSpec(goodRepo, "v1.0.0", 10))
			e.apply(t, c)
			defer e.deletePerformer(t, ns, name)
			rev1, _ := e.running(t, ns, name, "v1.0.0")

			s := startSampler(t, xc, ns, name)
			t0 := time.Now()
			e.setSpec(t, c, upgradeSpec(faultRepo(fault), "v2.0.0", 10))
			var green string
			steadily(t, 2*time.Minute, 2*stable, "upgrade failed, blue serving", func(ctx context.Context) error {
				u, err := e.existing(ctx, ns, name)
				if err != nil {
					return err
				}
				st := stateOf(u)
				ds, r, m := condition(u, "Degraded")
				if ds != "True" || r != reason || m == "" {
					return fmt.Errorf("Degraded=%q %s (%s), want True %s with a message; status %+v", ds, r, m, reason, st)
				}
				if rs, _, _ := condition(u, "Ready"); rs != "True" {
					return fmt.Errorf("Ready=%q: blue should keep the performer Ready", rs)
				}
				if st.Phase != "Running" || st.Active != rev1 || st.TargetVersion != "v2.0.0" {
					return fmt.Errorf("status %+v, want Running on %s with target v2.0.0 kept", st, rev1)
				}
				green = st.Target
				// Green is kept for inspection.
				deps, err := e.deployments(ctx, ns, name)
				if err != nil {
					return err
				}
				if len(deps) != 2 {
					return fmt.Errorf("%d Deployments %v, want blue and the failed green", len(deps), deploymentNames(deps))
				}
				return nil
			})
			u, _ := e.get(context.Background(), ns, name)
			_, _, msg := condition(u, "Degraded")
			t.Logf("failed after %.1fs (deadline 10s): Degraded %s: %s", time.Since(t0).Seconds(), reason, msg)

			e.setSpec(t, c, upgradeSpec(goodRepo, "v1.0.0", 10))
			if rev, _ := e.running(t, ns, name, "v1.0.0"); rev != rev1 {
				t.Errorf("after the revert revision %s serves, want %s", rev, rev1)
			}
			t.Logf("reverted: green %s removed, %s serving, not Degraded", green, rev1)
			s.check(t, rev1)
			s.labelled(t, green, names.TrafficCandidate)
		})
	}
}

// TestUpgradeSurvivesRestart kills the function process, then Crossplane
// core, mid-upgrade (SIGKILL, through test/e2e/stack-process.sh, which enters
// the stack's namespaces), changes the version while it is down, and starts
// it again as the stack does: the upgrade completes from the observed state
// alone. Not parallel: the other tests would see their performers stall while a
// process is down.
func TestUpgradeSurvivesRestart(t *testing.T) {
	e := setup(t)
	xc := xclient(t, e)
	const ns = "e2e-upgrade-restart"
	for _, proc := range []string{"function", "core"} {
		t.Run(proc, func(t *testing.T) {
			name := "restart-" + proc
			c := newPerformer(ns, name, upgradeSpec(goodRepo, "v1.0.0", 300))
			e.apply(t, c)
			defer e.deletePerformer(t, ns, name)
			rev1, _ := e.running(t, ns, name, "v1.0.0")

			s := startSampler(t, xc, ns, name)
			// v2 never becomes ready: the upgrade is in flight when the
			// process dies.
			e.setSpec(t, c, upgradeSpec(faultRepo("not-ready"), "v2.0.0", 300))
			rev2 := e.upgrading(t, ns, name, rev1, "v2.0.0")

			stackProcess(t, e, "kill", proc)
			started := false
			t.Cleanup(func() {
				if !started {
					stackProcess(t, e, "start", proc)
				}
			})
			t0 := time.Now()
			e.setSpec(t, c, upgradeSpec(goodRepo, "v3.0.0", 300))
			// While it is down nothing is composed for v3, and v1 serves.
			steadily(t, time.Minute, 5*time.Second, proc+" down: nothing composed for v3", func(ctx context.Context) error {
				ds, err := e.deployments(ctx, ns, name)
				if err != nil {
					return err
				}
				for _, d := range ds {
					if d.Labels[names.LabelK8sVersion] == "v3.0.0" {
						return fmt.Errorf("a v3 Deployment %s exists although %s is down", d.Name, proc)
					}
				}
				return nil
			})
			stackProcess(t, e, "start", proc)
			started = true
			rev3, u := e.running(t, ns, name, "v3.0.0")
			upgradedAfter(t, u, t0)
			t.Logf("%s killed while upgrading %s → %s; after its restart %s serves, %s and %s gone: %.1fs after the edit",
				proc, rev1, rev2, rev3, rev1, rev2, time.Since(t0).Seconds())
			s.check(t, rev1, rev3)
			s.drained(t, drainSecs*time.Second)
		})
	}
}

// stackProcess runs test/e2e/stack-process.sh VERB PROCESS against the stack
// whose kubeconfig the tests use.
func stackProcess(t *testing.T, e *env, verb, proc string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	script := filepath.Join(e.root, "test", "e2e", "stack-process.sh")
	cmd := exec.CommandContext(ctx, "bash", script, verb, proc)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+e.kubeconfig)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s %s: %v\n%s", script, verb, proc, err, out)
	}
	t.Logf("stack-process.sh %s %s: %s", verb, proc, strings.TrimSpace(string(out)))
}
