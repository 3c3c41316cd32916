//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// crossplaneUser is Crossplane core's identity in the stack, as in a Helm
// install: its ServiceAccount.
const crossplaneUser = "system:serviceaccount:crossplane-system:crossplane"

// unconfinedComposition is the shipped Composition with the platform's
// security profile relaxed to Unconfined: the function then sets no
// security context, which Pod Security "restricted" refuses.
func (e *env) unconfinedComposition(t *testing.T, name string) *unstructured.Unstructured {
	t.Helper()
	u := e.readYAML(t, "compositions/performer.yaml")
	// Only performers that name it use it; it keeps the stable channel label,
	// which the definition's default revision selector requires.
	u.SetName(name)
	steps, _, _ := unstructured.NestedSlice(u.Object, "spec", "pipeline")
	if len(steps) != 1 {
		t.Fatalf("compositions/performer.yaml: %d pipeline steps, want the performer function's alone", len(steps))
	}
	step, _ := steps[0].(map[string]any)
	if err := unstructured.SetNestedField(step, "Unconfined", "input", "security", "profile"); err != nil {
		t.Fatal(err)
	}
	if err := unstructured.SetNestedSlice(u.Object, steps, "spec", "pipeline"); err != nil {
		t.Fatal(err)
	}
	return u
}

// TestPodSecurityRelaxedByPlatform shows a platform override that relaxes
// the performers' security failing visibly in a namespace that enforces Pod
// Security "restricted": the API server refuses the pods, and the performer
// says so (Degraded, PodCreationFailed, Pod Security's own message, phase
// Failed) instead of waiting.
func TestPodSecurityRelaxedByPlatform(t *testing.T) {
	t.Parallel()
	e := setup(t)
	const ns, name, comp = "e2e-podsecurity", "relaxed", "performers-e2e-unconfined"
	e.applyObject(t, e.unconfinedComposition(t, comp))
	defer e.mustKubectl(t, nil, "delete", "composition", comp, "--ignore-not-found")

	c := newPerformer(ns, name, map[string]any{
		"avsAddress": "0x1234567890abcdef1234567890abcdef12345678",
		"image":      "myavs/performer:v1.0.0",
		"crossplane": map[string]any{"compositionRef": map[string]any{"name": comp}},
	})
	e.apply(t, c)
	defer e.deletePerformer(t, ns, name)

	steadily(t, settle, stable, "performer refused by Pod Security", func(ctx context.Context) error {
		u, err := e.get(ctx, ns, name)
		if err != nil {
			return fmt.Errorf("performer: %w", err)
		}
		if u == nil {
			return fmt.Errorf("performer %s/%s does not exist", ns, name)
		}
		if s, r, m := condition(u, "Ready"); s == "True" {
			return fmt.Errorf("Ready (%s: %s)", r, m)
		}
		s, r, m := condition(u, "Degraded")
		if s != "True" || r != "PodCreationFailed" || !strings.Contains(m, `violates PodSecurity "restricted`) {
			return fmt.Errorf("Degraded=%s (%s: %s), want True PodCreationFailed naming Pod Security; status:\n%s", s, r, m, describe(u))
		}
		if p, _, _ := unstructured.NestedString(u.Object, "status", "phase"); p != "Failed" {
			return fmt.Errorf("phase %q, want Failed", p)
		}
		pods, err := e.pods(ctx, ns, name)
		if err != nil {
			return err
		}
		if len(pods) != 0 {
			return fmt.Errorf("%d pods were admitted", len(pods))
		}
		return nil
	})
}

