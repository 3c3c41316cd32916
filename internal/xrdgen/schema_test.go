package xrdgen_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/crossplane/crossplane-runtime/v2/pkg/xcrd"
	xpv1 "github.com/crossplane/crossplane/apis/v2/apiextensions/v1"
	xpextv2 "github.com/crossplane/crossplane/apis/v2/apiextensions/v2"
	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"
	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	extv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	extvalidation "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/validation"
	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/cel"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/defaulting"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/listtype"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/pruning"
	apiservervalidation "k8s.io/apiextensions-apiserver/pkg/apiserver/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"k8s.io/apimachinery/pkg/util/validation/field"
	celconfig "k8s.io/apiserver/pkg/apis/cel"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/yaml"

	"github.com/hourglass-xp/crossplane-hourglass/apis/hourglass/v1alpha1"
	"github.com/hourglass-xp/crossplane-hourglass/internal/testtools"
	"github.com/hourglass-xp/crossplane-hourglass/internal/xrdgen"
)

const (
	xrdPath         = "../../" + testtools.PerformerXRD
	compositionPath = "../../compositions/performer.yaml"
	examplesDir     = "../../examples"
	invalidDir      = "../../examples/invalid"

	// channelLabel marks the release channel of a CompositionRevision.
	channelLabel = "hourglass.eigenlayer.io/channel"
)

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path) //nolint:gosec // Files of this repository.
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// definitionV2 is the committed definition read strictly as the
// apiextensions.crossplane.io/v2 type: a field v2 does not have, such as
// claimNames or connectionSecretKeys, fails it.
func definitionV2(t *testing.T) *xpextv2.CompositeResourceDefinition {
	t.Helper()
	d := &xpextv2.CompositeResourceDefinition{}
	if err := yaml.UnmarshalStrict(readFile(t, xrdPath), d); err != nil {
		t.Fatalf("parse the definition as apiextensions.crossplane.io/v2: %v", err)
	}
	return d
}

// definitionV1 is the committed definition as Crossplane reads it: v1 is
// the stored version, which has every v2 field (scope included) and which
// the API server converts to field for field, without a webhook.
func definitionV1(t *testing.T) *xpv1.CompositeResourceDefinition {
	t.Helper()
	d := &xpv1.CompositeResourceDefinition{}
	if err := yaml.UnmarshalStrict(readFile(t, xrdPath), d); err != nil {
		t.Fatalf("parse the definition as apiextensions.crossplane.io/v1: %v", err)
	}
	return d
}

// performerCRD is the CRD Crossplane derives from the committed definition
// and installs: the Performer.
func performerCRD(t *testing.T) *extv1.CustomResourceDefinition {
	t.Helper()
	crd, err := testtools.PerformerCRD(xrdPath)
	if err != nil {
		t.Fatal(err)
	}
	return crd
}

