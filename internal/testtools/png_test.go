package testtools

import (
	"image"
	"image/png"
	"os"
	"path/filepath"
	"testing"
)

func TestReadPNG(t *testing.T) {
	file := filepath.Join(t.TempDir(), "a.png")
	f, err := os.Create(file) //nolint:gosec // The test's own file.
	if err != nil {
		t.Fatal(err)
	}
	if err := png.Encode(f, image.NewGray(image.Rect(0, 0, 3, 2))); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if b := ReadPNG(t, file).Bounds(); b.Dx() != 3 || b.Dy() != 2 {
		t.Errorf("ReadPNG(...): bounds %v, want 3x2", b)
	}
}

// fatal records a failure instead of stopping the test.
type fatal struct {
	testing.TB
	failed bool
}

func (f *fatal) Fatalf(string, ...any) { f.failed = true; panic(f) }

func TestReadPNGFailsOnNoPNG(t *testing.T) {
	file := filepath.Join(t.TempDir(), "a.png")
	if err := os.WriteFile(file, []byte("not a PNG"), 0o600); err != nil {
		t.Fatal(err)
	}
	f := &fatal{TB: t}
	func() {
		defer func() { _ = recover() }()
		ReadPNG(f, file)
	}()
	if !f.failed {
		t.Error("ReadPNG(...) of a text file: want the test failed")
	}
}
