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

// examplesDir holds the example Performers.
const examplesDir = "../../examples"

// testNow is the fixed clock of the tests.
var testNow = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

func newTestFunction() *Function {
	return &Function{log: logging.NewNopLogger(), now: func() time.Time { return testNow }}
}

// xrOf turns a Performer manifest into the composite Crossplane passes the
// function: the same object, with the uid the API server gave it and what
// Crossplane adds (its composite label and spec.crossplane).
func xrOf(t testing.TB, performer map[string]any) map[string]any {
	t.Helper()
	xr := runtime.DeepCopyJSON(performer)
	meta, _ := xr["metadata"].(map[string]any)
	if meta == nil {
		t.Fatal("a Performer manifest without metadata")
	}
	meta["uid"] = testUID
	labels, _ := meta["labels"].(map[string]any)
	if labels == nil {
		labels = map[string]any{}
		meta["labels"] = labels
	}
	labels["crossplane.io/composite"] = meta["name"]
	spec, _ := xr["spec"].(map[string]any)
	if spec == nil {
		spec = map[string]any{}
		xr["spec"] = spec
	}
	spec["crossplane"] = map[string]any{
		"compositionRef":          map[string]any{"name": "performers.hourglass.eigenlayer.io"},
		"compositionUpdatePolicy": "Automatic",
	}
	return xr
}

// testUID is the uid of every test Performer.
const testUID = "6f1c1b52-3f4e-4c8e-9d55-0e5c2a7d9b10"

// readPerformer reads an example Performer.
func readPerformer(t testing.TB, file string) map[string]any {
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
