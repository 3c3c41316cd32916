package benche2e

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func fixture(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/apiserver.prom")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParse(t *testing.T) {
	cases := map[string]struct {
		reason  string
		args    string
		want    map[string]float64
		wantErr bool
	}{
		"CounterGaugeHistogram": {
			reason: "Counters and gauges keep their value; a histogram becomes its _count and _sum; label values are unescaped.",
			args: `# TYPE a_total counter
a_total{verb="GET"} 3
a_total{verb="PUT"} 4
# TYPE g gauge
g 1.5
# TYPE h histogram
h_bucket{le="1"} 1
h_bucket{le="+Inf"} 2
h_sum 3.5
h_count 2
# TYPE odd_total counter
odd_total{v="a\"b\\c\nd"} 1
`,
			want: map[string]float64{
				`a_total{verb="GET"}`:       3,
				`a_total{verb="PUT"}`:       4,
				`g`:                         1.5,
				`h_count`:                   2,
				`h_sum`:                     3.5,
				`odd_total{v="a\"b\\c\nd"}`: 1,
			},
		},
		"Untyped": {
			reason: "A series without a TYPE line is untyped and keeps its value.",
			args:   "x{a=\"1\"} 7\n",
			want:   map[string]float64{`x{a="1"}`: 7},
		},
		"Garbage": {
			reason:  "Text that is not the exposition format is an error, not an empty scrape.",
			args:    "this is { not metrics\n",
			wantErr: true,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			s, err := Parse(strings.NewReader(tc.args))
			if gotErr := err != nil; gotErr != tc.wantErr {
				t.Fatalf("%s\nParse(...): error %v, want error %t", tc.reason, err, tc.wantErr)
			}
			if tc.wantErr {
				return
			}
			got := map[string]float64{}
			for k, v := range s {
				got[k] = v.Value
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s\nParse(...): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

// TestFetch scrapes a real HTTP server on loopback serving kube-apiserver's
// format, as the benchmark scrapes the API server and the stack's processes.
func TestFetch(t *testing.T) {
	body := fixture(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/metrics" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		_, _ = w.Write(body)
	}))
	defer srv.Close()

	type want struct {
		runFunction float64
		apiWrites   float64
		err         bool
	}
	cases := map[string]struct {
		reason string
		args   string
		want   want
	}{
		"Metrics": {
			reason: "The fixture's RunFunction calls (every code) and API write requests (resources only) are summed.",
			args:   srv.URL + "/metrics",
			want:   want{runFunction: 302, apiWrites: 78},
		},
		"NotFound": {
			reason: "An HTTP error is an error: a 404 page must not parse as an empty scrape.",
			args:   srv.URL + "/nothing",
			want:   want{err: true},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			s, err := Fetch(context.Background(), srv.Client(), tc.args)
			if gotErr := err != nil; gotErr != tc.want.err {
				t.Fatalf("%s\nFetch(...): error %v, want error %t", tc.reason, err, tc.want.err)
			}
			if tc.want.err {
				return
			}
			got := want{
				runFunction: s.Sum("grpc_server_handled_total", Is("grpc_method", "RunFunction")),
				apiWrites:   APICountsOf(s).WriteTotal(),
			}
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(want{})); diff != "" {
				t.Errorf("%s\nFetch(...): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestDiff(t *testing.T) {
	c := func(name string, v float64, labels map[string]string) Sample {
		return Sample{Name: name, Labels: labels, Value: v}
	}
	snap := func(ss ...Sample) Snapshot {
		out := Snapshot{}
		for _, s := range ss {
			out[Key(s.Name, s.Labels)] = s
		}
		return out
	}
	get := map[string]string{"verb": "GET"}
	put := map[string]string{"verb": "PUT"}
	type args struct {
		before, after Snapshot
	}
	cases := map[string]struct {
		reason string
		args   args
		want   Snapshot
	}{
		"Grown": {
			reason: "A counter that grew counts the growth.",
			args:   args{before: snap(c("r", 10, get)), after: snap(c("r", 15, get))},
			want:   snap(c("r", 5, get)),
		},
		"New": {
			reason: "A series first seen after counts from zero.",
			args:   args{before: snap(c("r", 10, get)), after: snap(c("r", 10, get), c("r", 4, put))},
			want:   snap(c("r", 0, get), c("r", 4, put)),
		},
		"Reset": {
			reason: "A counter that went down was reset by a restart: its value after is what is known to have happened.",
			args:   args{before: snap(c("r", 100, get)), after: snap(c("r", 3, get))},
			want:   snap(c("r", 3, get)),
		},
		"Gone": {
			reason: "A series seen only before is not in the difference.",
			args:   args{before: snap(c("r", 1, put)), after: snap()},
			want:   snap(),
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := Diff(tc.args.before, tc.args.after)
			if diff := cmp.Diff(tc.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("%s\nDiff(...): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestKey(t *testing.T) {
	type args struct {
		name   string
		labels map[string]string
	}
	cases := map[string]struct {
		reason string
		args   args
		want   string
	}{
		"NoLabels": {
			reason: "A series without labels is its name.",
			args:   args{name: "up"},
			want:   "up",
		},
		"Sorted": {
			reason: "Labels are sorted, so the same series always has the same key.",
			args:   args{name: "r", labels: map[string]string{"verb": "GET", "code": "200"}},
			want:   `r{code="200",verb="GET"}`,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, Key(tc.args.name, tc.args.labels)); diff != "" {
				t.Errorf("%s\nKey(...): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}
