package main

import (
	"context"
	"encoding/json"
	"testing"
	"unicode/utf8"

	"google.golang.org/protobuf/proto"

	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"
)

// FuzzRunFunction feeds RunFunction arbitrary Performer specs (JSON, seeded
// with every example and some awkward values) under arbitrary claim names.
// Whatever the spec, the function must not panic, must answer, and must
// answer the same twice. Specs the schema would reject still must not panic:
// the fuzzer reaches them and the function must fail with a Fatal result.
func FuzzRunFunction(f *testing.F) {
	for _, file := range []string{"minimal.yaml", "env.yaml", "gpu.yaml", "tee.yaml", "complex.yaml"} {
		c := readClaim(f, file)
		b, err := json.Marshal(c["spec"])
		if err != nil {
			f.Fatal(err)
		}
		f.Add("example", "default", b, false)
	}
	f.Add("a.b.c", "ns", []byte(`{"image":"x","hardwareRequirements":{"gpuType":"nvidia-l4","gpuCount":1,"customLabels":{"sgx.intel.com/epc":"1Gi","k":"v"}}}`), true)
	f.Add("long-name-long-name-long-name-long-name-long-name-long-name-long", "n", []byte(`{"image":"x","version":"v1","scheduling":{"nodeSelector":{"nvidia.com/gpu.product":"Tesla-T4"}},"hardwareRequirements":{"gpuType":"nvidia-l4","gpuCount":2}}`), false)
	f.Add("p", "n", []byte(`{"image":"x","hardwareRequirements":{"teeRequired":true,"teeType":"sev-snp"},"resources":{"limits":{"nvidia.com/gpu":"3"}}}`), true)
	f.Add("p", "n", []byte(`{"image":"x","config":{"grpcPort":70000}}`), false)
	f.Add("p", "", []byte(`{}`), false)

	f.Fuzz(func(t *testing.T, name, namespace string, spec []byte, networkPolicy bool) {
		s := map[string]any{}
		if err := json.Unmarshal(spec, &s); err != nil || !utf8.ValidString(name) || !utf8.ValidString(namespace) {
			// Not something the API server could hand Crossplane.
			t.Skip()
		}
		xr := xrFromClaim(t, map[string]any{
			"metadata": map[string]any{"name": name, "namespace": namespace},
			"spec":     s,
		})
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
