package provider

import (
	"context"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	kerrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/crossplane/crossplane-runtime/v2/pkg/errors"
	"github.com/crossplane/crossplane-runtime/v2/pkg/event"
	"github.com/crossplane/crossplane-runtime/v2/pkg/meta"
	"github.com/crossplane/crossplane-runtime/v2/pkg/reconciler/managed"
	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"

	"github.com/hourglass-xp/crossplane-hourglass/apis/observe/v1alpha1"
)

const (
	errGetService = "cannot get Service"
	errListPods   = "cannot list pods"
	errListSlices = "cannot list EndpointSlices"
)

// A connector hands out externals. The provider needs no credentials: it
// reads the cluster it runs in with its own identity, so Connect cannot
// fail.
type connector struct {
	kube          client.Reader
	health        HealthChecker
	healthEnabled bool
	record        event.Recorder
	now           func() time.Time
	// refresh bounds how old status.atProvider.lastHealthCheck may grow
	// while every check confirms the recorded result (see lastHealthCheck).
	refresh time.Duration
}

func (c *connector) Connect(_ context.Context, _ *v1alpha1.PerformerEndpoint) (managed.TypedExternalClient[*v1alpha1.PerformerEndpoint], error) {
	return &external{connector: c}, nil
}

// external observes one PerformerEndpoint. Its "external resource" is the
// set of live objects it watches; it never creates, changes or deletes any.
type external struct {
	*connector
}

// Observe reads the pods, the Service and its EndpointSlices, health-checks
// the ready pods, and writes the assessment to status. The resource always
// "exists" and is always "up to date", so the managed reconciler never calls
// Create or Update; during deletion it reports no resource, so the
// reconciler removes its finalizer at once.
func (e *external) Observe(ctx context.Context, cr *v1alpha1.PerformerEndpoint) (managed.ExternalObservation, error) {
	if meta.WasDeleted(cr) {
		return managed.ExternalObservation{ResourceExists: false}, nil
	}
	o, err := e.read(ctx, cr)
	if err != nil {
		return managed.ExternalObservation{}, err
	}
	if o.HealthEnabled {
		o.Health = e.check(ctx, HealthTargets(o), time.Duration(cr.Spec.ForProvider.HealthCheckTimeoutSeconds())*time.Second)
	}
	a := Assess(o)
	if o.HealthEnabled && len(o.Health) > 0 {
		a.AtProvider.LastHealthCheck = e.lastHealthCheck(cr.Status.AtProvider, a.AtProvider)
	}

	wasReady := cr.GetCondition(xpv2.TypeReady).Status == corev1.ConditionTrue
	previous := cr.Status.AtProvider.Reason
	cr.Status.AtProvider = a.AtProvider
	cr.SetConditions(readyCondition(a))
	e.recordChange(cr, wasReady, previous, a)

	return managed.ExternalObservation{
		ResourceExists:    true,
		ResourceUpToDate:  true,
		ConnectionDetails: ConnectionDetails(cr.GetNamespace(), cr.Spec.ForProvider),
	}, nil
}

// lastHealthCheck is the time to record for a health check that just ran.
// Writing the time of every check made every poll of a Ready performer a
// status write, and every such write an event Crossplane answers by
// composing the performer again: with the stack's 10 s poll, six writes and
// six composition rounds a minute per performer for nothing. So the time
// moves only when a check tells something: the observation changed, or the
// recorded time is older than refresh (ten polls by default), so a stale
// time still means the provider stopped checking, and a restarted provider
// shows it checks within ten polls.
func (e *external) lastHealthCheck(prev, next v1alpha1.PerformerEndpointObservation) *metav1.Time {
	now := metav1.NewTime(e.now())
	last := prev.LastHealthCheck
	prev.LastHealthCheck, next.LastHealthCheck = nil, nil
	if last == nil || now.Sub(last.Time) >= e.refresh || !equality.Semantic.DeepEqual(prev, next) {
		return &now
	}
	return last
}

