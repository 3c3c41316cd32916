package main

import (
	"context"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"

	"github.com/crossplane/crossplane-runtime/v2/pkg/errors"
	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"
)

const errFmtWarmup = "cannot call RunFunction with %s"

// Options of a load run.
type Options struct {
	// N calls per request are measured, made by C callers at once, after
	// Warmup calls made one at a time.
	N, C, Warmup int
	// Timeout of one call.
	Timeout time.Duration
}

// Result of the calls with one request.
type Result struct {
	Name string
	// Latencies of the calls that succeeded, sorted.
	Latencies []time.Duration
	// Errors is how many calls failed.
	Errors int
	// Fatal is the message of a Fatal result in the response, if any: such
	// a run measures the function's error path, not its work.
	Fatal string
	// Elapsed is the wall time of the measured calls.
	Elapsed time.Duration
}

// Summary of a Result.
type Summary struct {
	Mean, P50, P90, P99, P999, Max time.Duration
	// Rate in calls per second.
	Rate float64
}

// Load calls RunFunction with every request in turn and measures the calls.
// A failing warm-up call is an error (nothing would be measured); failures
// of measured calls are counted.
func Load(ctx context.Context, c fnv1.FunctionRunnerServiceClient, reqs []Request, o Options) ([]Result, error) {
	o.C = max(o.C, 1)
	out := make([]Result, 0, len(reqs))
	for _, r := range reqs {
		res := Result{Name: r.Name}
		for i := range max(o.Warmup, 1) {
			// Waiting for ready: the server may still be starting.
			rsp, err := call(ctx, c, r.Req, o.Timeout, grpc.WaitForReady(true))
			if err != nil {
				return nil, errors.Wrapf(err, errFmtWarmup, r.Name)
			}
			if i == 0 {
				res.Fatal = fatal(rsp)
			}
		}

		var (
			next   atomic.Int64
			mu     sync.Mutex
			wg     sync.WaitGroup
			failed atomic.Int64
		)
		start := time.Now()
		for range o.C {
			wg.Go(func() {
				lat := make([]time.Duration, 0, o.N/o.C+1)
				for next.Add(1) <= int64(o.N) {
					t := time.Now()
					if _, err := call(ctx, c, r.Req, o.Timeout); err != nil {
						failed.Add(1)
						continue
					}
					lat = append(lat, time.Since(t))
				}
				mu.Lock()
				res.Latencies = append(res.Latencies, lat...)
				mu.Unlock()
			})
		}
		wg.Wait()
		res.Elapsed = time.Since(start)
		res.Errors = int(failed.Load())
		slices.Sort(res.Latencies)
		out = append(out, res)
	}
	return out, nil
}

func call(ctx context.Context, c fnv1.FunctionRunnerServiceClient, req *fnv1.RunFunctionRequest, timeout time.Duration, opts ...grpc.CallOption) (*fnv1.RunFunctionResponse, error) {
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	return c.RunFunction(ctx, req, opts...)
}

func fatal(rsp *fnv1.RunFunctionResponse) string {
	for _, r := range rsp.GetResults() {
		if r.GetSeverity() == fnv1.Severity_SEVERITY_FATAL {
			return r.GetMessage()
		}
	}
	return ""
}

// Summary of the latencies: nearest-rank percentiles.
func (r Result) Summary() Summary {
	n := len(r.Latencies)
	if n == 0 {
		return Summary{}
	}
	var sum time.Duration
	for _, l := range r.Latencies {
		sum += l
	}
	s := Summary{
		Mean: sum / time.Duration(n),
		P50:  r.Percentile(50), P90: r.Percentile(90), P99: r.Percentile(99), P999: r.Percentile(99.9),
		Max: r.Latencies[n-1],
	}
	if r.Elapsed > 0 {
		s.Rate = float64(n) / r.Elapsed.Seconds()
	}
	return s
}

// Percentile p (0 < p ≤ 100) of the latencies, by nearest rank: the
// smallest latency at least p% of the calls did not exceed.
func (r Result) Percentile(p float64) time.Duration {
	n := len(r.Latencies)
	if n == 0 {
		return 0
	}
	// The epsilon keeps 99.9% of 1000 at rank 999: 99.9 is not exact in
	// binary and would round up to the maximum.
	i := int(math.Ceil(float64(n)*p/100-1e-9)) - 1
	return r.Latencies[min(max(i, 0), n-1)]
}
