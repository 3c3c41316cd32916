package xrdgen

import (
	"encoding/json"
	"testing"

	xpextv2 "github.com/crossplane/crossplane/apis/v2/apiextensions/v2"
	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	extv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

var column = extv1.CustomResourceColumnDefinition{Name: "SIZE", Type: "integer", JSONPath: ".spec.size"}

func crdWith(scope extv1.ResourceScope, spec, status extv1.JSONSchemaProps) *extv1.CustomResourceDefinition {
	return &extv1.CustomResourceDefinition{
		ObjectMeta: metav1.ObjectMeta{Name: "things.example.org"},
		Spec: extv1.CustomResourceDefinitionSpec{
			Group: "example.org",
			Scope: scope,
			Names: extv1.CustomResourceDefinitionNames{Kind: "Thing", ListKind: "ThingList", Plural: "things", Singular: "thing", Categories: []string{"example"}},
			Versions: []extv1.CustomResourceDefinitionVersion{{
				Name: "v1",
				Schema: &extv1.CustomResourceValidation{OpenAPIV3Schema: &extv1.JSONSchemaProps{
					Type:        "object",
					Description: "A thing.",
					Properties: map[string]extv1.JSONSchemaProps{
						"apiVersion": {Type: "string"},
						"metadata":   {Type: "object"},
						"spec":       spec,
						"status":     status,
					},
				}},
				AdditionalPrinterColumns: []extv1.CustomResourceColumnDefinition{column},
			}},
		},
	}
}

// specWithCrossplane and statusWithCrossplane hold our fields and those
// Crossplane injects into every modern (v2) composite.
var (
	specWithCrossplane = extv1.JSONSchemaProps{Type: "object", Required: []string{"size", "crossplane"}, Properties: map[string]extv1.JSONSchemaProps{
		"size":       {Type: "integer"},
		"crossplane": {Type: "object", Properties: map[string]extv1.JSONSchemaProps{"compositionRef": {Type: "object"}}},
	}}
	statusWithCrossplane = extv1.JSONSchemaProps{Type: "object", Properties: map[string]extv1.JSONSchemaProps{
		"ready":      {Type: "boolean"},
		"conditions": {Type: "array"},
	}}
	// ours is the schema left once Crossplane's fields are gone.
	ours = map[string]any{
		"type":        "object",
		"description": "A thing.",
		"required":    []any{"spec"},
		"properties": map[string]any{
			"spec": map[string]any{"type": "object", "required": []any{"size"}, "properties": map[string]any{
				"size": map[string]any{"type": "integer"},
			}},
			"status": map[string]any{"type": "object", "properties": map[string]any{
				"ready": map[string]any{"type": "boolean"},
			}},
		},
	}
)

// definition is the definition of things.example.org of scope with the
// Performer API's options.
func definition(scope xpextv2.CompositeResourceScope) *xpextv2.CompositeResourceDefinition {
	return &xpextv2.CompositeResourceDefinition{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apiextensions.crossplane.io/v2", Kind: "CompositeResourceDefinition"},
		ObjectMeta: metav1.ObjectMeta{Name: "things.example.org"},
		Spec: xpextv2.CompositeResourceDefinitionSpec{
			Scope:                              scope,
			Group:                              "example.org",
			Names:                              extv1.CustomResourceDefinitionNames{Kind: "Thing", ListKind: "ThingList", Plural: "things", Singular: "thing", Categories: []string{"example"}},
			DefaultCompositionRef:              &xpextv2.CompositionReference{Name: "performers.hourglass.eigenlayer.io"},
			DefaultCompositionUpdatePolicy:     ptr.To(xpv2.UpdateAutomatic),
			DefaultCompositionRevisionSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"hourglass.eigenlayer.io/channel": "stable"}},
			Versions: []xpextv2.CompositeResourceDefinitionVersion{{
				Name:                     "v1",
				Served:                   true,
				Referenceable:            true,
				AdditionalPrinterColumns: []extv1.CustomResourceColumnDefinition{column},
			}},
		},
	}
}

func TestGenerate(t *testing.T) {
	type args struct {
		crd *extv1.CustomResourceDefinition
		o   Options
	}
	type want struct {
		// xrd is the definition without its schema, compared apart.
		xrd    *xpextv2.CompositeResourceDefinition
		schema map[string]any
		err    bool
	}
	noSpec := crdWith(extv1.NamespaceScoped, extv1.JSONSchemaProps{}, extv1.JSONSchemaProps{})
	delete(noSpec.Spec.Versions[0].Schema.OpenAPIV3Schema.Properties, "spec")
	bare := definition(xpextv2.CompositeResourceScopeNamespaced)
	bare.Spec.DefaultCompositionRef, bare.Spec.DefaultCompositionUpdatePolicy, bare.Spec.DefaultCompositionRevisionSelector = nil, nil, nil

	cases := map[string]struct {
		reason string
		args   args
		want   want
	}{
		"Namespaced": {
			reason: "A Namespaced CRD makes a namespaced v2 composite: no claim, and spec.crossplane and status.conditions, which Crossplane injects, left to Crossplane with the required list to match.",
			args:   args{crd: crdWith(extv1.NamespaceScoped, specWithCrossplane, statusWithCrossplane), o: PerformerOptions()},
			want:   want{xrd: definition(xpextv2.CompositeResourceScopeNamespaced), schema: ours},
		},
		"Cluster": {
			reason: "A cluster-scoped CRD makes a cluster-scoped v2 composite, whose Crossplane fields are the same.",
			args:   args{crd: crdWith(extv1.ClusterScoped, specWithCrossplane, statusWithCrossplane), o: PerformerOptions()},
			want:   want{xrd: definition(xpextv2.CompositeResourceScopeCluster), schema: ours},
		},
		"NoOptions": {
			reason: "Without options the definition names no default Composition, update policy or channel.",
			args:   args{crd: crdWith(extv1.NamespaceScoped, specWithCrossplane, statusWithCrossplane)},
			want:   want{xrd: bare, schema: ours},
		},
		"NoSchema": {
			reason: "A CRD without a schema cannot make a definition.",
			args:   args{crd: &extv1.CustomResourceDefinition{Spec: extv1.CustomResourceDefinitionSpec{Versions: []extv1.CustomResourceDefinitionVersion{{Name: "v1"}}}}},
			want:   want{err: true},
		},
		"NoSpec": {
			reason: "A composite without spec is not a composite.",
			args:   args{crd: noSpec},
			want:   want{err: true},
		},
	}

	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			xrd, err := Generate(tc.args.crd, tc.args.o)
			if tc.want.err {
				if err == nil {
					t.Errorf("%s\nGenerate(...): want error, got nil", tc.reason)
				}
				return
			}
			if err != nil {
				t.Fatalf("%s\nGenerate(...): %v", tc.reason, err)
			}
			if diff := cmp.Diff(tc.want.xrd, xrd, cmpopts.IgnoreFields(xpextv2.CompositeResourceDefinitionVersion{}, "Schema")); diff != "" {
				t.Errorf("%s\nGenerate(...): -want, +got:\n%s", tc.reason, diff)
			}
			got := map[string]any{}
			if err := json.Unmarshal(xrd.Spec.Versions[0].Schema.OpenAPIV3Schema.Raw, &got); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want.schema, got); diff != "" {
				t.Errorf("%s\nGenerate(...) schema: -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}