func (e *external) read(ctx context.Context, cr *v1alpha1.PerformerEndpoint) (Observed, error) {
	p := cr.Spec.ForProvider
	o := Observed{
		Namespace:     cr.GetNamespace(),
		Params:        p,
		HealthEnabled: e.healthEnabled && p.HealthCheckEnabled(),
	}

	pl := &corev1.PodList{}
	if err := e.kube.List(ctx, pl, client.InNamespace(o.Namespace), client.MatchingLabels(p.Selector)); err != nil {
		return o, errors.Wrap(err, errListPods)
	}
	o.Pods = pl.Items

	if p.ServiceName == "" {
		return o, nil
	}
	svc := &corev1.Service{}
	switch err := e.kube.Get(ctx, types.NamespacedName{Namespace: o.Namespace, Name: p.ServiceName}, svc); {
	case kerrors.IsNotFound(err):
		return o, nil
	case err != nil:
		return o, errors.Wrap(err, errGetService)
	}
	o.Service = svc

	sl := &discoveryv1.EndpointSliceList{}
	if err := e.kube.List(ctx, sl, client.InNamespace(o.Namespace), client.MatchingLabels{discoveryv1.LabelServiceName: p.ServiceName}); err != nil {
		return o, errors.Wrap(err, errListSlices)
	}
	o.Slices = sl.Items
	return o, nil
}

// check runs the health checks concurrently, each bounded by the timeout,
// so one observation takes at most one timeout however many pods it checks.
func (e *external) check(ctx context.Context, targets []HealthTarget, timeout time.Duration) map[string]HealthResult {
	out := make(map[string]HealthResult, len(targets))
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, t := range targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cctx, cancel := context.WithTimeout(ctx, timeout)
			defer cancel()
			r := e.health.Check(cctx, t)
			mu.Lock()
			out[t.Pod] = r
			mu.Unlock()
		}()
	}
	wg.Wait()
	return out
}

// readyCondition is Crossplane's Ready condition carrying the assessment's
// reason, so `kubectl get` and the composition function see why a
// performer is not ready without reading atProvider.
func readyCondition(a Assessment) xpv2.Condition {
	if a.Ready {
		return xpv2.Available().WithMessage(a.AtProvider.Message)
	}
	return xpv2.Condition{
		Type:               xpv2.TypeReady,
		Status:             corev1.ConditionFalse,
		LastTransitionTime: metav1.Now(),
		Reason:             xpv2.ConditionReason(a.AtProvider.Reason),
		Message:            a.AtProvider.Message,
	}
}

// recordChange records a Kubernetes event when the performer becomes ready
// or not ready, or the reason it is not ready changes: the phase changes a
// user wants in `kubectl describe`, without an event on every poll.
func (e *external) recordChange(cr *v1alpha1.PerformerEndpoint, wasReady bool, previous string, a Assessment) {
	switch {
	case a.Ready && !wasReady:
		e.record.Event(cr, event.Normal(v1alpha1.EventReady, a.AtProvider.Message))
	case !a.Ready && (wasReady || previous != a.AtProvider.Reason):
		e.record.Event(cr, event.Warning(v1alpha1.EventNotReady, errors.New(a.AtProvider.Reason+": "+a.AtProvider.Message)))
	}
}

// Create is never called: Observe always reports the resource exists.
func (e *external) Create(_ context.Context, _ *v1alpha1.PerformerEndpoint) (managed.ExternalCreation, error) {
	return managed.ExternalCreation{}, nil
}

// Update is never called: Observe always reports the resource up to date.
func (e *external) Update(_ context.Context, _ *v1alpha1.PerformerEndpoint) (managed.ExternalUpdate, error) {
	return managed.ExternalUpdate{}, nil
}

// Delete has nothing to delete: the observed objects belong to the
// composition, and the connection Secret is garbage-collected with its
// owner.
func (e *external) Delete(_ context.Context, _ *v1alpha1.PerformerEndpoint) (managed.ExternalDelete, error) {
	return managed.ExternalDelete{}, nil
}

// Disconnect has nothing to close.
func (e *external) Disconnect(_ context.Context) error {
	return nil
}
