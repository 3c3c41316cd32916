package main

import (
	"context"
	"encoding/json"
	"testing"
	"unicode/utf8"

	"google.golang.org/protobuf/proto"

	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"
)

// FuzzRunFunction feeds RunFunction arbitrary Performer specs and previous
// statuses (JSON, seeded with every example and some awkward values) under
// arbitrary performer names.
// Whatever the spec, the function must not panic, must answer, and must
// answer the same twice. Specs the schema would reject still must not panic:
// the fuzzer reaches them and the function must fail with a Fatal result.
func FuzzRunFunction(f *testing.F) {
	for _, file := range []string{"minimal.yaml", "env.yaml", "gpu.yaml", "tee.yaml", "complex.yaml"} {
		c := readPerformer(f, file)
		b, err := json.Marshal(c["spec"])
		if err != nil {
			f.Fatal(err)
		}
		f.Add("example", "default", b, []byte(`{}`), false)
	}
	f.Add("a.b.c", "ns", []byte(`{"image":"x","hardwareRequirements":{"gpuType":"nvidia-l4","gpuCount":1,"customLabels":{"sgx.intel.com/epc":"1Gi","k":"v"}}}`),
		[]byte(`{"active":{"revision":"0123456789","image":"x"},"target":{"revision":"abc","image":"y"},"upgradeStartTime":"2026-11-22T11:00:00Z"}`), true)
	f.Add("long-name-long-name-long-name-long-name-long-name-long-name-long", "n", []byte(`{"image":"x","version":"v1","scheduling":{"nodeSelector":{"nvidia.com/gpu.product":"Tesla-T4"}},"hardwareRequirements":{"gpuType":"nvidia-l4","gpuCount":2}}`),
		[]byte(`{"lastUpgrade":"2026-11-22T11:59:50Z","readyTime":"2026-11-22T11:00:00Z","phase":"Running"}`), false)
	f.Add("p", "n", []byte(`{"image":"x","hardwareRequirements":{"teeRequired":true,"teeType":"sev-snp"},"resources":{"limits":{"nvidia.com/gpu":"3"}}}`), []byte(`{}`), true)
	f.Add("p", "n", []byte(`{"image":"x","config":{"grpcPort":70000}}`), []byte(`{"active":7}`), false)
	f.Add("p", "", []byte(`{}`), []byte(`{}`), false)

	f.Fuzz(func(t *testing.T, name, namespace string, spec, status []byte, networkPolicy bool) {
		s, st := map[string]any{}, map[string]any{}
		if json.Unmarshal(spec, &s) != nil || json.Unmarshal(status, &st) != nil || !utf8.ValidString(name) || !utf8.ValidString(namespace) {
			// Not something the API server could hand Crossplane.
			t.Skip()
		}
		xr := xrOf(t, map[string]any{
			"metadata": map[string]any{"name": name, "namespace": namespace},
			"spec":     s,
		})
		// The status the function wrote last time, possibly nonsense: the
		// blue-green state machine reads it.
		xr["status"] = st
		in := map[string]any{
			"apiVersion": "performer.fn.hourglass.eigenlayer.io/v1beta1", "kind": "Input",
			"networkPolicy": map[string]any{"enabled": networkPolicy},
		}
		req := newRequest(t, xr, nil, in)
		first := run(t, req)
		if second := run(t, req); !proto.Equal(first, second) {
			t.Fatalf("two calls with the same request differ:\n%v\n%v", first, second)
		}
	})
}

func run(t *testing.T, req *fnv1.RunFunctionRequest) *fnv1.RunFunctionResponse {
	t.Helper()
	rsp, err := newTestFunction().RunFunction(context.Background(), req)
	if err != nil || rsp == nil {
		t.Fatalf("RunFunction returned %v, %v: it must always answer with a response", rsp, err)
	}
	return rsp
}