// TestWithoutCrossplaneRBAC removes the project's aggregated ClusterRole,
// as on a cluster where that install step was skipped: Crossplane may then
// neither compose a NetworkPolicy nor read pods. Crossplane itself only
// times out on the performer after two minutes (its informer for pods never syncs)
// while the performer waits; provider-hourglass names what is missing, and the
// fix, on the performer. With the ClusterRole back, the performer becomes Ready. Not
// parallel: every performer in the stack loses those permissions meanwhile.
func TestWithoutCrossplaneRBAC(t *testing.T) {
	e := setup(t)
	const ns, name = "e2e-rbac", "no-rbac"
	// restore puts the ClusterRole back. Crossplane recovers by itself once
	// its requests stop timing out (two minutes); a restart, as after a fix,
	// saves the tests that follow that wait.
	restored := false
	restore := func(t *testing.T) {
		e.mustKubectl(t, nil, "apply", "-f", e.root+"/package/rbac/crossplane-rbac.yaml")
		e.crossplaneMay(t, true, ns, "create", "networkpolicies.networking.k8s.io")
		e.crossplaneMay(t, true, ns, "list", "pods")
		stackProcess(t, e, "stop", "core")
		stackProcess(t, e, "start", "core")
		restored = true
	}
	t.Cleanup(func() { e.deletePerformer(t, ns, name) })
	t.Cleanup(func() {
		if !restored {
			restore(t)
		}
	})
	e.mustKubectl(t, nil, "delete", "clusterrole", "crossplane:hourglass-performer")
	e.crossplaneMay(t, false, ns, "create", "networkpolicies.networking.k8s.io")
	e.crossplaneMay(t, false, ns, "list", "pods")

	c := newPerformer(ns, name, map[string]any{
		"avsAddress":    "0x1234567890abcdef1234567890abcdef12345678",
		"image":         "myavs/performer:v1.0.0",
		"networkPolicy": map[string]any{"enabled": true},
	})
	e.apply(t, c)

	// On the performer, where its owner looks: what is missing, and the fix.
	eventually(t, 2*time.Minute, "CrossplaneAccessDenied on the performer", func(ctx context.Context) error {
		return e.hasEvent(ctx, ns, name, "CrossplaneAccessDenied", crossplaneUser,
			"networkpolicies.networking.k8s.io", "get, list, watch pods", "package/rbac/crossplane-rbac.yaml")
	})
	u, err := e.get(context.Background(), ns, name)
	if err != nil || u == nil {
		t.Fatalf("performer: %v", err)
	}
	if s, r, m := condition(u, "Ready"); s == "True" {
		t.Fatalf("performer Ready without the ClusterRole (%s: %s)", r, m)
	}
	out := e.mustKubectl(t, nil, "-n", ns, "describe", "performer", name)
	if !strings.Contains(out, "CrossplaneAccessDenied") {
		t.Errorf("kubectl describe does not show the event:\n%s", out)
	}

	// The fix, as the README's troubleshooting entry gives it.
	t.Run("fixed", func(t *testing.T) {
		restore(t)
		e.readyAndStable(t, ns, name)
	})
}

// crossplaneMay waits until Crossplane's ServiceAccount may (or may not) do
// verb on resource in ns: the aggregation controller updates Crossplane's
// ClusterRole a moment after the aggregated one changes.
func (e *env) crossplaneMay(t *testing.T, want bool, ns, verb, resource string) {
	t.Helper()
	eventually(t, time.Minute, fmt.Sprintf("%s may %s %s: %t", crossplaneUser, verb, resource, want), func(ctx context.Context) error {
		out, _, _ := e.kubectl(ctx, nil, "auth", "can-i", verb, resource, "-n", ns, "--as", crossplaneUser)
		if got := strings.TrimSpace(out) == "yes"; got != want {
			return fmt.Errorf("kubectl auth can-i says %q", strings.TrimSpace(out))
		}
		return nil
	})
}

