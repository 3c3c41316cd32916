package testtools

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// CreateFromFile creates every object of a multi-document YAML file of this
// repository (path relative to its root), as `kubectl create -f` would:
// tests apply the manifests users apply, not copies of them.
func CreateFromFile(t testing.TB, c client.Client, path string) {
	t.Helper()
	f, err := os.Open(filepath.Join(RepoRoot(t), path)) //nolint:gosec // A manifest of this repository.
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	d := yaml.NewYAMLOrJSONDecoder(f, 4096)
	for {
		u := &unstructured.Unstructured{}
		if err := d.Decode(&u.Object); err != nil {
			if errors.Is(err, io.EOF) {
				return
			}
			t.Fatalf("cannot decode %s: %v", path, err)
		}
		if len(u.Object) == 0 {
			continue
		}
		if err := c.Create(context.Background(), u); err != nil {
			t.Fatalf("cannot create %s %s from %s: %v", u.GetKind(), u.GetName(), path, err)
		}
	}
}
