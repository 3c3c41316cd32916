package testperformer

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"

	"github.com/crossplane/crossplane-runtime/v2/pkg/errors"

	"github.com/hourglass-xp/crossplane-hourglass/internal/names"
)

// Pod faults the pod server plays. A pod asks for one with the annotation
// AnnotationHealth (changeable at any time, e.g. with kubectl annotate), or,
// since a Performer's pods are made by Crossplane, with an image whose
// reference contains grpc-fault-<health> (e.g.
// example.com/team/grpc-fault-down:v1). kwok still makes such pods Running
// and Ready: only the gRPC server behind them misbehaves.
const (
	AnnotationHealth = "hourglass-xp.io/health"
	imageFaultPrefix = "grpc-fault-"

	// kwok's own fault marks (cluster/kwok/stages.yaml): such pods get no
	// server at all, as their process would not run.
	kwokFaultKey    = "kwok.hourglass-xp.io/fault"
	kwokFaultPrefix = "kwok-fault-"
)

// Health is what the server behind a pod answers.
type Health string

// Health states.
const (
	// HealthServing: a server answering SERVING (the default).
	HealthServing Health = "serving"
	// HealthNotServing: a server answering NOT_SERVING.
	HealthNotServing Health = "not-serving"
	// HealthDown: no server; connections are refused.
	HealthDown Health = "down"
)

// Want is the server one pod should have.
type Want struct {
	// Address is podIP:grpcPort.
	Address string
	// Pod is namespace/name, UID its UID: a new pod reusing an address
	// gets a new server.
	Pod    string
	UID    types.UID
	Health Health
}

// WantFor returns the server pod p should have, and false when it should
// have none: not Running, terminating, without an IP inside allowed (any IP
// when allowed is empty), without a gRPC port, playing a kwok fault, or
// asking for HealthDown.
func WantFor(p *corev1.Pod, allowed []netip.Prefix) (Want, bool) {
	if p.DeletionTimestamp != nil || p.Status.Phase != corev1.PodRunning || kwokFault(p) {
		return Want{}, false
	}
	ip, err := netip.ParseAddr(p.Status.PodIP)
	if err != nil || !inside(ip, allowed) {
		return Want{}, false
	}
	port := grpcPort(p)
	if port == 0 {
		return Want{}, false
	}
	h := healthOf(p)
	if h == HealthDown {
		return Want{}, false
	}
	return Want{
		Address: net.JoinHostPort(ip.String(), strconv.Itoa(int(port))),
		Pod:     p.Namespace + "/" + p.Name, UID: p.UID, Health: h,
	}, true
}

