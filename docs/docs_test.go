// Package docs_test checks the YAML in the docs: the migration guide's
// "after" claim passes `crossplane resource validate` against the shipped
// definition, and its "before" claim (the original operator's fields) is
// rejected for exactly the three fields the guide says changed.
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
	if err := os.WriteFile(filepath.Join(dir, "claim.yaml"), []byte(yaml), 0o600); err != nil {
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
		t.Errorf("the After claim does not validate: %v\n%s", err, out)
	}

	out, err = validate(t, cli, got["Before"])
	if err == nil {
		t.Errorf("the Before claim validates, but it uses the operator's fields:\n%s", out)
	}
	for _, f := range []string{"spec.executorRef", "spec.config.environment", "spec.scheduling.nodeAffinity"} {
		if !strings.Contains(out, f) {
			t.Errorf("validating the Before claim does not name %s:\n%s", f, out)
		}
	}
	if n := strings.Count(out, "unknown field"); n != 3 {
		t.Errorf("want exactly the 3 changed fields reported unknown, got %d:\n%s", n, out)
	}
}
