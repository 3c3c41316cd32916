//go:build tools

// Package tools pins the Crossplane CLI so that `go build` of it uses the
// versions recorded in this module's go.sum and nothing else.
package tools

import _ "github.com/crossplane/cli/v2/cmd/crossplane"
