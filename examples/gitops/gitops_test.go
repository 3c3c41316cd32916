// Package gitops_test checks the GitOps example: the Argo CD health check
// (run in gopher-lua, the Lua VM Argo CD itself embeds) and the Flux CEL
// health check (run in cel-go, which Flux uses) give the same verdicts on
// the same Performer fixtures; the executor RBAC matches examples/executor;
// the performers and fixtures pass `crossplane resource validate`.
package gitops_test

import (
	"github.com/hourglass-xp/crossplane-hourglass/internal/testtools"

	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/google/cel-go/cel"
	"github.com/google/go-cmp/cmp"
	lua "github.com/yuin/gopher-lua"
	rbacv1 "k8s.io/api/rbac/v1"
	"sigs.k8s.io/yaml"
)

// Verdicts: Argo CD's health status and the kstatus status Flux derives.
const (
	healthy     = "Healthy"
	progressing = "Progressing"
	degraded    = "Degraded"
)

var fluxStatus = map[string]string{healthy: "Current", progressing: "InProgress", degraded: "Failed"}

// cases are the Performer fixtures in testdata/status and what both checks
// must say about them.
var cases = map[string]struct {
	reason  string
	want    string
	message string // part of the Argo CD message
}{
	"running.yaml":                       {reason: "Running, status.ready and Ready: serving.", want: healthy, message: "Serving at performer-alpha.avs-alpha.svc.cluster.local:9090"},
	"running-not-ready.yaml":             {reason: "Ready=True but status.ready false: the executor would still wait, so does GitOps.", want: progressing, message: "status.ready is not true yet"},
	"running-ready-false-condition.yaml": {reason: "status.ready true but Ready=False: a composed resource is not ready yet.", want: progressing, message: "Running: Creating: Unready resources"},
	"no-status.yaml":                     {reason: "Nothing written yet: Crossplane is still composing.", want: progressing, message: "Waiting for Crossplane"},
	"pending.yaml":                       {reason: "Pending, pod scheduled: on its way.", want: progressing, message: "Pending: PodNotReady: waiting for Deployment performer-alpha-4f1c2a9b7e to have its pod ready"},
	"upgrading.yaml":                     {reason: "Upgrading: the new revision is on its way while the old one serves.", want: progressing, message: "Upgrading to v1.5.0"},
	"degraded-hardware.yaml":             {reason: "Pending with Degraded=True: no node will ever take it without a change.", want: degraded, message: "HardwareUnavailable: 0/3 nodes are available"},
	"failed-image-pull.yaml":             {reason: "Failed: the image cannot be pulled.", want: degraded, message: "ImagePullFailed: ErrImagePull"},
	"failed-no-conditions.yaml":          {reason: "Failed without conditions is still Degraded.", want: degraded, message: "Performer failed"},
	"upgrade-failed.yaml":                {reason: "A missed upgrade deadline is Degraded even though the old revision still serves.", want: degraded, message: "CrashLoopBackOff: revision 9b8a7c6d5e (registry.example.com/alpha/performer:v1.5.0) is not ready"},
	"not-synced.yaml":                    {reason: "Synced=False: Crossplane cannot compose the performer.", want: degraded, message: "ReconcileError: cannot compose resources"},
	"stale-generation.yaml":              {reason: "Conditions about an older generation say nothing about the new spec.", want: progressing, message: "Waiting for Crossplane to process the new spec"},
	"deleting.yaml":                      {reason: "Being deleted.", want: progressing, message: "Deleting"},
}

func readObject(t *testing.T, path string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var o map[string]any
	if err := yaml.Unmarshal(b, &o); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return o
}

// toLua converts a decoded JSON value the way Argo CD hands objects to its
// health scripts: maps become tables, lists 1-based tables, JSON numbers
// Lua numbers.
func toLua(L *lua.LState, v any) lua.LValue {
	switch v := v.(type) {
	case nil:
		return lua.LNil
	case bool:
		return lua.LBool(v)
	case string:
		return lua.LString(v)
	case float64:
		return lua.LNumber(v)
	case int64:
		return lua.LNumber(v)
	case map[string]any:
		t := L.NewTable()
		for k, e := range v {
			t.RawSetString(k, toLua(L, e))
		}
		return t
	case []any:
		t := L.NewTable()
		for _, e := range v {
			t.Append(toLua(L, e))
		}
		return t
	}
	panic("unexpected type " + reflect.TypeOf(v).String())
}

