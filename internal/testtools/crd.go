package testtools

import (
	"os"

	extv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"sigs.k8s.io/yaml"

	"github.com/crossplane/crossplane-runtime/v2/pkg/errors"
	"github.com/crossplane/crossplane-runtime/v2/pkg/xcrd"
	xpv1 "github.com/crossplane/crossplane/apis/v2/apiextensions/v1"
)

// ClaimCRD is the claim CRD Crossplane makes of the definition in the file
// xrdPath, for API servers without Crossplane (envtest).
func ClaimCRD(xrdPath string) (*extv1.CustomResourceDefinition, error) {
	b, err := os.ReadFile(xrdPath) //nolint:gosec // The definition of this repository.
	if err != nil {
		return nil, errors.Wrap(err, "cannot read the definition")
	}
	xrd := &xpv1.CompositeResourceDefinition{}
	if err := yaml.UnmarshalStrict(b, xrd); err != nil {
		return nil, errors.Wrap(err, "cannot parse the definition")
	}
	crd, err := xcrd.ForCompositeResourceClaim(xrd)
	if err != nil {
		return nil, errors.Wrap(err, "cannot make the claim CRD")
	}
	// Crossplane makes the XRD the CRD's owner; no XRD exists here.
	crd.OwnerReferences = nil
	return crd, nil
}
