// Package provider is the thin Hourglass provider's controller: a
// crossplane-runtime managed reconciler for PerformerEndpoint that observes
// (never changes) a performer's pods, Service and EndpointSlices, checks the
// serving pods with grpc.health.v1, and publishes the Service's endpoint as
// connection details.
//
// The decisions are pure functions over the observed objects (assess.go,
// with pods diagnosed by internal/podstatus as the composition function
// diagnoses them) so every mapping is table-tested; the reconciler (connector.go)
// only reads the objects, runs the health checks and hands the results on.
package provider
