package main

import (
	"context"
	"testing"
)

// BenchmarkRunFunction measures one call for the seed's complex example with
// its resources observed running: the steady state Crossplane calls most.
//
//	go test ./functions/performer -run '^$' -bench BenchmarkRunFunction -benchmem
func BenchmarkRunFunction(b *testing.B) {
	xr := xrFromClaim(b, readClaim(b, "complex.yaml"))
	req := newRequest(b, xr, map[string]map[string]any{}, nil)
	rsp, err := newTestFunction().RunFunction(context.Background(), req)
	if err != nil {
		b.Fatal(err)
	}
	observed := map[string]map[string]any{}
	for name, r := range rsp.GetDesired().GetResources() {
		observed[name] = r.GetResource().AsMap()
	}
	req = newRequest(b, xr, observed, nil)
	f := newTestFunction()
	ctx := context.Background()

	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.RunFunction(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
}
