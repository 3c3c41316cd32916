//go:build e2e

// Package e2e holds live tests against the local stack (make e2e): a real
// API server with kwok nodes, Crossplane core installing the packages from a
// registry, and the composition function as a process. The tests talk to the
// API server through the stack's kubeconfig. The only one that dials a
// performer does it from inside the stack's private network namespace (see
// probe_test.go): nothing here dials a pod or Service IP from the host.
package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/crossplane/crossplane-runtime/v2/pkg/xcrd"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/hourglass-xp/crossplane-hourglass/apis/hourglass/v1alpha1"
	observev1alpha1 "github.com/hourglass-xp/crossplane-hourglass/apis/observe/v1alpha1"
	"github.com/hourglass-xp/crossplane-hourglass/internal/names"
)

const (
	// stable is how long a performer must stay Ready before a test believes
	// it: Crossplane flaps Ready under load, so "first Ready" proves little.
	stable = 8 * time.Second
	// settle bounds how long a performer may take to become Ready and stable.
	settle = 6 * time.Minute
	poll   = 500 * time.Millisecond
)

// performerGVK is the namespaced composite's kind: there is no performer and no
// cluster-scoped XR any more.
var performerGVK = v1alpha1.PerformerGroupVersionKind

// env is what every test needs: a client, the kubeconfig and the repo root.
type env struct {
	c          client.Client
	kubeconfig string
	root       string
}

func setup(t *testing.T) *env {
	t.Helper()
	kc := os.Getenv("KUBECONFIG")
	if kc == "" {
		t.Fatal("KUBECONFIG is not set; run the tests with make e2e")
	}
	root := os.Getenv("REPO_ROOT")
	if root == "" {
		root = "../.."
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", kc)
	if err != nil {
		t.Fatalf("cannot load kubeconfig %s: %v", kc, err)
	}
	cfg.QPS, cfg.Burst = 50, 100
	s := runtime.NewScheme()
	_ = corev1.AddToScheme(s)
	_ = appsv1.AddToScheme(s)
	_ = networkingv1.AddToScheme(s)
	_ = discoveryv1.AddToScheme(s)
	_ = policyv1.AddToScheme(s)
	c, err := client.New(cfg, client.Options{Scheme: s})
	if err != nil {
		t.Fatalf("cannot make a client: %v", err)
	}
	return &env{c: c, kubeconfig: kc, root: root}
}

// kubectl runs kubectl against the stack and returns stdout and stderr.
func (e *env) kubectl(ctx context.Context, stdin []byte, args ...string) (string, string, error) {
	return e.run(ctx, stdin, "kubectl", args...)
}

func (e *env) run(ctx context.Context, stdin []byte, name string, args ...string) (string, string, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+e.kubeconfig)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	return out.String(), errb.String(), err
}

// mustKubectl runs kubectl and fails the test on error.
func (e *env) mustKubectl(t *testing.T, stdin []byte, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, errs, err := e.kubectl(ctx, stdin, args...)
	if err != nil {
		t.Fatalf("kubectl %s: %v\n%s%s", strings.Join(args, " "), err, out, errs)
	}
	return out
}

// ensureNamespace creates a namespace for performers. Every one enforces Pod
// Security "restricted", as a careful platform's would: every performer the
// tests make must be admitted there.
func (e *env) ensureNamespace(t *testing.T, ns string) {
	t.Helper()
	y := fmt.Sprintf("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: %s\n  labels:\n    pod-security.kubernetes.io/enforce: restricted\n", ns)
	e.mustKubectl(t, []byte(y), "apply", "-f", "-")
}

// manifest is a Performer read from a file or built by a test.
type manifest struct {
	obj  *unstructured.Unstructured
	file string
}

func (m manifest) name() string      { return m.obj.GetName() }
func (m manifest) namespace() string { return m.obj.GetNamespace() }
func (m manifest) String() string    { return m.namespace() + "/" + m.name() }

// readManifests reads every Performer in the YAML files matching glob.
func readManifests(t *testing.T, glob string) []manifest {
	t.Helper()
	files, err := filepath.Glob(glob)
	if err != nil || len(files) == 0 {
		t.Fatalf("no files match %s", glob)
	}
	var out []manifest
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, doc := range strings.Split(string(b), "\n---") {
			u := &unstructured.Unstructured{}
			if err := yaml.Unmarshal([]byte(doc), &u.Object); err != nil || u.Object == nil {
				continue
			}
			if u.GetKind() == "Performer" {
				out = append(out, manifest{obj: u, file: f})
			}
		}
	}
	return out
}

