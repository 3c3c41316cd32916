package testtools

import (
	"os"
	"path/filepath"
	"testing"
)

func TestRepoRootHoldsGoMod(t *testing.T) {
	root := RepoRoot(t)
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("RepoRoot(t) = %s, which has no go.mod: %v", root, err)
	}
}

func TestBinDirFollowsTOOLS_BIN(t *testing.T) {
	t.Setenv("TOOLS_BIN", "/somewhere/bin")
	if got := BinDir(t); got != "/somewhere/bin" {
		t.Errorf("BinDir(t) = %q, want TOOLS_BIN", got)
	}
	t.Setenv("TOOLS_BIN", "")
	if got, want := BinDir(t), filepath.Join(RepoRoot(t), "_output", "bin"); got != want {
		t.Errorf("BinDir(t) = %q, want %q", got, want)
	}
}

func TestRequired(t *testing.T) {
	t.Setenv(RequireEnv, "")
	if Required() {
		t.Error("Required() with the variable empty: want false")
	}
	t.Setenv(RequireEnv, "1")
	if !Required() {
		t.Error("Required() with the variable set: want true")
	}
}
