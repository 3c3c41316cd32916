package provider

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	extv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	kyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/crossplane/crossplane-runtime/v2/pkg/event"
	"github.com/crossplane/crossplane-runtime/v2/pkg/logging"

	hourglass "github.com/hourglass-xp/crossplane-hourglass/apis/hourglass/v1alpha1"
	"github.com/hourglass-xp/crossplane-hourglass/internal/testtools"
)

func TestDeniedMessage(t *testing.T) {
	type args struct {
		missing []Access
	}
	cases := map[string]struct {
		reason string
		args   args
		want   string
	}{
		"GroupedByResource": {
			reason: "Verbs of one resource are listed together, resources of an API group carry it.",
			args: args{missing: []Access{
				{Group: "networking.k8s.io", Resource: "networkpolicies", Verb: "create"},
				{Group: "networking.k8s.io", Resource: "networkpolicies", Verb: "patch"},
				{Resource: "pods", Verb: "list"},
			}},
			want: "Crossplane (system:serviceaccount:crossplane-system:crossplane) may not create, patch networkpolicies.networking.k8s.io; list pods " +
				"in namespace avs, so it cannot compose this performer: grant it with a ClusterRole aggregated to Crossplane (package/rbac/crossplane-rbac.yaml)",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := DeniedMessage("system:serviceaccount:crossplane-system:crossplane", "avs", tc.args.missing)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s\nDeniedMessage(...): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestServiceAccountUser(t *testing.T) {
	got := ServiceAccountUser(types.NamespacedName{Namespace: "crossplane-system", Name: "crossplane"})
	if want := "system:serviceaccount:crossplane-system:crossplane"; got != want {
		t.Errorf("ServiceAccountUser: want %q, got %q", want, got)
	}
	if diff := cmp.Diff([]string{"system:serviceaccounts", "system:serviceaccounts:crossplane-system", "system:authenticated"}, serviceAccountGroups(got)); diff != "" {
		t.Errorf("serviceAccountGroups: -want, +got:\n%s", diff)
	}
	if g := serviceAccountGroups("alice"); g != nil {
		t.Errorf("serviceAccountGroups(alice): want none, got %v", g)
	}
}

// events records the events the checker emits.
type events struct{ got map[string][]event.Event }

func (e *events) Event(o runtime.Object, ev event.Event) {
	m, _ := o.(metav1.Object)
	e.got[m.GetNamespace()+"/"+m.GetName()] = append(e.got[m.GetNamespace()+"/"+m.GetName()], ev)
}
func (e *events) WithAnnotations(...string) event.Recorder { return e }

// TestAccessCheckerEnvtest runs the check against a real API server as the
// provider's ServiceAccount with the shipped RBAC, reviewing what
// Crossplane's ServiceAccount may do under real RBAC: first with nothing
// granted (the Performer that is not Ready gets an event naming what is
// missing), then with Crossplane's own chart rules and the project's
// ClusterRole (no event).
func TestAccessCheckerEnvtest(t *testing.T) {
	api := startAPIServer(t, performerCRD(t))
	admin := api.admin
	asProvider, err := client.New(api.provider, client.Options{Scheme: api.scheme})
	if err != nil {
		t.Fatal(err)
	}

	ctx := context.Background()
	spec := hourglass.PerformerSpec{AVSAddress: "0x1234567890abcdef1234567890abcdef12345678", Image: "avs/performer:v1"}
	for _, o := range []client.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "avs"}},
		&hourglass.Performer{ObjectMeta: metav1.ObjectMeta{Namespace: "avs", Name: "waiting"}, Spec: spec},
		&hourglass.Performer{ObjectMeta: metav1.ObjectMeta{Namespace: "avs", Name: "ready"}, Spec: spec},
	} {
		if err := admin.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	ready := &hourglass.Performer{}
	if err := admin.Get(ctx, types.NamespacedName{Namespace: "avs", Name: "ready"}, ready); err != nil {
		t.Fatal(err)
	}
	ready.Status.Ready = true
	ready.Status.Conditions = []metav1.Condition{{Type: "Ready", Status: metav1.ConditionTrue, Reason: "Available", LastTransitionTime: metav1.Now()}}
	if err := admin.Status().Update(ctx, ready); err != nil {
		t.Fatal(err)
	}

	rec := &events{got: map[string][]event.Event{}}
	c := &AccessChecker{
		Reader:   asProvider,
		Reviewer: SubjectAccessReviewer{Client: asProvider},
		Record:   rec,
		Log:      logging.NewNopLogger(),
		User:     "system:serviceaccount:crossplane-system:crossplane",
		Need:     ComposeAccess,
		Interval: time.Hour,
	}

	if err := c.Check(ctx); err != nil {
		t.Fatalf("Check as the provider's ServiceAccount: %v", err)
	}
	if n := len(rec.got["avs/ready"]); n != 0 {
		t.Errorf("the Ready Performer got %d events, want none: a working performer is not checked", n)
	}
	got := rec.got["avs/waiting"]
	if len(got) != 1 || got[0].Reason != hourglass.EventCrossplaneAccessDenied || got[0].Type != event.TypeWarning {
		t.Fatalf("the waiting Performer got %+v, want one Warning %s", got, hourglass.EventCrossplaneAccessDenied)
	}
	for _, s := range []string{
		"create, update, patch, delete networkpolicies.networking.k8s.io", "get, list, watch pods",
		"get, list, watch, create, update, patch, delete secrets", "deployments.apps", "in namespace avs",
	} {
		if !strings.Contains(got[0].Message, s) {
			t.Errorf("the event does not say %q:\n%s", s, got[0].Message)
		}
	}

	// What a real install grants: the rules of Crossplane's own chart
	// (Deployments, Services, the connection Secret), bound directly as no
	// aggregation controller runs in envtest, and the project's
	// ClusterRole. First the project's rules only in namespace avs (a
	// RoleBinding), so the checker must ask per namespace for what is
	// missing cluster-wide; a Performer in another namespace still lacks
	// them.
	testtools.CreateFromFile(t, admin, "package/rbac/crossplane-rbac.yaml")
	chart := chartClusterRole(t)
	crossplaneSA := []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Namespace: "crossplane-system", Name: "crossplane"}}
	for _, o := range []client.Object{
		chart,
		&rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "chart-crossplane"}, Subjects: crossplaneSA,
			RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: chart.Name}},
		&rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: "avs", Name: "crossplane:hourglass-performer"}, Subjects: crossplaneSA,
			RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "crossplane:hourglass-performer"}},
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "other"}},
		&hourglass.Performer{ObjectMeta: metav1.ObjectMeta{Namespace: "other", Name: "waiting"}, Spec: spec},
	} {
		if err := admin.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	rec.got = map[string][]event.Event{}
	if err := c.Check(ctx); err != nil {
		t.Fatal(err)
	}
	if got := rec.got["avs/waiting"]; len(got) != 0 {
		t.Errorf("granted in its namespace by a RoleBinding, want no event, got %+v", got)
	}
	other := rec.got["other/waiting"]
	if len(other) != 1 || !strings.Contains(other[0].Message, "get, list, watch pods") ||
		strings.Contains(other[0].Message, "deployments") || strings.Contains(other[0].Message, "secrets") {
		t.Errorf("in a namespace without the RoleBinding, want one event naming pods and neither deployments nor secrets (the chart grants them cluster-wide), got %+v", other)
	}

	b := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "crossplane:hourglass-performer"}, Subjects: crossplaneSA,
		RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "crossplane:hourglass-performer"}}
	if err := admin.Create(ctx, b); err != nil {
		t.Fatal(err)
	}
	rec.got = map[string][]event.Event{}
	if err := c.Check(ctx); err != nil {
		t.Fatal(err)
	}
	if len(rec.got) != 0 {
		t.Errorf("with the chart's and the project's rules, want no event, got %+v", rec.got)
	}
}

