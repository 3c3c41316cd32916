package benche2e

import (
	"fmt"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/crossplane/crossplane-runtime/v2/pkg/errors"
)

const errReadLoad = "cannot read the load average"

// Load is the machine's load average (1, 5, 15 minutes) at the start and
// the end of a phase: wall-clock figures on a shared machine mean little
// without it.
type Load struct {
	Start [3]float64 `json:"start"`
	End   [3]float64 `json:"end"`
}

// String is "1.2–3.4" from the lower to the higher 1-minute average.
func (l Load) String() string {
	lo, hi := min(l.Start[0], l.End[0]), max(l.Start[0], l.End[0])
	return fmt.Sprintf("%.1f–%.1f", lo, hi)
}

// ReadLoadavg reads /proc/loadavg (or another file in its format).
func ReadLoadavg(file string) ([3]float64, error) {
	b, err := os.ReadFile(file) //nolint:gosec // /proc/loadavg, or a test's fixture.
	if err != nil {
		return [3]float64{}, errors.Wrap(err, errReadLoad)
	}
	return ParseLoadavg(string(b))
}

// ParseLoadavg parses the first three fields of /proc/loadavg.
func ParseLoadavg(s string) ([3]float64, error) {
	var out [3]float64
	f := strings.Fields(s)
	if len(f) < 3 {
		return out, errors.New(errReadLoad)
	}
	for i := range out {
		v, err := strconv.ParseFloat(f[i], 64)
		if err != nil {
			return out, errors.Wrap(err, errReadLoad)
		}
		out[i] = v
	}
	return out, nil
}

// ProcCost is what a process spent during a phase.
type ProcCost struct {
	CPUSeconds float64 `json:"cpuSeconds"`
	PeakRSS    uint64  `json:"peakRSS"`
}

// Run is one invocation of the benchmark: the phases it ran on one stack.
type Run struct {
	// Label names the run in tables ("before", "after", a commit).
	Label   string    `json:"label"`
	Commit  string    `json:"commit"`
	Started time.Time `json:"started"`
	Cores   int       `json:"cores"`

	Latency *Latency `json:"latency,omitempty"`
	Floors  []Floor  `json:"floors,omitempty"`
	Scales  []Scale  `json:"scales,omitempty"`
	Upgrade *Upgrade `json:"upgrade,omitempty"`
}

// Latency of Performers applied one after the other: from the apply to
// each milestone, per Performer.
type Latency struct {
	// Cold are the warm-up Performers applied first, not in the figures.
	Cold       []Milestones    `json:"cold,omitempty"`
	N          int             `json:"n"`
	Deployment []time.Duration `json:"deployment"`
	Ready      []time.Duration `json:"ready"`
	Secret     []time.Duration `json:"secret"`
	Load       Load            `json:"load"`
}

// Milestones of one Performer.
type Milestones struct {
	Deployment time.Duration `json:"deployment"`
	Ready      time.Duration `json:"ready"`
	Secret     time.Duration `json:"secret"`
}

// Floor is the plain client: the function's Deployments and Services
// created directly, until every Deployment is available.
type Floor struct {
	N            int           `json:"n"`
	Namespaces   int           `json:"namespaces"`
	AllAvailable time.Duration `json:"allAvailable"`
	API          APICounts     `json:"api"`
	Load         Load          `json:"load"`
}

// Scale is N Performers applied at once.
type Scale struct {
	N          int `json:"n"`
	Namespaces int `json:"namespaces"`
	// FirstAllReady is when every Performer was Ready for the first time;
	// AllReady when every one was Ready and then stayed so for Stable.
	FirstAllReady time.Duration `json:"firstAllReady"`
	AllReady      time.Duration `json:"allReady"`
	Stable        time.Duration `json:"stable"`
	// Elapsed and ReadyAtEnd are set when not every Performer became Ready
	// and stable in time: how long was waited, and how many were Ready.
	Elapsed    time.Duration `json:"elapsed,omitempty"`
	ReadyAtEnd int           `json:"readyAtEnd,omitempty"`
	// Flaps counts Performers going from Ready to not Ready; FlapReasons
	// what their Ready (status/reason) and Synced conditions said then.
	Flaps       int            `json:"flaps"`
	FlapReasons map[string]int `json:"flapReasons,omitempty"`
	// API, RunFunction and Procs cover the apply until AllReady + Stable.
	API         APICounts           `json:"api"`
	RunFunction float64             `json:"runFunction"`
	Reconciles  map[string]float64  `json:"reconciles"`
	Procs       map[string]ProcCost `json:"procs"`
	Load        Load                `json:"load"`
	// Steady is a window after that with nothing changing.
	Steady *Steady `json:"steady,omitempty"`
}

