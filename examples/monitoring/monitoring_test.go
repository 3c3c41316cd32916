// Package monitoring_test checks the monitoring example against the code:
// every series the alerts and the metrics catalogue (docs/metrics.md) name
// is one the function, the provider, crossplane-runtime, Crossplane core
// or the kube-state-metrics configuration really exports, and every field
// path of that configuration exists on a Performer.
package monitoring_test

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	grpcprometheus "github.com/grpc-ecosystem/go-grpc-middleware/providers/prometheus"
	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/yaml"

	"github.com/crossplane/crossplane-runtime/v2/pkg/reconciler/managed"
	"github.com/crossplane/crossplane-runtime/v2/pkg/statemetrics"

	"github.com/hourglass-xp/crossplane-hourglass/internal/provider"
)

// coreSeries are Crossplane core's function-run metrics
// (github.com/crossplane/crossplane/v2@v2.4.0 internal/xfn/function_runner_metrics.go,
// an internal package this module cannot import).
var coreSeries = []string{"function_run_function_request_total", "function_run_function_response_total", "function_run_function_seconds"}

// capture is a Registerer that keeps what is registered.
type capture struct{ cs []prometheus.Collector }

func (c *capture) Register(col prometheus.Collector) error   { c.cs = append(c.cs, col); return nil }
func (c *capture) MustRegister(cols ...prometheus.Collector) { c.cs = append(c.cs, cols...) }
func (c *capture) Unregister(prometheus.Collector) bool      { return true }

var fqName = regexp.MustCompile(`fqName: "([^"]+)"`)

// names returns the series names of collectors, histograms with their
// _bucket, _sum and _count series.
func names(t *testing.T, cs ...prometheus.Collector) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for _, c := range cs {
		ch := make(chan *prometheus.Desc, 64)
		go func() { c.Describe(ch); close(ch) }()
		for d := range ch {
			m := fqName.FindStringSubmatch(d.String())
			if m == nil {
				t.Fatalf("cannot read the name of %s", d)
			}
			out[m[1]] = true
			for _, s := range []string{"_bucket", "_sum", "_count"} {
				out[m[1]+s] = true
			}
		}
	}
	return out
}

type ksmConfig struct {
	Spec struct {
		Resources []struct {
			MetricNamePrefix string              `json:"metricNamePrefix"`
			LabelsFromPath   map[string][]string `json:"labelsFromPath"`
			Metrics          []struct {
				Name string `json:"name"`
				Each struct {
					Type  string `json:"type"`
					Gauge *struct {
						Path []string `json:"path"`
					} `json:"gauge"`
					StateSet *struct {
						Path []string `json:"path"`
					} `json:"stateSet"`
					Info *struct {
						LabelsFromPath map[string][]string `json:"labelsFromPath"`
					} `json:"info"`
				} `json:"each"`
			} `json:"metrics"`
		} `json:"resources"`
	} `json:"spec"`
}

