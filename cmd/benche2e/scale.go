package main

import (
	"context"
	"fmt"
	"maps"
	"sync"
	"time"

	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"

	"github.com/crossplane/crossplane-runtime/v2/pkg/errors"

	"github.com/hourglass-xp/crossplane-hourglass/internal/benche2e"
	"github.com/hourglass-xp/crossplane-hourglass/internal/names"
)

const (
	errPatchPerformer = "cannot patch Performer"
	scaleNSPrefix     = "bench-scale"
	newVersion        = "v2"
)

// readiness follows whether a run's Performers are Ready, and during an
// upgrade which of them show the new version active.
type readiness struct {
	mu    sync.Mutex
	n     int
	ready map[string]bool
	count int
	flaps int
	// why counts the Ready condition's reasons when a Performer stopped
	// being Ready, and what its Synced condition said.
	why map[string]int
	// firstAll is when every Performer was first Ready at once; allSince
	// when every one has been Ready without interruption since; stable the
	// allSince of the first time that lasted the stable window (a later
	// flap resets allSince, not what was measured).
	firstAll, allSince, stable time.Time

	version  string
	upgrade  map[string]bool
	upgraded map[string]time.Time
}

func newReadiness(n int) *readiness {
	return &readiness{n: n, ready: map[string]bool{}, why: map[string]int{}, upgrade: map[string]bool{}, upgraded: map[string]time.Time{}}
}

func (x *readiness) observe(u *unstructured.Unstructured, deleted bool, at time.Time) {
	x.mu.Lock()
	defer x.mu.Unlock()
	key := u.GetNamespace() + "/" + u.GetName()
	st, reason := conditionReason(u, "Ready")
	r := !deleted && ready(u)
	switch was := x.ready[key]; {
	case was && !r:
		x.flaps++
		x.count--
		if !deleted {
			_, synced := conditionReason(u, "Synced")
			x.why[st+"/"+reason+", Synced "+synced]++
		}
	case !was && r:
		x.count++
	}
	x.ready[key] = r
	if x.count == x.n {
		if x.allSince.IsZero() {
			x.allSince = at
		}
		if x.firstAll.IsZero() {
			x.firstAll = at
		}
	} else {
		x.allSince = time.Time{}
	}
	if x.upgrade[key] && r && upgradedTo(u, x.version) {
		if _, ok := x.upgraded[key]; !ok {
			x.upgraded[key] = at
		}
	}
}

// upgradedTo is whether a Performer's status shows version active and no
// upgrade in progress.
func upgradedTo(u *unstructured.Unstructured, version string) bool {
	v, _, _ := unstructured.NestedString(u.Object, "status", "active", "version")
	_, target, _ := unstructured.NestedMap(u.Object, "status", "target")
	return v == version && !target
}

// stableFor reports whether every Performer has been Ready for d, and
// remembers since when.
func (x *readiness) stableFor(d time.Duration) bool {
	x.mu.Lock()
	defer x.mu.Unlock()
	ok := x.count == x.n && !x.allSince.IsZero() && time.Since(x.allSince) >= d
	if ok {
		x.stable = x.allSince
	}
	return ok
}

func (x *readiness) status() (count, flaps int) {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.count, x.flaps
}

