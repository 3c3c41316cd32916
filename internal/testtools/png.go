package testtools

import (
	"image"
	"image/png"
	"os"
	"testing"
)

// ReadPNG decodes the PNG a test had written to file, failing the test when
// there is none or it is no PNG.
func ReadPNG(t testing.TB, file string) image.Image {
	t.Helper()
	f, err := os.Open(file) //nolint:gosec // A file the test had written.
	if err != nil {
		t.Fatalf("cannot open the PNG: %v", err)
	}
	defer func() { _ = f.Close() }()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s is no PNG: %v", file, err)
	}
	return img
}