// Steady is what N Ready Performers cost while nothing changes.
type Steady struct {
	Window      time.Duration       `json:"window"`
	API         APICounts           `json:"api"`
	RunFunction float64             `json:"runFunction"`
	Reconciles  map[string]float64  `json:"reconciles"`
	Procs       map[string]ProcCost `json:"procs"`
	Load        Load                `json:"load"`
}

// Upgrade is a blue-green upgrade of N performers at once.
type Upgrade struct {
	N int `json:"n"`
	// AllUpgraded is when the last Performer showed the new version active
	// and Ready; PerPerformer each one's time. Its JSON name is the one of
	// runs recorded when a performer was a claim, so those still render
	// beside newer ones.
	AllUpgraded  time.Duration   `json:"allUpgraded"`
	PerPerformer []time.Duration `json:"perClaim"`
	// SliceEvents is how many EndpointSlice changes of the performers'
	// Services were seen; Empty how many of them left a Service without a
	// ready endpoint; MinReady the fewest ready endpoints a Service had.
	SliceEvents int                `json:"sliceEvents"`
	Empty       int                `json:"empty"`
	MinReady    int                `json:"minReady"`
	API         APICounts          `json:"api"`
	RunFunction float64            `json:"runFunction"`
	Reconciles  map[string]float64 `json:"reconciles"`
	Load        Load               `json:"load"`
}

// Processes in the order tables show them.
var Processes = []string{"crossplane", "function", "provider", "kube-apiserver", "etcd"}

// Render writes the markdown report of runs.
func Render(runs []Run) string {
	var b strings.Builder
	for _, r := range runs {
		fmt.Fprintf(&b, "- run %q: commit %s, started %s, %d cores\n", r.Label, r.Commit, r.Started.UTC().Format(time.RFC3339), r.Cores)
	}
	b.WriteString("\n")
	if t := latencyTable(runs); len(t.Rows) > 0 {
		b.WriteString("### Latency, performers applied one at a time\n\n" + t.String() + "\n")
		for _, r := range runs {
			if r.Latency == nil {
				continue
			}
			for i, c := range r.Latency.Cold {
				fmt.Fprintf(&b, "- %s, warm-up performer %d (first after the stack started, not in the table): Deployment %s, Ready %s, Secret %s\n",
					r.Label, i+1, Seconds(c.Deployment), Seconds(c.Ready), Seconds(c.Secret))
			}
		}
		b.WriteString("\n")
	}
	if t := scaleTable(runs); len(t.Rows) > 0 {
		b.WriteString("### Performers applied at once\n\n" + t.String() + "\n")
		for _, r := range runs {
			for _, s := range r.Scales {
				if len(s.FlapReasons) == 0 {
					continue
				}
				var why []string
				for _, k := range slices.Sorted(maps.Keys(s.FlapReasons)) {
					why = append(why, fmt.Sprintf("%s ×%d", k, s.FlapReasons[k]))
				}
				fmt.Fprintf(&b, "- %s, %d performers: Ready lost %d times: %s\n", r.Label, s.N, s.Flaps, strings.Join(why, "; "))
			}
		}
		b.WriteString("\nWrites by resource, per performer (requests / stored in etcd):\n\n" + writesTable(runs).String() + "\n")
		b.WriteString("Processes, during the run (CPU seconds, peak RSS):\n\n" + procTable(runs).String() + "\n")
	}
	if t := steadyTable(runs); len(t.Rows) > 0 {
		b.WriteString("### Steady state: Ready performers, nothing changing\n\n" + t.String() + "\n")
	}
	if t := reconcileTable(runs); len(t.Rows) > 0 {
		b.WriteString("Reconciles per performer, by controller (Crossplane and provider), until all Ready / per minute of steady state:\n\n" + t.String() + "\n")
	}
	if t := upgradeTable(runs); len(t.Rows) > 0 {
		b.WriteString("### Blue-green upgrade of performers at once\n\n" + t.String() + "\n")
	}
	return b.String()
}