// performerCRD is the CRD Crossplane makes of the Performer definition, a
// namespaced v2 composite, for an API server without Crossplane.
func performerCRD(t *testing.T) *extv1.CustomResourceDefinition {
	t.Helper()
	crd, err := testtools.PerformerCRD(filepath.Join(testtools.RepoRoot(t), testtools.PerformerXRD))
	if err != nil {
		t.Fatal(err)
	}
	return crd
}

// chartRulesRole is the ClusterRole of Crossplane's Helm chart that holds
// its rules; the chart aggregates it into ClusterRole crossplane.
const chartRulesRole = "crossplane:system:aggregate-to-crossplane"

// chartClusterRole renders Crossplane's own Helm chart, from the core module
// the local stack runs, and returns the ClusterRole holding its rules: what
// a real install grants Crossplane, not a copy of it.
func chartClusterRole(t *testing.T) *rbacv1.ClusterRole {
	t.Helper()
	helm := testtools.Bin(t, "helm")
	list := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/crossplane/crossplane/v2")
	list.Dir = filepath.Join(testtools.RepoRoot(t), "cluster", "tools", "crossplane-core")
	// As cluster/cluster.mk finds the chart.
	list.Env = append(os.Environ(), "GOFLAGS=-mod=mod")
	dir, err := list.Output()
	if err != nil {
		t.Fatalf("cannot find Crossplane core's module: %v", err)
	}
	chart := filepath.Join(strings.TrimSpace(string(dir)), "cluster", "charts", "crossplane")
	tmp := t.TempDir()
	render := exec.Command(helm, "template", "crossplane", chart, "--namespace", "crossplane-system", "--show-only", "templates/clusterrole.yaml")
	render.Env = append(os.Environ(), "HELM_CACHE_HOME="+tmp, "HELM_CONFIG_HOME="+tmp, "HELM_DATA_HOME="+tmp)
	out, err := render.Output()
	if err != nil {
		t.Fatalf("helm template %s: %v", chart, err)
	}
	d := kyaml.NewYAMLOrJSONDecoder(bytes.NewReader(out), 4096)
	for {
		cr := &rbacv1.ClusterRole{}
		if err := d.Decode(cr); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("cannot parse the chart's ClusterRoles: %v\n%s", err, out)
		}
		if cr.Name == chartRulesRole {
			return cr
		}
	}
	t.Fatalf("the chart renders no ClusterRole %s:\n%s", chartRulesRole, out)
	return nil
}

