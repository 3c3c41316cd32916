package provider

import (
	"context"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/crossplane/crossplane-runtime/v2/pkg/controller"
	"github.com/crossplane/crossplane-runtime/v2/pkg/errors"
	"github.com/crossplane/crossplane-runtime/v2/pkg/event"
	"github.com/crossplane/crossplane-runtime/v2/pkg/logging"
	"github.com/crossplane/crossplane-runtime/v2/pkg/ratelimiter"
	"github.com/crossplane/crossplane-runtime/v2/pkg/reconciler/managed"
	"github.com/crossplane/crossplane-runtime/v2/pkg/resource"
	"github.com/crossplane/crossplane-runtime/v2/pkg/statemetrics"
	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"

	"github.com/hourglass-xp/crossplane-hourglass/apis/observe/v1alpha1"
	"github.com/hourglass-xp/crossplane-hourglass/internal/names"
)

const (
	errStateMetrics = "cannot register managed resource state metrics recorder"
	errListMRs      = "cannot list PerformerEndpoints"
)

// DefaultFastPollInterval is how often a resource waiting for its gRPC
// health check to pass is observed again: the gRPC server can start
// answering after the pod is Ready, which no watched object announces.
const DefaultFastPollInterval = 5 * time.Second

// HealthCheckRefreshPolls is how many polls old status.atProvider.
// lastHealthCheck may grow, by default, while every check confirms the
// recorded result: one status write per ten polls of a Ready performer
// instead of one per poll (every ten minutes with the default 1 m poll).
const HealthCheckRefreshPolls = 10

// DefaultCacheSelector selects the objects the provider caches: every
// performer pod, Service and EndpointSlice carries app=performer (the
// EndpointSlice controller copies the Service's labels to its slices).
var DefaultCacheSelector = labels.SelectorFromSet(labels.Set{names.LabelApp: names.AppPerformer})

// Config is what the provider's command line decides.
type Config struct {
	// Health checks pods. Nil turns the gRPC health check off for every
	// resource.
	Health HealthChecker
	// FastPollInterval is the poll interval while a ready pod fails its
	// health check; the controller.Options PollInterval applies otherwise
	// (see PollIntervalHook).
	FastPollInterval time.Duration
	// HealthCheckRefresh is how old lastHealthCheck may grow while the
	// checks confirm what status says; HealthCheckRefreshPolls times the
	// controller.Options PollInterval when zero.
	HealthCheckRefresh time.Duration
}

// CacheOptions limits the informer caches to what the provider reads: pods,
// Services and EndpointSlices matching the selector, with managedFields
// stripped to save memory. Secrets are written, never watched (see
// ClientOptions).
func CacheOptions(sel labels.Selector, syncPeriod *time.Duration) cache.Options {
	return cache.Options{
		SyncPeriod:       syncPeriod,
		DefaultTransform: cache.TransformStripManagedFields(),
		ByObject: map[client.Object]cache.ByObject{
			&corev1.Pod{}:                {Label: sel},
			&corev1.Service{}:            {Label: sel},
			&discoveryv1.EndpointSlice{}: {Label: sel},
		},
	}
}

// ClientOptions makes the manager's client read Secrets straight from the
// API server: the connection Secret publisher reads before it writes, and a
// cached read would start an informer on every Secret in the cluster.
func ClientOptions() client.Options {
	return client.Options{Cache: &client.CacheOptions{DisableFor: []client.Object{&corev1.Secret{}}}}
}

