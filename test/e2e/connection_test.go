//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
)

// TestConnectionSecret checks what an executor may mount instead of reading
// status: the claim's connection Secret carries the documented endpoint,
// host and port, equal to status.grpcEndpoint.
func TestConnectionSecret(t *testing.T) {
	t.Parallel()
	e := setup(t)
	const ns, name, secret = "e2e-connection", "conn", "conn-endpoint"
	e.ensureNamespace(t, ns)
	c := newClaim(ns, name, map[string]any{
		"avsAddress": "0x00000000000000000000000000000000000000cc",
		"image":      "example.com/e2e/performer:v1.0.0",
		"config":     map[string]any{"grpcPort": int64(8080)},
	})
	c.obj.Object["spec"].(map[string]any)["writeConnectionSecretToRef"] = map[string]any{"name": secret}
	e.apply(t, c)
	u := e.readyAndStable(t, ns, name)
	t.Cleanup(func() { e.deleteClaim(t, ns, name) })

	endpoint, _, _ := unstructured.NestedString(u.Object, "status", "grpcEndpoint")
	const want = "performer-conn.e2e-connection.svc.cluster.local:8080"
	if endpoint != want {
		t.Fatalf("status.grpcEndpoint = %q, want %q", endpoint, want)
	}
	eventually(t, time.Minute, "the claim's connection Secret with endpoint, host and port", func(ctx context.Context) error {
		s := &corev1.Secret{}
		if err := e.c.Get(ctx, types.NamespacedName{Namespace: ns, Name: secret}, s); err != nil {
			return err
		}
		got := map[string]string{}
		for k, v := range s.Data {
			got[k] = string(v)
		}
		wantData := map[string]string{"endpoint": want, "host": "performer-conn.e2e-connection.svc.cluster.local", "port": strconv.Itoa(8080)}
		for k, v := range wantData {
			if got[k] != v {
				return fmt.Errorf("secret %s/%s: %s = %q, want %q (data %v)", ns, secret, k, got[k], v, got)
			}
		}
		return nil
	})
}
