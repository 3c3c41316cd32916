package main

import (
	"github.com/hourglass-xp/crossplane-hourglass/internal/testtools"

	"context"
	"net"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// TestRenderBinary builds the function's own binary, starts it the way a
// developer would (`--insecure` on a loopback port, metrics off), and renders
// the minimal example through it: the CLI wiring in main.go is exercised
// end to end. A newly created performer's output does not depend on the
// clock, so it must equal the golden file the in-process tests use.
func TestRenderBinary(t *testing.T) {
	if *update {
		t.Skip("golden files are written by TestRender")
	}
	// Skip (or fail, under HOURGLASS_REQUIRE_TOOLS) before building anything.
	testtools.Bin(t, "crossplane")
	testtools.Bin(t, "crossplane-core")

	bin := filepath.Join(t.TempDir(), "function-performer")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	addr := testtools.FreeLoopbackAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "--insecure", "--address="+addr, "--metrics-address=")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
	})
	waitListening(t, addr)

	dir := t.TempDir()
	fn := map[string]any{
		"apiVersion": "pkg.crossplane.io/v1",
		"kind":       "Function",
		"metadata": map[string]any{
			"name": "hourglass-xp-function-performer",
			"annotations": map[string]any{
				"render.crossplane.io/runtime":                    "Development",
				"render.crossplane.io/runtime-development-target": addr,
			},
		},
		"spec": map[string]any{"package": "xpkg.upbound.io/hourglass-xp/function-performer:v0.1.0"},
	}
	fns := writeYAML(t, dir, "functions.yaml", fn)
	xr := writeYAML(t, dir, "xr.yaml", xrOf(t, readPerformer(t, "minimal.yaml")))
	golden(t, "minimal-created", render(t, fns, xr, composition, ""))
}

func waitListening(t *testing.T, addr string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			_ = c.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("the function did not listen on %s within 20s", addr)
}