// Setup adds the PerformerEndpoint controller to the manager.
func Setup(mgr ctrl.Manager, o controller.Options, cfg Config) error {
	name := managed.ControllerName(v1alpha1.PerformerEndpointGroupKind)
	fast := cfg.FastPollInterval
	if fast <= 0 {
		fast = DefaultFastPollInterval
	}
	refresh := cfg.HealthCheckRefresh
	if refresh <= 0 {
		refresh = HealthCheckRefreshPolls * o.PollInterval
	}
	recorder := event.NewAPIRecorder(mgr.GetEventRecorderFor(name)) //nolint:staticcheck // crossplane-runtime's recorder takes the core/v1 EventRecorder.

	opts := []managed.ReconcilerOption{
		managed.WithTypedExternalConnector[*v1alpha1.PerformerEndpoint](&connector{
			kube:          mgr.GetClient(),
			health:        cfg.Health,
			healthEnabled: cfg.Health != nil,
			record:        recorder,
			now:           time.Now,
			refresh:       refresh,
		}),
		managed.WithLogger(o.Logger.WithValues("controller", name)),
		managed.WithRecorder(recorder),
		managed.WithPollInterval(o.PollInterval),
		managed.WithPollIntervalHook(PollIntervalHook(fast)),
	}
	if o.MetricOptions != nil && o.MetricOptions.MRMetrics != nil {
		opts = append(opts, managed.WithMetricRecorder(o.MetricOptions.MRMetrics))
	}
	if o.MetricOptions != nil && o.MetricOptions.MRStateMetrics != nil {
		sr := statemetrics.NewMRStateRecorder(mgr.GetClient(), o.Logger, o.MetricOptions.MRStateMetrics, &v1alpha1.PerformerEndpointList{}, o.MetricOptions.PollStateMetricInterval)
		if err := mgr.Add(sr); err != nil {
			return errors.Wrap(err, errStateMetrics)
		}
	}

	r := managed.NewReconciler(mgr, resource.ManagedKind(v1alpha1.PerformerEndpointGroupVersionKind), opts...)
	m := &mapper{kube: mgr.GetClient(), log: o.Logger}

	// The predicate applies to the resource itself only: the watched pods
	// and slices change status, not generation, and every such change
	// matters.
	return ctrl.NewControllerManagedBy(mgr).
		Named(name).
		WithOptions(o.ForControllerRuntime()).
		For(&v1alpha1.PerformerEndpoint{}, builder.WithPredicates(resource.DesiredStateChanged())).
		Watches(&corev1.Pod{}, handler.EnqueueRequestsFromMapFunc(m.forPod)).
		Watches(&corev1.Service{}, handler.EnqueueRequestsFromMapFunc(m.forService)).
		Watches(&discoveryv1.EndpointSlice{}, handler.EnqueueRequestsFromMapFunc(m.forSlice)).
		Complete(ratelimiter.NewReconciler(name, r, o.GlobalRateLimiter))
}

// PollIntervalHook decides when a PerformerEndpoint is observed again. A
// Ready one, and one whose state a watched object will announce (a pod
// scheduled, pulled, started or ready; an EndpointSlice filled), waits the
// slow interval: the watches bring it back within seconds anyway. Only
// states that no Kubernetes object announces, a ready pod whose gRPC
// server does not (yet) answer SERVING, are polled fast, so a performer
// whose server comes up after its pod turned Ready shows Ready quickly
// without every failing performer costing an API write every few seconds.
func PollIntervalHook(fast time.Duration) managed.PollIntervalHook {
	return func(mg resource.Managed, slow time.Duration) time.Duration {
		pe, ok := mg.(*v1alpha1.PerformerEndpoint)
		if !ok || mg.GetCondition(xpv2.TypeReady).Status == corev1.ConditionTrue {
			return slow
		}
		switch pe.Status.AtProvider.Reason {
		case v1alpha1.ReasonNotServing, v1alpha1.ReasonHealthCheckFailed, "":
			return min(fast, slow)
		default:
			return slow
		}
	}
}

// mapper maps a changed pod, Service or EndpointSlice to the
// PerformerEndpoints in its namespace that observe it.
type mapper struct {
	kube client.Reader
	log  logging.Logger
}

func (m *mapper) forPod(ctx context.Context, o client.Object) []reconcile.Request {
	return m.matching(ctx, o.GetNamespace(), func(p v1alpha1.PerformerEndpointParameters) bool {
		return len(p.Selector) > 0 && labels.SelectorFromSet(p.Selector).Matches(labels.Set(o.GetLabels()))
	})
}

func (m *mapper) forService(ctx context.Context, o client.Object) []reconcile.Request {
	return m.matching(ctx, o.GetNamespace(), func(p v1alpha1.PerformerEndpointParameters) bool {
		return p.ServiceName == o.GetName()
	})
}

func (m *mapper) forSlice(ctx context.Context, o client.Object) []reconcile.Request {
	svc := o.GetLabels()[discoveryv1.LabelServiceName]
	return m.matching(ctx, o.GetNamespace(), func(p v1alpha1.PerformerEndpointParameters) bool {
		return svc != "" && p.ServiceName == svc
	})
}

func (m *mapper) matching(ctx context.Context, namespace string, match func(v1alpha1.PerformerEndpointParameters) bool) []reconcile.Request {
	l := &v1alpha1.PerformerEndpointList{}
	if err := m.kube.List(ctx, l, client.InNamespace(namespace)); err != nil {
		// The slow poll still observes the resource; a failed cache list
		// only delays it.
		m.log.Debug(errListMRs, "namespace", namespace, "error", err)
		return nil
	}
	var out []reconcile.Request
	for _, pe := range l.Items {
		if match(pe.Spec.ForProvider) {
			out = append(out, reconcile.Request{NamespacedName: types.NamespacedName{Namespace: pe.Namespace, Name: pe.Name}})
		}
	}
	return out
}
