//go:build tools

// Package tools pins go-containerregistry's in-memory registry and crane.
package tools

import (
	_ "github.com/google/go-containerregistry/cmd/crane"
	_ "github.com/google/go-containerregistry/cmd/registry"
)
