// Package examples_test checks the example Performers with the real
// Crossplane CLI, as a platform engineer would before committing them, and
// keeps the executor-format example in the shape the Hourglass executor
// writes.
package examples_test

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/yaml"

	"github.com/hourglass-xp/crossplane-hourglass/apis/hourglass/v1alpha1"
	"github.com/hourglass-xp/crossplane-hourglass/internal/testtools"
)

const (
	xrdDir     = "../package/xrd"
	invalidDir = "invalid"
	// executorExample is the Performer in the original operator's format,
	// as the Hourglass executor writes it.
	executorExample = "executor-performer.yaml"
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

// document is one YAML document of an example file.
type document struct {
	file string
	obj  map[string]any
	// expect and cliSkip are the "# expect: " and "# cli: " comments of
	// the document.
	expect  string
	cliSkip string
}

func (d document) kind() string { s, _ := d.obj["kind"].(string); return s }

func (d document) name() string { return d.meta("name") }

func (d document) namespace() string { return d.meta("namespace") }

func (d document) meta(field string) string {
	m, _ := d.obj["metadata"].(map[string]any)
	s, _ := m[field].(string)
	return s
}

// readDocuments reads every document of the YAML files in dir. Files hold
// several documents separated by "---" lines, as `kubectl apply -f` reads
// them: a Performer with the Secret and ConfigMap it needs.
func readDocuments(t *testing.T, dir string) []document {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no examples in %s: %v", dir, err)
	}
	var out []document
	for _, f := range files {
		b, err := os.ReadFile(f) //nolint:gosec // Fixtures of this repository.
		if err != nil {
			t.Fatal(err)
		}
		for _, doc := range strings.Split(string(b), "\n---") {
			d := document{file: f}
			if err := yaml.Unmarshal([]byte(doc), &d.obj); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			if len(d.obj) == 0 {
				continue
			}
			for l := range strings.Lines(doc) {
				l = strings.TrimSpace(l)
				switch {
				case strings.HasPrefix(l, "# expect: "):
					d.expect = strings.TrimPrefix(l, "# expect: ")
				case strings.HasPrefix(l, "# cli: "):
					d.cliSkip = strings.TrimPrefix(l, "# cli: ")
				}
			}
			out = append(out, d)
		}
	}
	return out
}

// performers returns the Performers among docs.
func performers(docs []document) []document {
	return slices.DeleteFunc(slices.Clone(docs), func(d document) bool { return d.kind() != v1alpha1.PerformerKind })
}

func TestCLIAcceptsEveryExample(t *testing.T) {
	lines := validate(t, ".")
	examples := performers(readDocuments(t, "."))
	// The five of the API reference and the executor's.
	if len(examples) < 6 {
		t.Fatalf("want the five examples of the API reference and the executor's, found %d", len(examples))
	}
	for _, e := range examples {
		got := strings.Join(lines[e.name()], "\n")
		if !strings.Contains(got, "validated successfully") || strings.Contains(got, "[x]") {
			t.Errorf("%s: want validated successfully, got:\n%s", e.name(), got)
		}
	}
}

