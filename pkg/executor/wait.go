package executor

import (
	"context"
	"fmt"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/cache"
	watchtools "k8s.io/client-go/tools/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/crossplane/crossplane-runtime/v2/pkg/errors"
	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"

	"github.com/hourglass-xp/crossplane-hourglass/apis/hourglass/v1alpha1"
)

const (
	errFmtWait       = "cannot wait for performer %s/%s to %s"
	errFmtTimeout    = "timed out after %s waiting for performer %s/%s to %s; last seen: %s"
	errFmtGone       = "performer %s/%s was deleted while waiting for it to %s"
	errFmtCondition  = "performer %s/%s is %s: %s: %s"
	errFmtStoreType  = "unexpected object %T in the watch cache"
	notSeen          = "not found"
	waitStart        = "run"
	waitUpgradeFmt   = "run version %s"
	waitStop         = "be deleted"
	conditionTrue    = metav1.ConditionTrue
	describeSep      = "; "
	describeCondFmt  = "%s=%s (%s)"
	describePhaseFmt = "phase %q, ready %t, endpoint %q"
)

// ConditionError is a performer's own account of why it does not reach the
// state waited for: the reason and message of its Degraded condition, as the
// composition wrote them (e.g. ImagePullFailed, SchedulingFailed,
// HardwareUnavailable, or a failed upgrade's reason).
type ConditionError struct {
	Namespace, Name string
	Type            string
	Reason          string
	Message         string
}

func (e *ConditionError) Error() string {
	return fmt.Sprintf(errFmtCondition, e.Namespace, e.Name, e.Type, e.Reason, e.Message)
}

// TimeoutError says a wait ran out of time, with the last state seen.
type TimeoutError struct {
	Namespace, Name string
	After           time.Duration
	Waiting         string
	LastSeen        string
}

func (e *TimeoutError) Error() string {
	return fmt.Sprintf(errFmtTimeout, e.After, e.Namespace, e.Name, e.Waiting, e.LastSeen)
}

// A check judges one observation of a performer: done, keep waiting, or a
// terminal error. A nil check waits for the Performer to be deleted.
type check func(p *v1alpha1.Performer) (bool, error)

// waitFor watches one Performer until c is done or fails, or timeout passes. It
// lists then watches (re-listing after a watch expires), so it sees the
// current state first and every later change, without polling.
func (m *KubernetesPerformerManager) waitFor(ctx context.Context, name string, timeout time.Duration, what string, c check) (*v1alpha1.Performer, error) {
	wctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	var last *v1alpha1.Performer
	eval := func(p *v1alpha1.Performer) (bool, error) {
		last = p
		if c == nil {
			return false, nil
		}
		return c(p)
	}
	// The first list may come from the API server's watch cache and miss
	// a Performer created a moment ago: absence there is only final when
	// waiting for deletion. A Deleted event is final either way.
	deleted := false
	absent := func() (bool, error) {
		last, deleted = nil, true
		if c == nil {
			return true, nil
		}
		return false, errors.Errorf(errFmtGone, m.namespace, name, what)
	}
	key := m.namespace + "/" + name
	_, err := watchtools.UntilWithSync(wctx, m.listWatch(name), &v1alpha1.Performer{},
		func(store cache.Store) (bool, error) {
			obj, exists, err := store.GetByKey(key)
			if err != nil {
				return false, err
			}
			if !exists {
				return c == nil, nil
			}
			p, ok := obj.(*v1alpha1.Performer)
			if !ok {
				return false, errors.Errorf(errFmtStoreType, obj)
			}
			return eval(p)
		},
		func(e watch.Event) (bool, error) {
			switch e.Type { //nolint:exhaustive // Bookmarks and errors carry no state to judge.
			case watch.Deleted:
				return absent()
			case watch.Added, watch.Modified:
				if p, ok := e.Object.(*v1alpha1.Performer); ok {
					return eval(p)
				}
			}
			return false, nil
		})
	switch {
	case err == nil:
		return last, nil
	case ctx.Err() != nil:
		return last, errors.Wrapf(ctx.Err(), errFmtWait, m.namespace, name, what)
	case wctx.Err() != nil:
		return last, &TimeoutError{Namespace: m.namespace, Name: name, After: timeout, Waiting: what, LastSeen: describe(last)}
	}
	var ce *ConditionError
	if errors.As(err, &ce) {
		return last, err
	}
	if deleted {
		// absent's own error says what happened.
		return nil, err
	}
	return last, errors.Wrapf(err, errFmtWait, m.namespace, name, what)
}

