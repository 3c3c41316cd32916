package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/crossplane/crossplane-runtime/v2/pkg/errors"

	"github.com/hourglass-xp/crossplane-hourglass/internal/benche2e"
)

const (
	errOut      = "cannot write the results"
	errReadRuns = "cannot read the results"
)

// RunCmd runs the benchmark.
type RunCmd struct {
	Kubeconfig string   `env:"KUBECONFIG"                               help:"Kubeconfig of the stack (the forwarder on the host)." required:""`
	StateDir   string   `default:"_output/cluster"                      env:"STATE_DIR" help:"The stack's state directory (PID files)."`
	Out        string   `default:"_output/bench-e2e"                    help:"Directory of the results: LABEL.json per run, results.md and latency.png of all runs in it."`
	Label      string   `default:"run"                                  help:"Name of this run in the tables (before, after, a commit)."`
	Phases     []string `default:"latency,floor,scale,upgrade" enum:"latency,floor,scale,upgrade" help:"Phases to run, in this order."`

	N          int           `default:"30"             help:"Performers applied one at a time in the latency phase." short:"n"`
	Warmup     int           `default:"1"              help:"Performers applied one at a time before the latency phase's, reported apart: the first Performer after a start waits for Crossplane's watches."`
	Sizes      []int         `default:"100,500,1000"   help:"Performers applied at once in the floor and scale phases, one size after the other."`
	Namespaces int           `default:"50"             help:"Namespaces the Performers of a size are spread across."`
	Upgrade    int           `default:"100"            help:"Performers upgraded at once, of the first scale size."`
	Stable     time.Duration `default:"5s"             help:"How long every Performer must stay Ready to count as Ready: Crossplane flaps Ready under load."`
	Steady     time.Duration `default:"60s"            help:"Steady-state window after each scale size (0 skips it)."`
	Settle     time.Duration `default:"60s"            help:"Wait before the steady-state window, so the work left over from applying the Performers (Crossplane's retries, the provider's first polls) is over."`
	Timeout    time.Duration `default:"20m"            help:"Timeout of each wait."`
	Workers    int           `default:"20"             help:"Concurrent requests when applying at once."`
	QPS        float32       `default:"500"            help:"Client-side rate limit of this benchmark's own requests."`

	kube  *kube
	stack *stack
}

func (r *RunCmd) logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s bench-e2e: %s\n", time.Now().UTC().Format("15:04:05"), fmt.Sprintf(format, args...))
}

// Run the phases and write the results.
func (r *RunCmd) Run() error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	if r.kube, err = newKube(r.Kubeconfig, r.QPS, int(2*r.QPS)); err != nil {
		return err
	}
	if r.stack, err = findStack(r.StateDir); err != nil {
		return err
	}
	res := benche2e.Run{Label: r.Label, Commit: commit(), Started: time.Now(), Cores: runtime.NumCPU()}
	// What has been measured is written even when a later phase fails.
	err = r.phases(ctx, &res)
	if werr := r.write(res); werr != nil && err == nil {
		err = werr
	}
	return err
}

