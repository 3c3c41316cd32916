package benche2e

import (
	"context"
	"io"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/crossplane/crossplane-runtime/v2/pkg/errors"
)

const (
	errParseMetrics = "cannot parse Prometheus metrics"
	errNewRequest   = "cannot make the metrics request"
	errGetMetrics   = "cannot get metrics"
	errFmtStatus    = "cannot get metrics from %s: HTTP %d"
)

// Sample is one series of a scrape: a metric name, its labels and value.
// Histograms and summaries become their _count and _sum series, which is
// all a before/after difference can use.
type Sample struct {
	Name   string            `json:"name"`
	Labels map[string]string `json:"labels,omitempty"`
	Value  float64           `json:"value"`
}

// Snapshot is a scrape, keyed by the series' canonical text
// (name{a="1",b="2"}, labels sorted).
type Snapshot map[string]Sample

// Key is the canonical text of a series.
func Key(name string, labels map[string]string) string {
	if len(labels) == 0 {
		return name
	}
	var b strings.Builder
	b.WriteString(name + "{")
	for i, k := range slices.Sorted(maps.Keys(labels)) {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(k + "=" + strconv.Quote(labels[k]))
	}
	b.WriteString("}")
	return b.String()
}

// Parse reads the Prometheus text exposition format.
func Parse(r io.Reader) (Snapshot, error) {
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(r)
	if err != nil {
		return nil, errors.Wrap(err, errParseMetrics)
	}
	s := Snapshot{}
	add := func(name string, labels map[string]string, v float64) {
		s[Key(name, labels)] = Sample{Name: name, Labels: labels, Value: v}
	}
	for name, f := range fams {
		for _, m := range f.GetMetric() {
			l := labelsOf(m)
			switch f.GetType() {
			case dto.MetricType_COUNTER:
				add(name, l, m.GetCounter().GetValue())
			case dto.MetricType_GAUGE:
				add(name, l, m.GetGauge().GetValue())
			case dto.MetricType_UNTYPED:
				add(name, l, m.GetUntyped().GetValue())
			case dto.MetricType_HISTOGRAM, dto.MetricType_GAUGE_HISTOGRAM:
				add(name+"_count", l, float64(m.GetHistogram().GetSampleCount()))
				add(name+"_sum", l, m.GetHistogram().GetSampleSum())
			case dto.MetricType_SUMMARY:
				add(name+"_count", l, float64(m.GetSummary().GetSampleCount()))
				add(name+"_sum", l, m.GetSummary().GetSampleSum())
			}
		}
	}
	return s, nil
}

func labelsOf(m *dto.Metric) map[string]string {
	if len(m.GetLabel()) == 0 {
		return nil
	}
	l := make(map[string]string, len(m.GetLabel()))
	for _, lp := range m.GetLabel() {
		l[lp.GetName()] = lp.GetValue()
	}
	return l
}

// Fetch scrapes url with c.
func Fetch(ctx context.Context, c *http.Client, url string) (Snapshot, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, errors.Wrap(err, errNewRequest)
	}
	rsp, err := c.Do(req)
	if err != nil {
		return nil, errors.Wrap(err, errGetMetrics)
	}
	defer rsp.Body.Close()
	if rsp.StatusCode != http.StatusOK {
		return nil, errors.Errorf(errFmtStatus, url, rsp.StatusCode)
	}
	return Parse(rsp.Body)
}

// Diff is after minus before, series by series. A series missing before
// counts from zero (a label value seen for the first time). A series that
// went down was reset (its process restarted): its value after is all that
// is known to have happened, so that is what counts.
func Diff(before, after Snapshot) Snapshot {
	d := make(Snapshot, len(after))
	for k, a := range after {
		v := a.Value
		if b, ok := before[k]; ok && b.Value <= a.Value {
			v = a.Value - b.Value
		}
		d[k] = Sample{Name: a.Name, Labels: a.Labels, Value: v}
	}
	return d
}

// Sum of the series named name whose labels keep accepts (all when keep is
// nil).
func (s Snapshot) Sum(name string, keep func(map[string]string) bool) float64 {
	var v float64
	for _, x := range s {
		if x.Name == name && (keep == nil || keep(x.Labels)) {
			v += x.Value
		}
	}
	return v
}

// SumBy sums the series named name that keep accepts, grouped by key.
func (s Snapshot) SumBy(name string, keep func(map[string]string) bool, key func(map[string]string) string) map[string]float64 {
	out := map[string]float64{}
	for _, x := range s {
		if x.Name == name && (keep == nil || keep(x.Labels)) {
			out[key(x.Labels)] += x.Value
		}
	}
	return out
}

// Is accepts series whose label l has one of the values.
func Is(l string, values ...string) func(map[string]string) bool {
	return func(labels map[string]string) bool {
		return slices.Contains(values, labels[l])
	}
}

// Label groups by one label's value.
func Label(l string) func(map[string]string) string {
	return func(labels map[string]string) string { return labels[l] }
}
