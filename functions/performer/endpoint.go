package main

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"
	"github.com/crossplane/function-sdk-go/resource"

	observev1alpha1 "github.com/hourglass-xp/crossplane-hourglass/apis/observe/v1alpha1"
	"github.com/hourglass-xp/crossplane-hourglass/internal/names"
)

// resourceEndpointPfx names the PerformerEndpoint of a revision in the
// pipeline, like resourceDeploymentPfx its Deployment.
const resourceEndpointPfx = "endpoint-"

// ResourceEndpoint is the composed resource name of a revision's
// PerformerEndpoint.
func ResourceEndpoint(revision string) resource.Name {
	return resource.Name(resourceEndpointPfx + revision)
}

// Endpoint builds the PerformerEndpoint through which the provider observes
// one revision: its pods, their gRPC health and, for the serving revision
// only, the Service. A revision not behind the Service is judged by its
// pods alone, which is what an upgrade waits for before switching.
func Endpoint(p *Performer, pl *Platform, r *Revision, serving bool) *observev1alpha1.PerformerEndpoint {
	e := &observev1alpha1.PerformerEndpoint{
		TypeMeta: metav1.TypeMeta{APIVersion: observev1alpha1.SchemeGroupVersion.String(), Kind: observev1alpha1.PerformerEndpointKind},
		ObjectMeta: metav1.ObjectMeta{
			Name:      r.Deployment.Name,
			Namespace: p.Namespace,
			Labels:    names.Labels(p.Name, p.Spec.AVSAddress, r.Version, r.ID),
		},
		Spec: observev1alpha1.PerformerEndpointSpec{ForProvider: observev1alpha1.PerformerEndpointParameters{
			Selector: names.Selector(p.Name, r.ID),
			Port:     r.GRPCPort,
			HealthCheck: &observev1alpha1.HealthCheck{
				Enabled:        new(pl.EndpointHealthCheck),
				TimeoutSeconds: new(pl.EndpointHealthCheckTimeoutSeconds),
			},
		}},
	}
	if serving {
		e.Spec.ForProvider.ServiceName = names.Service(p.Name)
	}
	return e
}

// EndpointHealthy reports whether the provider found the revision healthy
// (status.atProvider.healthy): a ready pod that answers gRPC health (or is
// ready, with checks off), whether or not the Service sends it traffic.
func EndpointHealthy(e *observev1alpha1.PerformerEndpoint) bool {
	return e != nil && e.Status.AtProvider.Healthy
}

// EndpointReady reports whether the provider found the serving revision
// healthy and reachable through its Service: its Ready condition.
func EndpointReady(e *observev1alpha1.PerformerEndpoint) bool {
	return e != nil && e.Status.GetCondition(xpv2.TypeReady).Status == corev1.ConditionTrue
}