// scale applies n Performers across the namespaces at once and measures
// until every one is Ready and stable, then a steady window, then (for the
// upgrade size) a blue-green upgrade of the first --upgrade Performers.
func (r *RunCmd) scale(ctx context.Context, n int, upgrade bool) (benche2e.Scale, *benche2e.Upgrade, error) {
	run := fmt.Sprintf("s%d", n)
	nss := namespaces(scaleNSPrefix, r.Namespaces)
	res := benche2e.Scale{N: n, Namespaces: r.Namespaces, Stable: r.Stable}
	if err := r.kube.ensureNamespaces(ctx, nss); err != nil {
		return res, nil, err
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	x := newReadiness(n)
	if err := r.kube.watch(wctx, performers, "", labelRun+"="+run, x.observe); err != nil {
		return res, nil, err
	}
	if err := r.stack.resetPeaks(); err != nil {
		return res, nil, err
	}
	before, err := r.take(ctx)
	if err != nil {
		return res, nil, err
	}
	t0 := time.Now()
	if err := parallel(n, r.Workers, func(i int) error {
		return r.kube.createPerformer(ctx, newPerformer(nss[i%len(nss)], performerName(run, i), run, "v1", i))
	}); err != nil {
		return res, nil, err
	}
	r.logf("scale %d: applied in %s", n, benche2e.Seconds(time.Since(t0)))
	werr := r.waitStable(ctx, x, fmt.Sprintf("%d Performers Ready and stable", n))
	after, err := r.take(context.WithoutCancel(ctx))
	if err != nil {
		return res, nil, err
	}
	d := diff(before, after)
	if werr != nil {
		// What a size that did not finish cost until the timeout, and how
		// far it got, is a result too.
		res.Elapsed = time.Since(t0)
		res.ReadyAtEnd, res.Flaps = x.status()
		res.API, res.RunFunction, res.Reconciles, res.Procs, res.Load = d.api, d.runFunction, d.reconciles, d.procs, d.load
		return res, nil, werr
	}
	x.mu.Lock()
	res.FirstAllReady, res.AllReady = x.firstAll.Sub(t0), x.stable.Sub(t0)
	res.Flaps, res.FlapReasons = x.flaps, maps.Clone(x.why)
	x.mu.Unlock()
	res.API, res.RunFunction, res.Reconciles, res.Procs, res.Load = d.api, d.runFunction, d.reconciles, d.procs, d.load
	r.logf("scale %d: all Ready in %s (first all Ready %s, %d flaps), %.1f requests/performer, %.1f writes/performer (%.1f to the Performer itself), %.1f RunFunction/performer",
		n, benche2e.Seconds(res.AllReady), benche2e.Seconds(res.FirstAllReady), res.Flaps, res.API.RequestTotal()/float64(n), res.API.WriteTotal()/float64(n),
		res.API.WritesTo(performers.GroupResource().String())/float64(n), res.RunFunction/float64(n))

	if r.Steady > 0 {
		if res.Steady, err = r.steady(ctx, n); err != nil {
			return res, nil, err
		}
	}
	var up *benche2e.Upgrade
	if upgrade {
		if up, err = r.upgrade(ctx, x, run, nss, min(r.Upgrade, n)); err != nil {
			return res, up, err
		}
	}
	return res, up, nil
}

// waitStable waits until every Performer is Ready and stays so for --stable,
// saying how far it got every ten seconds.
func (r *RunCmd) waitStable(ctx context.Context, x *readiness, what string) error {
	last := time.Now()
	return waitFor(ctx, r.Timeout, what, func() (bool, error) {
		if time.Since(last) >= 10*time.Second {
			c, f := x.status()
			r.logf("  %d/%d Ready, %d flaps", c, x.n, f)
			last = time.Now()
		}
		return x.stableFor(r.Stable), nil
	})
}

// steady measures a window in which nothing changes: what Ready Performers
// cost when they cost nothing by design.
func (r *RunCmd) steady(ctx context.Context, n int) (*benche2e.Steady, error) {
	r.logf("steady %d: settling for %s", n, r.Settle)
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-time.After(r.Settle):
	}
	before, err := r.take(ctx)
	if err != nil {
		return nil, err
	}
	t0 := time.Now()
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-time.After(r.Steady):
	}
	after, err := r.take(ctx)
	if err != nil {
		return nil, err
	}
	d := diff(before, after)
	st := &benche2e.Steady{Window: time.Since(t0), API: d.api, RunFunction: d.runFunction, Reconciles: d.reconciles, Procs: d.procs, Load: d.load}
	r.logf("steady %d: %.2f writes/performer/min, %.2f stored/performer/min, %.2f RunFunction/performer/min",
		n, st.API.WriteTotal()/float64(n)/st.Window.Minutes(), st.API.StoredTotal()/float64(n)/st.Window.Minutes(), st.RunFunction/float64(n)/st.Window.Minutes())
	return st, nil
}

// sliceWatch follows the EndpointSlices of the upgraded performers' Services:
// after every change it counts the ready endpoints of that Service.
type sliceWatch struct {
	mu       sync.Mutex
	tracked  map[string]bool
	ready    map[string]map[string]int
	counting bool
	events   int
	empty    int
	minReady int
}

