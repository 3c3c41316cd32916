package main

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/structpb"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"

	xplogging "github.com/crossplane/crossplane-runtime/v2/pkg/logging"
	"github.com/crossplane/function-sdk-go/logging"
	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"
)

// examplesDir holds the example claims the lead maintains.
const examplesDir = "../../examples"

// testNow is the fixed clock of the tests.
var testNow = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

func newTestFunction() *Function {
	return &Function{log: logging.NewNopLogger(), now: func() time.Time { return testNow }}
}

// xrFromClaim turns a Performer claim into the XPerformer Crossplane would
// make of it: cluster-scoped, named after the claim with a suffix, the
// claim's spec plus spec.claimRef.
func xrFromClaim(t testing.TB, claim map[string]any) map[string]any {
	t.Helper()
	meta, _ := claim["metadata"].(map[string]any)
	spec, _ := claim["spec"].(map[string]any)
	xspec := map[string]any{}
	for k, v := range spec {
		xspec[k] = v
	}
	xspec["claimRef"] = map[string]any{
		"apiVersion": "hourglass.eigenlayer.io/v1alpha1",
		"kind":       "Performer",
		"name":       meta["name"],
		"namespace":  meta["namespace"],
	}
	return map[string]any{
		"apiVersion": "hourglass.eigenlayer.io/v1alpha1",
		"kind":       "XPerformer",
		"metadata": map[string]any{
			"name": meta["name"].(string) + "-x7k2p",
			"labels": map[string]any{
				"crossplane.io/claim-name":      meta["name"],
				"crossplane.io/claim-namespace": meta["namespace"],
				"crossplane.io/composite":       meta["name"].(string) + "-x7k2p",
			},
		},
		"spec": xspec,
	}
}

// readClaim reads an example claim.
func readClaim(t testing.TB, file string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(examplesDir, file))
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]any{}
	if err := yaml.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func mustStruct(t testing.TB, m map[string]any) *structpb.Struct {
	t.Helper()
	s, err := structpb.NewStruct(m)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// newRequest builds a RunFunctionRequest for an XR, with optional observed
// composed resources and input.
func newRequest(t testing.TB, xr map[string]any, observed map[string]map[string]any, input map[string]any) *fnv1.RunFunctionRequest {
	t.Helper()
	req := &fnv1.RunFunctionRequest{
		Meta:     &fnv1.RequestMeta{Tag: "t"},
		Observed: &fnv1.State{Composite: &fnv1.Resource{Resource: mustStruct(t, xr)}},
	}
	if len(observed) > 0 {
		req.Observed.Resources = map[string]*fnv1.Resource{}
		for k, v := range observed {
			req.Observed.Resources[k] = &fnv1.Resource{Resource: mustStruct(t, v)}
		}
	}
	if input != nil {
		req.Input = mustStruct(t, input)
	}
	return req
}

func unstructuredOf(m map[string]any) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: runtime.DeepCopyJSON(m)}
}

// recorder is a logger that keeps every message and key/value it is given.
type recorder struct {
	lines *[]string
	kv    []any
}

func (r recorder) add(msg string, kv ...any) {
	*r.lines = append(*r.lines, fmt.Sprint(msg, r.kv, kv))
}
func (r recorder) Info(msg string, kv ...any)  { r.add(msg, kv...) }
func (r recorder) Debug(msg string, kv ...any) { r.add(msg, kv...) }
func (r recorder) WithValues(kv ...any) xplogging.Logger {
	return recorder{lines: r.lines, kv: append(append([]any{}, r.kv...), kv...)}
}