// argoHealth runs the script as Argo CD does: the object in global obj,
// the chunk's return value is the health table.
func argoHealth(t *testing.T, script string, obj map[string]any) (status, message string) {
	t.Helper()
	L := lua.NewState(lua.Options{SkipOpenLibs: true})
	defer L.Close()
	// Argo CD opens only these libraries for health scripts.
	for _, lib := range []struct {
		name string
		fn   lua.LGFunction
	}{{lua.BaseLibName, lua.OpenBase}, {lua.TabLibName, lua.OpenTable}, {lua.StringLibName, lua.OpenString}, {lua.MathLibName, lua.OpenMath}} {
		L.Push(L.NewFunction(lib.fn))
		L.Push(lua.LString(lib.name))
		L.Call(1, 0)
	}
	L.SetGlobal("obj", toLua(L, obj))
	if err := L.DoString(script); err != nil {
		t.Fatalf("the health script failed: %v", err)
	}
	hs, ok := L.Get(-1).(*lua.LTable)
	if !ok {
		t.Fatalf("the health script returned %s, want a table", L.Get(-1).Type())
	}
	return hs.RawGetString("status").String(), hs.RawGetString("message").String()
}

func TestArgoCDHealth(t *testing.T) {
	script, err := os.ReadFile("argocd/performer-health.lua")
	if err != nil {
		t.Fatal(err)
	}
	for file, tc := range cases {
		t.Run(file, func(t *testing.T) {
			status, message := argoHealth(t, string(script), readObject(t, filepath.Join("testdata/status", file)))
			if status != tc.want {
				t.Errorf("%s\nhealth.status: want %s, got %s (message %q)", tc.reason, tc.want, status, message)
			}
			if !strings.Contains(message, tc.message) {
				t.Errorf("%s\nhealth.message: want it to contain %q, got %q", tc.reason, tc.message, message)
			}
		})
	}
}

// TestEveryFixtureHasAVerdict keeps cases and testdata/status in step: a
// fixture without a case would be validated but never judged.
func TestEveryFixtureHasAVerdict(t *testing.T) {
	files, err := filepath.Glob("testdata/status/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	got := make([]string, 0, len(files))
	for _, f := range files {
		got = append(got, filepath.Base(f))
	}
	want := make([]string, 0, len(cases))
	for f := range cases {
		want = append(want, f)
	}
	slices.Sort(want)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("fixtures and cases differ, -cases, +testdata/status:\n%s", diff)
	}
}

// TestArgoCDConfigMap keeps the inline copy in argocd-cm.yaml equal to the
// tested script, and the tracking method on annotations.
func TestArgoCDConfigMap(t *testing.T) {
	script, err := os.ReadFile("argocd/performer-health.lua")
	if err != nil {
		t.Fatal(err)
	}
	cm := readObject(t, "argocd/argocd-cm.yaml")
	data, _ := cm["data"].(map[string]any)
	if diff := cmp.Diff(string(script), data["resource.customizations.health.hourglass.eigenlayer.io_Performer"]); diff != "" {
		t.Errorf("argocd-cm.yaml: the inline health check differs from performer-health.lua, -file, +inline:\n%s", diff)
	}
	if data["application.resourceTrackingMethod"] != "annotation" {
		t.Errorf("argocd-cm.yaml: want annotation tracking, so Argo CD does not adopt what Crossplane composes")
	}
}

// fluxExprs returns the Performer health expressions of every Kustomization
// in flux/avs.yaml.
func fluxExprs(t *testing.T) []map[string]string {
	t.Helper()
	return fluxExprsOf(t, "flux/avs.yaml", "Performer")
}

// fluxExprsOf returns the health expressions for kind of every
// Kustomization in file.
func fluxExprsOf(t *testing.T, file, kind string) []map[string]string {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]string
	for _, doc := range bytes.Split(b, []byte("\n---\n")) {
		var k struct {
			Spec struct {
				HealthCheckExprs []map[string]string `json:"healthCheckExprs"`
			} `json:"spec"`
		}
		if err := yaml.Unmarshal(doc, &k); err != nil {
			t.Fatal(err)
		}
		for _, e := range k.Spec.HealthCheckExprs {
			if e["kind"] == kind {
				out = append(out, e)
			}
		}
	}
	if len(out) == 0 {
		t.Fatalf("%s: no health check for %s", file, kind)
	}
	return out
}

