// Package v1alpha1 holds the Performer API of group hourglass.eigenlayer.io:
// the namespaced Performer claim and the cluster-scoped XPerformer composite.
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

	PerformerKind      = "Performer"
	PerformerListKind  = "PerformerList"
	XPerformerKind     = "XPerformer"
	XPerformerListKind = "XPerformerList"
)

var (
	// SchemeGroupVersion is the group and version of this API.
	SchemeGroupVersion = schema.GroupVersion{Group: Group, Version: Version}

	// SchemeBuilder registers the Go types of this API with a scheme.
	SchemeBuilder = &scheme.Builder{GroupVersion: SchemeGroupVersion}

	// AddToScheme adds the Go types of this API to a scheme.
	AddToScheme = SchemeBuilder.AddToScheme

	// PerformerGroupVersionKind is the GVK of the namespaced claim.
	PerformerGroupVersionKind = SchemeGroupVersion.WithKind(PerformerKind)

	// XPerformerGroupVersionKind is the GVK of the cluster-scoped composite.
	XPerformerGroupVersionKind = SchemeGroupVersion.WithKind(XPerformerKind)
)

func init() {
	SchemeBuilder.Register(&Performer{}, &PerformerList{}, &XPerformer{}, &XPerformerList{})
}
