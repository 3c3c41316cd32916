// Package revisions_test checks the Composition revision examples against the
// shipped Composition. The live behaviour (pinning, channels, promotion) is
// tested in test/e2e/revisions_test.go.
package revisions_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	v1 "github.com/crossplane/crossplane/apis/v2/apiextensions/v1"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

const channelLabel = "hourglass.eigenlayer.io/channel"

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
	read(t, filepath.Join("..", "..", "compositions", "xperformer.yaml"), shipped)
	want := shipped.GetName() + "-" + shipped.Hash()[:7]

	claim := &unstructured.Unstructured{}
	read(t, "pinned.yaml", &claim.Object)
	got, _, _ := unstructured.NestedString(claim.Object, "spec", "compositionRevisionRef", "name")
	if got != want {
		t.Errorf("pinned.yaml pins revision %q; compositions/xperformer.yaml makes %q: update the example", got, want)
	}
	if p, _, _ := unstructured.NestedString(claim.Object, "spec", "compositionUpdatePolicy"); p != "Manual" {
		t.Errorf("pinned.yaml: compositionUpdatePolicy %q, want Manual", p)
	}
	if shipped.GetLabels()[channelLabel] != "stable" {
		t.Errorf("compositions/xperformer.yaml: label %s=%q, want stable", channelLabel, shipped.GetLabels()[channelLabel])
	}
}

// TestCanaryCompositionChangesOnlyTheProbe: the canary example is the shipped
// Composition on the canary channel with one changed default, the readiness
// probe period (7s), and nothing else: publishing it must not also undo
// another platform setting.
func TestCanaryCompositionChangesOnlyTheProbe(t *testing.T) {
	shipped, canary := &v1.Composition{}, &v1.Composition{}
	read(t, filepath.Join("..", "..", "compositions", "xperformer.yaml"), shipped)
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

// TestChannelClaimsSelectTheirChannel: each channel example follows its
// channel automatically.
func TestChannelClaimsSelectTheirChannel(t *testing.T) {
	for file, channel := range map[string]string{"stable-channel.yaml": "stable", "canary-channel.yaml": "canary"} {
		claim := &unstructured.Unstructured{}
		read(t, file, &claim.Object)
		got, _, _ := unstructured.NestedString(claim.Object, "spec", "compositionRevisionSelector", "matchLabels", channelLabel)
		if got != channel {
			t.Errorf("%s selects channel %q, want %q", file, got, channel)
		}
		if p, _, _ := unstructured.NestedString(claim.Object, "spec", "compositionUpdatePolicy"); p != "Automatic" {
			t.Errorf("%s: compositionUpdatePolicy %q, want Automatic", file, p)
		}
	}
}
