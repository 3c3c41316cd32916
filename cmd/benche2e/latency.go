package main

import (
	"context"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/crossplane/crossplane-runtime/v2/pkg/errors"

	"github.com/hourglass-xp/crossplane-hourglass/internal/benche2e"
	"github.com/hourglass-xp/crossplane-hourglass/internal/names"
)

const (
	errTemplate = "cannot read the composed Deployment and Service to copy for the floor"
	latencyNS   = "bench-latency"
	latencyRun  = "lat"
)

// milestones records when each Performer first reached each milestone.
type milestones struct {
	mu                        sync.Mutex
	deployment, ready, secret map[string]time.Time
}

func (m *milestones) record(to map[string]time.Time, name string, at time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := to[name]; !ok {
		to[name] = at
	}
}

func (m *milestones) all(name string) (d, r, s time.Time, ok bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	d, okd := m.deployment[name]
	r, okr := m.ready[name]
	s, oks := m.secret[name]
	return d, r, s, okd && okr && oks
}

// latency applies n Performers one after the other, each once the one
// before reached every milestone, and returns the latencies and, for the
// floor, a copy of what the function composed for the first Performer.
func (r *RunCmd) latency(ctx context.Context) (*benche2e.Latency, *template, error) {
	if err := r.kube.ensureNamespaces(ctx, []string{latencyNS}); err != nil {
		return nil, nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	m := &milestones{deployment: map[string]time.Time{}, ready: map[string]time.Time{}, secret: map[string]time.Time{}}
	// The watches see each change the moment the API server sends it, so
	// a milestone's time is when it became visible to any client.
	if err := r.kube.watch(ctx, deployments, latencyNS, names.LabelApp+"="+names.AppPerformer, func(u *unstructured.Unstructured, deleted bool, at time.Time) {
		if !deleted {
			m.record(m.deployment, u.GetLabels()[names.LabelPerformerName], at)
		}
	}); err != nil {
		return nil, nil, err
	}
	if err := r.kube.watch(ctx, performers, latencyNS, "", func(u *unstructured.Unstructured, deleted bool, at time.Time) {
		if !deleted && ready(u) {
			m.record(m.ready, u.GetName(), at)
		}
	}); err != nil {
		return nil, nil, err
	}
	// The connection Secret the function composes, told from the
	// provider's PerformerEndpoint Secret by its name.
	if err := r.kube.watch(ctx, secrets, latencyNS, names.LabelApp+"="+names.AppPerformer, func(u *unstructured.Unstructured, deleted bool, at time.Time) {
		p := u.GetLabels()[names.LabelPerformerName]
		if ep, _, _ := unstructured.NestedString(u.Object, "data", names.ConnectionEndpoint); !deleted && ep != "" && u.GetName() == names.ConnectionSecret(p) {
			m.record(m.secret, p, at)
		}
	}); err != nil {
		return nil, nil, err
	}

	res := &benche2e.Latency{N: r.N}
	start, err := benche2e.ReadLoadavg("/proc/loadavg")
	if err != nil {
		return nil, nil, err
	}
	var tmpl *template
	for i := range r.Warmup + r.N {
		name := performerName(latencyRun, i)
		t0 := time.Now()
		if err := r.kube.createPerformer(ctx, newPerformer(latencyNS, name, latencyRun, "v1", i)); err != nil {
			return nil, nil, err
		}
		var d, rd, s time.Time
		if err := waitFor(ctx, r.Timeout, "Performer "+name+" Ready with its Deployment and Secret", func() (bool, error) {
			var ok bool
			d, rd, s, ok = m.all(name)
			return ok, nil
		}); err != nil {
			return nil, nil, err
		}
		// The first Performers after the stack starts wait for Crossplane to
		// start its watches and connect to the function: a cost paid once
		// per start, reported apart from the steady latencies.
		if i < r.Warmup {
			res.Cold = append(res.Cold, benche2e.Milestones{Deployment: d.Sub(t0), Ready: rd.Sub(t0), Secret: s.Sub(t0)})
		} else {
			res.Deployment = append(res.Deployment, d.Sub(t0))
			res.Ready = append(res.Ready, rd.Sub(t0))
			res.Secret = append(res.Secret, s.Sub(t0))
		}
		if tmpl == nil {
			if tmpl, err = r.template(ctx, latencyNS, name); err != nil {
				return nil, nil, err
			}
		}
		r.logf("latency %d/%d %s (%d warm-up): Deployment %s, Ready %s, Secret %s", i+1, r.Warmup+r.N, name, r.Warmup, benche2e.Seconds(d.Sub(t0)), benche2e.Seconds(rd.Sub(t0)), benche2e.Seconds(s.Sub(t0)))
	}
	end, err := benche2e.ReadLoadavg("/proc/loadavg")
	if err != nil {
		return nil, nil, err
	}
	res.Load = benche2e.Load{Start: start, End: end}
	cancel()
	r.logf("latency: deleting the Performers")
	return res, tmpl, r.kube.deleteRun(context.WithoutCancel(ctx), latencyRun, []string{latencyNS}, r.Timeout, performers)
}

// template reads the Deployment and Service the function composed for a
// Performer: the floor creates exactly these, renamed.
func (r *RunCmd) template(ctx context.Context, ns, performer string) (*template, error) {
	dl, err := r.kube.cs.AppsV1().Deployments(ns).List(ctx, metav1.ListOptions{LabelSelector: names.LabelPerformerName + "=" + names.LabelValue(performer)})
	if err != nil || len(dl.Items) == 0 {
		return nil, errors.Wrap(err, errTemplate)
	}
	svc, err := r.kube.cs.CoreV1().Services(ns).Get(ctx, names.Service(performer), metav1.GetOptions{})
	if err != nil {
		return nil, errors.Wrap(err, errTemplate)
	}
	return newTemplate(performer, &dl.Items[0], svc), nil
}

// template is a composed Deployment and Service stripped of everything the
// API server and Crossplane added, so a plain client can create copies.
type template struct {
	performer string
	dep       *appsv1.Deployment
	svc       *corev1.Service
}
