package testtools

import (
	"os"

	extv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/yaml"

	"github.com/crossplane/crossplane-runtime/v2/pkg/errors"
	"github.com/crossplane/crossplane-runtime/v2/pkg/xcrd"
	xpv1 "github.com/crossplane/crossplane/apis/v2/apiextensions/v1"
	xpv2 "github.com/crossplane/crossplane/apis/v2/apiextensions/v2"
)

// PerformerXRD is the path of the Performer definition below the
// repository root.
const PerformerXRD = "package/xrd/performers.hourglass.eigenlayer.io.yaml"

// PerformerCRD is the CRD Crossplane makes of the namespaced v2 definition in
// the file xrdPath, for API servers without Crossplane (envtest). It fails
// unless the definition is apiextensions.crossplane.io/v2, Namespaced and
// without claim names: tests must not pass against another kind of API.
func PerformerCRD(xrdPath string) (*extv1.CustomResourceDefinition, error) {
	b, err := os.ReadFile(xrdPath) //nolint:gosec // The definition of this repository.
	if err != nil {
		return nil, errors.Wrap(err, "cannot read the definition")
	}
	// xcrd derives CRDs from the v1 type, which has every field of v2, the
	// scope included.
	xrd := &xpv1.CompositeResourceDefinition{}
	if err := yaml.UnmarshalStrict(b, xrd); err != nil {
		return nil, errors.Wrap(err, "cannot parse the definition")
	}
	if v := xpv2.SchemeGroupVersion.String(); xrd.APIVersion != v || ptr.Deref(xrd.Spec.Scope, "") != xpv1.CompositeResourceScopeNamespaced || xrd.Spec.ClaimNames != nil {
		return nil, errors.Errorf("%s: want a namespaced %s definition without claim names, got %s scope %v claim names %v",
			xrdPath, v, xrd.APIVersion, ptr.Deref(xrd.Spec.Scope, ""), xrd.Spec.ClaimNames)
	}
	crd, err := xcrd.ForCompositeResource(xrd)
	if err != nil {
		return nil, errors.Wrap(err, "cannot make the composite CRD")
	}
	// Crossplane makes the definition the CRD's owner; none exists here.
	crd.OwnerReferences = nil
	return crd, nil
}
