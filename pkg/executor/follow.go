package executor

import (
	"context"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/cache"
	watchtools "k8s.io/client-go/tools/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/hourglass-xp/crossplane-hourglass/apis/hourglass/v1alpha1"
	"github.com/hourglass-xp/crossplane-hourglass/internal/names"
)

// FollowUpgrades watches the executor's Performers until ctx ends and switches
// a performer's client over to a fresh connection whenever its active
// revision or endpoint changes: upgrades made by someone else than this
// manager (GitOps, another executor replica, kubectl) reach the client as
// UpgradePerformer's do. Run it in its own goroutine; it returns ctx's error.
func (m *KubernetesPerformerManager) FollowUpgrades(ctx context.Context) error {
	sel := client.MatchingLabels{LabelExecutor: names.LabelValue(m.executor)}
	lw := &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			l := &v1alpha1.PerformerList{}
			return l, m.client.List(ctx, l, client.InNamespace(m.namespace), sel, &client.ListOptions{Raw: &o})
		},
		WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
			return m.client.Watch(ctx, &v1alpha1.PerformerList{}, client.InNamespace(m.namespace), sel, &client.ListOptions{Raw: &o})
		},
	}
	_, err := watchtools.UntilWithSync(ctx, lw, &v1alpha1.Performer{}, nil, func(e watch.Event) (bool, error) {
		if p, ok := e.Object.(*v1alpha1.Performer); ok && e.Type == watch.Modified {
			m.follow(ctx, p)
		}
		return false, nil
	})
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// follow switches a client over when its Performer's active revision or
// endpoint moved since the client last saw it and the performer serves.
func (m *KubernetesPerformerManager) follow(ctx context.Context, p *v1alpha1.Performer) {
	m.mu.Lock()
	k, ok := m.performers[strings.ToLower(p.Spec.AVSAddress)]
	m.mu.Unlock()
	if !ok || !serving(p) {
		return
	}
	prev := k.Performer()
	if prev == nil || (revisionOf(prev) == revisionOf(p) && prev.Status.GRPCEndpoint == p.Status.GRPCEndpoint) {
		k.setPerformer(p)
		return
	}
	ep, err := m.endpoint(ctx, p)
	if err != nil {
		return
	}
	// A refused switch-over (the new revision is not healthy for this
	// executor) keeps calls on the connection that works, and the client
	// keeps its old view of the Performer, so its next change tries again.
	if k.SwitchOver(ctx, ep) == nil {
		k.setPerformer(p)
	}
}

func revisionOf(p *v1alpha1.Performer) string {
	if p.Status.Active == nil {
		return ""
	}
	return p.Status.Active.Revision
}
