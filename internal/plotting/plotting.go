// Package plotting writes the latency PNGs of the benchmarks (cmd/fnbench
// and cmd/benche2e): panels side by side under one title, latency on a log
// axis.
package plotting

import (
	"os"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/crossplane/crossplane-runtime/v2/pkg/errors"
)

const (
	errNoPanels = "cannot write a PNG without panels"
	errWritePNG = "cannot write the PNG"
)

// The size of every PNG: wide enough for two panels side by side.
const (
	Width  = 12 * vg.Inch
	Height = 5 * vg.Inch
	DPI    = 110
)

// LogX gives p a log-scaled x axis with the label: latencies span orders of
// magnitude, and a linear axis squashes the body against the tail.
func LogX(p *plot.Plot, label string) {
	p.X.Label.Text = label
	p.X.Scale = plot.LogScale{}
	p.X.Tick.Marker = plot.LogTicks{Prec: -1}
}

// WritePNG draws the panels side by side, left to right, under the title
// and writes them to file as a PNG of Width × Height at DPI.
func WritePNG(file, title string, panels ...*plot.Plot) error {
	if len(panels) == 0 {
		return errors.New(errNoPanels)
	}
	img := vgimg.NewWith(vgimg.UseWH(Width, Height), vgimg.UseDPI(DPI))
	dc := draw.New(img)

	style := plot.New().Title.TextStyle
	style.Font.Size = vg.Points(14)
	style.XAlign = draw.XCenter
	dc.FillText(style, vg.Point{X: Width / 2, Y: Height - vg.Points(20)}, title)

	tiles := draw.Tiles{Rows: 1, Cols: len(panels), PadTop: vg.Points(44), PadBottom: vg.Points(6), PadLeft: vg.Points(6), PadRight: vg.Points(12), PadX: vg.Points(24)}
	for i, p := range panels {
		p.Draw(tiles.At(dc, i, 0))
	}

	f, err := os.Create(file) //nolint:gosec // The caller names the file to write.
	if err != nil {
		return errors.Wrap(err, errWritePNG)
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(f); err != nil {
		_ = f.Close()
		return errors.Wrap(err, errWritePNG)
	}
	return errors.Wrap(f.Close(), errWritePNG)
}