// countingReviewer allows what allowed says and records each question's
// namespace.
type countingReviewer struct {
	allowed func(a Access, namespace string) bool
	asked   map[string]int
}

func (r *countingReviewer) Allowed(_ context.Context, _ string, a Access, namespace string) (bool, error) {
	r.asked[namespace]++
	return r.allowed(a, namespace), nil
}

// TestAccessCheckerAsksClusterWideFirst checks the number of reviews: what
// is granted cluster-wide is asked once per check, not once per namespace.
func TestAccessCheckerAsksClusterWideFirst(t *testing.T) {
	s := runtime.NewScheme()
	if err := hourglass.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	performers := make([]client.Object, 0, 4)
	for _, ns := range []string{"a", "b", "c", "d"} {
		performers = append(performers, &hourglass.Performer{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "waiting"}})
	}
	pods := Access{Resource: "pods", Verb: "list"}

	cases := map[string]struct {
		reason  string
		allowed func(a Access, namespace string) bool
		want    map[string]int
		events  int
	}{
		"GrantedClusterWide": {
			reason:  "Everything granted cluster-wide: one review per permission, none per namespace, no event.",
			allowed: func(Access, string) bool { return true },
			want:    map[string]int{"": len(ComposeAccess)},
		},
		"PodsPerNamespace": {
			reason:  "Pods granted only in namespace b: only pods is asked per namespace; the three others get an event.",
			allowed: func(a Access, ns string) bool { return a != pods || ns == "b" },
			want:    map[string]int{"": len(ComposeAccess), "a": 1, "b": 1, "c": 1, "d": 1},
			events:  3,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			r := &countingReviewer{allowed: tc.allowed, asked: map[string]int{}}
			rec := &events{got: map[string][]event.Event{}}
			c := &AccessChecker{
				Reader:   fake.NewClientBuilder().WithScheme(s).WithObjects(performers...).Build(),
				Reviewer: r, Record: rec, Log: logging.NewNopLogger(),
				User: "system:serviceaccount:crossplane-system:crossplane", Need: ComposeAccess,
			}
			if !slices.Contains(c.Need, pods) {
				t.Fatalf("ComposeAccess has no %v; the test needs one of its permissions", pods)
			}
			if err := c.Check(context.Background()); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, r.asked); diff != "" {
				t.Errorf("%s\nreviews by namespace: -want, +got:\n%s", tc.reason, diff)
			}
			if n := len(rec.got); n != tc.events {
				t.Errorf("%s\nPerformers with an event: %d, want %d", tc.reason, n, tc.events)
			}
		})
	}
}
