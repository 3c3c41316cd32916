package v1beta1

import (
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/scheme"
)

// Group, version and kind of the function input, as a Composition's
// pipeline step names them.
const (
	Group   = "performer.fn.hourglass.eigenlayer.io"
	Version = "v1beta1"
	Kind    = "Input"
)

var (
	// SchemeGroupVersion is the group and version of the input.
	SchemeGroupVersion = schema.GroupVersion{Group: Group, Version: Version}

	// SchemeBuilder registers the input type with a scheme.
	SchemeBuilder = &scheme.Builder{GroupVersion: SchemeGroupVersion}
)

func init() {
	SchemeBuilder.Register(&Input{})
}
