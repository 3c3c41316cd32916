// Package xrdgen turns the CustomResourceDefinition that controller-gen makes
// from the XPerformer Go type into the CompositeResourceDefinition Crossplane
// installs, so the Go types stay the single source of truth for the schema.
package xrdgen

import (
	"encoding/json"
	"slices"

	"github.com/crossplane/crossplane-runtime/v2/pkg/errors"
	"github.com/crossplane/crossplane-runtime/v2/pkg/xcrd"
	xpv1 "github.com/crossplane/crossplane/apis/v2/apiextensions/v1"
	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"
	extv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"
)

const (
	errOneVersion = "the composite CRD must have exactly one version with a schema"
	errNoSpec     = "the composite CRD schema has no spec"
	errMarshal    = "cannot marshal the definition schema"
)

// Options are the parts of a definition the Go types cannot express.
type Options struct {
	// ClaimNames are the names of the namespaced claim.
	ClaimNames extv1.CustomResourceDefinitionNames

	// ConnectionSecretKeys are the keys composed connection details may
	// publish to the claim's connection Secret.
	ConnectionSecretKeys []string

	// DefaultCompositionName is the Composition claims use unless they
	// select another.
	DefaultCompositionName string

	// DefaultRevisionLabels select the CompositionRevisions a claim follows
	// unless it pins or selects its own: a release channel.
	DefaultRevisionLabels map[string]string
}

// Generate makes the definition from crd, the controller-gen output for the
// composite type. Fields that Crossplane adds to every composite and claim
// schema itself are removed, so the definition holds only the performer's own
// fields and Crossplane stays the owner of its machinery.
func Generate(crd *extv1.CustomResourceDefinition, o Options) (*xpv1.CompositeResourceDefinition, error) {
	if len(crd.Spec.Versions) != 1 || crd.Spec.Versions[0].Schema == nil || crd.Spec.Versions[0].Schema.OpenAPIV3Schema == nil {
		return nil, errors.New(errOneVersion)
	}
	v := crd.Spec.Versions[0]
	in := v.Schema.OpenAPIV3Schema
	spec, ok := in.Properties["spec"]
	if !ok {
		return nil, errors.New(errNoSpec)
	}

	owned := crossplaneOwned()
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

	xrd := &xpv1.CompositeResourceDefinition{
		TypeMeta: metav1.TypeMeta{
			APIVersion: xpv1.SchemeGroupVersion.String(),
			Kind:       xpv1.CompositeResourceDefinitionKind,
		},
		ObjectMeta: metav1.ObjectMeta{Name: crd.Name},
		Spec: xpv1.CompositeResourceDefinitionSpec{
			Group: crd.Spec.Group,
			Names: extv1.CustomResourceDefinitionNames{
				Kind:       crd.Spec.Names.Kind,
				ListKind:   crd.Spec.Names.ListKind,
				Plural:     crd.Spec.Names.Plural,
				Singular:   crd.Spec.Names.Singular,
				Categories: crd.Spec.Names.Categories,
			},
			ClaimNames:           o.ClaimNames.DeepCopy(),
			ConnectionSecretKeys: o.ConnectionSecretKeys,
			Versions: []xpv1.CompositeResourceDefinitionVersion{{
				Name:                     v.Name,
				Served:                   true,
				Referenceable:            true,
				Schema:                   &xpv1.CompositeResourceValidation{OpenAPIV3Schema: runtime.RawExtension{Raw: raw}},
				AdditionalPrinterColumns: v.AdditionalPrinterColumns,
			}},
		},
	}
	if o.DefaultCompositionName != "" {
		xrd.Spec.DefaultCompositionRef = &xpv1.CompositionReference{Name: o.DefaultCompositionName}
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
// legacy composite and claim CRDs, read from Crossplane's own code so a new
// Crossplane field is never shadowed by ours.
func crossplaneOwned() ownedFields {
	var o ownedFields
	for k := range xcrd.CompositeResourceSpecProps(xpv1.CompositeResourceScopeLegacyCluster, nil) {
		o.spec = append(o.spec, k)
	}
	for k := range xcrd.CompositeResourceClaimSpecProps(nil) {
		o.spec = append(o.spec, k)
	}
	for k := range xcrd.CompositeResourceStatusProps(xpv1.CompositeResourceScopeLegacyCluster) {
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
// claim is Performer, connection details carry the gRPC endpoint, the
// Composition shipped in compositions/ is the default, and claims follow its
// stable channel unless they choose otherwise.
func PerformerOptions() Options {
	return Options{
		ClaimNames: extv1.CustomResourceDefinitionNames{
			Kind:       "Performer",
			ListKind:   "PerformerList",
			Plural:     "performers",
			Singular:   "performer",
			Categories: []string{"hourglass"},
		},
		ConnectionSecretKeys:   []string{"endpoint", "host", "port"},
		DefaultCompositionName: "xperformers.hourglass.eigenlayer.io",
		// A platform publishes a Composition change on the canary channel
		// first; claims that chose nothing stay on stable until it is
		// promoted.
		DefaultRevisionLabels: map[string]string{"hourglass.eigenlayer.io/channel": "stable"},
	}
}