// apply creates or updates a performer (its namespace first).
func (e *env) apply(t *testing.T, m manifest) {
	t.Helper()
	e.ensureNamespace(t, m.namespace())
	b, err := yaml.Marshal(m.obj.Object)
	if err != nil {
		t.Fatal(err)
	}
	// Tests that share the example performers may apply one at the same moment:
	// both see it missing and both create it. The loser's retry updates it.
	for try := 1; ; try++ {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		out, errs, err := e.kubectl(ctx, b, "apply", "-f", "-")
		cancel()
		if err == nil {
			return
		}
		if try == 3 || !strings.Contains(errs, "AlreadyExists") {
			t.Fatalf("kubectl apply -f -: %v\n%s%s", err, out, errs)
		}
	}
}

// get reads a performer; nil when it does not exist.
func (e *env) get(ctx context.Context, ns, name string) (*unstructured.Unstructured, error) {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(performerGVK)
	err := e.c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, u)
	if client.IgnoreNotFound(err) != nil {
		return nil, err
	}
	if err != nil {
		return nil, nil
	}
	return u, nil
}

// condition returns the status, reason and message of a condition.
func condition(u *unstructured.Unstructured, typ string) (status, reason, message string) {
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, c := range conds {
		m, ok := c.(map[string]any)
		if !ok || m["type"] != typ {
			continue
		}
		s, _ := m["status"].(string)
		r, _ := m["reason"].(string)
		msg, _ := m["message"].(string)
		return s, r, msg
	}
	return "", "", ""
}

func describe(u *unstructured.Unstructured) string {
	if u == nil {
		return "<absent>"
	}
	st, _, _ := unstructured.NestedMap(u.Object, "status")
	b, _ := yaml.Marshal(st)
	return string(b)
}

// eventually polls f until it returns nil or the timeout passes, and then
// fails with f's last error.
func eventually(t *testing.T, timeout time.Duration, what string, f func(ctx context.Context) error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var last error
	for {
		if last = f(ctx); last == nil {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s: not within %s: %v", what, timeout, last)
		case <-time.After(poll):
		}
	}
}

// steadily polls f until it has returned nil at every poll for the whole of
// hold, within timeout; any failure restarts the hold. It proves a state is
// stable, not just reached once.
func steadily(t *testing.T, timeout, hold time.Duration, what string, f func(ctx context.Context) error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var since time.Time
	var last error
	for {
		if err := f(ctx); err != nil {
			since, last = time.Time{}, err
		} else if since.IsZero() {
			since = time.Now()
		} else if time.Since(since) >= hold {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s: not stable for %s within %s; last: %v", what, hold, timeout, last)
		case <-time.After(poll):
		}
	}
}

// readyAndStable waits until the performer is Synced and Ready, with
// status.ready true, and stays so.
func (e *env) readyAndStable(t *testing.T, ns, name string) *unstructured.Unstructured {
	t.Helper()
	var u *unstructured.Unstructured
	steadily(t, settle, stable, fmt.Sprintf("performer %s/%s Ready", ns, name), func(ctx context.Context) error {
		var err error
		if u, err = e.existing(ctx, ns, name); err != nil {
			return err
		}
		return readyNow(u)
	})
	return u
}

// readyNow returns nil when the performer is Synced and Ready and its
// status.ready, which executors poll, agrees.
func readyNow(u *unstructured.Unstructured) error {
	for _, typ := range []string{"Synced", "Ready"} {
		if s, r, m := condition(u, typ); s != "True" {
			return fmt.Errorf("%s=%q (%s: %s); status:\n%s", typ, s, r, m, describe(u))
		}
	}
	if ready, ok, _ := unstructured.NestedBool(u.Object, "status", "ready"); !ok || !ready {
		return fmt.Errorf("Ready=True but status.ready is %t (set: %t); status:\n%s", ready, ok, describe(u))
	}
	return nil
}

// deployments lists the Deployments of a performer by its identity label.
func (e *env) deployments(ctx context.Context, ns, performer string) ([]appsv1.Deployment, error) {
	l := &appsv1.DeploymentList{}
	err := e.c.List(ctx, l, client.InNamespace(ns), client.MatchingLabels{names.LabelPerformerName: performer})
	return l.Items, err
}

func (e *env) pods(ctx context.Context, ns, performer string) ([]corev1.Pod, error) {
	l := &corev1.PodList{}
	err := e.c.List(ctx, l, client.InNamespace(ns), client.MatchingLabels{names.LabelPerformerName: performer})
	return l.Items, err
}

// deletePerformer deletes a performer and waits until it and what it
// composed are gone.
func (e *env) deletePerformer(t *testing.T, ns, name string) {
	t.Helper()
	e.mustKubectl(t, nil, "-n", ns, "delete", "performer", name, "--ignore-not-found", "--wait=false")
	e.waitGone(t, ns, name, "")
}

