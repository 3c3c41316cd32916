// Package endpoint is the composition function's side of the thin
// provider: it builds the PerformerEndpoint the function composes beside a
// performer's Deployment and Service, and maps the provider's observation
// back to the Performer's status and conditions. Pure functions over
// unstructured objects, so the function needs no provider code at run time.
package endpoint

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/crossplane/crossplane-runtime/v2/pkg/errors"
	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"

	"github.com/hourglass-xp/crossplane-hourglass/apis/observe/v1alpha1"
	"github.com/hourglass-xp/crossplane-hourglass/internal/names"
)

const (
	errToUnstructured   = "cannot convert PerformerEndpoint to unstructured"
	errFromUnstructured = "cannot convert observed PerformerEndpoint"
)

// ResourceName is the composed resource name the function gives the
// performer's PerformerEndpoint in its desired state.
const ResourceName = "performer-endpoint"

// RevisionResourceName is the composed resource name of a revision's own
// PerformerEndpoint (Params.Revision).
func RevisionResourceName(revision string) string {
	return ResourceName + "-" + revision
}

// SecretSuffix ends the name of the connection Secret the provider writes
// in the performer's namespace: {service}-endpoint, e.g.
// performer-example-endpoint, with keys endpoint, host and port.
const SecretSuffix = "-endpoint"

// Params are what the function knows about the performer.
type Params struct {
	// Performer is the claim's name; Namespace its namespace, where the
	// PerformerEndpoint, the observed objects and the Secret live.
	Performer string
	Namespace string
	// GRPCPort is the performer's gRPC port.
	GRPCPort int32
	// Selector selects the pods to observe; nil selects every revision of
	// the performer (names.Identity), or Revision's pods.
	Selector map[string]string
	// Revision, when set, makes a revision's own PerformerEndpoint: named
	// after the revision's Deployment, observing only its pods
	// (names.Selector) and no Service, publishing no Secret. Its
	// Observation.Healthy says whether a revision the Service does not
	// select yet answers gRPC: the blue-green switch's gate.
	Revision string
	// HealthCheck turns the gRPC health check on (nil: on).
	HealthCheck *bool
	// TimeoutSeconds bounds each health check (nil: the provider's default).
	TimeoutSeconds *int32
	// Labels go on the PerformerEndpoint (e.g. names.Labels(...)).
	Labels map[string]string
}

// SecretName is the connection Secret of a performer's endpoint.
func SecretName(performer string) string {
	return names.Service(performer) + SecretSuffix
}

// Desired is the PerformerEndpoint to compose for a performer: it observes
// the performer's Service (performer-{name}) and pods, and writes the
// endpoint to Secret {service}-endpoint in the performer's namespace.
func Desired(p Params) (*unstructured.Unstructured, error) {
	sel := p.Selector
	if sel == nil {
		sel = names.Identity(p.Performer)
		if p.Revision != "" {
			sel = names.Selector(p.Performer, p.Revision)
		}
	}
	svc := names.Service(p.Performer)
	pe := &v1alpha1.PerformerEndpoint{
		TypeMeta: metav1.TypeMeta{APIVersion: v1alpha1.SchemeGroupVersion.String(), Kind: v1alpha1.PerformerEndpointKind},
		ObjectMeta: metav1.ObjectMeta{
			Name:      svc,
			Namespace: p.Namespace,
			Labels:    p.Labels,
		},
		Spec: v1alpha1.PerformerEndpointSpec{
			ManagedResourceSpec: xpv2.ManagedResourceSpec{
				WriteConnectionSecretToReference: &xpv2.LocalSecretReference{Name: SecretName(p.Performer)},
			},
			ForProvider: v1alpha1.PerformerEndpointParameters{
				ServiceName: svc,
				Selector:    sel,
				Port:        p.GRPCPort,
			},
		},
	}
	if p.Revision != "" {
		pe.Name = names.Deployment(p.Performer, p.Revision)
		pe.Spec.WriteConnectionSecretToReference = nil
		pe.Spec.ForProvider.ServiceName = ""
	}
	if p.HealthCheck != nil || p.TimeoutSeconds != nil {
		pe.Spec.ForProvider.HealthCheck = &v1alpha1.HealthCheck{Enabled: p.HealthCheck, TimeoutSeconds: p.TimeoutSeconds}
	}
	obj, err := runtime.DefaultUnstructuredConverter.ToUnstructured(pe)
	if err != nil {
		return nil, errors.Wrap(err, errToUnstructured)
	}
	u := &unstructured.Unstructured{Object: obj}
	// Status is the provider's to write; a desired object carries none.
	unstructured.RemoveNestedField(u.Object, "status")
	unstructured.RemoveNestedField(u.Object, "metadata", "creationTimestamp")
	return u, nil
}

// Observation is what the function needs from an observed
// PerformerEndpoint.
type Observation struct {
	// Ready is the provider's verdict: a pod answers gRPC health checks and
	// the Service has a ready endpoint.
	Ready bool
	// ReadySince is when Ready last became true.
	ReadySince *metav1.Time
	// Healthy: a ready pod answers the health check, with or without the
	// Service. For judging a revision the Service does not select yet.
	Healthy bool
	// AtProvider is the provider's full observation.
	AtProvider v1alpha1.PerformerEndpointObservation
}

// Observe reads an observed PerformerEndpoint. A nil object (not created
// yet) or one the provider has not observed yet gives false.
func Observe(u *unstructured.Unstructured) (Observation, bool, error) {
	if u == nil {
		return Observation{}, false, nil
	}
	pe := &v1alpha1.PerformerEndpoint{}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, pe); err != nil {
		return Observation{}, false, errors.Wrap(err, errFromUnstructured)
	}
	if pe.Status.AtProvider.Reason == "" {
		return Observation{}, false, nil
	}
	o := Observation{Healthy: pe.Status.AtProvider.Healthy, AtProvider: pe.Status.AtProvider}
	if c := pe.GetCondition(xpv2.TypeReady); c.Status == corev1.ConditionTrue {
		o.Ready = true
		t := c.LastTransitionTime
		o.ReadySince = &t
	}
	return o, true, nil
}
