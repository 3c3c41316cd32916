//go:build e2e

// Package e2e holds live tests against the local stack (make e2e): a real
// API server with kwok nodes, Crossplane core installing the packages from a
// registry, and the composition function as a process. The tests talk only
// to the API server through the stack's kubeconfig; they never dial a pod or
// Service IP.
package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/hourglass-xp/crossplane-hourglass/internal/names"
)

const (
	// stable is how long a claim must stay Ready before a test believes it:
	// Crossplane flaps Ready under load, so "first Ready" proves little.
	stable = 8 * time.Second
	// settle bounds how long a claim may take to become Ready and stable.
	settle = 6 * time.Minute
	poll   = 500 * time.Millisecond
)

var (
	performerGVK  = schema.GroupVersionKind{Group: "hourglass.eigenlayer.io", Version: "v1alpha1", Kind: "Performer"}
	xperformerGVK = schema.GroupVersionKind{Group: "hourglass.eigenlayer.io", Version: "v1alpha1", Kind: "XPerformer"}
)

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

// ensureNamespace creates a namespace for claims. Every one enforces Pod
// Security "restricted", as a careful platform's would: every performer the
// tests make must be admitted there.
func (e *env) ensureNamespace(t *testing.T, ns string) {
	t.Helper()
	y := fmt.Sprintf("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: %s\n  labels:\n    pod-security.kubernetes.io/enforce: restricted\n", ns)
	e.mustKubectl(t, []byte(y), "apply", "-f", "-")
}

// claim is a Performer claim read from a file or built by a test.
type claim struct {
	obj  *unstructured.Unstructured
	file string
}

func (c claim) name() string      { return c.obj.GetName() }
func (c claim) namespace() string { return c.obj.GetNamespace() }
func (c claim) String() string    { return c.namespace() + "/" + c.name() }

// readClaims reads every Performer in the YAML files matching glob.
func readClaims(t *testing.T, glob string) []claim {
	t.Helper()
	files, err := filepath.Glob(glob)
	if err != nil || len(files) == 0 {
		t.Fatalf("no files match %s", glob)
	}
	var out []claim
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
				out = append(out, claim{obj: u, file: f})
			}
		}
	}
	return out
}

// apply creates or updates a claim (its namespace first).
func (e *env) apply(t *testing.T, c claim) {
	t.Helper()
	e.ensureNamespace(t, c.namespace())
	b, err := yaml.Marshal(c.obj.Object)
	if err != nil {
		t.Fatal(err)
	}
	// Tests that share the example claims may apply one at the same moment:
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

// get reads a claim; nil when it does not exist.
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

// readyAndStable waits until the claim is Synced and Ready and stays so.
func (e *env) readyAndStable(t *testing.T, ns, name string) *unstructured.Unstructured {
	t.Helper()
	var u *unstructured.Unstructured
	steadily(t, settle, stable, fmt.Sprintf("claim %s/%s Ready", ns, name), func(ctx context.Context) error {
		var err error
		if u, err = e.get(ctx, ns, name); err != nil {
			return err
		}
		if u == nil {
			return fmt.Errorf("claim does not exist")
		}
		for _, typ := range []string{"Synced", "Ready"} {
			if s, r, m := condition(u, typ); s != "True" {
				return fmt.Errorf("%s=%q (%s: %s); status:\n%s", typ, s, r, m, describe(u))
			}
		}
		return nil
	})
	return u
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

// deleteClaim deletes a claim and waits until it and what it composed are gone.
func (e *env) deleteClaim(t *testing.T, ns, name string) {
	t.Helper()
	e.mustKubectl(t, nil, "-n", ns, "delete", "performer", name, "--ignore-not-found", "--wait=false")
	eventually(t, 3*time.Minute, fmt.Sprintf("claim %s/%s and its resources deleted", ns, name), func(ctx context.Context) error {
		return e.gone(ctx, ns, name)
	})
}

// gone reports an error while the claim, its XR or anything composed for it
// still exists.
func (e *env) gone(ctx context.Context, ns, name string) error {
	if u, err := e.get(ctx, ns, name); err != nil {
		return err
	} else if u != nil {
		return fmt.Errorf("claim still exists")
	}
	xrs := &unstructured.UnstructuredList{}
	xrs.SetGroupVersionKind(xperformerGVK.GroupVersion().WithKind("XPerformerList"))
	if err := e.c.List(ctx, xrs, client.MatchingLabels{"crossplane.io/claim-name": name, "crossplane.io/claim-namespace": ns}); err != nil {
		return err
	}
	if len(xrs.Items) > 0 {
		return fmt.Errorf("XR %s still exists", xrs.Items[0].GetName())
	}
	sel := client.MatchingLabels{"crossplane.io/claim-name": name, "crossplane.io/claim-namespace": ns}
	for _, l := range []client.ObjectList{&appsv1.DeploymentList{}, &corev1.ServiceList{}, &corev1.PodList{}} {
		if err := e.c.List(ctx, l, client.InNamespace(ns), sel); err != nil {
			return err
		}
		if n := lenOf(l); n > 0 {
			return fmt.Errorf("%d %T left", n, l)
		}
	}
	// The function labels what it composes with the performer's name too.
	own := client.MatchingLabels{names.LabelPerformerName: name}
	for _, l := range []client.ObjectList{&appsv1.DeploymentList{}, &corev1.ServiceList{}, &corev1.PodList{}} {
		if err := e.c.List(ctx, l, client.InNamespace(ns), own); err != nil {
			return err
		}
		if n := lenOf(l); n > 0 {
			return fmt.Errorf("%d %T labelled %s=%s left", n, l, names.LabelPerformerName, name)
		}
	}
	// And the provider released its PerformerEndpoints (their finalizer).
	if eps, err := e.endpoints(ctx, ns, name); err != nil {
		return err
	} else if len(eps) > 0 {
		return fmt.Errorf("%d PerformerEndpoints labelled %s=%s left", len(eps), names.LabelPerformerName, name)
	}
	return nil
}

func lenOf(l client.ObjectList) int {
	switch v := l.(type) {
	case *appsv1.DeploymentList:
		return len(v.Items)
	case *corev1.ServiceList:
		return len(v.Items)
	case *corev1.PodList:
		return len(v.Items)
	}
	return 0
}

// newClaim builds a claim for tests that need their own.
func newClaim(ns, name string, spec map[string]any) claim {
	u := &unstructured.Unstructured{Object: map[string]any{"spec": spec}}
	u.SetGroupVersionKind(performerGVK)
	u.SetNamespace(ns)
	u.SetName(name)
	return claim{obj: u}
}
