package benche2e

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hourglass-xp/crossplane-hourglass/internal/testtools"
)

func TestParseLoadavg(t *testing.T) {
	type want struct {
		load [3]float64
		err  bool
	}
	cases := map[string]struct {
		reason string
		args   string
		want   want
	}{
		"Proc": {
			reason: "The first three fields of /proc/loadavg.",
			args:   "2.69 1.03 1.06 3/612 26047\n",
			want:   want{load: [3]float64{2.69, 1.03, 1.06}},
		},
		"Short": {
			reason: "Fewer than three fields is an error.",
			args:   "1.0 2.0",
			want:   want{err: true},
		},
		"NotANumber": {
			reason: "A field that is not a number is an error.",
			args:   "x 1 2",
			want:   want{err: true},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			l, err := ParseLoadavg(tc.args)
			got := want{load: l, err: err != nil}
			if tc.want.err {
				got.load = [3]float64{}
			}
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(want{})); diff != "" {
				t.Errorf("%s\nParseLoadavg(...): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func sampleRuns() []Run {
	load := Load{Start: [3]float64{1, 0, 0}, End: [3]float64{2, 0, 0}}
	api := APICounts{
		Requests: map[string]float64{"POST": 1000, "GET": 500},
		Writes:   map[string]float64{"deployments.apps": 600, "events": 400},
		Stored:   map[string]float64{"deployments.apps": 300, "events": 400},
	}
	return []Run{{
		Label:   "after",
		Commit:  "abc1234",
		Started: time.Date(2026, 11, 22, 16, 0, 0, 0, time.UTC),
		Cores:   2,
		Latency: &Latency{Cold: []Milestones{{Deployment: 10 * time.Second, Ready: 11 * time.Second, Secret: 11 * time.Second}}, N: 2, Deployment: []time.Duration{ms(200), ms(400)}, Ready: []time.Duration{ms(900), ms(1100)}, Secret: []time.Duration{ms(950), ms(1000)}, Load: load},
		Floors:  []Floor{{N: 100, Namespaces: 50, AllAvailable: 5 * time.Second, API: api, Load: load}},
		Scales: []Scale{{
			N: 100, Namespaces: 50, FirstAllReady: 9 * time.Second, AllReady: 10 * time.Second, Stable: 5 * time.Second, Flaps: 3,
			API: api, RunFunction: 500, Reconciles: map[string]float64{"composite/x": 600},
			Procs: map[string]ProcCost{"crossplane": {CPUSeconds: 12.5, PeakRSS: 200 << 20}},
			Load:  load,
			Steady: &Steady{Window: time.Minute, API: APICounts{Writes: map[string]float64{"leases.coordination.k8s.io": 30}},
				RunFunction: 0, Reconciles: map[string]float64{"composite/x": 100}, Procs: map[string]ProcCost{"crossplane": {CPUSeconds: 1}}, Load: load},
		}, {N: 1000, Namespaces: 50, Elapsed: 30 * time.Minute, ReadyAtEnd: 640, Load: load}},
		Upgrade: &Upgrade{N: 100, AllUpgraded: 20 * time.Second, PerPerformer: []time.Duration{10 * time.Second, 20 * time.Second},
			SliceEvents: 200, Empty: 0, MinReady: 1, API: api, RunFunction: 800, Load: load},
	}}
}

func TestRender(t *testing.T) {
	cases := map[string]struct {
		reason string
		args   []Run
		want   []string
	}{
		"Everything": {
			reason: "Every phase renders its table, with figures per performer and the ratio to the floor of the same size.",
			args:   sampleRuns(),
			want: []string{
				`- run "after": commit abc1234, started 2026-11-22T16:00:00Z, 2 cores`,
				"| after | apply → Deployment exists | 2 | 0.200 s | 0.400 s | 0.400 s | 0.400 s | 1.0–2.0 |",
				"| after | apply → Ready | 2 | 0.900 s | 1.100 s | 1.100 s | 1.100 s | 1.0–2.0 |",
				"- after, warm-up performer 1 (first after the stack started, not in the table): Deployment 10.0 s, Ready 11.0 s, Secret 11.0 s",
				"| after | 100 | 50 | 10.0 s | 9.000 s | 5.000 s | ×2.00 | 3 | 15.0 | 10.0 | 7.0 | 0.0 | 5.0 | 1.0–2.0 |",
				"| after (floor: plain client) | 100 | 50 | 5.000 s |",
				"| deployments.apps | 6.0 / 3.0 |",
				"| after | 100 | 12.5 s | 200 MiB |",
				"| after | 100 | 60.0 s | 0.30 | 0.00 | 0.00 | leases.coordination.k8s.io 0.30 |  | 1.0 s |",
				"| composite/x | 6.0 / 1.00 |",
				"| after | 100 | 20.0 s | 10.0 s | 20.0 s | 200 | 0 | 1 | 10.0 | 7.0 | 8.0 | 1.0–2.0 |",
				"| after | 1000 | 50 | not within 1800.0 s: 640 Ready | – | – | – | 0 |",
			},
		},
		"Nothing": {
			reason: "No runs, no tables.",
			want:   []string{"\n"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := Render(tc.args)
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("%s\nRender(...) lacks\n%s\nin:\n%s", tc.reason, w, got)
				}
			}
		})
	}
}

func TestUpgradeJSON(t *testing.T) {
	cases := map[string]struct {
		reason string
		args   string
		want   []time.Duration
	}{
		"RecordedAsClaims": {
			reason: "Runs recorded when a performer was a claim name the times perClaim; they still render beside newer runs.",
			args:   `{"n": 2, "perClaim": [1000000000, 2000000000]}`,
			want:   []time.Duration{time.Second, 2 * time.Second},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			var got Upgrade
			if err := json.Unmarshal([]byte(tc.args), &got); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got.PerPerformer); diff != "" {
				t.Errorf("%s\njson.Unmarshal(...).PerPerformer: -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestPlotLatencies(t *testing.T) {
	r := sampleRuns()[0]
	cases := map[string]struct {
		reason string
		args   []Series
	}{
		"Milestones": {
			reason: "Three milestones make a PNG with both panels.",
			args: []Series{
				{Name: "Deployment exists", Latencies: r.Latency.Deployment},
				{Name: "Performer Ready", Latencies: r.Latency.Ready},
				{Name: "connection Secret", Latencies: r.Latency.Secret},
			},
		},
		"EmptySeries": {
			reason: "A series without latencies is left out rather than failing the plot.",
			args:   []Series{{Name: "none"}, {Name: "one", Latencies: []time.Duration{0}}},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "latency.png")
			if err := PlotLatencies(file, "title", tc.args); err != nil {
				t.Fatalf("%s\nPlotLatencies(...): %v", tc.reason, err)
			}
			if b := testtools.ReadPNG(t, file).Bounds(); b.Dx() < 1000 || b.Dy() < 400 {
				t.Errorf("%s\nPlotLatencies(...): image %v, want both panels side by side", tc.reason, b)
			}
		})
	}
}
