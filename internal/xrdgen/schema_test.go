package xrdgen_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/crossplane/crossplane-runtime/v2/pkg/xcrd"
	xpv1 "github.com/crossplane/crossplane/apis/v2/apiextensions/v1"
	"github.com/google/go-cmp/cmp"
	"k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	extv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	extvalidation "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/validation"
	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/cel"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/defaulting"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/listtype"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/pruning"
	apiservervalidation "k8s.io/apiextensions-apiserver/pkg/apiserver/validation"
	"k8s.io/apimachinery/pkg/runtime"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"k8s.io/apimachinery/pkg/util/validation/field"
	celconfig "k8s.io/apiserver/pkg/apis/cel"
	"sigs.k8s.io/yaml"

	"github.com/hourglass-xp/crossplane-hourglass/apis/hourglass/v1alpha1"
)

const (
	xrdPath     = "../../package/xrd/xperformers.hourglass.eigenlayer.io.yaml"
	examplesDir = "../../examples"
	invalidDir  = "../../examples/invalid"
)

// admission applies what kube-apiserver applies to a claim on create: the
// OpenAPI schema, list-map uniqueness, CEL rules, then pruning and defaulting
// of what is stored. It is built from the CRD Crossplane itself derives from
// the committed definition, so it checks exactly what a cluster installs.
type admission struct {
	structural *structuralschema.Structural
	validator  apiservervalidation.SchemaValidator
	cel        *cel.Validator
}

func loadXRD(t *testing.T) *xpv1.CompositeResourceDefinition {
	t.Helper()
	b, err := os.ReadFile(xrdPath)
	if err != nil {
		t.Fatalf("read definition: %v", err)
	}
	xrd := &xpv1.CompositeResourceDefinition{}
	if err := yaml.UnmarshalStrict(b, xrd); err != nil {
		t.Fatalf("parse definition: %v", err)
	}
	return xrd
}

func claimCRD(t *testing.T) *extv1.CustomResourceDefinition {
	t.Helper()
	crd, err := xcrd.ForCompositeResourceClaim(loadXRD(t))
	if err != nil {
		t.Fatalf("xcrd.ForCompositeResourceClaim: %v", err)
	}
	return crd
}

func newAdmission(t *testing.T, crd *extv1.CustomResourceDefinition) *admission {
	t.Helper()
	internal := &apiextensions.JSONSchemaProps{}
	if err := extv1.Convert_v1_JSONSchemaProps_To_apiextensions_JSONSchemaProps(crd.Spec.Versions[0].Schema.OpenAPIV3Schema, internal, nil); err != nil {
		t.Fatalf("convert schema: %v", err)
	}
	s, err := structuralschema.NewStructural(internal)
	if err != nil {
		t.Fatalf("structural schema: %v", err)
	}
	v, _, err := apiservervalidation.NewSchemaValidator(internal)
	if err != nil {
		t.Fatalf("schema validator: %v", err)
	}
	return &admission{structural: s, validator: v, cel: cel.NewValidator(s, true, celconfig.PerCallLimit)}
}

// admit returns the object as it would be stored, or the errors the API
// server would answer with.
func (a *admission) admit(obj map[string]any) (map[string]any, field.ErrorList) {
	obj = runtime.DeepCopyJSON(obj)
	errs := apiservervalidation.ValidateCustomResource(nil, obj, a.validator)
	errs = append(errs, listtype.ValidateListSetsAndMaps(nil, a.structural, obj)...)
	celErrs, _ := a.cel.Validate(context.Background(), nil, a.structural, obj, nil, celconfig.RuntimeCELCostBudget)
	errs = append(errs, celErrs...)
	if len(errs) > 0 {
		return nil, errs
	}
	pruning.Prune(obj, a.structural, true)
	defaulting.Default(obj, a.structural)
	return obj, nil
}

type example struct {
	path   string
	obj    map[string]any
	expect string
}

func readExamples(t *testing.T, dir string) []example {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no examples in %s: %v", dir, err)
	}
	var out []example
	for _, f := range files {
		b, err := os.ReadFile(f) //nolint:gosec // Test fixtures of this repository.
		if err != nil {
			t.Fatal(err)
		}
		// Decode numbers as the API server does (int64), or CEL sees floats.
		j, err := yaml.YAMLToJSON(b)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		obj := map[string]any{}
		if err := utiljson.Unmarshal(j, &obj); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if obj["kind"] != v1alpha1.PerformerKind {
			continue
		}
		e := example{path: f, obj: obj}
		if line, ok := bytes.CutPrefix(b, []byte("# expect: ")); ok {
			e.expect = strings.TrimSpace(string(line[:bytes.IndexByte(line, '\n')]))
		}
		out = append(out, e)
	}
	return out
}

