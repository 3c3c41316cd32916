package main

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"

	"github.com/crossplane/crossplane-runtime/v2/pkg/errors"

	"github.com/hourglass-xp/crossplane-hourglass/internal/plotting"
)

const errPlotLine = "cannot draw a series"

// bins of the distribution panel, from the fastest call to the slowest.
const bins = 60

// Plot writes a PNG with two panels, both with latency on a log scale (a
// linear one squashes the body against the tail): the share of calls per
// bin for each request (where the calls fall, modes and all), and the
// cumulative distribution (percentiles read off directly).
func Plot(file, title string, res []Result) error {
	dist, err := distribution(res)
	if err != nil {
		return err
	}
	cum, err := cumulative(res)
	if err != nil {
		return err
	}
	return plotting.WritePNG(file, title, dist, cum)
}

func distribution(res []Result) (*plot.Plot, error) {
	lo, hi := time.Duration(math.MaxInt64), time.Duration(0)
	for _, r := range res {
		if len(r.Latencies) > 0 {
			lo, hi = min(lo, r.Latencies[0]), max(hi, r.Latencies[len(r.Latencies)-1])
		}
	}
	p := plot.New()
	p.Title.Text = "Where calls fall (log-spaced bins, log scale)"
	p.X.Label.Text = "latency (ms)"
	p.Y.Label.Text = "calls per bin (%)"
	p.X.Scale = plot.LogScale{}
	p.X.Tick.Marker = plot.LogTicks{Prec: -1}
	p.Y.Tick.Marker = plot.TickerFunc(percentSteps)
	p.Add(plotter.NewGrid())
	if hi <= lo {
		return p, nil
	}
	// Bins of equal width on the log axis: each is the same factor wider
	// than the one before, so the body and the tail both show.
	step := math.Log(float64(hi)/float64(lo)) / bins
	for i, r := range res {
		if len(r.Latencies) == 0 {
			continue
		}
		counts := make([]float64, bins)
		for _, l := range r.Latencies {
			counts[min(int(math.Log(float64(l)/float64(lo))/step), bins-1)]++
		}
		xys := make(plotter.XYs, bins)
		for b, c := range counts {
			xys[b].X = float64(lo) * math.Exp((float64(b)+0.5)*step) / float64(time.Millisecond)
			xys[b].Y = 100 * c / float64(len(r.Latencies))
		}
		if err := addLine(p, i, xys, ""); err != nil {
			return nil, err
		}
	}
	p.Y.Min = 0
	return p, nil
}

// percentSteps labels a percentage axis in whole steps of 1, 2, 5 or 10.
func percentSteps(lo, hi float64) []plot.Tick {
	step := 1.0
	for _, s := range []float64{2, 5, 10, 20} {
		if (hi-lo)/step <= 8 {
			break
		}
		step = s
	}
	var ts []plot.Tick
	for v := math.Ceil(lo/step) * step; v <= hi; v += step {
		ts = append(ts, plot.Tick{Value: v, Label: strconv.FormatFloat(v, 'f', -1, 64)})
	}
	return ts
}

func cumulative(res []Result) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = "Cumulative (log scale): calls at or below a latency"
	p.X.Label.Text = "latency (ms)"
	p.Y.Label.Text = "calls (%)"
	p.X.Scale = plot.LogScale{}
	p.X.Tick.Marker = plot.LogTicks{Prec: -1}
	p.Y.Min, p.Y.Max = 0, 100
	p.Y.Tick.Marker = plot.ConstantTicks(percentTicks())
	p.Add(plotter.NewGrid())
	p.Legend.Top = false
	p.Legend.Left = false
	p.Legend.XOffs = -vg.Points(4)
	p.Legend.YOffs = vg.Points(4)
	for i, r := range res {
		n := len(r.Latencies)
		if n == 0 {
			continue
		}
		// One point per distinct rank step would be n points; 500
		// quantiles draw the same curve.
		steps := min(n, 500)
		xys := make(plotter.XYs, 0, steps+1)
		for s := 0; s <= steps; s++ {
			q := float64(s) / float64(steps) * 100
			xys = append(xys, plotter.XY{X: float64(r.Percentile(max(q, 1e-9))) / float64(time.Millisecond), Y: q})
		}
		s := r.Summary()
		label := fmt.Sprintf("%s  p50 %s  p99 %s", r.Name, ms(s.P50), ms(s.P99))
		if err := addLine(p, i, xys, label); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// percentTicks labels 0, 25, 50, 75, 90 and 100 % and leaves the other
// tens unlabelled (99 would print over 100; the legend gives p99).
func percentTicks() []plot.Tick {
	var ts []plot.Tick
	for v := 0; v <= 100; v += 10 {
		ts = append(ts, plot.Tick{Value: float64(v)})
	}
	for _, v := range []float64{0, 25, 50, 75, 90, 100} {
		ts = append(ts, plot.Tick{Value: v, Label: fmt.Sprintf("%g", v)})
	}
	return ts
}

// addLine draws series i in the i-th colour (and, past the palette, a
// dash pattern), with a legend entry when label is set.
func addLine(p *plot.Plot, i int, xys plotter.XYs, label string) error {
	l, err := plotter.NewLine(xys)
	if err != nil {
		return errors.Wrap(err, errPlotLine)
	}
	l.Color = plotutil.Color(i)
	l.Dashes = plotutil.Dashes(i / len(plotutil.DefaultColors))
	l.Width = vg.Points(1.5)
	p.Add(l)
	if label != "" {
		p.Legend.Add(label, l)
	}
	return nil
}
