// Package executor is the client an Hourglass executor uses to run its
// performers on Kubernetes through Performers, and to talk to them over
// gRPC. A Performer (hourglass.eigenlayer.io/v1alpha1) is a namespaced
// Crossplane composite: the executor writes it in its own namespace, and the
// platform composes the performer's Deployments, Service and connection
// Secret beside it.
//
// KubernetesPerformerManager creates, upgrades, stops and lists the
// executor's Performers in its namespace. Each Performer's name is derived
// from the executor's name and the AVS address, and it carries labels (and
// optionally an owner reference) tying it to the executor, so an executor
// that restarts finds its performers again with ListPerformers. Changes are
// written as merge patches, so the fields Crossplane keeps under
// spec.crossplane are never lost; a performer is started once status.ready
// and its Ready condition are both true.
//
// KubernetesAVSPerformer is the gRPC client of one performer
// (PerformerService of github.com/Layr-Labs/protocol-apis): connections
// shared per endpoint in a Pool, keepalive, retries with backoff on
// UNAVAILABLE, grpc.health.v1 checks, and a switch-over to a fresh
// connection after a blue-green upgrade while calls in flight finish on the
// old one.
//
// The endpoint of a performer is always read from the Performer's
// status.grpcEndpoint or its connection Secret (ConnectionSecretName), never
// assembled from a name pattern: the platform may shorten Service names, and
// only what it composed says which name it chose.
package executor