func inside(ip netip.Addr, allowed []netip.Prefix) bool {
	if len(allowed) == 0 {
		return true
	}
	for _, p := range allowed {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

func kwokFault(p *corev1.Pod) bool {
	if p.Labels[kwokFaultKey] != "" || p.Annotations[kwokFaultKey] != "" {
		return true
	}
	for _, c := range p.Spec.Containers {
		if strings.Contains(c.Image, kwokFaultPrefix) {
			return true
		}
	}
	return false
}

// grpcPort is the container port named grpc, else the first container
// port, else 0.
func grpcPort(p *corev1.Pod) int32 {
	var first int32
	for _, c := range p.Spec.Containers {
		for _, cp := range c.Ports {
			if cp.Name == "grpc" {
				return cp.ContainerPort
			}
			if first == 0 {
				first = cp.ContainerPort
			}
		}
	}
	return first
}

// healthOf reads the annotation first, then the image.
func healthOf(p *corev1.Pod) Health {
	switch h := Health(p.Annotations[AnnotationHealth]); h {
	case HealthServing, HealthNotServing, HealthDown:
		return h
	}
	for _, c := range p.Spec.Containers {
		if _, f, ok := strings.Cut(c.Image, imageFaultPrefix); ok {
			switch {
			case strings.HasPrefix(f, string(HealthNotServing)):
				return HealthNotServing
			case strings.HasPrefix(f, string(HealthDown)):
				return HealthDown
			}
		}
	}
	return HealthServing
}

// PodsOptions configure ServePods.
type PodsOptions struct {
	// Selector selects the pods to serve; app=performer when nil.
	Selector labels.Selector
	// Allowed bounds the addresses served: only pod IPs inside these
	// prefixes are bound. Empty allows any, which is only safe where pod
	// IPs are local (a private network namespace).
	Allowed []netip.Prefix
	// Max bounds the servers running at once.
	Max int
	// Resync is how often every pod is reconciled again, which retries a
	// failed bind.
	Resync time.Duration
	// Log receives one line per change.
	Log io.Writer
}

// pods runs one Server per wanted pod.
type pods struct {
	o       PodsOptions
	mu      sync.Mutex
	running map[string]*podServer // by address
}

type podServer struct {
	want Want
	srv  *Server
}

// ServePods watches pods and runs a test performer bound to podIP:grpcPort
// for every pod WantFor selects, changing its health when the pod's
// annotation changes and stopping it when the pod goes, until ctx ends.
func ServePods(ctx context.Context, cs kubernetes.Interface, o PodsOptions) error {
	if o.Selector == nil {
		o.Selector = labels.SelectorFromSet(labels.Set{names.LabelApp: names.AppPerformer})
	}
	if o.Max <= 0 {
		o.Max = 1000
	}
	if o.Resync <= 0 {
		o.Resync = 5 * time.Second
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	f := informers.NewSharedInformerFactoryWithOptions(cs, 0, informers.WithTweakListOptions(func(lo *metav1.ListOptions) {
		lo.LabelSelector = o.Selector.String()
	}))
	inf := f.Core().V1().Pods()
	kick := make(chan struct{}, 1)
	notify := func(any) {
		select {
		case kick <- struct{}{}:
		default:
		}
	}
	if _, err := inf.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    notify,
		UpdateFunc: func(_, n any) { notify(n) },
		DeleteFunc: notify,
	}); err != nil {
		return errors.Wrap(err, "cannot watch pods")
	}
	f.Start(ctx.Done())
	for typ, ok := range f.WaitForCacheSync(ctx.Done()) {
		if !ok {
			return errors.Errorf("cannot sync the %v cache", typ)
		}
	}
	s := &pods{o: o, running: map[string]*podServer{}}
	defer s.stopAll()
	t := time.NewTicker(o.Resync)
	defer t.Stop()
	for {
		ps, err := inf.Lister().List(labels.Everything())
		if err != nil {
			return errors.Wrap(err, "cannot list pods")
		}
		s.reconcile(ps)
		select {
		case <-ctx.Done():
			return nil
		case <-kick:
		case <-t.C:
		}
	}
}

// reconcile makes the running servers what the pods want.
func (s *pods) reconcile(ps []*corev1.Pod) {
	want := map[string]Want{}
	for _, p := range ps {
		if w, ok := WantFor(p, s.o.Allowed); ok {
			want[w.Address] = w
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for addr, r := range s.running {
		if w, ok := want[addr]; !ok || w.UID != r.want.UID {
			r.srv.Stop()
			delete(s.running, addr)
			s.logf("stopped %s for %s", addr, r.want.Pod)
		}
	}
	addrs := make([]string, 0, len(want))
	for a := range want {
		addrs = append(addrs, a)
	}
	sort.Strings(addrs)
	for _, addr := range addrs {
		w := want[addr]
		if r, ok := s.running[addr]; ok {
			if r.want.Health != w.Health {
				r.srv.SetServing(w.Health == HealthServing)
				r.want = w
				s.logf("%s for %s now %s", addr, w.Pod, w.Health)
			}
			continue
		}
		if len(s.running) >= s.o.Max {
			s.logf("not serving %s for %s: %d servers already run (--max-pods)", addr, w.Pod, s.o.Max)
			continue
		}
		srv, err := Start(addr, Options{Name: w.Pod})
		if err != nil {
			// Retried at the next event or resync.
			s.logf("cannot serve %s for %s: %v", addr, w.Pod, err)
			continue
		}
		srv.SetServing(w.Health == HealthServing)
		s.running[addr] = &podServer{want: w, srv: srv}
		s.logf("serving %s for %s (%s)", addr, w.Pod, w.Health)
	}
}

func (s *pods) stopAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for addr, r := range s.running {
		r.srv.Stop()
		delete(s.running, addr)
	}
}

func (s *pods) logf(format string, args ...any) {
	_, _ = fmt.Fprintf(s.o.Log, time.Now().Format("15:04:05.000 ")+format+"\n", args...)
}
