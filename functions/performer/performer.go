package main

import (
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/crossplane/crossplane-runtime/v2/pkg/errors"
	"github.com/crossplane/function-sdk-go/resource/composite"

	"github.com/hourglass-xp/crossplane-hourglass/apis/hourglass/v1alpha1"
)

const (
	errParseXR = "cannot parse the observed XPerformer"

	// DefaultGRPCPort is the Performer API's default gRPC port. The CRD
	// defaults it too; the function applies it again so a composite made
	// without the CRD (a render, a test) means the same.
	DefaultGRPCPort = 9090
)

// Performer is what the mapping reads: the claim's identity, its spec and
// the status the function wrote last time.
type Performer struct {
	// Name is the claim's name, which names the Service.
	Name string
	// Namespace is the claim's namespace, where everything is composed.
	Namespace string
	// Deleting is true once the composite is being deleted.
	Deleting bool

	Spec   v1alpha1.PerformerSpec
	Status v1alpha1.PerformerStatus
}

// FromComposite reads a Performer from the observed XPerformer. A composite
// that is not bound to a claim has no namespace to compose into.
func FromComposite(xr *composite.Unstructured) (*Performer, error) {
	x := &v1alpha1.XPerformer{}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(xr.Object, x); err != nil {
		return nil, errors.Wrap(err, errParseXR)
	}
	ref := x.Spec.ClaimRef
	if ref == nil || ref.Namespace == "" || ref.Name == "" {
		return nil, field.Required(field.NewPath("spec", "claimRef"),
			"an XPerformer is composed into its claim's namespace: create a Performer claim rather than an XPerformer")
	}
	p := &Performer{
		Name:      ref.Name,
		Namespace: ref.Namespace,
		Deleting:  x.DeletionTimestamp != nil,
		Spec:      x.Spec.PerformerSpec,
		Status:    x.Status,
	}
	if p.Spec.Config.GRPCPort == 0 {
		p.Spec.Config.GRPCPort = DefaultGRPCPort
	}
	return p, nil
}

// Validate catches what admission cannot, or what a composite made without
// the CRD's validation could carry. Errors name the field.
func (p *Performer) Validate() error {
	spec := field.NewPath("spec")
	if p.Spec.Image == "" {
		return field.Required(spec.Child("image"), "the performer's container image")
	}
	if port := p.Spec.Config.GRPCPort; port < 1 || port > 65535 {
		return field.Invalid(spec.Child("config", "grpcPort"), port, "must be between 1 and 65535")
	}
	return nil
}
