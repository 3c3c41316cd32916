package provider

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics of the gRPC health checks, beside crossplane-runtime's managed
// resource metrics and controller-runtime's own.
var (
	healthChecks = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "hourglass",
		Subsystem: "provider",
		Name:      "health_checks_total",
		Help:      "gRPC health checks of performer pods, by result (Serving, NotServing, Unreachable, Timeout).",
	}, []string{"result"})

	healthCheckSeconds = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: "hourglass",
		Subsystem: "provider",
		Name:      "health_check_duration_seconds",
		Help:      "Duration of gRPC health checks of performer pods, by result.",
		Buckets:   []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10},
	}, []string{"result"})
)

// RegisterMetrics registers the provider's own metrics.
func RegisterMetrics(r prometheus.Registerer) error {
	for _, c := range []prometheus.Collector{healthChecks, healthCheckSeconds} {
		if err := r.Register(c); err != nil {
			return err
		}
	}
	return nil
}

// InstrumentedHealthChecker counts and times every check of the wrapped
// checker.
type InstrumentedHealthChecker struct {
	HealthChecker
}

// Check runs the wrapped check and records its result and duration.
func (c InstrumentedHealthChecker) Check(ctx context.Context, t HealthTarget) HealthResult {
	start := time.Now()
	r := c.HealthChecker.Check(ctx, t)
	healthChecks.WithLabelValues(r.State).Inc()
	healthCheckSeconds.WithLabelValues(r.State).Observe(time.Since(start).Seconds())
	return r
}
