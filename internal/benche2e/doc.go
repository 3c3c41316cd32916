// Package benche2e is the pure logic of the live benchmark (cmd/benche2e,
// make bench-e2e): percentiles of measured latencies, Prometheus counters
// scraped before and after a phase and their difference, process CPU and
// memory read from /proc, and the markdown tables and plot of the results.
// Everything that talks to a cluster lives in cmd/benche2e; what is here is
// table-tested without one.
package benche2e