// fluxHealth evaluates the expressions as Flux's CEL status reader does:
// the object's top-level fields are the variables; inProgress, failed,
// current in that order, the first true wins, none true (or an error,
// which makes Flux retry until its timeout) is InProgress.
func fluxHealth(t *testing.T, exprs map[string]string, obj map[string]any) string {
	t.Helper()
	var vars []cel.EnvOption
	for _, v := range []string{"apiVersion", "kind", "metadata", "spec", "status"} {
		vars = append(vars, cel.Variable(v, cel.DynType))
	}
	env, err := cel.NewEnv(append(vars, cel.OptionalTypes())...)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []struct{ key, status string }{{"inProgress", "InProgress"}, {"failed", "Failed"}, {"current", "Current"}} {
		src := exprs[s.key]
		if src == "" {
			continue
		}
		ast, iss := env.Compile(src)
		if iss.Err() != nil {
			t.Fatalf("%s: %v", s.key, iss.Err())
		}
		prg, err := env.Program(ast)
		if err != nil {
			t.Fatal(err)
		}
		v, _, err := prg.Eval(obj)
		if err != nil {
			return "InProgress"
		}
		if b, ok := v.Value().(bool); ok && b {
			return s.status
		}
	}
	return "InProgress"
}

func TestFluxHealth(t *testing.T) {
	for i, exprs := range fluxExprs(t) {
		for file, tc := range cases {
			t.Run(file, func(t *testing.T) {
				got := fluxHealth(t, exprs, readObject(t, filepath.Join("testdata/status", file)))
				if want := fluxStatus[tc.want]; got != want {
					t.Errorf("%s\nKustomization %d: want %s (Argo CD %s), got %s", tc.reason, i, want, tc.want, got)
				}
			})
		}
	}
}

// TestFluxPlatformHealth checks the Configuration health check of
// flux/platform.yaml on the conditions Crossplane's package manager writes
// (Installed, Healthy with reason UnhealthyPackageRevision).
func TestFluxPlatformHealth(t *testing.T) {
	exprs := fluxExprsOf(t, "flux/platform.yaml", "Configuration")[0]
	cond := func(typ, status, reason string) map[string]any {
		return map[string]any{"type": typ, "status": status, "reason": reason}
	}
	cases := map[string]struct {
		reason string
		conds  []any
		want   string
	}{
		"Healthy":    {reason: "Installed and healthy: the platform is ready.", conds: []any{cond("Installed", "True", "ActivePackageRevision"), cond("Healthy", "True", "HealthyPackageRevision")}, want: "Current"},
		"Unhealthy":  {reason: "An unhealthy revision (e.g. a dependency that cannot install) fails fast.", conds: []any{cond("Installed", "True", "ActivePackageRevision"), cond("Healthy", "False", "UnhealthyPackageRevision")}, want: "Failed"},
		"Installing": {reason: "Still unpacking: wait.", conds: []any{cond("Installed", "False", "UnpackingPackage"), cond("Healthy", "Unknown", "UnknownPackageRevisionHealth")}, want: "InProgress"},
		"NoStatus":   {reason: "Just created: wait.", want: "InProgress"},
	}
	for n, tc := range cases {
		t.Run(n, func(t *testing.T) {
			obj := map[string]any{"apiVersion": "pkg.crossplane.io/v1", "kind": "Configuration", "metadata": map[string]any{"name": "configuration-performer"}, "spec": map[string]any{}}
			if tc.conds != nil {
				obj["status"] = map[string]any{"conditions": tc.conds}
			}
			if got := fluxHealth(t, exprs, obj); got != tc.want {
				t.Errorf("%s\nwant %s, got %s", tc.reason, tc.want, got)
			}
		})
	}
}

