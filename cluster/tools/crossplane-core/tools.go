//go:build tools

// Package tools pins Crossplane core, which `crossplane composition render`
// runs as its render engine (--crossplane-binary), so that `go build` of it
// uses the versions recorded in this module's go.sum and nothing else.
package tools

import _ "github.com/crossplane/crossplane/v2/cmd/crossplane"
