package main

import (
	"context"
	"strings"

	"github.com/crossplane/crossplane-runtime/v2/pkg/errors"

	"github.com/hourglass-xp/crossplane-hourglass/internal/benche2e"
)

const (
	errAPIMetrics = "cannot get kube-apiserver's metrics"
	errLoad       = "cannot read the load average"

	// RunFunction calls, as the function's gRPC server counts them: one per
	// composition round of a Performer (one pipeline step).
	grpcHandled = "grpc_server_handled_total"
	// Reconciles by controller, as controller-runtime counts them in
	// Crossplane and the provider.
	reconciles = "controller_runtime_reconcile_total"
)

// probe is everything measured at one instant.
type probe struct {
	api, function, core, provider benche2e.Snapshot
	procs                         map[string]benche2e.Proc
	load                          [3]float64
}

// take measures everything: the API server's counters (through the
// kubeconfig), the function's, Crossplane's and the provider's (inside
// the stack), the processes' CPU and memory, and the load average.
func (r *RunCmd) take(ctx context.Context) (probe, error) {
	var p probe
	var err error
	raw, err := r.kube.cs.CoreV1().RESTClient().Get().AbsPath("/metrics").DoRaw(ctx)
	if err != nil {
		return p, errors.Wrap(err, errAPIMetrics)
	}
	if p.api, err = benche2e.Parse(strings.NewReader(string(raw))); err != nil {
		return p, errors.Wrap(err, errAPIMetrics)
	}
	for _, s := range []struct {
		url string
		to  *benche2e.Snapshot
	}{{functionMetrics, &p.function}, {coreMetrics, &p.core}, {providerMetrics, &p.provider}} {
		if *s.to, err = r.stack.scrape(ctx, s.url); err != nil {
			return p, err
		}
	}
	if p.procs, err = r.stack.readProcs(); err != nil {
		return p, err
	}
	p.load, err = benche2e.ReadLoadavg("/proc/loadavg")
	return p, errors.Wrap(err, errLoad)
}

// delta is what happened between two probes.
type delta struct {
	api         benche2e.APICounts
	runFunction float64
	reconciles  map[string]float64
	procs       map[string]benche2e.ProcCost
	load        benche2e.Load
}

func diff(before, after probe) delta {
	fn := benche2e.Diff(before.function, after.function)
	d := delta{
		api:         benche2e.APICountsOf(benche2e.Diff(before.api, after.api)),
		runFunction: fn.Sum(grpcHandled, benche2e.Is("grpc_method", "RunFunction")),
		reconciles:  map[string]float64{},
		procs:       map[string]benche2e.ProcCost{},
		load:        benche2e.Load{Start: before.load, End: after.load},
	}
	for _, s := range []benche2e.Snapshot{benche2e.Diff(before.core, after.core), benche2e.Diff(before.provider, after.provider)} {
		for k, v := range s.SumBy(reconciles, nil, benche2e.Label("controller")) {
			d.reconciles[k] += v
		}
	}
	for name, a := range after.procs {
		b := before.procs[name]
		d.procs[name] = benche2e.ProcCost{CPUSeconds: a.CPUSeconds - b.CPUSeconds, PeakRSS: a.PeakRSS}
	}
	return d
}
