// Package testtools holds what tests and benchmarks share: the pinned tools
// that `make tools` builds into _output/bin, free loopback ports, mTLS
// certificates for a function on loopback, the Performer CRD and manifests
// to apply. Tests that need a tool skip without it, unless
// HOURGLASS_REQUIRE_TOOLS is set — as `make test` sets it — so a CI run can
// never pass by skipping.
package testtools

import (
	"os"
	"path/filepath"
	"testing"
)

// RequireEnv makes a missing tool a failure instead of a skip.
const RequireEnv = "HOURGLASS_REQUIRE_TOOLS"

// Required reports whether missing tools fail tests.
func Required() bool { return os.Getenv(RequireEnv) != "" }

// RepoRoot is the directory of the repository's go.mod, found from the
// working directory of the test (its package directory).
func RepoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's directory")
		}
		dir = parent
	}
}

// BinDir is where the tools are: TOOLS_BIN when set (the Makefile exports
// it), else the repository's _output/bin.
func BinDir(t testing.TB) string {
	t.Helper()
	if d := os.Getenv("TOOLS_BIN"); d != "" {
		return d
	}
	return filepath.Join(RepoRoot(t), "_output", "bin")
}

// Bin returns the absolute path of a tool, or skips (fails when required)
// the test when it is absent.
func Bin(t testing.TB, name string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join(BinDir(t), name))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p); err != nil {
		Missing(t, "%s missing at %s: run `make tools`", name, p)
	}
	return p
}

// KubebuilderAssets returns the directory holding etcd and kube-apiserver
// for envtest: KUBEBUILDER_ASSETS when set, else BinDir.
func KubebuilderAssets(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("KUBEBUILDER_ASSETS")
	if dir == "" {
		dir = BinDir(t)
	}
	for _, b := range []string{"etcd", "kube-apiserver"} {
		if _, err := os.Stat(filepath.Join(dir, b)); err != nil {
			Missing(t, "envtest needs %s in %s: run `make tool-etcd tool-kubernetes`", b, dir)
		}
	}
	return dir
}

// Missing skips the test, or fails it when tools are required.
func Missing(t testing.TB, format string, args ...any) {
	t.Helper()
	if Required() {
		t.Fatalf(format+" ("+RequireEnv+" is set)", args...)
	}
	t.Skipf(format, args...)
}