func (s *sliceWatch) observe(u *unstructured.Unstructured, deleted bool, _ time.Time) {
	svc := u.GetNamespace() + "/" + u.GetLabels()[discoveryv1.LabelServiceName]
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.tracked[svc] {
		return
	}
	if s.ready[svc] == nil {
		s.ready[svc] = map[string]int{}
	}
	if deleted {
		delete(s.ready[svc], u.GetName())
	} else {
		s.ready[svc][u.GetName()] = readyEndpoints(u)
	}
	if !s.counting {
		return
	}
	total := 0
	for _, c := range s.ready[svc] {
		total += c
	}
	s.events++
	if total == 0 {
		s.empty++
	}
	s.minReady = min(s.minReady, total)
}

// readyEndpoints counts a slice's ready endpoints; an endpoint whose
// readiness is unknown counts as ready, as the EndpointSlice API says
// consumers must read it.
func readyEndpoints(u *unstructured.Unstructured) int {
	es := &discoveryv1.EndpointSlice{}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, es); err != nil {
		return 0
	}
	c := 0
	for _, e := range es.Endpoints {
		if e.Conditions.Ready == nil || *e.Conditions.Ready {
			c++
		}
	}
	return c
}

// upgrade changes the version of the first m Performers of a run at once and
// measures until each shows the new version active and Ready, following
// every EndpointSlice change of their Services meanwhile.
func (r *RunCmd) upgrade(ctx context.Context, x *readiness, run string, nss []string, m int) (*benche2e.Upgrade, error) {
	sl := &sliceWatch{tracked: map[string]bool{}, ready: map[string]map[string]int{}, minReady: 1 << 30}
	x.mu.Lock()
	x.version = newVersion
	for i := range m {
		ns, name := nss[i%len(nss)], performerName(run, i)
		x.upgrade[ns+"/"+name] = true
		sl.tracked[ns+"/"+names.Service(name)] = true
	}
	x.mu.Unlock()
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if err := r.kube.watch(wctx, endpointSlices, "", "", sl.observe); err != nil {
		return nil, err
	}
	before, err := r.take(ctx)
	if err != nil {
		return nil, err
	}
	sl.mu.Lock()
	sl.counting = true
	sl.mu.Unlock()
	patch := []byte(fmt.Sprintf(`{"spec":{"version":%q}}`, newVersion))
	t0 := time.Now()
	if err := parallel(m, r.Workers, func(i int) error {
		_, err := r.kube.dyn.Resource(performers).Namespace(nss[i%len(nss)]).Patch(ctx, performerName(run, i), types.MergePatchType, patch, metav1.PatchOptions{})
		return errors.Wrap(err, errPatchPerformer)
	}); err != nil {
		return nil, err
	}
	last := time.Now()
	if err := waitFor(ctx, r.Timeout, fmt.Sprintf("%d Performers upgraded to %s", m, newVersion), func() (bool, error) {
		x.mu.Lock()
		done := len(x.upgraded)
		x.mu.Unlock()
		if time.Since(last) >= 10*time.Second {
			r.logf("  %d/%d upgraded", done, m)
			last = time.Now()
		}
		return done == m, nil
	}); err != nil {
		return nil, err
	}
	// Keep following the slices while the old revisions drain and the
	// Performers settle.
	if err := r.waitStable(ctx, x, "Performers Ready and stable after the upgrade"); err != nil {
		return nil, err
	}
	after, err := r.take(ctx)
	if err != nil {
		return nil, err
	}
	d := diff(before, after)
	up := &benche2e.Upgrade{N: m, API: d.api, RunFunction: d.runFunction, Reconciles: d.reconciles, Load: d.load}
	x.mu.Lock()
	for _, at := range x.upgraded {
		dt := at.Sub(t0)
		up.PerPerformer = append(up.PerPerformer, dt)
		up.AllUpgraded = max(up.AllUpgraded, dt)
	}
	x.mu.Unlock()
	sl.mu.Lock()
	up.SliceEvents, up.Empty, up.MinReady = sl.events, sl.empty, sl.minReady
	if sl.events == 0 {
		up.MinReady = 0
	}
	sl.mu.Unlock()
	r.logf("upgrade %d: all upgraded in %s; %d EndpointSlice changes, %d left a Service without ready endpoints (fewest ready: %d)",
		m, benche2e.Seconds(up.AllUpgraded), up.SliceEvents, up.Empty, up.MinReady)
	return up, nil
}
