package xrdgen

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
	extv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func crdWith(spec, status extv1.JSONSchemaProps) *extv1.CustomResourceDefinition {
	return &extv1.CustomResourceDefinition{
		ObjectMeta: metav1.ObjectMeta{Name: "xthings.example.org"},
		Spec: extv1.CustomResourceDefinitionSpec{
			Group: "example.org",
			Names: extv1.CustomResourceDefinitionNames{Kind: "XThing", ListKind: "XThingList", Plural: "xthings", Singular: "xthing"},
			Versions: []extv1.CustomResourceDefinitionVersion{{
				Name: "v1",
				Schema: &extv1.CustomResourceValidation{OpenAPIV3Schema: &extv1.JSONSchemaProps{
					Type: "object",
					Properties: map[string]extv1.JSONSchemaProps{
						"apiVersion": {Type: "string"},
						"metadata":   {Type: "object"},
						"spec":       spec,
						"status":     status,
					},
				}},
				AdditionalPrinterColumns: []extv1.CustomResourceColumnDefinition{{Name: "SIZE", Type: "integer", JSONPath: ".spec.size"}},
			}},
		},
	}
}

func TestGenerate(t *testing.T) {
	type want struct {
		schema  map[string]any
		columns int
		claim   string
		err     bool
	}
	cases := map[string]struct {
		reason string
		crd    *extv1.CustomResourceDefinition
		want   want
	}{
		"CrossplaneFieldsRemoved": {
			reason: "Fields Crossplane injects into every XR and claim are its own; the definition keeps only ours, with required lists to match.",
			crd: crdWith(
				extv1.JSONSchemaProps{Type: "object", Required: []string{"size", "claimRef"}, Properties: map[string]extv1.JSONSchemaProps{
					"size":                       {Type: "integer"},
					"claimRef":                   {Type: "object"},
					"compositionRef":             {Type: "object"},
					"writeConnectionSecretToRef": {Type: "object"},
				}},
				extv1.JSONSchemaProps{Type: "object", Properties: map[string]extv1.JSONSchemaProps{
					"phase":      {Type: "string"},
					"conditions": {Type: "array"},
				}},
			),
			want: want{
				schema: map[string]any{
					"type":     "object",
					"required": []any{"spec"},
					"properties": map[string]any{
						"spec": map[string]any{"type": "object", "required": []any{"size"}, "properties": map[string]any{
							"size": map[string]any{"type": "integer"},
						}},
						"status": map[string]any{"type": "object", "properties": map[string]any{
							"phase": map[string]any{"type": "string"},
						}},
					},
				},
				columns: 1,
				claim:   "Performer",
			},
		},
		"NoSchema": {
			reason: "A CRD without a schema cannot make a definition.",
			crd:    &extv1.CustomResourceDefinition{Spec: extv1.CustomResourceDefinitionSpec{Versions: []extv1.CustomResourceDefinitionVersion{{Name: "v1"}}}},
			want:   want{err: true},
		},
		"NoSpec": {
			reason: "A composite without spec is not a composite.",
			crd:    crdWith(extv1.JSONSchemaProps{}, extv1.JSONSchemaProps{}),
			want:   want{err: true},
		},
	}
	delete(cases["NoSpec"].crd.Spec.Versions[0].Schema.OpenAPIV3Schema.Properties, "spec")

	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			xrd, err := Generate(tc.crd, PerformerOptions())
			if tc.want.err {
				if err == nil {
					t.Errorf("%s\nGenerate(...): want error, got nil", tc.reason)
				}
				return
			}
			if err != nil {
				t.Fatalf("%s\nGenerate(...): %v", tc.reason, err)
			}
			got := map[string]any{}
			if err := json.Unmarshal(xrd.Spec.Versions[0].Schema.OpenAPIV3Schema.Raw, &got); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want.schema, got); diff != "" {
				t.Errorf("%s\nGenerate(...) schema: -want, +got:\n%s", tc.reason, diff)
			}
			if n := len(xrd.Spec.Versions[0].AdditionalPrinterColumns); n != tc.want.columns {
				t.Errorf("%s\nGenerate(...): want %d printer columns, got %d", tc.reason, tc.want.columns, n)
			}
			if xrd.Spec.ClaimNames == nil || xrd.Spec.ClaimNames.Kind != tc.want.claim {
				t.Errorf("%s\nGenerate(...): want claim kind %q, got %+v", tc.reason, tc.want.claim, xrd.Spec.ClaimNames)
			}
			if sel := xrd.Spec.DefaultCompositionRevisionSelector; sel == nil || sel.MatchLabels["hourglass.eigenlayer.io/channel"] != "stable" {
				t.Errorf("%s\nGenerate(...): claims that choose no revision must follow the stable channel, got %+v", tc.reason, sel)
			}
			if !xrd.Spec.Versions[0].Served || !xrd.Spec.Versions[0].Referenceable {
				t.Errorf("%s\nGenerate(...): the only version must be served and referenceable", tc.reason)
			}
		})
	}
}