// waitGone waits, bounded, until the performer and everything composed for
// it (and, when uid is set, everything it owns) are gone.
func (e *env) waitGone(t *testing.T, ns, name string, uid types.UID) {
	t.Helper()
	eventually(t, 3*time.Minute, fmt.Sprintf("performer %s/%s and its resources deleted", ns, name), func(ctx context.Context) error {
		return e.gone(ctx, ns, name, uid)
	})
}

// composedKinds are what every performer here has while it runs: the
// function's Deployment, Service, connection Secret and PodDisruptionBudget,
// the provider's PerformerEndpoint, and the ReplicaSet and pod Kubernetes
// makes.
var composedKinds = []string{"Deployment", "ReplicaSet", "Pod", "Service", "Secret", "PodDisruptionBudget", observev1alpha1.PerformerEndpointKind}

// leftoverLists are the kinds a performer's deletion must leave none of in
// its namespace: what the function composes (Deployments, the Service, the
// connection Secret, the NetworkPolicy, the PodDisruptionBudget,
// PerformerEndpoints, which the provider's finalizer holds) and what
// Kubernetes makes from them.
func leftoverLists() []client.ObjectList {
	eps := &unstructured.UnstructuredList{}
	eps.SetGroupVersionKind(performerEndpointGVK.GroupVersion().WithKind(observev1alpha1.PerformerEndpointListKind))
	return []client.ObjectList{
		&appsv1.DeploymentList{}, &appsv1.ReplicaSetList{}, &corev1.PodList{}, &corev1.ServiceList{},
		&corev1.SecretList{}, &networkingv1.NetworkPolicyList{}, &policyv1.PodDisruptionBudgetList{}, eps,
	}
}

// gone reports an error while the performer, or anything in its namespace
// that belongs to it, still exists.
func (e *env) gone(ctx context.Context, ns, name string, uid types.UID) error {
	if u, err := e.get(ctx, ns, name); err != nil {
		return err
	} else if u != nil {
		return fmt.Errorf("performer still exists (finalizers %v, deletionTimestamp %v)", u.GetFinalizers(), u.GetDeletionTimestamp())
	}
	left, err := e.leftovers(ctx, ns, name, uid)
	if err != nil {
		return err
	}
	if len(left) > 0 {
		return fmt.Errorf("%d objects of %s/%s left: %v", len(left), ns, name, left)
	}
	return nil
}

// leftovers lists, as "Kind/name", what in the namespace belongs to the
// performer: labelled by Crossplane as composed for it, labelled by the
// function with its name, or (when uid is set) owned by it, whatever its
// labels.
func (e *env) leftovers(ctx context.Context, ns, name string, uid types.UID) ([]string, error) {
	var left []string
	for _, l := range leftoverLists() {
		if err := e.c.List(ctx, l, client.InNamespace(ns)); err != nil {
			return nil, err
		}
		items, err := apimeta.ExtractList(l)
		if err != nil {
			return nil, err
		}
		for _, o := range items {
			m, err := apimeta.Accessor(o)
			if err != nil {
				return nil, err
			}
			if belongs(m, name, uid) {
				left = append(left, kindOf(l)+"/"+m.GetName())
			}
		}
	}
	return left, nil
}

// kindOf is the kind of a list's items.
func kindOf(l client.ObjectList) string {
	if u, ok := l.(*unstructured.UnstructuredList); ok {
		return strings.TrimSuffix(u.GetKind(), "List")
	}
	return strings.TrimSuffix(strings.TrimPrefix(fmt.Sprintf("%T", l), "*v1."), "List")
}

// seesComposed fails unless leftovers, before the performer's deletion,
// finds each of the kinds it composes: a check of "nothing left" that sees
// nothing would pass for the wrong reason.
func (e *env) seesComposed(t *testing.T, ns, name string, uid types.UID, kinds ...string) {
	t.Helper()
	left, err := e.leftovers(t.Context(), ns, name, uid)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range kinds {
		if !slices.ContainsFunc(left, func(s string) bool { return strings.HasPrefix(s, k+"/") }) {
			t.Fatalf("before deletion no %s of %s/%s is found among %v: the check for leftovers would see nothing", k, ns, name, left)
		}
	}
}

// belongs reports whether o was composed for the named performer, carries
// its name, or is owned by uid.
func belongs(o metav1.Object, name string, uid types.UID) bool {
	l := o.GetLabels()
	if l[xcrd.LabelKeyNamePrefixForComposed] == name || l[names.LabelPerformerName] == names.LabelValue(name) {
		return true
	}
	for _, ref := range o.GetOwnerReferences() {
		if uid != "" && ref.UID == uid {
			return true
		}
	}
	return false
}

// newPerformer builds a performer for tests that need their own.
func newPerformer(ns, name string, spec map[string]any) manifest {
	u := &unstructured.Unstructured{Object: map[string]any{"spec": spec}}
	u.SetGroupVersionKind(performerGVK)
	u.SetNamespace(ns)
	u.SetName(name)
	return manifest{obj: u}
}