func TestCLIRejectsEveryInvalidExample(t *testing.T) {
	lines := validate(t, invalidDir)
	examples := performers(readDocuments(t, invalidDir))
	if len(examples) < 20 {
		t.Fatalf("want at least 20 invalid examples, found %d", len(examples))
	}
	for _, e := range examples {
		t.Run(e.name(), func(t *testing.T) {
			if e.expect == "" {
				t.Fatal("an invalid example must start with '# expect: <message>'")
			}
			got := strings.Join(lines[e.name()], "\n")
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

// executorName is how the executor names performers: performer-{6 hex}-{8 hex}.
var executorName = regexp.MustCompile(`^performer-[0-9a-f]{6}-[0-9a-f]{8}$`)

// TestExecutorExample keeps executor-performer.yaml in the shape the
// Hourglass executor writes: each case reads one fact of it.
func TestExecutorExample(t *testing.T) {
	docs := readDocuments(t, ".")
	var p document
	var refs []document
	for _, d := range docs {
		if filepath.Base(d.file) != executorExample {
			continue
		}
		if d.kind() == v1alpha1.PerformerKind {
			p = d
			continue
		}
		refs = append(refs, d)
	}
	if p.obj == nil {
		t.Fatalf("%s holds no Performer", executorExample)
	}
	str := func(path ...string) string {
		var o any = p.obj
		for _, k := range path {
			m, _ := o.(map[string]any)
			o = m[k]
		}
		s, _ := o.(string)
		return s
	}
	image := str("spec", "image")
	tag := image[strings.LastIndex(image, ":")+1:]
	cfg, _ := p.obj["spec"].(map[string]any)["config"].(map[string]any)
	environment, _ := cfg["environment"].(map[string]any)
	from, _ := cfg["environmentFrom"].([]any)
	sources := map[string]int{}
	for _, f := range from {
		for src := range f.(map[string]any)["valueFrom"].(map[string]any) {
			sources[src]++
		}
	}

	cases := map[string]struct {
		reason    string
		got, want any
	}{
		"Name":            {reason: "The executor names performers performer-{6 hex}-{8 hex}.", got: executorName.MatchString(p.name()), want: true},
		"AppLabel":        {reason: "The executor labels every performer app: hourglass-performer.", got: str("metadata", "labels", "app"), want: "hourglass-performer"},
		"AVSLabel":        {reason: "The executor labels a performer with its AVS address.", got: str("metadata", "labels", "hourglass.eigenlayer.io/avs"), want: str("spec", "avsAddress")},
		"PerformerLabel":  {reason: "The executor labels a performer with its own name.", got: str("metadata", "labels", "hourglass.eigenlayer.io/performer"), want: p.name()},
		"Version":         {reason: "The executor sets spec.version to the image tag.", got: str("spec", "version"), want: tag},
		"ImagePullPolicy": {reason: "The executor sets spec.imagePullPolicy.", got: str("spec", "imagePullPolicy") != "", want: true},
		"GRPCPort":        {reason: "The executor's performers serve on 8080.", got: cfg["grpcPort"], want: float64(8080)},
		"Environment":     {reason: "The executor passes plain values as spec.config.environment.", got: len(environment) > 0, want: true},
		"EnvironmentFrom": {reason: "The executor passes Secret and ConfigMap keys as spec.config.environmentFrom.",
			got: sources, want: map[string]int{"secretKeyRef": 1, "configMapKeyRef": 1}},
		"NoEnv": {reason: "The executor never writes the reference's spec.config.env.", got: cfg["env"], want: nil},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, tc.got); diff != "" {
				t.Errorf("%s\n%s: -want, +got:\n%s", tc.reason, executorExample, diff)
			}
		})
	}

	// `make run` applies the file as it is: every key the environment
	// reads must be in a Secret or ConfigMap of the same file.
	kinds := map[string]string{"secretKeyRef": "Secret", "configMapKeyRef": "ConfigMap"}
	for _, f := range from {
		for src, ref := range f.(map[string]any)["valueFrom"].(map[string]any) {
			name, _ := ref.(map[string]any)["name"].(string)
			key, _ := ref.(map[string]any)["key"].(string)
			if !slices.ContainsFunc(refs, func(d document) bool { return holds(d, kinds[src], p.namespace(), name, key) }) {
				t.Errorf("%s: %s %s has no key %s in the file", executorExample, kinds[src], name, key)
			}
		}
	}
}

// holds reports whether d is the Secret or ConfigMap kind/name in
// namespace, with key in data or stringData.
func holds(d document, kind, namespace, name, key string) bool {
	if d.kind() != kind || d.namespace() != namespace || d.name() != name {
		return false
	}
	for _, field := range []string{"data", "stringData"} {
		if m, ok := d.obj[field].(map[string]any); ok {
			if _, ok := m[key]; ok {
				return true
			}
		}
	}
	return false
}
