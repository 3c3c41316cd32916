// Package docs_test checks the YAML in the docs: the migration guide's
// "after" Performer passes `crossplane resource validate` against the
// shipped definition, and its "before" Performer (the operator's earlier
// API) is rejected for exactly the two fields the guide says changed; its
// spec.config.environment, the operator's format, is accepted.
package docs_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/hourglass-xp/crossplane-hourglass/internal/testtools"
)

var block = regexp.MustCompile("(?s)(Before|After)[^\n]*:\n\n```yaml\n(.*?)```")

func validate(t *testing.T, cli, yaml string) (string, error) {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "performer.yaml"), []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	cache := t.TempDir()
	cmd := exec.Command(cli, "resource", "validate", "--crossplane-image=", "--cache-dir="+cache, "../package/xrd", dir) //nolint:gosec // The pinned CLI on fixed paths.
	cmd.Env = append(os.Environ(), "XDG_CACHE_HOME="+cache)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func TestMigrationExamples(t *testing.T) {
	cli := testtools.Bin(t, "crossplane")
	b, err := os.ReadFile("migration.md")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, m := range block.FindAllStringSubmatch(string(b), -1) {
		got[m[1]] = m[2]
	}
	if got["Before"] == "" || got["After"] == "" {
		t.Fatalf("migration.md: want a Before and an After yaml block, got %d blocks", len(got))
	}

	out, err := validate(t, cli, got["After"])
	if err != nil || !strings.Contains(out, "1 success cases") {
		t.Errorf("the After Performer does not validate: %v\n%s", err, out)
	}

	out, err = validate(t, cli, got["Before"])
	if err == nil {
		t.Errorf("the Before Performer validates, but it uses the earlier API's fields:\n%s", out)
	}
	for _, f := range []string{"spec.executorRef", "spec.scheduling.nodeAffinity"} {
		if !strings.Contains(out, f) {
			t.Errorf("validating the Before Performer does not name %s:\n%s", f, out)
		}
	}
	if strings.Contains(out, "spec.config.environment") {
		t.Errorf("validating the Before Performer names spec.config.environment, which the definition accepts:\n%s", out)
	}
	if n := strings.Count(out, "unknown field"); n != 2 {
		t.Errorf("want exactly the 2 changed fields reported unknown, got %d:\n%s", n, out)
	}
}

var (
	// A repository manifest the stack applies: "$root/package/....yaml".
	stackManifest = regexp.MustCompile(`"\$root/(package/[^"]+\.yaml)"`)
	// A repository manifest the README's install section applies.
	readmeManifest = regexp.MustCompile(`kubectl apply(?: -f (package/\S+\.yaml))+`)
	applyFile      = regexp.MustCompile(`package/\S+\.yaml`)
)

// TestInstallMatchesStack keeps the README's install section equal to what
// the live stack (make run, make e2e) applies: the same manifests of this
// repository in the same order, the Provider with the same runtime config,
// the chart version of the Crossplane core it runs, and Pod Security
// "restricted" on performer namespaces.
func TestInstallMatchesStack(t *testing.T) {
	read := func(path string) string {
		t.Helper()
		b, err := os.ReadFile(filepath.Join("..", path))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	readme := read("README.md")
	start := strings.Index(readme, "## Install on an existing cluster")
	end := strings.Index(readme[start+1:], "\n## ")
	if start < 0 || end < 0 {
		t.Fatal("README.md has no section \"Install on an existing cluster\"")
	}
	install := readme[start : start+1+end]

	stack := read("cluster/stack.sh")
	hooks, _ := filepath.Glob("../cluster/stack.d/*.sh")
	for _, h := range hooks {
		stack += read(strings.TrimPrefix(h, "../"))
	}
	var want, got []string
	for _, m := range stackManifest.FindAllStringSubmatch(stack, -1) {
		want = append(want, m[1])
	}
	for _, m := range readmeManifest.FindAllString(install, -1) {
		got = append(got, applyFile.FindAllString(m, -1)...)
	}
	if len(want) == 0 || strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("README install section applies %v, the stack %v", got, want)
	}

	for _, s := range []string{"runtimeConfigRef:\n    name: provider-hourglass", "pod-security.kubernetes.io/enforce=restricted"} {
		if !strings.Contains(stack, s) {
			t.Errorf("cluster/stack.sh does not apply %q", s)
		}
	}
	for _, s := range []string{"runtimeConfigRef:\n       name: provider-hourglass", "pod-security.kubernetes.io/enforce: restricted"} {
		if !strings.Contains(install, s) {
			t.Errorf("the README's install section does not say %q", s)
		}
	}
	core := read("cluster/tools/crossplane-core/go.mod")
	v := regexp.MustCompile(`github.com/crossplane/crossplane/v2 v(\S+)`).FindStringSubmatch(core)
	if v == nil || !strings.Contains(install, "--version "+v[1]) {
		t.Errorf("the README installs a Crossplane chart other than the core the stack runs (%v)", v)
	}
}
