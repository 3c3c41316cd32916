package benche2e

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func ms(n int) time.Duration { return time.Duration(n) * time.Millisecond }

func TestPercentile(t *testing.T) {
	ten := []time.Duration{ms(1), ms(2), ms(3), ms(4), ms(5), ms(6), ms(7), ms(8), ms(9), ms(10)}
	thousand := make([]time.Duration, 1000)
	for i := range thousand {
		thousand[i] = ms(i + 1)
	}
	type args struct {
		sorted []time.Duration
		p      float64
	}
	cases := map[string]struct {
		reason string
		args   args
		want   time.Duration
	}{
		"Empty": {
			reason: "Nothing measured has no percentile.",
			args:   args{p: 50},
			want:   0,
		},
		"One": {
			reason: "A single value is every percentile.",
			args:   args{sorted: []time.Duration{ms(7)}, p: 99},
			want:   ms(7),
		},
		"MedianOfTen": {
			reason: "By nearest rank the median of ten is the fifth value, one that was measured.",
			args:   args{sorted: ten, p: 50},
			want:   ms(5),
		},
		"P90OfTen": {
			reason: "p90 of ten is the ninth value.",
			args:   args{sorted: ten, p: 90},
			want:   ms(9),
		},
		"P99OfTen": {
			reason: "p99 of ten is the largest: ten values cannot resolve it further.",
			args:   args{sorted: ten, p: 99},
			want:   ms(10),
		},
		"P999OfThousand": {
			reason: "99.9 is not exact in binary and must not round up to the maximum.",
			args:   args{sorted: thousand, p: 99.9},
			want:   ms(999),
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := Percentile(tc.args.sorted, tc.args.p)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s\nPercentile(...): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestSummarize(t *testing.T) {
	cases := map[string]struct {
		reason string
		args   []time.Duration
		want   Summary
	}{
		"Empty": {
			reason: "Nothing measured summarizes to zero.",
			want:   Summary{},
		},
		"Unsorted": {
			reason: "Latencies arrive in performer order; the summary sorts a copy.",
			args:   []time.Duration{ms(30), ms(10), ms(20), ms(40)},
			want:   Summary{N: 4, Min: ms(10), P50: ms(20), P90: ms(40), P99: ms(40), Max: ms(40), Mean: ms(25)},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			in := append([]time.Duration(nil), tc.args...)
			got := Summarize(in)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s\nSummarize(...): -want, +got:\n%s", tc.reason, diff)
			}
			if diff := cmp.Diff(tc.args, in); diff != "" {
				t.Errorf("%s\nSummarize(...) changed its argument: -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}