// hasEvent returns nil once an event with the reason about the named object
// in ns mentions every one of the strings.
func (e *env) hasEvent(ctx context.Context, ns, object, reason string, mentions ...string) error {
	l := &corev1.EventList{}
	if err := e.c.List(ctx, l, client.InNamespace(ns), client.MatchingFields{"involvedObject.name": object}); err != nil {
		return err
	}
	var seen []string
	for _, ev := range l.Items {
		if ev.Reason != reason {
			seen = append(seen, ev.Reason)
			continue
		}
		missing := ""
		for _, m := range mentions {
			if !strings.Contains(ev.Message, m) {
				missing = m
				break
			}
		}
		if missing == "" {
			return nil
		}
		return fmt.Errorf("event %s does not mention %q: %s", reason, missing, ev.Message)
	}
	return fmt.Errorf("no %s event on %s/%s (events: %v)", reason, ns, object, seen)
}

// stateDir is the stack's state directory, found the way
// test/e2e/stack-process.sh finds it.
func (e *env) stateDir() string {
	if d := os.Getenv("STATE_DIR"); d != "" {
		return d
	}
	return filepath.Join(filepath.Dir(e.kubeconfig), "cluster")
}

// TestNoAdminIdentity checks that no process of the stack but the harness
// holds the admin identity: Crossplane core, its RBAC manager, the provider
// and the pod server each run with a kubeconfig of their own, which
// authenticates as a ServiceAccount that may not do everything.
func TestNoAdminIdentity(t *testing.T) {
	t.Parallel()
	e := setup(t)
	cases := map[string]struct {
		kubeconfig string
		cmdline    string
		user       string
	}{
		"core":         {kubeconfig: "core.kubeconfig", cmdline: "crossplane-core\x00core\x00start", user: crossplaneUser},
		"rbac-manager": {kubeconfig: "rbac-manager.kubeconfig", cmdline: "crossplane-core\x00rbac\x00start", user: "system:serviceaccount:crossplane-system:rbac-manager"},
		"provider":     {kubeconfig: "provider.kubeconfig", cmdline: "--health-check-cidr", user: "system:serviceaccount:crossplane-system:provider-hourglass"},
		"pod server":   {kubeconfig: "pod-server.kubeconfig", cmdline: "-serve-pods", user: "system:serviceaccount:kube-system:hourglass-pod-server"},
	}
	// The processes' kubeconfigs name the API server's address inside the
	// stack's network namespace; from here it is the forwarder's.
	harness, err := clientcmd.LoadFromFile(e.kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	server := harness.Clusters[harness.Contexts[harness.CurrentContext].Cluster].Server
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			kc := filepath.Join(e.stateDir(), tc.kubeconfig)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			as := []string{"--kubeconfig", kc, "--server", server}
			who, errs, err := e.run(ctx, nil, "kubectl", append(as, "auth", "whoami", "-o", "jsonpath={.status.userInfo.username}")...)
			if err != nil || who != tc.user {
				t.Errorf("%s authenticates as %q (%v %s), want %q", kc, who, err, errs, tc.user)
			}
			all, errs, _ := e.run(ctx, nil, "kubectl", append(as, "auth", "can-i", "*", "*", "--all-namespaces")...)
			if strings.TrimSpace(all) != "no" {
				t.Errorf("may %s do everything? kubectl auth can-i says %q %s, want no", tc.user, strings.TrimSpace(all), errs)
			}
			if !runsWith(t, tc.cmdline, kc) {
				t.Errorf("no running %s process uses %s", name, kc)
			}
		})
	}
}

// runsWith reports whether a process whose command line contains cmdline
// uses the kubeconfig kc, through KUBECONFIG or its arguments. The stack's
// processes are visible from here: its PID namespace is a child of ours.
func runsWith(t *testing.T, cmdline, kc string) bool {
	t.Helper()
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		cmd, err := os.ReadFile(p) //nolint:gosec // /proc of this machine.
		if err != nil || !strings.Contains(string(cmd), cmdline) {
			continue
		}
		env, _ := os.ReadFile(filepath.Join(filepath.Dir(p), "environ")) //nolint:gosec // /proc of this machine.
		if strings.Contains(string(cmd), kc) || strings.Contains("\x00"+string(env)+"\x00", "\x00KUBECONFIG="+kc+"\x00") {
			return true
		}
	}
	return false
}
