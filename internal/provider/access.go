package provider

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/crossplane/crossplane-runtime/v2/pkg/errors"
	"github.com/crossplane/crossplane-runtime/v2/pkg/event"
	"github.com/crossplane/crossplane-runtime/v2/pkg/logging"

	hourglass "github.com/hourglass-xp/crossplane-hourglass/apis/hourglass/v1alpha1"
)

const (
	errListPerformers = "cannot list Performers"
	errReview         = "cannot create SubjectAccessReview"

	// DefaultAccessCheckInterval is how often Performers that are not Ready
	// are checked.
	DefaultAccessCheckInterval = 30 * time.Second
)

// Access is one permission Crossplane needs in a Performer's namespace.
type Access struct {
	Group    string
	Resource string
	Verb     string
}

func (a Access) String() string {
	if a.Group == "" {
		return a.Verb + " " + a.Resource
	}
	return a.Verb + " " + a.Resource + "." + a.Group
}

func accesses(group, resource string, verbs ...string) []Access {
	out := make([]Access, 0, len(verbs))
	for _, v := range verbs {
		out = append(out, Access{Group: group, Resource: resource, Verb: v})
	}
	return out
}

// ComposeAccess is what Crossplane does in a Performer's namespace to
// compose it with the shipped Composition: manage its Deployments, Service,
// connection Secret, NetworkPolicy and PodDisruptionBudget (created,
// server-side applied, watched, deleted) and read its pods and their nodes
// for the function. Crossplane's own chart grants the first three;
// package/rbac/crossplane-rbac.yaml the others. Nodes are cluster-scoped: a
// review in the namespace is allowed by the cluster-wide grant they need.
var ComposeAccess = slices.Concat(
	accesses("apps", "deployments", "get", "list", "watch", "create", "update", "patch", "delete"),
	accesses("", "services", "get", "list", "watch", "create", "update", "patch", "delete"),
	accesses("", "secrets", "get", "list", "watch", "create", "update", "patch", "delete"),
	accesses("networking.k8s.io", "networkpolicies", "get", "list", "watch", "create", "update", "patch", "delete"),
	accesses("", "pods", "get", "list", "watch"),
	accesses("policy", "poddisruptionbudgets", "get", "list", "watch", "create", "update", "patch", "delete"),
	accesses("", "nodes", "get", "list", "watch"),
)

// Reviewer answers whether a user may do something in a namespace.
type Reviewer interface {
	Allowed(ctx context.Context, user string, a Access, namespace string) (bool, error)
}

// SubjectAccessReviewer asks the API server's authorizer with
// SubjectAccessReviews, the question `kubectl auth can-i --as` asks.
type SubjectAccessReviewer struct {
	Client client.Client
}

// Allowed creates a SubjectAccessReview for user.
func (r SubjectAccessReviewer) Allowed(ctx context.Context, user string, a Access, namespace string) (bool, error) {
	sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
		User:   user,
		Groups: serviceAccountGroups(user),
		ResourceAttributes: &authorizationv1.ResourceAttributes{
			Namespace: namespace, Group: a.Group, Resource: a.Resource, Verb: a.Verb,
		},
	}}
	if err := r.Client.Create(ctx, sar); err != nil {
		return false, errors.Wrap(err, errReview)
	}
	return sar.Status.Allowed, nil
}

// serviceAccountGroups are the groups the API server puts a ServiceAccount
// in; a review without them misses rules bound to those groups.
func serviceAccountGroups(user string) []string {
	const prefix = "system:serviceaccount:"
	ns, _, ok := strings.Cut(strings.TrimPrefix(user, prefix), ":")
	if !ok || !strings.HasPrefix(user, prefix) {
		return nil
	}
	return []string{"system:serviceaccounts", "system:serviceaccounts:" + ns, "system:authenticated"}
}

