// Package xrdgen turns the CustomResourceDefinition that controller-gen makes
// from the Performer Go type into the Crossplane v2 CompositeResourceDefinition
// Crossplane installs, so the Go types stay the single source of truth for the
// schema.
package xrdgen

import (
	"encoding/json"
	"slices"

	"github.com/crossplane/crossplane-runtime/v2/pkg/errors"
	"github.com/crossplane/crossplane-runtime/v2/pkg/xcrd"
	xpv1 "github.com/crossplane/crossplane/apis/v2/apiextensions/v1"
	xpextv2 "github.com/crossplane/crossplane/apis/v2/apiextensions/v2"
	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"
	extv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"
)

// DefaultCompositionName is the name of the Composition shipped in
// compositions/, the definition's default.
const DefaultCompositionName = "performers.hourglass.eigenlayer.io"

const (
	errOneVersion = "the composite CRD must have exactly one version with a schema"
	errNoSpec     = "the composite CRD schema has no spec"
	errMarshal    = "cannot marshal the definition schema"
)

// Options are the parts of a definition the Go types cannot express.
type Options struct {
	// DefaultCompositionName is the Composition composites use unless they
	// select another.
	DefaultCompositionName string

	// DefaultRevisionLabels select the CompositionRevisions a composite
	// follows unless it pins or selects its own: a release channel.
	DefaultRevisionLabels map[string]string
}

// Generate makes the definition from crd, the controller-gen output for the
// composite type. The composite's scope is the CRD's (a Namespaced CRD makes a
// namespaced v2 composite). Fields that Crossplane adds to every composite
// schema itself are removed, so the definition holds only the performer's own
// fields and Crossplane stays the owner of its machinery.
func Generate(crd *extv1.CustomResourceDefinition, o Options) (*xpextv2.CompositeResourceDefinition, error) {
	if len(crd.Spec.Versions) != 1 || crd.Spec.Versions[0].Schema == nil || crd.Spec.Versions[0].Schema.OpenAPIV3Schema == nil {
		return nil, errors.New(errOneVersion)
	}
	v := crd.Spec.Versions[0]
	in := v.Schema.OpenAPIV3Schema
	spec, ok := in.Properties["spec"]
	if !ok {
		return nil, errors.New(errNoSpec)
	}

	scope := xpextv2.CompositeResourceScopeCluster
	if crd.Spec.Scope == extv1.NamespaceScoped {
		scope = xpextv2.CompositeResourceScopeNamespaced
	}
	owned := crossplaneOwned(xpv1.CompositeResourceScope(scope))
	root := extv1.JSONSchemaProps{
		Type:        "object",
		Description: in.Description,
		Required:    []string{"spec"},
		Properties: map[string]extv1.JSONSchemaProps{
			"spec":   without(spec, owned.spec),
			"status": without(in.Properties["status"], owned.status),
		},
	}
	raw, err := json.Marshal(root)
	if err != nil {
		return nil, errors.Wrap(err, errMarshal)
	}

	xrd := &xpextv2.CompositeResourceDefinition{
		TypeMeta: metav1.TypeMeta{
			APIVersion: xpextv2.SchemeGroupVersion.String(),
			Kind:       xpextv2.CompositeResourceDefinitionKind,
		},
		ObjectMeta: metav1.ObjectMeta{Name: crd.Name},
		Spec: xpextv2.CompositeResourceDefinitionSpec{
			Scope: scope,
			Group: crd.Spec.Group,
			Names: extv1.CustomResourceDefinitionNames{
				Kind:       crd.Spec.Names.Kind,
				ListKind:   crd.Spec.Names.ListKind,
				Plural:     crd.Spec.Names.Plural,
				Singular:   crd.Spec.Names.Singular,
				Categories: crd.Spec.Names.Categories,
			},
			Versions: []xpextv2.CompositeResourceDefinitionVersion{{
				Name:                     v.Name,
				Served:                   true,
				Referenceable:            true,
				Schema:                   &xpextv2.CompositeResourceValidation{OpenAPIV3Schema: runtime.RawExtension{Raw: raw}},
				AdditionalPrinterColumns: v.AdditionalPrinterColumns,
			}},
		},
	}
	if o.DefaultCompositionName != "" {
		xrd.Spec.DefaultCompositionRef = &xpextv2.CompositionReference{Name: o.DefaultCompositionName}
		xrd.Spec.DefaultCompositionUpdatePolicy = ptr.To(xpv2.UpdateAutomatic)
	}
	if len(o.DefaultRevisionLabels) > 0 {
		xrd.Spec.DefaultCompositionRevisionSelector = &metav1.LabelSelector{MatchLabels: o.DefaultRevisionLabels}
	}
	return xrd, nil
}

type ownedFields struct {
	spec   []string
	status []string
}

// crossplaneOwned lists the spec and status fields Crossplane injects into
// composite CRDs of the scope, read from Crossplane's own code so a new
// Crossplane field is never shadowed by ours.
func crossplaneOwned(scope xpv1.CompositeResourceScope) ownedFields {
	var o ownedFields
	for k := range xcrd.CompositeResourceSpecProps(scope, nil) {
		o.spec = append(o.spec, k)
	}
	for k := range xcrd.CompositeResourceStatusProps(scope) {
		o.status = append(o.status, k)
	}
	return o
}

func without(s extv1.JSONSchemaProps, drop []string) extv1.JSONSchemaProps {
	out := *s.DeepCopy()
	for _, k := range drop {
		delete(out.Properties, k)
	}
	out.Required = slices.DeleteFunc(out.Required, func(r string) bool { return slices.Contains(drop, r) })
	if len(out.Required) == 0 {
		out.Required = nil
	}
	return out
}

// PerformerOptions are the definition settings of the Performer API: the
// Composition shipped in compositions/ is the default, and performers follow
// its stable channel unless they choose otherwise.
func PerformerOptions() Options {
	return Options{
		DefaultCompositionName: DefaultCompositionName,
		// A platform publishes a Composition change on the canary channel
		// first; performers that chose nothing stay on stable until it is
		// promoted.
		DefaultRevisionLabels: map[string]string{"hourglass.eigenlayer.io/channel": "stable"},
	}
}
