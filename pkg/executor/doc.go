// Package executor is the client an Hourglass executor uses to run its
// performers on Kubernetes through Performer claims, and to talk to them
// over gRPC.
//
// KubernetesPerformerManager creates, upgrades, stops and lists the
// executor's Performer claims in its namespace. Each claim's name is derived
// from the executor's name and the AVS address, and the claim carries
// labels (and optionally an owner reference) tying it to the executor, so an
// executor that restarts finds its performers again with ListPerformers.
//
// KubernetesAVSPerformer is the gRPC client of one performer
// (PerformerService of github.com/Layr-Labs/protocol-apis): connections
// shared per endpoint in a Pool, keepalive, retries with backoff on
// UNAVAILABLE, grpc.health.v1 checks, and a switch-over to a fresh
// connection after a blue-green upgrade while calls in flight finish on the
// old one.
//
// The endpoint of a performer is always read from the claim's
// status.grpcEndpoint or its connection Secret, never assembled from a name
// pattern: the platform may shorten Service names, and only the status says
// what was really composed.
package executor
