package main

import (
	"os"
	"path/filepath"
	"strings"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/structpb"
	"sigs.k8s.io/yaml"

	"github.com/crossplane/crossplane-runtime/v2/pkg/errors"
	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"
)

const (
	errFmtRead        = "cannot read %s"
	errFmtParse       = "cannot parse %s"
	errFmtNoStep      = "%s: no pipeline step with an input"
	errFmtNotResource = "%s: not a Kubernetes object (no apiVersion and kind)"
)

// Request is one request to send, named after the file it came from.
type Request struct {
	Name string
	Req  *fnv1.RunFunctionRequest
}

// ReadRequest reads a RunFunctionRequest from a YAML or JSON file in the
// protobuf JSON mapping (the form `crossplane` and protojson use).
func ReadRequest(file string) (Request, error) {
	j, err := readJSON(file)
	if err != nil {
		return Request{}, err
	}
	req := &fnv1.RunFunctionRequest{}
	if err := protojson.Unmarshal(j, req); err != nil {
		return Request{}, errors.Wrapf(err, errFmtParse, file)
	}
	return Request{Name: nameOf(file), Req: req}, nil
}

// RequestFromXR is the request Crossplane sends for a composite resource it
// has just created: the XR observed, nothing composed yet, and the input of
// the Composition's first pipeline step (when a Composition is given).
func RequestFromXR(xrFile, compositionFile string) (Request, error) {
	xr, err := readObject(xrFile)
	if err != nil {
		return Request{}, err
	}
	if xr["apiVersion"] == nil || xr["kind"] == nil {
		return Request{}, errors.Errorf(errFmtNotResource, xrFile)
	}
	s, err := structpb.NewStruct(xr)
	if err != nil {
		return Request{}, errors.Wrapf(err, errFmtParse, xrFile)
	}
	req := &fnv1.RunFunctionRequest{
		Meta:     &fnv1.RequestMeta{Tag: nameOf(xrFile)},
		Observed: &fnv1.State{Composite: &fnv1.Resource{Resource: s}},
	}
	if compositionFile != "" {
		if req.Input, err = stepInput(compositionFile); err != nil {
			return Request{}, err
		}
	}
	return Request{Name: nameOf(xrFile), Req: req}, nil
}

// stepInput is the input of a Composition's first pipeline step that has one.
func stepInput(file string) (*structpb.Struct, error) {
	c, err := readObject(file)
	if err != nil {
		return nil, err
	}
	spec, _ := c["spec"].(map[string]any)
	steps, _ := spec["pipeline"].([]any)
	for _, s := range steps {
		step, _ := s.(map[string]any)
		if in, ok := step["input"].(map[string]any); ok {
			st, err := structpb.NewStruct(in)
			return st, errors.Wrapf(err, errFmtParse, file)
		}
	}
	return nil, errors.Errorf(errFmtNoStep, file)
}

func readObject(file string) (map[string]any, error) {
	j, err := readJSON(file)
	if err != nil {
		return nil, err
	}
	m := map[string]any{}
	return m, errors.Wrapf(yaml.Unmarshal(j, &m), errFmtParse, file)
}

func readJSON(file string) ([]byte, error) {
	b, err := os.ReadFile(file) //nolint:gosec // Reading the files the user names is the point.
	if err != nil {
		return nil, errors.Wrapf(err, errFmtRead, file)
	}
	j, err := yaml.YAMLToJSON(b)
	return j, errors.Wrapf(err, errFmtParse, file)
}

func nameOf(file string) string {
	return strings.TrimSuffix(filepath.Base(file), filepath.Ext(file))
}
