//go:build tools

// Package tools pins Helm, which renders the RBAC of Crossplane's official
// chart (shipped in the core module) for the local stack: core and its RBAC
// manager run with exactly the identities a Helm install gives them.
package tools

import _ "helm.sh/helm/v3/cmd/helm"
