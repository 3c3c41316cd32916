package main

import (
	"context"
	"fmt"

	kerrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/crossplane/crossplane-runtime/v2/pkg/errors"
)

const (
	errCapacity = "cannot add capacity for the benchmark"

	// The stack's fleet is sized for its examples and tests: three
	// untainted CPU nodes of 110 pods, and kwokctl's /24 Service range
	// (about 250 Services). The benchmark adds what a size needs beyond
	// that: kwok nodes for the pods, and a ServiceCIDR for the Services.
	benchServiceCIDR = "10.96.0.0/20"
	podsPerNode      = 250
	// Pod CIDRs of the added nodes: 10.77.100.0/24 on, inside the
	// 10.77.0.0/16 the stack puts on its loopback, so the pod server can
	// bind a performer to every pod IP as on the stack's own nodes.
	firstBenchNodeNet = 100
)

var (
	nodes        = schema.GroupVersionResource{Version: "v1", Resource: "nodes"}
	serviceCIDRs = schema.GroupVersionResource{Group: "networking.k8s.io", Version: "v1", Resource: "servicecidrs"}
)

// ensureCapacity makes room for n performers, each with one pod (two
// during an upgrade) and one Service: a Service range of 4096 addresses
// and enough kwok CPU nodes for twice n pods beyond the stack's own.
func (k *kube) ensureCapacity(ctx context.Context, n int) error {
	cidr := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "networking.k8s.io/v1",
		"kind":       "ServiceCIDR",
		"metadata":   map[string]any{"name": "benche2e"},
		"spec":       map[string]any{"cidrs": []any{benchServiceCIDR}},
	}}
	if _, err := k.dyn.Resource(serviceCIDRs).Create(ctx, cidr, metav1.CreateOptions{}); err != nil && !kerrors.IsAlreadyExists(err) {
		return errors.Wrap(err, errCapacity)
	}
	for i := range (2*n + podsPerNode - 1) / podsPerNode {
		if _, err := k.dyn.Resource(nodes).Create(ctx, benchNode(i), metav1.CreateOptions{}); err != nil && !kerrors.IsAlreadyExists(err) {
			return errors.Wrap(err, errCapacity)
		}
	}
	return nil
}

// benchNode is a plain amd64 kwok node like the stack's kwok-cpu-2, with
// room for podsPerNode pods.
func benchNode(i int) *unstructured.Unstructured {
	name := fmt.Sprintf("bench-cpu-%d", i)
	cidr := fmt.Sprintf("10.77.%d.0/24", firstBenchNodeNet+i)
	res := map[string]any{"cpu": "256", "memory": "1Ti", "pods": fmt.Sprint(podsPerNode), "ephemeral-storage": "1Ti"}
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1",
		"kind":       "Node",
		"metadata": map[string]any{
			"name": name,
			"labels": map[string]any{
				"type": "kwok", "kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
			},
			"annotations": map[string]any{"kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0"},
		},
		"spec": map[string]any{"podCIDR": cidr, "podCIDRs": []any{cidr}},
		"status": map[string]any{
			"allocatable": res,
			"capacity":    res,
			"addresses":   []any{map[string]any{"type": "InternalIP", "address": fmt.Sprintf("10.77.0.%d", 100+i)}, map[string]any{"type": "Hostname", "address": name}},
			"nodeInfo":    map[string]any{"architecture": "amd64", "operatingSystem": "linux"},
		},
	}}
}
