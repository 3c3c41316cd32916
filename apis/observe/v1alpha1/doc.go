// Package v1alpha1 holds the API of the thin Hourglass provider, group
// observe.hourglass.eigenlayer.io: the namespaced PerformerEndpoint managed
// resource, which observes a performer's pods, Service and EndpointSlices,
// health-checks it over gRPC and publishes its endpoint as connection
// details. It never creates or changes what it observes: the composition
// function composes the workloads; this resource only reports on them.
//
// +kubebuilder:object:generate=true
// +groupName=observe.hourglass.eigenlayer.io
// +versionName=v1alpha1
package v1alpha1

import (
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/scheme"
)

// Group and version of the provider's API.
const (
	Group   = "observe.hourglass.eigenlayer.io"
	Version = "v1alpha1"
)

var (
	// SchemeGroupVersion is the group and version of this API.
	SchemeGroupVersion = schema.GroupVersion{Group: Group, Version: Version}

	// SchemeBuilder registers the Go types of this API with a scheme.
	SchemeBuilder = &scheme.Builder{GroupVersion: SchemeGroupVersion}

	// AddToScheme adds the Go types of this API to a scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)
