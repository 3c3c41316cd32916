// Package v1alpha1 holds the Performer API of group hourglass.eigenlayer.io:
// the Performer, a Crossplane v2 namespaced composite.
// These Go types are the single source of truth: the
// CompositeResourceDefinition under package/ is generated from them.
//
// +kubebuilder:object:generate=true
// +groupName=hourglass.eigenlayer.io
// +versionName=v1alpha1
package v1alpha1

import (
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/scheme"
)

// Group, version and kinds of the Performer API.
const (
	Group   = "hourglass.eigenlayer.io"
	Version = "v1alpha1"

	PerformerKind     = "Performer"
	PerformerListKind = "PerformerList"
)

var (
	// SchemeGroupVersion is the group and version of this API.
	SchemeGroupVersion = schema.GroupVersion{Group: Group, Version: Version}

	// SchemeBuilder registers the Go types of this API with a scheme.
	SchemeBuilder = &scheme.Builder{GroupVersion: SchemeGroupVersion}

	// AddToScheme adds the Go types of this API to a scheme.
	AddToScheme = SchemeBuilder.AddToScheme

	// PerformerGroupVersionKind is the GVK of the Performer.
	PerformerGroupVersionKind = SchemeGroupVersion.WithKind(PerformerKind)
)

func init() {
	SchemeBuilder.Register(&Performer{}, &PerformerList{})
}
