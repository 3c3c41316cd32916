//go:build tools

// Package tools pins Crossplane core v2.2.0, an older minor the compact live
// check (test/e2e, make e2e-matrix) runs the packages on, so that `go build`
// of it uses the versions recorded in this module's go.sum and nothing else.
package tools

import _ "github.com/crossplane/crossplane/v2/cmd/crossplane"