// roleRules returns the rules of the Role named executor in a multi-document file.
func roleRules(t *testing.T, path string) (string, []rbacv1.PolicyRule) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, doc := range bytes.Split(b, []byte("\n---\n")) {
		var r rbacv1.Role
		if err := yaml.Unmarshal(doc, &r); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if r.Kind == "Role" {
			return r.Namespace, r.Rules
		}
	}
	t.Fatalf("%s: no Role", path)
	return "", nil
}

// TestExecutorRBAC keeps each AVS namespace's executor Role equal to the
// reviewed least-privilege Role of examples/executor, in its own namespace.
func TestExecutorRBAC(t *testing.T) {
	_, want := roleRules(t, "../executor/rbac.yaml")
	dirs, err := filepath.Glob("avs/*")
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no AVS directories: %v", err)
	}
	for _, d := range dirs {
		ns, got := roleRules(t, filepath.Join(d, "executor-rbac.yaml"))
		if ns != filepath.Base(d) {
			t.Errorf("%s: Role in namespace %q, want %q", d, ns, filepath.Base(d))
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: rules differ from examples/executor/rbac.yaml, -want, +got:\n%s", d, diff)
		}
	}
}

// TestCrossplaneRBAC keeps the platform's copy of the aggregated ClusterRole
// equal to the one the project ships and the live stack applies.
func TestCrossplaneRBAC(t *testing.T) {
	read := func(path string) rbacv1.ClusterRole {
		t.Helper()
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var r rbacv1.ClusterRole
		if err := yaml.Unmarshal(b, &r); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		return r
	}
	want := read("../../package/rbac/crossplane-rbac.yaml")
	got := read("platform/crossplane-rbac.yaml")
	if got.Name != want.Name || got.Labels["rbac.crossplane.io/aggregate-to-crossplane"] != "true" {
		t.Errorf("platform ClusterRole %q with labels %v, want %q aggregated to Crossplane", got.Name, got.Labels, want.Name)
	}
	if diff := cmp.Diff(want.Rules, got.Rules); diff != "" {
		t.Errorf("rules differ from package/rbac/crossplane-rbac.yaml, -want, +got:\n%s", diff)
	}
}

// TestNamespaces checks that everything under avs/NS/ lives in NS, so an
// Application or Kustomization per directory owns exactly one namespace.
func TestNamespaces(t *testing.T) {
	files, _ := filepath.Glob("avs/*/*.yaml")
	more, _ := filepath.Glob("avs/*/performers/*.yaml")
	for _, f := range append(files, more...) {
		ns := strings.Split(filepath.ToSlash(f), "/")[1]
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, doc := range bytes.Split(b, []byte("\n---\n")) {
			var o struct {
				Kind     string `json:"kind"`
				Metadata struct {
					Name      string `json:"name"`
					Namespace string `json:"namespace"`
				} `json:"metadata"`
			}
			if err := yaml.Unmarshal(doc, &o); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			got := o.Metadata.Namespace
			if o.Kind == "Namespace" {
				got = o.Metadata.Name
			}
			if got != ns {
				t.Errorf("%s: %s %s is in namespace %q, want %q", f, o.Kind, o.Metadata.Name, got, ns)
			}
		}
	}
}

// TestPerformersValidate runs the performers and the status fixtures
// through the real `crossplane resource validate` against the definition,
// so the fixtures hold only fields the API has.
func TestPerformersValidate(t *testing.T) {
	cli := testtools.Bin(t, "crossplane")
	dir := t.TempDir()
	performers, _ := filepath.Glob("avs/*/performers/*.yaml")
	fixtures, _ := filepath.Glob("testdata/status/*.yaml")
	for _, f := range append(performers, fixtures...) {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, strings.ReplaceAll(f, "/", "_")), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cache := t.TempDir()
	cmd := exec.Command(cli, "resource", "validate", "--crossplane-image=", "--cache-dir="+cache, "../../package/xrd", dir) //nolint:gosec // The pinned CLI on fixed paths.
	cmd.Env = append(os.Environ(), "XDG_CACHE_HOME="+cache)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("crossplane resource validate: %v\n%s", err, out)
	}
	want := fmt.Sprintf("Total %d resources: 0 missing schemas, %d success cases, 0 failure cases", len(performers)+len(fixtures), len(performers)+len(fixtures))
	if !strings.Contains(string(out), want) {
		t.Errorf("crossplane resource validate: want %q in:\n%s", want, out)
	}
}
