package benche2e

import (
	"math"
	"slices"
	"time"
)

// Summary of a set of latencies.
type Summary struct {
	N                  int
	Min, P50, P90, P99 time.Duration
	Max, Mean          time.Duration
}

// Percentile p (0 < p ≤ 100) of sorted latencies, by nearest rank: the
// smallest latency that at least p% of them did not exceed. Nearest rank
// never invents a value that was not measured, which matters for the small
// samples (30 performers) of the live benchmark.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	// The epsilon keeps 99.9% of 1000 at rank 999: 99.9 is not exact in
	// binary and would round up to the maximum.
	i := int(math.Ceil(float64(n)*p/100-1e-9)) - 1
	return sorted[min(max(i, 0), n-1)]
}

// Summarize sorts a copy of the latencies and summarizes them.
func Summarize(ds []time.Duration) Summary {
	if len(ds) == 0 {
		return Summary{}
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	var sum time.Duration
	for _, d := range s {
		sum += d
	}
	return Summary{
		N:    len(s),
		Min:  s[0],
		P50:  Percentile(s, 50),
		P90:  Percentile(s, 90),
		P99:  Percentile(s, 99),
		Max:  s[len(s)-1],
		Mean: sum / time.Duration(len(s)),
	}
}