// AccessChecker tells the owners of Performers that are not Ready when
// Crossplane's ServiceAccount may not compose them. Crossplane itself
// reports a missing permission on the Performer once, and then only as an
// informer that never syncs, while the Performer just waits; a Warning
// event on the Performer names what is missing and the fix.
type AccessChecker struct {
	// Reader lists Performers. An uncached reader: they are listed once per
	// interval, and the Performer kind may not exist yet when the provider
	// starts (the Configuration's definition makes it).
	Reader   client.Reader
	Reviewer Reviewer
	Record   event.Recorder
	Log      logging.Logger
	// User is Crossplane's ServiceAccount as a user name,
	// system:serviceaccount:NAMESPACE:NAME.
	User     string
	Need     []Access
	Interval time.Duration
}

// Start checks every interval until ctx is done. It is a manager Runnable.
func (c *AccessChecker) Start(ctx context.Context) error {
	interval := c.Interval
	if interval <= 0 {
		interval = DefaultAccessCheckInterval
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if err := c.Check(ctx); err != nil {
			c.Log.Info("Cannot check Crossplane's access", "error", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// NeedLeaderElection makes only the leader emit events.
func (c *AccessChecker) NeedLeaderElection() bool { return true }

// Check reviews Crossplane's access in each namespace with a Performer that
// is not Ready, and records a Warning event on each such Performer where
// something is missing.
func (c *AccessChecker) Check(ctx context.Context) error {
	l := &hourglass.PerformerList{}
	if err := c.Reader.List(ctx, l); err != nil {
		return errors.Wrap(err, errListPerformers)
	}
	// Crossplane is normally granted everything cluster-wide (its chart's
	// ClusterRoleBinding), and then one review per permission answers for
	// every namespace, instead of one per permission and namespace with a
	// Performer that is not Ready. Only what is missing cluster-wide is
	// asked per namespace, where a RoleBinding may grant it.
	var clusterMissing []Access
	clusterChecked := false
	missing := map[string][]Access{}
	for i := range l.Items {
		p := &l.Items[i]
		if meta.IsStatusConditionTrue(p.Status.Conditions, "Ready") {
			continue
		}
		if !clusterChecked {
			var err error
			if clusterMissing, err = c.missing(ctx, metav1.NamespaceAll, c.Need); err != nil {
				return err
			}
			clusterChecked = true
		}
		m, checked := missing[p.Namespace]
		if !checked {
			var err error
			if m, err = c.missing(ctx, p.Namespace, clusterMissing); err != nil {
				return err
			}
			missing[p.Namespace] = m
		}
		if len(m) > 0 {
			c.Record.Event(p, event.Warning(hourglass.EventCrossplaneAccessDenied, errors.New(DeniedMessage(c.User, p.Namespace, m))))
		}
	}
	return nil
}

// missing returns what of need the user may not do in the namespace; in
// every namespace when it is metav1.NamespaceAll.
func (c *AccessChecker) missing(ctx context.Context, namespace string, need []Access) ([]Access, error) {
	var out []Access
	for _, a := range need {
		ok, err := c.Reviewer.Allowed(ctx, c.User, a, namespace)
		if err != nil {
			return nil, err
		}
		if !ok {
			out = append(out, a)
		}
	}
	return out, nil
}

// DeniedMessage says who may not do what where, grouped by resource, and
// how to fix it.
func DeniedMessage(user, namespace string, missing []Access) string {
	var parts []string
	var verbs []string
	for i, a := range missing {
		verbs = append(verbs, a.Verb)
		if i+1 < len(missing) && missing[i+1].Group == a.Group && missing[i+1].Resource == a.Resource {
			continue
		}
		r := a.Resource
		if a.Group != "" {
			r += "." + a.Group
		}
		parts = append(parts, strings.Join(verbs, ", ")+" "+r)
		verbs = nil
	}
	return fmt.Sprintf("Crossplane (%s) may not %s in namespace %s, so it cannot compose this performer: "+
		"grant it with a ClusterRole aggregated to Crossplane (package/rbac/crossplane-rbac.yaml)",
		user, strings.Join(parts, "; "), namespace)
}

// ServiceAccountUser is the user name of a ServiceAccount given as
// NAMESPACE/NAME.
func ServiceAccountUser(nn types.NamespacedName) string {
	return "system:serviceaccount:" + nn.Namespace + ":" + nn.Name
}
