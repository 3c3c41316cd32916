// Package examples_test checks the example claims with the real Crossplane
// CLI, as a platform engineer would before committing them.
package examples_test

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hourglass-xp/crossplane-hourglass/internal/testtools"
)

const (
	xrdDir     = "../package/xrd"
	invalidDir = "invalid"
)

// validate runs `crossplane resource validate` offline and returns, per
// resource name, the lines the CLI printed about it.
func validate(t *testing.T, dir string) map[string][]string {
	t.Helper()
	cache := t.TempDir()
	cmd := exec.Command(testtools.Bin(t, "crossplane"), "resource", "validate", "--crossplane-image=", "--cache-dir="+cache, xrdDir, dir) //nolint:gosec // The pinned CLI on fixed paths.
	cmd.Env = append(os.Environ(), "XDG_CACHE_HOME="+cache)
	out, _ := cmd.CombinedOutput() // Exits non-zero whenever a resource is invalid; the lines tell which.
	lines := map[string][]string{}
	s := bufio.NewScanner(bytes.NewReader(out))
	for s.Scan() {
		l := s.Text()
		_, rest, ok := strings.Cut(l, "Kind=Performer, ")
		if !ok {
			continue
		}
		name, _, _ := strings.Cut(rest, " ")
		lines[name] = append(lines[name], l)
	}
	if len(lines) == 0 {
		t.Fatalf("the CLI reported on no Performer:\n%s", out)
	}
	return lines
}

type example struct {
	name    string
	expect  string
	cliSkip string
}

func readExamples(t *testing.T, dir string) []example {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no examples in %s: %v", dir, err)
	}
	var out []example
	for _, f := range files {
		b, err := os.ReadFile(f) //nolint:gosec // Fixtures of this repository.
		if err != nil {
			t.Fatal(err)
		}
		var e example
		isPerformer := false
		for l := range strings.Lines(string(b)) {
			l = strings.TrimSpace(l)
			switch {
			case strings.HasPrefix(l, "# expect: "):
				e.expect = strings.TrimPrefix(l, "# expect: ")
			case strings.HasPrefix(l, "# cli: "):
				e.cliSkip = strings.TrimPrefix(l, "# cli: ")
			case l == "kind: Performer":
				isPerformer = true
			case strings.HasPrefix(l, "name: ") && e.name == "":
				e.name = strings.TrimPrefix(l, "name: ")
			}
		}
		if isPerformer {
			out = append(out, e)
		}
	}
	return out
}

func TestCLIAcceptsEveryExample(t *testing.T) {
	lines := validate(t, ".")
	examples := readExamples(t, ".")
	if len(examples) < 5 {
		t.Fatalf("want the five examples of the API reference, found %d", len(examples))
	}
	for _, e := range examples {
		got := strings.Join(lines[e.name], "\n")
		if !strings.Contains(got, "validated successfully") || strings.Contains(got, "[x]") {
			t.Errorf("%s: want validated successfully, got:\n%s", e.name, got)
		}
	}
}

func TestCLIRejectsEveryInvalidExample(t *testing.T) {
	lines := validate(t, invalidDir)
	examples := readExamples(t, invalidDir)
	if len(examples) < 20 {
		t.Fatalf("want at least 20 invalid examples, found %d", len(examples))
	}
	for _, e := range examples {
		t.Run(e.name, func(t *testing.T) {
			got := strings.Join(lines[e.name], "\n")
			if e.cliSkip != "" {
				// The API server catches what the CLI does not; the
				// schema and live tests check those.
				t.Skipf("not a CLI check: %s", e.cliSkip)
			}
			if !strings.Contains(got, "[x]") || !strings.Contains(got, e.expect) {
				t.Errorf("want rejected with %q, got:\n%s", e.expect, got)
			}
		})
	}
}