func latencyTable(runs []Run) Table {
	t := Table{Header: []string{"<run", "<milestone", "n", "p50", "p90", "p99", "max", "load"}}
	for _, r := range runs {
		l := r.Latency
		if l == nil {
			continue
		}
		for _, m := range []struct {
			name string
			ds   []time.Duration
		}{{"apply → Deployment exists", l.Deployment}, {"apply → Ready", l.Ready}, {"apply → connection Secret exists", l.Secret}} {
			s := Summarize(m.ds)
			t.Add(r.Label, m.name, strconv.Itoa(s.N), Seconds(s.P50), Seconds(s.P90), Seconds(s.P99), Seconds(s.Max), l.Load.String())
		}
	}
	return t
}

// floorOf finds the floor measured for n performers in any run, preferring the
// same run.
func floorOf(runs []Run, self Run, n int) *Floor {
	for _, r := range append([]Run{self}, runs...) {
		for i := range r.Floors {
			if r.Floors[i].N == n {
				return &r.Floors[i]
			}
		}
	}
	return nil
}

func scaleTable(runs []Run) Table {
	t := Table{Header: []string{"<run", "performers", "namespaces", "all Ready (stable)", "first all Ready", "floor", "ratio to floor", "flaps", "API requests / performer", "API writes / performer", "stored writes / performer", "conflicts (409) / performer", "RunFunction / performer", "load"}}
	for _, r := range runs {
		for _, s := range r.Scales {
			floor, ratio := "–", "–"
			if f := floorOf(runs, r, s.N); f != nil {
				floor, ratio = Seconds(f.AllAvailable), Ratio(s.AllReady, f.AllAvailable)
			}
			all, first := Seconds(s.AllReady), Seconds(s.FirstAllReady)
			if s.Elapsed > 0 {
				all, first, ratio = fmt.Sprintf("not within %s: %d Ready", Seconds(s.Elapsed), s.ReadyAtEnd), "–", "–"
			}
			t.Add(r.Label, strconv.Itoa(s.N), strconv.Itoa(s.Namespaces), all, first, floor, ratio,
				strconv.Itoa(s.Flaps), PerUnit(s.API.RequestTotal(), s.N), PerUnit(s.API.WriteTotal(), s.N), PerUnit(s.API.StoredTotal(), s.N),
				PerUnit(Total(s.API.Conflicts), s.N), PerUnit(s.RunFunction, s.N), s.Load.String())
		}
		for _, f := range r.Floors {
			t.Add(r.Label+" (floor: plain client)", strconv.Itoa(f.N), strconv.Itoa(f.Namespaces), Seconds(f.AllAvailable), "", "", "", "",
				PerUnit(f.API.RequestTotal(), f.N), PerUnit(f.API.WriteTotal(), f.N), PerUnit(f.API.StoredTotal(), f.N), PerUnit(Total(f.API.Conflicts), f.N), "", f.Load.String())
		}
	}
	return t
}

// writesTable breaks the writes of each scale run down by resource, the
// resources with the most writes over all runs first.
func writesTable(runs []Run) Table {
	all := map[string]float64{}
	for _, r := range runs {
		for _, s := range r.Scales {
			for k, v := range s.API.Writes {
				all[k] += v / float64(s.N)
			}
		}
	}
	t := Table{Header: []string{"<resource"}}
	for _, r := range runs {
		for _, s := range r.Scales {
			t.Header = append(t.Header, fmt.Sprintf("%s, %d", r.Label, s.N))
		}
	}
	for _, res := range TopResources(all, 25) {
		row := []string{res}
		for _, r := range runs {
			for _, s := range r.Scales {
				stored := s.API.Stored[strings.SplitN(res, "/", 2)[0]]
				cell := PerUnit(s.API.Writes[res], s.N)
				if !strings.Contains(res, "/") {
					cell += " / " + PerUnit(stored, s.N)
				}
				row = append(row, cell)
			}
		}
		t.Add(row...)
	}
	return t
}

