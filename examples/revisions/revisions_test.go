// Package revisions_test checks the Composition revision examples against the
// shipped Composition. The live behaviour (pinning, channels, promotion) is
// tested in test/e2e/revisions_test.go.
package revisions_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	v1 "github.com/crossplane/crossplane/apis/v2/apiextensions/v1"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

const (
	channelLabel = "hourglass.eigenlayer.io/channel"
	// shippedComposition is the Composition the Configuration package
	// installs.
	shippedComposition = "compositions/performer.yaml"
)

// crossplane is where a Crossplane v2 composite chooses its Composition
// and revisions.
var crossplane = []string{"spec", "crossplane"}

// field is the string at path under spec.crossplane of performer.
func field(performer *unstructured.Unstructured, path ...string) string {
	s, _, _ := unstructured.NestedString(performer.Object, append(slices.Clone(crossplane), path...)...)
	return s
}

func read(t *testing.T, path string, into any) {
	t.Helper()
	b, err := os.ReadFile(path) //nolint:gosec // Fixtures of this repository.
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, into); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// TestPinnedRevisionIsTheShippedComposition: Crossplane names a revision
// {composition}-{first 7 hex digits of Composition.Hash()}, a hash of the
// labels, annotations and spec. The pinned example must name the revision
// the shipped Composition makes, so it works as written.
func TestPinnedRevisionIsTheShippedComposition(t *testing.T) {
	shipped := &v1.Composition{}
	read(t, filepath.Join("..", "..", shippedComposition), shipped)
	want := shipped.GetName() + "-" + shipped.Hash()[:7]

	p := &unstructured.Unstructured{}
	read(t, "pinned.yaml", &p.Object)
	cases := map[string]struct {
		reason    string
		got, want string
	}{
		"Revision":     {reason: "pinned.yaml must pin the revision the shipped Composition makes, so it works as written.", got: field(p, "compositionRevisionRef", "name"), want: want},
		"Composition":  {reason: "pinned.yaml names the shipped Composition.", got: field(p, "compositionRef", "name"), want: shipped.GetName()},
		"UpdatePolicy": {reason: "A pinned performer takes no revision by itself.", got: field(p, "compositionUpdatePolicy"), want: "Manual"},
		"Channel":      {reason: "The shipped Composition is published on the stable channel.", got: shipped.GetLabels()[channelLabel], want: "stable"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if tc.got != tc.want {
				t.Errorf("%s\nwant %q, got %q", tc.reason, tc.want, tc.got)
			}
		})
	}
}

// TestCanaryCompositionChangesOnlyTheProbe: the canary example is the shipped
// Composition on the canary channel with one changed default, the readiness
// probe period (7s), and nothing else: publishing it must not also undo
// another platform setting.
func TestCanaryCompositionChangesOnlyTheProbe(t *testing.T) {
	shipped, canary := &v1.Composition{}, &v1.Composition{}
	read(t, filepath.Join("..", "..", shippedComposition), shipped)
	read(t, "composition-canary.yaml", canary)
	if canary.GetName() != shipped.GetName() {
		t.Errorf("composition-canary.yaml is named %q, want the shipped %q", canary.GetName(), shipped.GetName())
	}
	if c := canary.GetLabels()[channelLabel]; c != "canary" {
		t.Errorf("composition-canary.yaml: label %s=%q, want canary", channelLabel, c)
	}
	if diff := cmp.Diff(shipped.Spec, canary.Spec, cmpopts.IgnoreFields(v1.PipelineStep{}, "Input")); diff != "" {
		t.Errorf("composition-canary.yaml differs from the shipped Composition beyond the input: -shipped, +canary:\n%s", diff)
	}
	input := func(c *v1.Composition) map[string]any {
		m := map[string]any{}
		if len(c.Spec.Pipeline) != 1 || c.Spec.Pipeline[0].Input == nil {
			t.Fatalf("%s: want one pipeline step with an input", c.GetName())
		}
		if err := json.Unmarshal(c.Spec.Pipeline[0].Input.Raw, &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	want := input(shipped)
	if err := unstructured.SetNestedField(want, int64(7), "probes", "readiness", "periodSeconds"); err != nil {
		t.Fatal(err)
	}
	got := input(canary)
	// JSON numbers: compare through the same representation.
	wb, _ := json.Marshal(want)
	gb, _ := json.Marshal(got)
	if string(wb) != string(gb) {
		t.Errorf("composition-canary.yaml input is not the shipped input with probes.readiness.periodSeconds 7:\nwant %s\ngot  %s", wb, gb)
	}
	if shipped.Hash() == canary.Hash() {
		t.Error("composition-canary.yaml would not make a new revision")
	}
}

// TestChannelPerformersSelectTheirChannel: each channel example follows its
// channel automatically.
func TestChannelPerformersSelectTheirChannel(t *testing.T) {
	cases := map[string]struct {
		reason  string
		channel string
	}{
		"stable-channel.yaml": {reason: "The stable example follows the stable channel.", channel: "stable"},
		"canary-channel.yaml": {reason: "The canary example follows the canary channel.", channel: "canary"},
	}
	for file, tc := range cases {
		t.Run(file, func(t *testing.T) {
			p := &unstructured.Unstructured{}
			read(t, file, &p.Object)
			if got := field(p, "compositionRevisionSelector", "matchLabels", channelLabel); got != tc.channel {
				t.Errorf("%s\n%s selects channel %q, want %q", tc.reason, file, got, tc.channel)
			}
			if got := field(p, "compositionUpdatePolicy"); got != "Automatic" {
				t.Errorf("%s\n%s: compositionUpdatePolicy %q, want Automatic", tc.reason, file, got)
			}
		})
	}
}

// TestPerformersChooseUnderSpecCrossplane: Crossplane v2 reads a
// composite's Composition choice under spec.crossplane only; the same
// fields at spec's root (where a claim had them) are pruned without a word.
func TestPerformersChooseUnderSpecCrossplane(t *testing.T) {
	files, err := filepath.Glob("*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		u := &unstructured.Unstructured{}
		read(t, f, &u.Object)
		if u.GetKind() != "Performer" {
			continue
		}
		spec, _, _ := unstructured.NestedMap(u.Object, "spec")
		for k := range spec {
			if strings.HasPrefix(k, "composition") || k == "writeConnectionSecretToRef" {
				t.Errorf("%s: spec.%s belongs under spec.crossplane (or, for writeConnectionSecretToRef, nowhere: the function composes the connection Secret)", f, k)
			}
		}
		if _, ok := spec["crossplane"]; !ok {
			t.Errorf("%s: no spec.crossplane: a revision example must choose its revisions there", f)
		}
	}
}
