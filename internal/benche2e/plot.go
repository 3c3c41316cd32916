package benche2e

import (
	"fmt"
	"math"
	"os"
	"slices"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/crossplane/crossplane-runtime/v2/pkg/errors"
)

const (
	errPlotSeries = "cannot draw a series"
	errNoPanels   = "cannot write a PNG without panels"
	errWritePNG   = "cannot write the PNG"
)

// The size of every PNG: wide enough for two panels side by side.
const (
	pngWidth  = 12 * vg.Inch
	pngHeight = 5 * vg.Inch
	pngDPI    = 110
)

// Series is one named set of latencies to plot.
type Series struct {
	Name      string
	Latencies []time.Duration
}

// PlotLatencies writes a PNG with two panels, latency on a log scale in
// both (a milestone of 0.5 s and one of 10 s share the axis): every performer
// as a dot on its milestone's row, so a sample of 30 shows as what it is
// rather than as a histogram of mostly empty bins; and the cumulative
// distribution, from which percentiles read off.
func PlotLatencies(file, title string, series []Series) error {
	dots, err := dotPlot(series)
	if err != nil {
		return err
	}
	cum, err := cumulativePlot(series)
	if err != nil {
		return err
	}
	// Both panels share a range with some room either side: a log axis
	// whose minimum equals its maximum (one performer, or equal latencies)
	// has no ticks and cannot be drawn.
	lo, hi := xRange(series)
	for _, p := range []*plot.Plot{dots, cum} {
		p.X.Min, p.X.Max = lo, hi
	}
	// Room right of the slowest performer for the legend, which would
	// otherwise sit on the curves.
	cum.X.Max = hi * 60
	return writePNG(file, title, dots, cum)
}

// xRange is the seconds axis of every series, a factor of 1.5 wider than
// the latencies on each side.
func xRange(series []Series) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, s := range series {
		for _, l := range s.Latencies {
			lo, hi = min(lo, seconds(l)), max(hi, seconds(l))
		}
	}
	if math.IsInf(lo, 1) {
		return 1e-3, 1
	}
	return lo / 1.5, hi * 1.5
}

func seconds(d time.Duration) float64 {
	// A log axis cannot show 0; nothing measured live is below 1 ms.
	return max(d.Seconds(), 1e-3)
}

func dotPlot(series []Series) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = "Each performer (log scale)"
	logX(p, "seconds after apply")
	p.Add(plotter.NewGrid())
	names := make([]string, len(series))
	for i, s := range series {
		names[i] = s.Name
		xys := make(plotter.XYs, len(s.Latencies))
		for j, l := range s.Latencies {
			// Spread the dots of a row a little, so equal latencies
			// stay visible as several dots (deterministic, no rand).
			xys[j] = plotter.XY{X: seconds(l), Y: float64(i) + 0.3*(float64(j%7)/6-0.5)}
		}
		sc, err := plotter.NewScatter(xys)
		if err != nil {
			return nil, errors.Wrap(err, errPlotSeries)
		}
		sc.Color = plotutil.Color(i)
		sc.Shape = draw.CircleGlyph{}
		sc.Radius = vg.Points(3)
		p.Add(sc)
	}
	p.NominalY(names...)
	return p, nil
}

func cumulativePlot(series []Series) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = "Cumulative (log scale): performers at or below a latency"
	logX(p, "seconds after apply")
	p.Y.Label.Text = "performers (%)"
	p.Y.Min, p.Y.Max = 0, 100
	p.Add(plotter.NewGrid())
	// Right, below the top: the curves reach that height further left.
	p.Legend.Top = true
	p.Legend.Left = false
	p.Legend.YOffs = -vg.Points(70)
	p.Legend.TextStyle.Font.Size = vg.Points(9)
	for i, s := range series {
		if len(s.Latencies) == 0 {
			continue
		}
		sorted := slices.Clone(s.Latencies)
		slices.Sort(sorted)
		// The empirical distribution as steps: flat until the next performer,
		// then up by one performer's share.
		n := float64(len(sorted))
		xys := make(plotter.XYs, 0, 2*len(sorted))
		for j, l := range sorted {
			xys = append(xys, plotter.XY{X: seconds(l), Y: 100 * float64(j) / n}, plotter.XY{X: seconds(l), Y: 100 * float64(j+1) / n})
		}
		l, err := plotter.NewLine(xys)
		if err != nil {
			return nil, errors.Wrap(err, errPlotSeries)
		}
		l.Color = plotutil.Color(i)
		l.Width = vg.Points(1.5)
		p.Add(l)
		sum := Summarize(s.Latencies)
		p.Legend.Add(fmt.Sprintf("%s  p50 %s  p90 %s", s.Name, Seconds(sum.P50), Seconds(sum.P90)), l)
	}
	return p, nil
}

// logX gives p a log-scaled x axis with the label: latencies span orders of
// magnitude, and a linear axis squashes the body against the tail.
func logX(p *plot.Plot, label string) {
	p.X.Label.Text = label
	p.X.Scale = plot.LogScale{}
	p.X.Tick.Marker = plot.LogTicks{Prec: -1}
}

// writePNG draws the panels side by side, left to right, under the title
// and writes them to file as a PNG of pngWidth × pngHeight at pngDPI.
func writePNG(file, title string, panels ...*plot.Plot) error {
	if len(panels) == 0 {
		return errors.New(errNoPanels)
	}
	img := vgimg.NewWith(vgimg.UseWH(pngWidth, pngHeight), vgimg.UseDPI(pngDPI))
	dc := draw.New(img)

	style := plot.New().Title.TextStyle
	style.Font.Size = vg.Points(14)
	style.XAlign = draw.XCenter
	dc.FillText(style, vg.Point{X: pngWidth / 2, Y: pngHeight - vg.Points(20)}, title)

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
