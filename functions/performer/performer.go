package main

import (
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/crossplane/crossplane-runtime/v2/pkg/errors"
	"github.com/crossplane/function-sdk-go/resource/composite"

	"github.com/hourglass-xp/crossplane-hourglass/apis/hourglass/v1alpha1"
)

const (
	errParseXR = "cannot parse the observed Performer"

	// DefaultGRPCPort is the Performer API's default gRPC port. The CRD
	// defaults it too; the function applies it again so a composite made
	// without the CRD (a render, a test) means the same.
	DefaultGRPCPort = 9090
)

// Performer is what the mapping reads: the Performer's identity, its spec
// and the status the function wrote last time.
type Performer struct {
	// Name is the Performer's name, which names the Service.
	Name string
	// Namespace is the Performer's namespace, where everything is composed.
	Namespace string
	// UID identifies the Performer: composed objects it controls carry it
	// in their controller reference.
	UID string
	// Deleting is true once the composite is being deleted.
	Deleting bool

	Spec   v1alpha1.PerformerSpec
	Status v1alpha1.PerformerStatus
}

// FromComposite reads a Performer from the observed composite. Everything
// is composed in its namespace, so a composite without one (made by a
// cluster-scoped definition, or a render without metadata.namespace) is
// refused.
func FromComposite(xr *composite.Unstructured) (*Performer, error) {
	x := &v1alpha1.Performer{}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(xr.Object, x); err != nil {
		return nil, errors.Wrap(err, errParseXR)
	}
	if x.Namespace == "" {
		return nil, field.Required(field.NewPath("metadata", "namespace"),
			"a Performer is composed into its own namespace")
	}
	p := &Performer{
		Name:      x.Name,
		Namespace: x.Namespace,
		UID:       string(x.UID),
		Deleting:  x.DeletionTimestamp != nil,
		Spec:      x.Spec,
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
	return EnvDuplicate(&p.Spec.Config)
}