func TestDefinitionMakesValidCRDs(t *testing.T) {
	xrd := loadXRD(t)
	xr, err := xcrd.ForCompositeResource(xrd)
	if err != nil {
		t.Fatalf("xcrd.ForCompositeResource: %v", err)
	}
	for _, crd := range []*extv1.CustomResourceDefinition{xr, claimCRD(t)} {
		// Crossplane sets these when it creates the CRD; they are not
		// part of the schema under test.
		crd.OwnerReferences = nil
		crd.Status.StoredVersions = []string{crd.Spec.Versions[0].Name}
		internal := &apiextensions.CustomResourceDefinition{}
		if err := extv1.Convert_v1_CustomResourceDefinition_To_apiextensions_CustomResourceDefinition(crd, internal, nil); err != nil {
			t.Fatalf("convert %s: %v", crd.Name, err)
		}
		// The API server runs the same checks, CEL cost estimates included,
		// when Crossplane creates these CRDs from the definition.
		if errs := extvalidation.ValidateCustomResourceDefinition(context.Background(), internal); len(errs) > 0 {
			t.Errorf("CRD %s made from the definition is invalid:\n%v", crd.Name, errs.ToAggregate())
		}
	}
}

func TestPrinterColumns(t *testing.T) {
	crd := claimCRD(t)
	var got []string
	for _, c := range crd.Spec.Versions[0].AdditionalPrinterColumns {
		if c.Priority == 0 {
			got = append(got, c.Name)
		}
	}
	want := []string{"AVS", "IMAGE", "VERSION", "PHASE", "ENDPOINT", "SYNCED", "READY", "CONNECTION-SECRET", "AGE"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("kubectl get performers columns: -want, +got:\n%s", diff)
	}
}

func TestValidExamplesAreAdmittedWithoutLoss(t *testing.T) {
	a := newAdmission(t, claimCRD(t))
	examples := readExamples(t, examplesDir)
	if len(examples) < 5 {
		t.Fatalf("want the five examples of the API reference, found %d", len(examples))
	}
	for _, e := range examples {
		t.Run(filepath.Base(e.path), func(t *testing.T) {
			stored, errs := a.admit(e.obj)
			if len(errs) > 0 {
				t.Fatalf("rejected: %v", errs.ToAggregate())
			}
			// Defaulting may add the port; nothing else may change, and
			// nothing the user wrote may be pruned.
			want := runtime.DeepCopyJSON(e.obj)
			spec := want["spec"].(map[string]any)
			cfg, _ := spec["config"].(map[string]any)
			if cfg == nil {
				cfg = map[string]any{}
				spec["config"] = cfg
			}
			if _, ok := cfg["grpcPort"]; !ok {
				cfg["grpcPort"] = int64(9090)
			}
			if diff := cmp.Diff(normalise(t, want), normalise(t, stored)); diff != "" {
				t.Errorf("stored claim differs from what was applied: -applied, +stored:\n%s", diff)
			}
		})
	}
}

func TestValidExamplesRoundTripGoTypes(t *testing.T) {
	for _, e := range readExamples(t, examplesDir) {
		t.Run(filepath.Base(e.path), func(t *testing.T) {
			b, err := json.Marshal(e.obj)
			if err != nil {
				t.Fatal(err)
			}
			p := &v1alpha1.Performer{}
			dec := json.NewDecoder(bytes.NewReader(b))
			dec.DisallowUnknownFields()
			if err := dec.Decode(p); err != nil {
				t.Fatalf("the Go types cannot hold the example: %v", err)
			}
			out, err := json.Marshal(p)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]any{}
			if err := json.Unmarshal(out, &got); err != nil {
				t.Fatal(err)
			}
			delete(got["metadata"].(map[string]any), "creationTimestamp")
			dropZeroDivisors(got)
			if diff := cmp.Diff(normalise(t, e.obj), normalise(t, got)); diff != "" {
				t.Errorf("Go round trip lost or changed fields: -applied, +round-tripped:\n%s", diff)
			}
		})
	}
}

func TestInvalidExamplesAreRejectedWithTheirMessage(t *testing.T) {
	a := newAdmission(t, claimCRD(t))
	examples := readExamples(t, invalidDir)
	if len(examples) < 20 {
		t.Fatalf("want at least 20 invalid examples, found %d", len(examples))
	}
	for _, e := range examples {
		t.Run(filepath.Base(e.path), func(t *testing.T) {
			if e.expect == "" {
				t.Fatal("an invalid example must start with '# expect: <message>'")
			}
			_, errs := a.admit(e.obj)
			if len(errs) == 0 {
				t.Fatal("admitted, want rejected")
			}
			msgs := make([]string, 0, len(errs))
			for _, err := range errs {
				msgs = append(msgs, err.Error())
			}
			if !slices.ContainsFunc(msgs, func(m string) bool { return strings.Contains(m, e.expect) }) {
				t.Errorf("no error contains %q; got:\n%s", e.expect, strings.Join(msgs, "\n"))
			}
		})
	}
}

// normalise makes numbers comparable: YAML decodes them as int64 or
// float64 depending on the path they took.
func normalise(t *testing.T, obj map[string]any) map[string]any {
	t.Helper()
	b, err := json.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]any{}
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// dropZeroDivisors removes `divisor: "0"`, which corev1.ResourceFieldSelector
// writes for an unset divisor (resource.Quantity has no empty form). The API
// server treats both alike; the typed client of every Kubernetes kind does it.
func dropZeroDivisors(obj map[string]any) {
	spec, _ := obj["spec"].(map[string]any)
	cfg, _ := spec["config"].(map[string]any)
	env, _ := cfg["env"].([]any)
	for _, e := range env {
		vf, _ := e.(map[string]any)["valueFrom"].(map[string]any)
		if rf, ok := vf["resourceFieldRef"].(map[string]any); ok && rf["divisor"] == "0" {
			delete(rf, "divisor")
		}
	}
}
