package benche2e

import (
	"bytes"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestAPICountsOf(t *testing.T) {
	s, err := Parse(bytes.NewReader(fixture(t)))
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]struct {
		reason string
		args   Snapshot
		want   APICounts
	}{
		"Fixture": {
			reason: "Requests by verb leave out non-resource requests (health checks); writes are keyed by resource and subresource, failed ones included (a conflict cost a request); stored writes are etcd's create, update and delete, not its reads; 409s are conflicts.",
			args:   s,
			want: APICounts{
				Requests: map[string]float64{"APPLY": 40, "POST": 10, "PUT": 28, "LIST": 7, "WATCH": 2},
				Writes: map[string]float64{
					"deployments.apps":                   50,
					"deployments.apps/status":            25,
					"performers.hourglass.eigenlayer.io": 3,
				},
				Stored:    map[string]float64{"deployments.apps": 30, "performers.hourglass.eigenlayer.io": 1},
				Conflicts: map[string]float64{"performers.hourglass.eigenlayer.io": 3},
			},
		},
		"Empty": {
			reason: "An empty difference counts nothing.",
			args:   Snapshot{},
			want:   APICounts{},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := APICountsOf(tc.args)
			if diff := cmp.Diff(tc.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("%s\nAPICountsOf(...): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestResource(t *testing.T) {
	cases := map[string]struct {
		reason string
		args   map[string]string
		want   string
	}{
		"Core": {
			reason: "The core group has no suffix.",
			args:   map[string]string{"resource": "pods"},
			want:   "pods",
		},
		"GroupSubresource": {
			reason: "Other groups are suffixed, subresources follow a slash.",
			args:   map[string]string{"resource": "deployments", "group": "apps", "subresource": "status"},
			want:   "deployments.apps/status",
		},
		"NonResource": {
			reason: "Health checks and discovery have no resource.",
			args:   map[string]string{"subresource": "/healthz"},
			want:   "(non-resource)",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, Resource(tc.args)); diff != "" {
				t.Errorf("%s\nResource(...): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestTopResources(t *testing.T) {
	type args struct {
		m map[string]float64
		n int
	}
	cases := map[string]struct {
		reason string
		args   args
		want   []string
	}{
		"Largest": {
			reason: "The largest first, ties by name, at most n.",
			args:   args{m: map[string]float64{"b": 2, "a": 2, "c": 9, "d": 1}, n: 3},
			want:   []string{"c", "a", "b"},
		},
		"Fewer": {
			reason: "Fewer keys than n are all returned.",
			args:   args{m: map[string]float64{"x": 1}, n: 5},
			want:   []string{"x"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, TopResources(tc.args.m, tc.args.n)); diff != "" {
				t.Errorf("%s\nTopResources(...): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestWritesTo(t *testing.T) {
	writes := APICounts{Writes: map[string]float64{
		"performers.hourglass.eigenlayer.io":        2,
		"performers.hourglass.eigenlayer.io/status": 5,
		"xperformers.hourglass.eigenlayer.io":       7,
		"deployments.apps":                          11,
	}}
	cases := map[string]struct {
		reason   string
		resource string
		want     float64
	}{
		"WithSubresources": {
			reason:   "The resource and its status count; a resource whose name merely ends the same does not.",
			resource: "performers.hourglass.eigenlayer.io",
			want:     7,
		},
		"None": {
			reason:   "A resource never written counts nothing.",
			resource: "services",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, writes.WritesTo(tc.resource)); diff != "" {
				t.Errorf("%s\nWritesTo(%q): -want, +got:\n%s", tc.reason, tc.resource, diff)
			}
		})
	}
}