func (r *RunCmd) phases(ctx context.Context, res *benche2e.Run) error {
	var tmpl *template
	var err error
	if slices.Contains(r.Phases, "latency") || slices.Contains(r.Phases, "floor") {
		// The floor copies what the function composed for a Performer;
		// without the latency phase, one Performer is enough.
		n, w := r.N, r.Warmup
		if !slices.Contains(r.Phases, "latency") {
			r.N, r.Warmup = 1, 0
		}
		l, t, err := r.latency(ctx)
		if err != nil {
			return err
		}
		r.N, r.Warmup, tmpl = n, w, t
		if slices.Contains(r.Phases, "latency") {
			res.Latency = l
		}
	}
	if len(r.Sizes) > 0 {
		if err := r.kube.ensureCapacity(ctx, slices.Max(r.Sizes)); err != nil {
			return err
		}
	}
	for i, n := range r.Sizes {
		if slices.Contains(r.Phases, "floor") {
			f, err := r.floor(ctx, tmpl, n)
			if err != nil {
				return err
			}
			res.Floors = append(res.Floors, f)
		}
		if !slices.Contains(r.Phases, "scale") {
			continue
		}
		s, up, err := r.scale(ctx, n, i == 0 && slices.Contains(r.Phases, "upgrade"))
		res.Scales = append(res.Scales, s)
		res.Upgrade = up
		if err != nil {
			return err
		}
		if i < len(r.Sizes)-1 {
			// The next size starts from a cluster without these Performers.
			r.logf("scale %d: deleting the Performers", n)
			run := fmt.Sprintf("s%d", n)
			if err = r.kube.deleteRun(ctx, run, namespaces(scaleNSPrefix, r.Namespaces), r.Timeout, performers); err != nil {
				return err
			}
		}
	}
	return err
}

// write saves this run as LABEL.json and renders every run in the
// directory into results.md and the latency plot.
func (r *RunCmd) write(res benche2e.Run) error {
	if err := os.MkdirAll(r.Out, 0o750); err != nil {
		return errors.Wrap(err, errOut)
	}
	b, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return errors.Wrap(err, errOut)
	}
	if err := os.WriteFile(filepath.Join(r.Out, r.Label+".json"), b, 0o600); err != nil {
		return errors.Wrap(err, errOut)
	}
	return (&ReportCmd{Out: r.Out, Title: plotTitle}).Run()
}

// commit is the repository's HEAD, marked +dirty when the tree differs.
func commit() string {
	out, err := exec.Command("git", "rev-parse", "--short", "HEAD").Output()
	if err != nil {
		return "unknown"
	}
	c := strings.TrimSpace(string(out))
	if exec.Command("git", "diff", "--quiet", "HEAD", "--", "functions", "internal", "cmd", "apis").Run() != nil {
		c += "+dirty"
	}
	return c
}

const plotTitle = "Performers on the local stack, applied one at a time: from apply to each milestone"

// ReportCmd renders results.md and the plot from the runs in a directory.
type ReportCmd struct {
	Out   string `default:"_output/bench-e2e" help:"Directory with the runs' JSON files."`
	Title string `default:"${plotTitle}" help:"Title of the plot."`
}

// Run renders the report.
func (c *ReportCmd) Run() error {
	files, err := filepath.Glob(filepath.Join(c.Out, "*.json"))
	if err != nil {
		return errors.Wrap(err, errReadRuns)
	}
	var runs []benche2e.Run
	for _, f := range files {
		b, err := os.ReadFile(f) //nolint:gosec // Files of the results directory.
		if err != nil {
			return errors.Wrap(err, errReadRuns)
		}
		var r benche2e.Run
		if err := json.Unmarshal(b, &r); err != nil {
			return errors.Wrapf(err, "%s: %s", errReadRuns, f)
		}
		runs = append(runs, r)
	}
	benche2e.SortRuns(runs)
	md := benche2e.Render(runs)
	if err := os.WriteFile(filepath.Join(c.Out, "results.md"), []byte(md), 0o600); err != nil {
		return errors.Wrap(err, errOut)
	}
	fmt.Print(md)
	var series []benche2e.Series
	for _, r := range runs {
		if r.Latency == nil {
			continue
		}
		prefix := ""
		if len(runs) > 1 {
			prefix = r.Label + ": "
		}
		series = append(series,
			benche2e.Series{Name: prefix + "Deployment exists", Latencies: r.Latency.Deployment},
			benche2e.Series{Name: prefix + "Performer Ready", Latencies: r.Latency.Ready},
			benche2e.Series{Name: prefix + "connection Secret", Latencies: r.Latency.Secret})
	}
	if len(series) == 0 {
		return nil
	}
	return benche2e.PlotLatencies(filepath.Join(c.Out, "latency.png"), c.Title, series)
}
