//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"

	"github.com/hourglass-xp/crossplane-hourglass/internal/names"
)

// TestConnectionSecret checks what an executor may mount instead of reading
// status: the function composes, in the performer's namespace, a Secret with
// the documented endpoint, host and port, equal to status.grpcEndpoint, and
// names it in status.connectionSecretName. Composed, so the performer
// controls it.
func TestConnectionSecret(t *testing.T) {
	t.Parallel()
	e := setup(t)
	const ns, name = "e2e-connection", "conn"
	e.ensureNamespace(t, ns)
	c := newPerformer(ns, name, map[string]any{
		"avsAddress": "0x00000000000000000000000000000000000000cc",
		"image":      "example.com/e2e/performer:v1.0.0",
		"config":     map[string]any{"grpcPort": int64(8080)},
	})
	e.apply(t, c)
	t.Cleanup(func() { e.deletePerformer(t, ns, name) })
	u := e.readyAndStable(t, ns, name)

	// The documented form, spelled out: what an executor computes.
	const host = "performer-conn.e2e-connection.svc.cluster.local"
	const want = host + ":8080"
	if endpoint, _, _ := unstructured.NestedString(u.Object, "status", "grpcEndpoint"); endpoint != want {
		t.Errorf("status.grpcEndpoint = %q, want %q", endpoint, want)
	}
	secret := names.ConnectionSecret(name)
	if got, _, _ := unstructured.NestedString(u.Object, "status", "connectionSecretName"); got != secret {
		t.Errorf("status.connectionSecretName = %q, want %q", got, secret)
	}
	eventually(t, time.Minute, "the performer's connection Secret with endpoint, host and port", func(ctx context.Context) error {
		s := &corev1.Secret{}
		if err := e.c.Get(ctx, types.NamespacedName{Namespace: ns, Name: secret}, s); err != nil {
			return err
		}
		got := map[string]string{}
		for k, v := range s.Data {
			got[k] = string(v)
		}
		wantData := map[string]string{names.ConnectionEndpoint: want, names.ConnectionHost: host, names.ConnectionPort: "8080"}
		if d := cmp.Diff(wantData, got); d != "" {
			return fmt.Errorf("secret %s/%s data (-want +got):\n%s", ns, secret, d)
		}
		if owner := metav1.GetControllerOf(s); owner == nil || owner.UID != u.GetUID() {
			return fmt.Errorf("secret %s/%s is controlled by %v, want the performer (uid %s)", ns, secret, owner, u.GetUID())
		}
		return nil
	})
}
