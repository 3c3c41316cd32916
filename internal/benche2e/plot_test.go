package benche2e

import (
	"image"
	"os"
	"path/filepath"
	"testing"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"

	"github.com/hourglass-xp/crossplane-hourglass/internal/testtools"
)

func panel(t *testing.T, title string) *plot.Plot {
	t.Helper()
	p := plot.New()
	p.Title.Text = title
	logX(p, "seconds")
	l, err := plotter.NewLine(plotter.XYs{{X: 1, Y: 0}, {X: 10, Y: 50}, {X: 100, Y: 100}})
	if err != nil {
		t.Fatal(err)
	}
	p.Add(l)
	return p
}

// inked reports whether the columns [x0, x1) of img, below the title, hold
// a pixel that is not white: a panel was drawn there.
func inked(img image.Image, x0, x1 int) bool {
	// The title sits in the top 44 points (67 pixels at 110 dpi) and spans
	// both halves.
	const belowTitle = 70
	b := img.Bounds()
	for y := belowTitle; y < b.Max.Y; y++ {
		for x := x0; x < x1; x++ {
			if r, g, bl, _ := img.At(x, y).RGBA(); r != 0xffff || g != 0xffff || bl != 0xffff {
				return true
			}
		}
	}
	return false
}

func TestWritePNG(t *testing.T) {
	// 12 × 5 inches at 110 dpi.
	const wantW, wantH = 1320, 550
	cases := map[string]struct {
		reason  string
		panels  int
		dir     string
		wantErr bool
	}{
		"TwoPanels": {
			reason: "Two panels make a PNG of the fixed size, with ink in both halves.",
			panels: 2,
		},
		"OnePanel": {
			reason: "One panel makes a PNG of the same size.",
			panels: 1,
		},
		"NoPanels": {
			reason:  "Without panels there is nothing to draw: an error and no file.",
			wantErr: true,
		},
		"NoDirectory": {
			reason:  "A file in a directory that does not exist is an error.",
			panels:  2,
			dir:     "missing",
			wantErr: true,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), tc.dir, "latency.png")
			panels := make([]*plot.Plot, tc.panels)
			for i := range panels {
				panels[i] = panel(t, name)
			}
			err := writePNG(file, "title", panels...)
			if tc.wantErr {
				if err == nil {
					t.Errorf("%s\nwritePNG(...): want error, got none", tc.reason)
				}
				if _, err := os.Stat(file); err == nil {
					t.Errorf("%s\nwritePNG(...) wrote %s despite the error", tc.reason, file)
				}
				return
			}
			if err != nil {
				t.Fatalf("%s\nwritePNG(...): %v", tc.reason, err)
			}
			img := testtools.ReadPNG(t, file)
			if b := img.Bounds(); b.Dx() != wantW || b.Dy() != wantH {
				t.Errorf("%s\nwritePNG(...): image %v, want %dx%d", tc.reason, b, wantW, wantH)
			}
			if tc.panels == 2 && (!inked(img, 0, wantW/2) || !inked(img, wantW/2, wantW)) {
				t.Errorf("%s\nwritePNG(...): a half of the image is blank, want one panel in each", tc.reason)
			}
		})
	}
}
