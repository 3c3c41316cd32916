//go:build tools

// Package tools pins crossplane-tools' angryjet, which generates the
// crossplane-runtime method sets (resource.Managed and friends) of the
// provider's managed resource types.
package tools

import _ "github.com/crossplane/crossplane-tools/cmd/angryjet"