func readKSM(t *testing.T) ksmConfig {
	t.Helper()
	b, err := os.ReadFile("kube-state-metrics-config.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var c ksmConfig
	if err := yaml.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	if len(c.Spec.Resources) != 1 {
		t.Fatalf("want one resource in kube-state-metrics-config.yaml, got %d", len(c.Spec.Resources))
	}
	return c
}

// known returns every series name that exists, by where it comes from.
func known(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	add := func(from string, ns map[string]bool) {
		for n := range ns {
			out[n] = from
		}
	}
	reg := &capture{}
	if err := provider.RegisterMetrics(reg); err != nil {
		t.Fatal(err)
	}
	add("provider", names(t, reg.cs...))
	add("provider (crossplane-runtime)", names(t, managed.NewMRMetricRecorder(), statemetrics.NewMRStateMetrics()))
	// function-sdk-go v0.7.1 serves grpcprometheus.NewServerMetrics() with
	// no options: no handling-time histogram.
	add("function", names(t, grpcprometheus.NewServerMetrics()))
	for _, n := range coreSeries {
		out[n] = "crossplane core"
	}
	for _, s := range []string{"_bucket", "_sum", "_count"} {
		out["function_run_function_seconds"+s] = "crossplane core"
	}
	c := readKSM(t)
	for _, m := range c.Spec.Resources[0].Metrics {
		out[c.Spec.Resources[0].MetricNamePrefix+"_"+m.Name] = "kube-state-metrics"
	}
	return out
}

var series = regexp.MustCompile(`\b((?:hourglass|grpc_server|function_run|crossplane|controller_runtime|workqueue)_[a-z0-9_]+)\b`)

func TestAlertsUseRealSeries(t *testing.T) {
	k := known(t)
	b, err := os.ReadFile("performer-alerts.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var rule struct {
		Kind string `json:"kind"`
		Spec struct {
			Groups []struct {
				Rules []struct {
					Alert       string            `json:"alert"`
					Expr        string            `json:"expr"`
					For         string            `json:"for"`
					Labels      map[string]string `json:"labels"`
					Annotations map[string]string `json:"annotations"`
				} `json:"rules"`
			} `json:"groups"`
		} `json:"spec"`
	}
	if err := yaml.Unmarshal(b, &rule); err != nil {
		t.Fatal(err)
	}
	if rule.Kind != "PrometheusRule" {
		t.Fatalf("performer-alerts.yaml: kind %q, want PrometheusRule", rule.Kind)
	}
	seen := map[string]bool{}
	for _, g := range rule.Spec.Groups {
		for _, r := range g.Rules {
			if seen[r.Alert] {
				t.Errorf("alert %s defined twice", r.Alert)
			}
			seen[r.Alert] = true
			if r.For == "" || r.Labels["severity"] == "" || r.Annotations["summary"] == "" || r.Annotations["description"] == "" {
				t.Errorf("alert %s: want for, labels.severity, annotations.summary and description", r.Alert)
			}
			ms := series.FindAllString(r.Expr, -1)
			if len(ms) == 0 {
				t.Errorf("alert %s: names no series", r.Alert)
			}
			for _, m := range ms {
				if _, ok := k[m]; !ok {
					t.Errorf("alert %s: series %s exists nowhere", r.Alert, m)
				}
			}
		}
	}
	for _, want := range []string{"PerformerNotReady", "PerformerStuckPending", "PerformerDegraded", "PerformerUpgradeStuck"} {
		if !seen[want] {
			t.Errorf("want an alert %s", want)
		}
	}
}

// TestCatalogue checks every series docs/metrics.md lists in a table row
// (| `name` | ...) exists, and that each of the function's, the
// provider's own and the kube-state-metrics series is listed.
func TestCatalogue(t *testing.T) {
	k := known(t)
	b, err := os.ReadFile("../../docs/metrics.md")
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile("(?m)^\\| `([a-z0-9_]+)`")
	listed := map[string]bool{}
	for _, m := range row.FindAllStringSubmatch(string(b), -1) {
		listed[m[1]] = true
		if _, ok := k[m[1]]; !ok {
			t.Errorf("docs/metrics.md lists %s, which nothing exports", m[1])
		}
	}
	var missing []string
	for n, from := range k {
		base := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(n, "_bucket"), "_sum"), "_count")
		if base != n || listed[n] {
			continue
		}
		if from == "provider" || from == "function" || from == "kube-state-metrics" {
			missing = append(missing, n)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("docs/metrics.md does not list: %s", strings.Join(missing, ", "))
	}
}

// lookup follows a kube-state-metrics path in a decoded object.
func lookup(o any, path []string) bool {
	for _, p := range path {
		m, ok := o.(map[string]any)
		if !ok {
			return false
		}
		if o, ok = m[p]; !ok {
			return false
		}
	}
	return true
}

// TestKSMPaths checks each path of the configuration exists on at least
// one Performer fixture (written like a real Performer's status, and
// validated against the definition by the gitops tests), so no series is
// silently empty.
func TestKSMPaths(t *testing.T) {
	files, err := filepath.Glob("../gitops/testdata/status/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no Performer fixtures: %v", err)
	}
	var objs []any
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var o map[string]any
		if err := yaml.Unmarshal(bytes.TrimSpace(b), &o); err != nil {
			t.Fatal(err)
		}
		o["metadata"].(map[string]any)["creationTimestamp"] = "2026-11-22T09:00:00Z" // The API server sets it; fixtures omit it.
		objs = append(objs, o)
	}
	exists := func(path []string) bool {
		for _, o := range objs {
			if lookup(o, path) {
				return true
			}
		}
		return false
	}
	r := readKSM(t).Spec.Resources[0]
	check := func(what string, path []string) {
		if !exists(path) {
			t.Errorf("%s: path %v is on no Performer", what, path)
		}
	}
	for l, p := range r.LabelsFromPath {
		check("label "+l, p)
	}
	for _, m := range r.Metrics {
		switch {
		case m.Each.Gauge != nil:
			check(m.Name, m.Each.Gauge.Path)
		case m.Each.StateSet != nil:
			check(m.Name, m.Each.StateSet.Path)
		case m.Each.Info != nil:
			for l, p := range m.Each.Info.LabelsFromPath {
				check(m.Name+" label "+l, p)
			}
		default:
			t.Errorf("%s: unexpected type %s", m.Name, m.Each.Type)
		}
	}
}