// listWatch lists and watches the one Performer called name.
func (m *KubernetesPerformerManager) listWatch(name string) cache.ListerWatcher {
	sel := fields.OneTermEqualSelector("metadata.name", name)
	return &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			l := &v1alpha1.PerformerList{}
			err := m.client.List(ctx, l, &client.ListOptions{Namespace: m.namespace, FieldSelector: sel, Raw: &o})
			return l, err
		},
		WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
			return m.client.Watch(ctx, &v1alpha1.PerformerList{}, &client.ListOptions{Namespace: m.namespace, FieldSelector: sel, Raw: &o})
		},
	}
}

// describe summarises what a timeout error reports as last seen.
func describe(p *v1alpha1.Performer) string {
	if p == nil {
		return notSeen
	}
	parts := []string{fmt.Sprintf(describePhaseFmt, p.Status.Phase, p.Status.Ready, p.Status.GRPCEndpoint)}
	if a := p.Status.Active; a != nil {
		parts = append(parts, "active version "+a.Version)
	}
	for _, c := range p.Status.Conditions {
		if c.Status == conditionTrue || c.Type == v1alpha1.ConditionAvailable || c.Reason != "" {
			parts = append(parts, fmt.Sprintf(describeCondFmt, c.Type, c.Status, strings.TrimSpace(c.Reason+" "+c.Message)))
		}
	}
	return strings.Join(parts, describeSep)
}

// degraded returns the Performer's Degraded condition as an error when it is
// True and belongs to this wait: it changed at or after since, or it is
// about the revision being waited for (fresh reports it so). A Degraded
// condition left from an earlier failure is not this wait's failure.
func degraded(p *v1alpha1.Performer, since time.Time, fresh func(*v1alpha1.Performer) bool) error {
	for _, c := range p.Status.Conditions {
		if c.Type != v1alpha1.ConditionDegraded || c.Status != conditionTrue {
			continue
		}
		// Condition times have second precision.
		if !c.LastTransitionTime.Time.Before(since.Truncate(time.Second)) || (fresh != nil && fresh(p)) {
			return &ConditionError{Namespace: p.Namespace, Name: p.Name, Type: c.Type, Reason: c.Reason, Message: c.Message}
		}
	}
	return nil
}

// serving reports whether the performer's serving revision answers through
// its Service. The composition function writes status.ready and Crossplane
// the Ready condition, both on the Performer itself, each from what it
// observed of the serving revision; requiring both never reports a
// performer serving while either says it is not.
func serving(p *v1alpha1.Performer) bool {
	return p.Status.Ready && meta.IsStatusConditionTrue(p.Status.Conditions, string(xpv2.TypeReady))
}

// running is done once the performer serves at an endpoint, whatever its
// phase (an upgrade started by a spec change keeps the previous revision
// serving), and fails on a Degraded condition of this start.
func running(since time.Time) check {
	return func(p *v1alpha1.Performer) (bool, error) {
		if err := degraded(p, since, nil); err != nil {
			return false, err
		}
		return serving(p) && p.Status.GRPCEndpoint != "", nil
	}
}

// upgraded is done once the blue-green upgrade to version has finished:
// Running and serving, the active revision is of that version and, when the
// upgrade started in this call, lastUpgrade moved past before. It fails on a
// Degraded condition of this upgrade.
func upgraded(version string, since time.Time, before *metav1.Time, mustAdvance bool) check {
	target := func(p *v1alpha1.Performer) bool {
		return p.Status.Target != nil && p.Status.Target.Version == version
	}
	return func(p *v1alpha1.Performer) (bool, error) {
		// While the platform still targets another version, a Degraded
		// condition is about that one, however recent.
		if t := p.Status.Target; t == nil || t.Version == version {
			if err := degraded(p, since, target); err != nil {
				return false, err
			}
		}
		s := p.Status
		if s.Phase != v1alpha1.PhaseRunning || !serving(p) || s.Active == nil || s.Active.Version != version {
			return false, nil
		}
		if !mustAdvance {
			return true, nil
		}
		return s.LastUpgrade != nil && (before == nil || s.LastUpgrade.After(before.Time)), nil
	}
}
