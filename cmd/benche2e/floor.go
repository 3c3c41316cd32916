package main

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/crossplane/crossplane-runtime/v2/pkg/errors"

	"github.com/hourglass-xp/crossplane-hourglass/internal/benche2e"
)

const (
	errCreateFloor = "cannot create the floor's objects"
	floorNSPrefix  = "bench-floor"
)

// newTemplate strips what the API server, the controllers and Crossplane
// added to a composed Deployment and Service, leaving what the function
// asked for.
func newTemplate(performer string, d *appsv1.Deployment, s *corev1.Service) *template {
	d, s = d.DeepCopy(), s.DeepCopy()
	clean := func(m *metav1.ObjectMeta) {
		*m = metav1.ObjectMeta{Name: m.Name, Labels: withoutCrossplane(m.Labels), Annotations: withoutCrossplane(m.Annotations)}
		delete(m.Annotations, "deployment.kubernetes.io/revision")
	}
	clean(&d.ObjectMeta)
	clean(&s.ObjectMeta)
	d.Status = appsv1.DeploymentStatus{}
	s.Status = corev1.ServiceStatus{}
	// The API server allocates these.
	s.Spec.ClusterIP, s.Spec.ClusterIPs = "", nil
	s.Spec.IPFamilies, s.Spec.IPFamilyPolicy = nil, nil
	return &template{performer: performer, dep: d, svc: s}
}

// withoutCrossplane drops Crossplane's labels and annotations: a
// Deployment labelled as composed by a Performer would make Crossplane's
// watches reconcile that Performer, which the floor must not cost.
func withoutCrossplane(m map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		if !strings.HasPrefix(k, "crossplane.io/") && !strings.HasSuffix(k, ".crossplane.io") {
			out[k] = v
		}
	}
	return out
}

// copyFor is the template's Deployment and Service for another performer:
// every name and label value that named the template's performer names
// the new one, so selectors stay disjoint.
func (t *template) copyFor(namespace, name, run string) (*appsv1.Deployment, *corev1.Service) {
	d, s := t.dep.DeepCopy(), t.svc.DeepCopy()
	rename := func(m map[string]string) {
		for k, v := range m {
			m[k] = strings.ReplaceAll(v, t.performer, name)
		}
	}
	for _, m := range []map[string]string{d.Labels, d.Spec.Template.Labels, s.Labels, s.Spec.Selector} {
		rename(m)
	}
	if d.Spec.Selector != nil {
		rename(d.Spec.Selector.MatchLabels)
	}
	d.Name, s.Name = strings.ReplaceAll(d.Name, t.performer, name), strings.ReplaceAll(s.Name, t.performer, name)
	d.Namespace, s.Namespace = namespace, namespace
	for _, m := range []map[string]string{d.Labels, d.Spec.Template.Labels, s.Labels} {
		m[labelRun] = run
	}
	return d, s
}

// available is whether a Deployment's current generation is available.
func available(u *unstructured.Unstructured) bool {
	d := &appsv1.Deployment{}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, d); err != nil {
		return false
	}
	if d.Status.ObservedGeneration < d.Generation {
		return false
	}
	for _, c := range d.Status.Conditions {
		if c.Type == appsv1.DeploymentAvailable {
			return c.Status == corev1.ConditionTrue && d.Status.AvailableReplicas >= 1
		}
	}
	return false
}

// floor creates n copies of the template's Deployment and Service across
// the namespaces at once with a plain client, and measures until every
// Deployment is available: what the same objects cost without Crossplane.
func (r *RunCmd) floor(ctx context.Context, t *template, n int) (benche2e.Floor, error) {
	run := fmt.Sprintf("floor%d", n)
	nss := namespaces(floorNSPrefix, r.Namespaces)
	res := benche2e.Floor{N: n, Namespaces: r.Namespaces}
	if err := r.kube.ensureNamespaces(ctx, nss); err != nil {
		return res, err
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var mu sync.Mutex
	avail := map[string]bool{}
	if err := r.kube.watch(wctx, deployments, "", labelRun+"="+run, func(u *unstructured.Unstructured, deleted bool, _ time.Time) {
		mu.Lock()
		defer mu.Unlock()
		avail[u.GetNamespace()+"/"+u.GetName()] = !deleted && available(u)
	}); err != nil {
		return res, err
	}
	before, err := r.take(ctx)
	if err != nil {
		return res, err
	}
	t0 := time.Now()
	err = parallel(n, r.Workers, func(i int) error {
		d, s := t.copyFor(nss[i%len(nss)], performerName(run, i), run)
		if _, err := r.kube.cs.AppsV1().Deployments(d.Namespace).Create(ctx, d, metav1.CreateOptions{}); err != nil {
			return errors.Wrap(err, errCreateFloor)
		}
		_, err := r.kube.cs.CoreV1().Services(s.Namespace).Create(ctx, s, metav1.CreateOptions{})
		return errors.Wrap(err, errCreateFloor)
	})
	if err != nil {
		return res, err
	}
	if err := waitFor(ctx, r.Timeout, fmt.Sprintf("%d floor Deployments available", n), func() (bool, error) {
		mu.Lock()
		defer mu.Unlock()
		c := 0
		for _, a := range avail {
			if a {
				c++
			}
		}
		return c == n, nil
	}); err != nil {
		return res, err
	}
	res.AllAvailable = time.Since(t0)
	after, err := r.take(ctx)
	if err != nil {
		return res, err
	}
	d := diff(before, after)
	res.API, res.Load = d.api, d.load
	r.logf("floor %d: all available in %s", n, benche2e.Seconds(res.AllAvailable))
	cancel()
	if err := r.kube.deleteRun(ctx, run, nss, r.Timeout, deployments, services); err != nil {
		return res, err
	}
	return res, nil
}
