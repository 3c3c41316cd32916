// Package packages_test checks that the package metadata agree on versions:
// VERSION is the one place a release version is written, and the
// Configuration's dependencies and every package's Crossplane constraint
// follow from it.
package packages_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

type meta struct {
	Kind string `json:"kind"`
	Spec struct {
		Crossplane struct {
			Version string `json:"version"`
		} `json:"crossplane"`
		DependsOn []struct {
			Kind    string `json:"kind"`
			Package string `json:"package"`
			Version string `json:"version"`
		} `json:"dependsOn"`
	} `json:"spec"`
}

func read(t *testing.T, path string) meta {
	t.Helper()
	b, err := os.ReadFile(path) //nolint:gosec // Package metadata of this repository.
	if err != nil {
		t.Fatal(err)
	}
	var m meta
	if err := yaml.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return m
}

func TestConfigurationDependsOnTheVersionItIsBuiltWith(t *testing.T) {
	b, err := os.ReadFile("../VERSION")
	if err != nil {
		t.Fatal(err)
	}
	version := strings.TrimSpace(string(b))
	cfg := read(t, "../crossplane.yaml")
	own := 0
	for _, d := range cfg.Spec.DependsOn {
		if !strings.HasPrefix(d.Package, "xpkg.upbound.io/hourglass-xp/") {
			continue
		}
		own++
		// At least the version built together with this Configuration: an
		// older Function or Provider lacks what this Composition relies on.
		if want := ">=" + version; d.Version != want {
			t.Errorf("crossplane.yaml dependsOn %s: version %q, want %q (from VERSION)", d.Package, d.Version, want)
		}
	}
	if own == 0 {
		t.Error("crossplane.yaml depends on none of this project's packages")
	}
}

func TestEveryPackageNeedsTheSameCrossplane(t *testing.T) {
	want := read(t, "../crossplane.yaml").Spec.Crossplane.Version
	if want == "" {
		t.Fatal("crossplane.yaml has no spec.crossplane.version")
	}
	for _, p := range []string{"function/crossplane.yaml", "provider/crossplane.yaml"} {
		if got := read(t, p).Spec.Crossplane.Version; got != want {
			t.Errorf("%s: spec.crossplane.version %q, want %q as the Configuration", p, got, want)
		}
	}
}

// TestCrossplaneFloorIsTested keeps the packages' Crossplane constraint on a
// version the compact live check runs on: the floor ">=vX.Y.0" must name a
// minor that has a core wrapper module under cluster/tools/crossplane-core
// (make e2e-matrix and make test's e2e-compat run each one at least the
// floor).
func TestCrossplaneFloorIsTested(t *testing.T) {
	constraint := read(t, "../crossplane.yaml").Spec.Crossplane.Version
	floor, ok := strings.CutPrefix(constraint, ">=")
	if !ok || !strings.HasSuffix(floor, ".0") || strings.Count(floor, ".") != 2 {
		t.Fatalf("spec.crossplane.version %q, want \">=vX.Y.0\", the oldest minor that passes", constraint)
	}
	minor := strings.TrimSuffix(floor, "0")
	mods, err := filepath.Glob("../cluster/tools/crossplane-core/v*/go.mod")
	if err != nil {
		t.Fatal(err)
	}
	mods = append(mods, "../cluster/tools/crossplane-core/go.mod")
	var tested []string
	for _, m := range mods {
		b, err := os.ReadFile(m) //nolint:gosec // Wrapper modules of this repository.
		if err != nil {
			t.Fatal(err)
		}
		for l := range strings.Lines(string(b)) {
			if f := strings.Fields(l); len(f) == 3 && f[0] == "require" && f[1] == "github.com/crossplane/crossplane/v2" {
				tested = append(tested, f[2])
			}
		}
	}
	if !slices.ContainsFunc(tested, func(v string) bool { return strings.HasPrefix(v, minor) }) {
		t.Errorf("spec.crossplane.version %q: no core wrapper module of %s* among %v", constraint, minor, tested)
	}
}