func TestDefinition(t *testing.T) {
	d := definitionV2(t)
	legacy := definitionV1(t)
	comp := &xpv1.Composition{}
	if err := yaml.UnmarshalStrict(readFile(t, compositionPath), comp); err != nil {
		t.Fatalf("parse %s: %v", compositionPath, err)
	}
	schema := map[string]any{}
	if len(d.Spec.Versions) == 1 && d.Spec.Versions[0].Schema != nil {
		if err := json.Unmarshal(d.Spec.Versions[0].Schema.OpenAPIV3Schema.Raw, &schema); err != nil {
			t.Fatal(err)
		}
	}
	spec, _ := schema["properties"].(map[string]any)["spec"].(map[string]any)
	_, crossplane := spec["properties"].(map[string]any)["crossplane"]
	versions := make([]string, 0, len(d.Spec.Versions))
	for _, v := range d.Spec.Versions {
		if v.Served && v.Referenceable {
			versions = append(versions, v.Name)
		}
	}

	cases := map[string]struct {
		reason    string
		got, want any
	}{
		"APIVersion": {reason: "The Performer is a Crossplane v2 composite.", got: d.APIVersion, want: "apiextensions.crossplane.io/v2"},
		"Kind":       {reason: "The file is a definition.", got: d.Kind, want: "CompositeResourceDefinition"},
		"Name":       {reason: "A definition is named after its CRD: plural.group.", got: d.Name, want: "performers." + v1alpha1.Group},
		"FileName":   {reason: "The package file is named after the definition.", got: filepath.Base(xrdPath), want: d.Name + ".yaml"},
		"Scope":      {reason: "Performers live in their executor's or AVS's namespace, with everything composed for them.", got: d.Spec.Scope, want: xpextv2.CompositeResourceScopeNamespaced},
		"Group":      {reason: "The API group of the Hourglass Performer.", got: d.Spec.Group, want: v1alpha1.Group},
		"Names": {reason: "kind Performer, the kind executors and GitOps repositories write; no XPerformer.", got: d.Spec.Names, want: extv1.CustomResourceDefinitionNames{
			Kind: v1alpha1.PerformerKind, ListKind: v1alpha1.PerformerListKind, Plural: "performers", Singular: "performer", Categories: []string{"hourglass"},
		}},
		"Versions":               {reason: "One served, referenceable version.", got: versions, want: []string{v1alpha1.Version}},
		"NoClaimNames":           {reason: "No claim: v2 definitions refuse claimNames.", got: legacy.Spec.ClaimNames, want: (*extv1.CustomResourceDefinitionNames)(nil)},
		"NoConnectionSecrets":    {reason: "v2 composites have no connection details; the function composes the connection Secret.", got: legacy.Spec.ConnectionSecretKeys, want: []string(nil)},
		"DefaultComposition":     {reason: "Performers that choose no Composition get the shipped one.", got: d.Spec.DefaultCompositionRef, want: &xpextv2.CompositionReference{Name: comp.Name}},
		"ShippedComposition":     {reason: "The shipped Composition is the one the generator names.", got: comp.Name, want: xrdgen.DefaultCompositionName},
		"CompositeTypeRef":       {reason: "The shipped Composition composes Performers.", got: comp.Spec.CompositeTypeRef, want: xpv1.TypeReference{APIVersion: v1alpha1.SchemeGroupVersion.String(), Kind: v1alpha1.PerformerKind}},
		"UpdatePolicy":           {reason: "Performers follow new Composition revisions unless they pin one.", got: d.Spec.DefaultCompositionUpdatePolicy, want: ptr.To(xpv2.UpdateAutomatic)},
		"Channel":                {reason: "Performers that choose no revision follow the stable channel.", got: d.Spec.DefaultCompositionRevisionSelector, want: &metav1.LabelSelector{MatchLabels: map[string]string{channelLabel: "stable"}}},
		"ShippedOnStable":        {reason: "The shipped Composition is published on the stable channel.", got: comp.Labels[channelLabel], want: "stable"},
		"CrossplaneToCrossplane": {reason: "spec.crossplane is Crossplane's: the definition leaves its schema to Crossplane.", got: crossplane, want: false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, tc.got); diff != "" {
				t.Errorf("%s\n%s: -want, +got:\n%s", tc.reason, xrdPath, diff)
			}
		})
	}
}