func procTable(runs []Run) Table {
	t := Table{Header: []string{"<run", "performers"}}
	for _, p := range Processes {
		t.Header = append(t.Header, p+" CPU", p+" peak RSS")
	}
	for _, r := range runs {
		for _, s := range r.Scales {
			row := []string{r.Label, strconv.Itoa(s.N)}
			for _, p := range Processes {
				c, ok := s.Procs[p]
				if !ok {
					row = append(row, "–", "–")
					continue
				}
				row = append(row, fmt.Sprintf("%.1f s", c.CPUSeconds), MiB(c.PeakRSS))
			}
			t.Add(row...)
		}
	}
	return t
}

func steadyTable(runs []Run) Table {
	t := Table{Header: []string{"<run", "performers", "window", "API writes / performer / min", "stored writes / performer / min", "RunFunction / performer / min", "<top writes (per performer per min)", "<top stored writes", "crossplane CPU", "function CPU", "provider CPU", "load"}}
	for _, r := range runs {
		for _, s := range r.Scales {
			st := s.Steady
			if st == nil || st.Window <= 0 {
				continue
			}
			perMin := func(v float64) string {
				return fmt.Sprintf("%.2f", v/float64(s.N)/st.Window.Minutes())
			}
			top := func(m map[string]float64) string {
				var out []string
				for _, k := range TopResources(m, 4) {
					out = append(out, k+" "+perMin(m[k]))
				}
				return strings.Join(out, ", ")
			}
			cpu := func(p string) string {
				if c, ok := st.Procs[p]; ok {
					return fmt.Sprintf("%.1f s", c.CPUSeconds)
				}
				return "–"
			}
			t.Add(r.Label, strconv.Itoa(s.N), Seconds(st.Window), perMin(st.API.WriteTotal()), perMin(st.API.StoredTotal()),
				perMin(st.RunFunction), top(st.API.Writes), top(st.API.Stored), cpu("crossplane"), cpu("function"), cpu("provider"), st.Load.String())
		}
	}
	return t
}

func reconcileTable(runs []Run) Table {
	all := map[string]float64{}
	t := Table{Header: []string{"<controller"}}
	for _, r := range runs {
		for _, s := range r.Scales {
			t.Header = append(t.Header, fmt.Sprintf("%s, %d", r.Label, s.N))
			for k, v := range s.Reconciles {
				all[k] += v / float64(s.N)
			}
		}
	}
	for _, c := range TopResources(all, 6) {
		row := []string{c}
		for _, r := range runs {
			for _, s := range r.Scales {
				cell := PerUnit(s.Reconciles[c], s.N)
				if st := s.Steady; st != nil && st.Window > 0 {
					cell += fmt.Sprintf(" / %.2f", st.Reconciles[c]/float64(s.N)/st.Window.Minutes())
				}
				row = append(row, cell)
			}
		}
		t.Add(row...)
	}
	return t
}

func upgradeTable(runs []Run) Table {
	t := Table{Header: []string{"<run", "performers", "all upgraded", "p50", "p90", "EndpointSlice changes", "Service without ready endpoint", "fewest ready endpoints", "API writes / performer", "stored / performer", "RunFunction / performer", "load"}}
	for _, r := range runs {
		u := r.Upgrade
		if u == nil {
			continue
		}
		s := Summarize(u.PerPerformer)
		t.Add(r.Label, strconv.Itoa(u.N), Seconds(u.AllUpgraded), Seconds(s.P50), Seconds(s.P90), strconv.Itoa(u.SliceEvents),
			strconv.Itoa(u.Empty), strconv.Itoa(u.MinReady), PerUnit(u.API.WriteTotal(), u.N), PerUnit(u.API.StoredTotal(), u.N),
			PerUnit(u.RunFunction, u.N), u.Load.String())
	}
	return t
}

// SortRuns orders runs by start time, so a report reads in the order the
// runs were made.
func SortRuns(runs []Run) {
	slices.SortStableFunc(runs, func(a, b Run) int { return a.Started.Compare(b.Started) })
}
