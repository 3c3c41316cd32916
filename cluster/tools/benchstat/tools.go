//go:build tools

// Package tools pins benchstat, which compares `make bench` results between
// commits (`make benchstat OLD=...`).
package tools

import _ "golang.org/x/perf/cmd/benchstat"
