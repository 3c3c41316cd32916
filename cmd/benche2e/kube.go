package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	kerrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/crossplane/crossplane-runtime/v2/pkg/errors"

	hourglass "github.com/hourglass-xp/crossplane-hourglass/apis/hourglass/v1alpha1"
)

const (
	errKubeconfig = "cannot load the kubeconfig"
	errClient     = "cannot make a Kubernetes client"
	errNamespace  = "cannot create namespace"
	errSync       = "cannot sync the watch cache"
	errFmtTimeout = "%s: not within %s"
)

var (
	performers     = hourglass.SchemeGroupVersion.WithResource("performers")
	deployments    = schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}
	services       = schema.GroupVersionResource{Version: "v1", Resource: "services"}
	secrets        = schema.GroupVersionResource{Version: "v1", Resource: "secrets"}
	pods           = schema.GroupVersionResource{Version: "v1", Resource: "pods"}
	endpointSlices = schema.GroupVersionResource{Group: "discovery.k8s.io", Version: "v1", Resource: "endpointslices"}
)

// kube holds the clients of the API server.
type kube struct {
	cs  kubernetes.Interface
	dyn dynamic.Interface
}

func newKube(kubeconfig string, qps float32, burst int) (*kube, error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return nil, errors.Wrap(err, errKubeconfig)
	}
	// The benchmark's own requests must not be what limits it: Crossplane
	// and the provider have their own limits, which are part of what is
	// measured.
	cfg.QPS, cfg.Burst = qps, burst
	cfg.UserAgent = "benche2e"
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, errors.Wrap(err, errClient)
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, errors.Wrap(err, errClient)
	}
	return &kube{cs: cs, dyn: dyn}, nil
}

func (k *kube) ensureNamespaces(ctx context.Context, names []string) error {
	for _, n := range names {
		ns := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": n}}}
		_, err := k.dyn.Resource(schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}).Create(ctx, ns, metav1.CreateOptions{})
		if err != nil && !kerrors.IsAlreadyExists(err) {
			return errors.Wrapf(err, "%s %s", errNamespace, n)
		}
	}
	return nil
}

// namespaces are the names prefix-00 … prefix-(n-1).
func namespaces(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s-%02d", prefix, i)
	}
	return out
}

// handler is called with each object a watch sees, at the time it sees it;
// deleted objects come with deleted true.
type handler func(u *unstructured.Unstructured, deleted bool, at time.Time)

// watch starts an informer on gvr (namespace "" is every namespace,
// selector "" every object) and calls h for every add, update and delete,
// serially. It returns once the informer's cache has synced; the informer
// stops with ctx.
func (k *kube) watch(ctx context.Context, gvr schema.GroupVersionResource, namespace, selector string, h handler) error {
	inf := dynamicinformer.NewFilteredDynamicInformer(k.dyn, gvr, namespace, 0, cache.Indexers{}, func(o *metav1.ListOptions) {
		o.LabelSelector = selector
	}).Informer()
	// Informer handlers of one informer run one at a time; the mutex
	// documents that h may keep state without its own.
	var mu sync.Mutex
	call := func(o any, deleted bool) {
		at := time.Now()
		if d, ok := o.(cache.DeletedFinalStateUnknown); ok {
			o = d.Obj
		}
		u, ok := o.(*unstructured.Unstructured)
		if !ok {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		h(u, deleted, at)
	}
	if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(o any) { call(o, false) },
		UpdateFunc: func(_, o any) { call(o, false) },
		DeleteFunc: func(o any) { call(o, true) },
	}); err != nil {
		return errors.Wrap(err, errSync)
	}
	go inf.Run(ctx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), inf.HasSynced) {
		return errors.New(errSync)
	}
	return nil
}

// waitFor polls done until it returns true, or fails after timeout.
func waitFor(ctx context.Context, timeout time.Duration, what string, done func() (bool, error)) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for {
		ok, err := done()
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return errors.Errorf(errFmtTimeout, what, timeout)
		case <-t.C:
		}
	}
}

// parallel runs f for 0..n-1 on workers goroutines and returns the first
// error.
func parallel(n, workers int, f func(i int) error) error {
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
		next  = make(chan int)
	)
	for range max(workers, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := f(i); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
				}
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	return first
}

// ready is whether a Performer is Ready as its clients see it: its Ready
// condition, which kubectl wait and GitOps health checks read, and
// status.ready, which the Hourglass executor polls. Requiring both times
// the later of the two.
func ready(u *unstructured.Unstructured) bool {
	r, _, _ := unstructured.NestedBool(u.Object, "status", "ready")
	s, _ := conditionReason(u, "Ready")
	return r && s == string(corev1.ConditionTrue)
}

// conditionReason returns the status and reason of a condition.
func conditionReason(u *unstructured.Unstructured, typ string) (status, reason string) {
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, c := range conds {
		if m, ok := c.(map[string]any); ok && m["type"] == typ {
			s, _ := m["status"].(string)
			r, _ := m["reason"].(string)
			return s, r
		}
	}
	return "", "(no condition)"
}