// jsonFields returns the JSON names of the fields of a struct type.
func jsonFields(v any) []string {
	var out []string
	rt := reflect.TypeOf(v)
	for i := range rt.NumField() {
		name, _, _ := strings.Cut(rt.Field(i).Tag.Get("json"), ",")
		if name != "" && name != "-" {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

func TestDerivedCRD(t *testing.T) {
	crd := performerCRD(t)
	if len(crd.Spec.Versions) != 1 {
		t.Fatalf("want one version, got %d", len(crd.Spec.Versions))
	}
	props := crd.Spec.Versions[0].Schema.OpenAPIV3Schema.Properties
	spec, status := props["spec"].Properties, props["status"].Properties
	var legacy []string
	for _, f := range []string{"claimRef", "compositionRef", "compositionRevisionRef", "compositionRevisionSelector", "compositionSelector", "compositionUpdatePolicy", "resourceRef", "resourceRefs", "writeConnectionSecretToRef"} {
		if _, ok := spec[f]; ok {
			legacy = append(legacy, f)
		}
	}
	statusFields := make([]string, 0, len(status))
	for f := range status {
		statusFields = append(statusFields, f)
	}
	slices.Sort(statusFields)
	crossplane := xcrd.CompositeResourceSpecProps(xpv1.CompositeResourceScopeNamespaced, ptr.To(xpv2.UpdateAutomatic))["crossplane"]

	cases := map[string]struct {
		reason    string
		got, want any
	}{
		"Scope":      {reason: "A namespaced composite makes a namespaced CRD.", got: crd.Spec.Scope, want: extv1.NamespaceScoped},
		"Name":       {reason: "The CRD is performers.hourglass.eigenlayer.io.", got: crd.Name, want: "performers." + v1alpha1.Group},
		"Kind":       {reason: "The CRD serves kind Performer.", got: crd.Spec.Names.Kind, want: v1alpha1.PerformerKind},
		"Categories": {reason: "kubectl get hourglass and kubectl get composite list performers.", got: crd.Spec.Names.Categories, want: []string{"hourglass", xcrd.CategoryComposite}},
		"SpecCrossplane": {reason: "spec.crossplane, with the definition's Automatic default, comes from Crossplane, not from our schema.",
			got: spec["crossplane"], want: crossplane},
		"NoLegacyFields": {reason: "v2 composites have Crossplane's fields under spec.crossplane only: nothing of a claim or legacy XR at spec's root.",
			got: legacy, want: []string(nil)},
		"Conditions": {reason: "status.conditions comes from Crossplane.", got: status["conditions"], want: xcrd.CompositeResourceStatusProps(xpv1.CompositeResourceScopeNamespaced)["conditions"]},
		"StatusFields": {reason: "Every status field the function writes has a schema, or the API server drops it; Crossplane adds nothing else.",
			got: statusFields, want: jsonFields(v1alpha1.PerformerStatus{})},
		"Ready": {reason: "status.ready is the boolean executors poll.", got: status["ready"].Type, want: "boolean"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, tc.got); diff != "" {
				t.Errorf("%s\nxcrd.ForCompositeResource(...): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestDefinitionMakesValidCRD(t *testing.T) {
	crd := performerCRD(t)
	// The API server sets the stored versions when it creates the CRD.
	crd.Status.StoredVersions = []string{crd.Spec.Versions[0].Name}
	internal := &apiextensions.CustomResourceDefinition{}
	if err := extv1.Convert_v1_CustomResourceDefinition_To_apiextensions_CustomResourceDefinition(crd, internal, nil); err != nil {
		t.Fatalf("convert %s: %v", crd.Name, err)
	}
	// The API server runs the same checks, CEL cost estimates included,
	// when Crossplane creates the CRD from the definition; the envtest
	// test below makes a real one do it.
	if errs := extvalidation.ValidateCustomResourceDefinition(context.Background(), internal); len(errs) > 0 {
		t.Errorf("CRD %s made from the definition is invalid:\n%v", crd.Name, errs.ToAggregate())
	}
}

func TestPrinterColumns(t *testing.T) {
	var got []string
	for _, c := range performerCRD(t).Spec.Versions[0].AdditionalPrinterColumns {
		if c.Priority == 0 {
			got = append(got, c.Name)
		}
	}
	want := []string{"AVS", "IMAGE", "VERSION", "PHASE", "ENDPOINT", "SYNCED", "READY", "COMPOSITION", "AGE"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("kubectl get performers columns: -want, +got:\n%s", diff)
	}
}

// admission applies what kube-apiserver applies to a Performer on create:
// the OpenAPI schema, list-map uniqueness, CEL rules, then pruning and
// defaulting of what is stored. It is built from the CRD Crossplane itself
// derives from the committed definition, so it checks exactly what a
// cluster installs.
type admission struct {
	structural *structuralschema.Structural
	validator  apiservervalidation.SchemaValidator
	cel        *cel.Validator
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

// document is one YAML document of an example file.
type document struct {
	path string
	obj  map[string]any
	// expect is the document's "# expect: " comment: the message an
	// invalid example is refused with.
	expect string
}

func (d document) kind() string { s, _ := d.obj["kind"].(string); return s }

func (d document) meta(f string) string {
	m, _ := d.obj["metadata"].(map[string]any)
	s, _ := m[f].(string)
	return s
}

// readDocuments reads every document of the YAML files in dir; files hold
// several separated by "---" lines, as `kubectl apply -f` reads them.
func readDocuments(t *testing.T, dir string) []document {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no examples in %s: %v", dir, err)
	}
	var out []document
	for _, f := range files {
		for doc := range bytes.SplitSeq(readFile(t, f), []byte("\n---")) {
			// Decode numbers as the API server does (int64), or CEL sees floats.
			j, err := yaml.YAMLToJSON(doc)
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			obj := map[string]any{}
			if err := utiljson.Unmarshal(j, &obj); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			if len(obj) == 0 {
				continue
			}
			d := document{path: f, obj: obj}
			for l := range strings.Lines(string(doc)) {
				if e, ok := strings.CutPrefix(l, "# expect: "); ok {
					d.expect = strings.TrimSpace(e)
				}
			}
			out = append(out, d)
		}
	}
	return out
}

// performers returns the Performers among docs.
func performers(docs []document) []document {
	return slices.DeleteFunc(slices.Clone(docs), func(d document) bool { return d.kind() != v1alpha1.PerformerKind })
}

// withDefaults returns obj with what the schema defaults filled in where
// the example leaves it out: spec.config and its gRPC port.
func withDefaults(obj map[string]any) map[string]any {
	out := runtime.DeepCopyJSON(obj)
	spec := out["spec"].(map[string]any)
	cfg, _ := spec["config"].(map[string]any)
	if cfg == nil {
		cfg = map[string]any{}
		spec["config"] = cfg
	}
	if _, ok := cfg["grpcPort"]; !ok {
		cfg["grpcPort"] = int64(9090)
	}
	return out
}

func TestValidExamplesAreAdmittedWithoutLoss(t *testing.T) {
	a := newAdmission(t, performerCRD(t))
	examples := performers(readDocuments(t, examplesDir))
	if len(examples) < 6 {
		t.Fatalf("want the five examples of the API reference and the executor's, found %d", len(examples))
	}
	for _, e := range examples {
		t.Run(e.meta("name"), func(t *testing.T) {
			stored, errs := a.admit(e.obj)
			if len(errs) > 0 {
				t.Fatalf("rejected: %v", errs.ToAggregate())
			}
			// Defaulting may add the port; nothing else may change, and
			// nothing the user wrote may be pruned.
			if diff := cmp.Diff(normalise(t, withDefaults(e.obj)), normalise(t, stored)); diff != "" {
				t.Errorf("stored Performer differs from what was applied: -applied, +stored:\n%s", diff)
			}
		})
	}
}

func TestValidExamplesRoundTripGoTypes(t *testing.T) {
	for _, e := range performers(readDocuments(t, examplesDir)) {
		t.Run(e.meta("name"), func(t *testing.T) {
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
	a := newAdmission(t, performerCRD(t))
	examples := performers(readDocuments(t, invalidDir))
	if len(examples) < 20 {
		t.Fatalf("want at least 20 invalid examples, found %d", len(examples))
	}
	for _, e := range examples {
		t.Run(e.meta("name"), func(t *testing.T) {
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

// performer is a valid Performer with spec fields added.
func performer(spec map[string]any) map[string]any {
	s := map[string]any{"avsAddress": "0x1234567890abcdef1234567890abcdef12345678", "image": "myavs/performer:v1.0.0"}
	for k, v := range spec {
		s[k] = v
	}
	return map[string]any{
		"apiVersion": v1alpha1.SchemeGroupVersion.String(),
		"kind":       v1alpha1.PerformerKind,
		"metadata":   map[string]any{"name": "p", "namespace": "ns"},
		"spec":       s,
	}
}

// envSources are variables from all three sources: env, environment and
// environmentFrom, named as given.
func envSources(env, environment, from []string) map[string]any {
	cfg := map[string]any{}
	if env != nil {
		l := []any{}
		for _, n := range env {
			l = append(l, map[string]any{"name": n, "value": "v"})
		}
		cfg["env"] = l
	}
	if environment != nil {
		m := map[string]any{}
		for _, n := range environment {
			m[n] = "v"
		}
		cfg["environment"] = m
	}
	if from != nil {
		l := []any{}
		for _, n := range from {
			l = append(l, map[string]any{"name": n, "valueFrom": map[string]any{"secretKeyRef": map[string]any{"name": "s", "key": "k"}}})
		}
		cfg["environmentFrom"] = l
	}
	return cfg
}

// duplicate is how the message a variable set in two places is refused
// with begins: it names both places.
func duplicate(first, second string) string {
	return "spec.config." + first + " and spec.config." + second + " both set "
}

// costExceeded is in the message of a request refused because a CEL rule
// ran out of its cost budget; it names the rule's message too.
const costExceeded = "cost limit exceeded"

// names returns n variable names with prefix, of 256 characters: the
// longest environment and environmentFrom allow.
func names(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		s := fmt.Sprintf("%s_%03d_", prefix, i)
		out[i] = s + strings.Repeat("X", 256-len(s))
	}
	return out
}

// limits are how many variables env, environment and environmentFrom may
// hold, read from the CRD.
type limits struct{ env, environment, from int }

func limitsOf(t *testing.T, crd *extv1.CustomResourceDefinition) limits {
	t.Helper()
	cfg := crd.Spec.Versions[0].Schema.OpenAPIV3Schema.Properties["spec"].Properties["config"].Properties
	env, environment, from := cfg["env"].MaxItems, cfg["environment"].MaxProperties, cfg["environmentFrom"].MaxItems
	if env == nil || environment == nil || from == nil {
		t.Fatal("env, environment and environmentFrom must be bounded, or no CEL rule over them fits the API server's budget")
	}
	return limits{env: int(*env), environment: int(*environment), from: int(*from)}
}

// largest is a config with as many distinct variables as each place may
// hold; withRepeat adds a repeat between env and environmentFrom found
// only at their ends.
func (l limits) largest(withRepeat bool) map[string]any {
	if !withRepeat {
		return envSources(names("ENV", l.env), names("MAP", l.environment), names("FROM", l.from))
	}
	return envSources(append(names("ENV", l.env-1), "LAST"), names("MAP", l.environment), append(names("FROM", l.from-1), "LAST"))
}

// TestAdmission covers what the examples alone do not: Crossplane's own
// fields, where v2 puts them and what becomes of them elsewhere, and the
// environment rules on several variables at once.
func TestAdmission(t *testing.T) {
	crd := performerCRD(t)
	a := newAdmission(t, crd)
	lim := limitsOf(t, crd)
	type want struct {
		// spec as stored, when admitted.
		spec map[string]any
		// errs are parts of the messages, one per expected error.
		errs []string
	}
	cases := map[string]struct {
		reason string
		obj    map[string]any
		want   want
	}{
		"CrossplaneFieldsKept": {
			reason: "Composition selection and pinning live under spec.crossplane and are stored as written.",
			obj: performer(map[string]any{"crossplane": map[string]any{
				"compositionRef":              map[string]any{"name": xrdgen.DefaultCompositionName},
				"compositionRevisionSelector": map[string]any{"matchLabels": map[string]any{channelLabel: "canary"}},
				"compositionUpdatePolicy":     "Manual",
			}}),
			want: want{spec: map[string]any{"crossplane": map[string]any{
				"compositionRef":              map[string]any{"name": xrdgen.DefaultCompositionName},
				"compositionRevisionSelector": map[string]any{"matchLabels": map[string]any{channelLabel: "canary"}},
				"compositionUpdatePolicy":     "Manual",
			}}},
		},
		"CrossplaneUpdatePolicyDefaulted": {
			reason: "The definition's Automatic update policy is Crossplane's schema default under spec.crossplane.",
			obj:    performer(map[string]any{"crossplane": map[string]any{"compositionRef": map[string]any{"name": xrdgen.DefaultCompositionName}}}),
			want: want{spec: map[string]any{"crossplane": map[string]any{
				"compositionRef":          map[string]any{"name": xrdgen.DefaultCompositionName},
				"compositionUpdatePolicy": string(xpv2.UpdateAutomatic),
			}}},
		},
		"LegacyFieldsPruned": {
			reason: "A claim's fields at spec's root mean nothing to a v2 composite: the API server prunes them, so examples must not carry them.",
			obj: performer(map[string]any{
				"compositionRef":             map[string]any{"name": xrdgen.DefaultCompositionName},
				"compositionUpdatePolicy":    "Manual",
				"writeConnectionSecretToRef": map[string]any{"name": "performer-connection"},
			}),
			want: want{spec: map[string]any{}},
		},
		"ExecutorFields": {
			reason: "The executor's imagePullPolicy, environment and environmentFrom are kept beside env when no name repeats.",
			obj: performer(map[string]any{
				"imagePullPolicy": string(corev1.PullAlways),
				"config":          envSources([]string{"A"}, []string{"B", "C"}, []string{"D"}),
			}),
			want: want{spec: map[string]any{
				"imagePullPolicy": string(corev1.PullAlways),
				"config":          envSources([]string{"A"}, []string{"B", "C"}, []string{"D"}),
			}},
		},
		"LargestConfig": {
			reason: "The environment rules fit the API server's runtime CEL budget at the schema's limits: as many distinct variables of the longest name as each place may hold are admitted.",
			obj:    performer(map[string]any{"config": lim.largest(false)}),
			want:   want{spec: map[string]any{"config": lim.largest(false)}},
		},
		"SameNameEverywhere": {
			reason: "A name in all three places breaks all three rules, each message naming its two places.",
			obj:    performer(map[string]any{"config": envSources([]string{"A", "X"}, []string{"X"}, []string{"X"})}),
			want: want{errs: []string{
				duplicate("env", "environment"),
				duplicate("env", "environmentFrom"),
				duplicate("environment", "environmentFrom"),
			}},
		},
		"LastOfManyNamedTwice": {
			reason: "A repeat found only at the end of the largest lists is refused too.",
			obj:    performer(map[string]any{"config": lim.largest(true)}),
			want:   want{errs: []string{duplicate("env", "environmentFrom")}},
		},
		"EnvironmentFromUniqueNames": {
			reason: "environmentFrom is a list map: a name twice in it is refused like env's.",
			obj:    performer(map[string]any{"config": envSources(nil, nil, []string{"A", "A"})}),
			want:   want{errs: []string{"spec.config.environmentFrom[1]: Duplicate value"}},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			stored, errs := a.admit(tc.obj)
			msgs := make([]string, 0, len(errs))
			for _, err := range errs {
				msgs = append(msgs, err.Error())
			}
			for _, m := range msgs {
				if strings.Contains(m, costExceeded) {
					t.Errorf("%s\nrefused for the CEL cost of a rule, not by the rule: %s", tc.reason, m)
				}
			}
			for _, w := range tc.want.errs {
				if !slices.ContainsFunc(msgs, func(m string) bool { return strings.Contains(m, w) }) {
					t.Errorf("%s\nno error contains %q; got:\n%s", tc.reason, w, strings.Join(msgs, "\n"))
				}
			}
			if len(msgs) != len(tc.want.errs) {
				t.Errorf("%s\nwant %d errors, got %d:\n%s", tc.reason, len(tc.want.errs), len(msgs), strings.Join(msgs, "\n"))
			}
			if tc.want.spec == nil {
				return
			}
			want := withDefaults(performer(tc.want.spec))
			if diff := cmp.Diff(normalise(t, want), normalise(t, stored)); diff != "" {
				t.Errorf("%s\nstored: -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

// fullStatus is a status with every field set, as the function writes it
// (ready included) with Crossplane's conditions.
func fullStatus(t *testing.T) map[string]any {
	t.Helper()
	now := metav1.NewTime(time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC))
	rev := func(id, version string) *v1alpha1.RevisionStatus {
		return &v1alpha1.RevisionStatus{Revision: id, Image: "myavs/performer:" + version, Version: version, Deployment: "performer-p-" + id}
	}
	s := v1alpha1.PerformerStatus{
		Phase:                "Upgrading",
		Ready:                true,
		PodName:              "performer-p-4f1c2a9b7e-7d9f8",
		ServiceName:          "performer-p",
		GRPCEndpoint:         "performer-p.ns.svc.cluster.local:9090",
		ConnectionSecretName: "performer-p-connection",
		Conditions: []metav1.Condition{
			{Type: "Ready", Status: metav1.ConditionTrue, ObservedGeneration: 2, LastTransitionTime: now, Reason: "Available"},
			{Type: "Progressing", Status: metav1.ConditionTrue, ObservedGeneration: 2, LastTransitionTime: now, Reason: "UpgradeInProgress", Message: "upgrading"},
		},
		LastUpgrade:      &now,
		ReadyTime:        &now,
		Active:           rev("4f1c2a9b7e", "v1.0.0"),
		Target:           rev("9b8a7c6d5e", "v1.1.0"),
		UpgradeStartTime: &now,
	}
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]any{}
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	// A new status field must be set here too, or the tests that use it
	// would not show whether it survives.
	if got, want := len(out), len(jsonFields(v1alpha1.PerformerStatus{})); got != want {
		t.Fatalf("fullStatus sets %d of the %d fields of PerformerStatus", got, want)
	}
	return out
}

func TestStatusIsNotPruned(t *testing.T) {
	crd := performerCRD(t)
	a := newAdmission(t, crd)
	obj := performer(nil)
	obj["status"] = fullStatus(t)
	want := normalise(t, obj)
	pruning.Prune(obj, a.structural, true)
	if diff := cmp.Diff(want, normalise(t, obj)); diff != "" {
		t.Errorf("the API server would drop status the function writes: -written, +stored:\n%s", diff)
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
