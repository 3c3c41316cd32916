//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/hourglass-xp/crossplane-hourglass/internal/names"
)

// replaceExample is the example TestReplaceManifest replaces: the API
// reference's minimal performer, as it sits in git.
const replaceExample = "minimal.yaml"

// TestReplaceManifest runs `kubectl replace -f` of an example manifest on a
// running performer, as GitOps tools with Replace=true do: the manifest has
// no spec.crossplane and no resourceVersion, so the write drops what
// Crossplane recorded. Unchanged, it must leave the same objects serving
// (one Service, the same Deployment and pod) with Ready never lost; with the
// image edited, it must upgrade blue-green with no moment without a ready
// endpoint; and deleting it must leave nothing.
func TestReplaceManifest(t *testing.T) {
	t.Parallel()
	e := setup(t)
	xc := xclient(t, e)
	const ns = "e2e-replace"
	e.ensureNamespace(t, ns)

	// The example, byte for byte, but in this test's namespace.
	src := filepath.Join(e.root, "examples", replaceExample)
	ms := readManifests(t, src)
	if len(ms) != 1 {
		t.Fatalf("%s: %d performers, want one", src, len(ms))
	}
	m := ms[0]
	name := m.name()
	if _, ok, _ := unstructured.NestedFieldNoCopy(m.obj.Object, "spec", "crossplane"); ok || m.obj.GetResourceVersion() != "" {
		t.Fatalf("%s sets spec.crossplane or a resourceVersion: replacing it would not show a full-object write", src)
	}
	raw, err := os.ReadFile(src) //nolint:gosec // An example of this repository.
	if err != nil {
		t.Fatal(err)
	}
	inNS := edit(t, string(raw), "namespace: "+m.namespace(), "namespace: "+ns)
	file := write(t, inNS)
	e.mustKubectl(t, nil, "apply", "-f", file)
	t.Cleanup(func() { e.deletePerformer(t, ns, name) })

	u := e.readyAndStable(t, ns, name)
	image, _, _ := unstructured.NestedString(u.Object, "spec", "image")
	rev1, _ := e.runningImage(t, ns, name, image)
	before := e.snapshot(t, ns, name)

	t.Run("unchanged manifest keeps the same objects", func(t *testing.T) {
		s := startReadySampler(t, xc, ns, name)
		gen := u.GetGeneration()
		e.mustKubectl(t, nil, "replace", "-f", file)
		// The write changed the spec (it dropped spec.crossplane): wait
		// until Crossplane has composed from it and tracks its objects again,
		// so what follows is checked after, not before, its reconcile.
		eventually(t, 2*time.Minute, "Crossplane composed the replaced performer", func(ctx context.Context) error {
			u, err := e.existing(ctx, ns, name)
			if err != nil {
				return err
			}
			if u.GetGeneration() <= gen {
				return fmt.Errorf("generation %d: the replace changed nothing", u.GetGeneration())
			}
			if refs, _, _ := unstructured.NestedSlice(u.Object, "spec", "crossplane", "resourceRefs"); !hasRef(refs, "Service", names.Service(name)) {
				return fmt.Errorf("spec.crossplane.resourceRefs %v has no Service %s yet", refs, names.Service(name))
			}
			if s, _, _ := condition(u, "Synced"); s != "True" {
				return fmt.Errorf("Synced=%q", s)
			}
			return nil
		})
		steadily(t, time.Minute, 2*stable, "the same objects serving", func(ctx context.Context) error {
			return e.sameObjects(ctx, ns, name, before)
		})
		s.check(t, rev1)
		s.sameService(t, before.service)
		s.deployments(t, 1)
	})

	t.Run("edited image goes blue-green", func(t *testing.T) {
		const newImage = "example.com/e2e/performer:v2.0.0"
		edited := write(t, edit(t, inNS, image, newImage))
		s := startSampler(t, xc, ns, name)
		t0 := time.Now()
		e.mustKubectl(t, nil, "replace", "-f", edited)
		rev2, _ := e.runningImage(t, ns, name, newImage)
		t.Logf("kubectl replace with image %s: %s → %s, Running alone %.1fs later", newImage, rev1, rev2, time.Since(t0).Seconds())
		if rev2 == rev1 {
			t.Errorf("the image changed but the revision did not: %s", rev1)
		}
		s.check(t, rev1, rev2)
		s.sameService(t, before.service)
		s.deployments(t, 2)
	})

	t.Run("delete leaves nothing", func(t *testing.T) {
		u, err := e.existing(t.Context(), ns, name)
		if err != nil {
			t.Fatal(err)
		}
		e.seesComposed(t, ns, name, u.GetUID(), composedKinds...)
		e.mustKubectl(t, nil, "delete", "-f", file, "--wait=false")
		e.waitGone(t, ns, name, u.GetUID())
	})
}

// edit replaces the one occurrence of from in a manifest by to, and fails
// unless from occurs exactly once: nothing else of the manifest changes.
func edit(t *testing.T, content, from, to string) string {
	t.Helper()
	if n := strings.Count(content, from); n != 1 {
		t.Fatalf("%q occurs %d times in the manifest, want once", from, n)
	}
	return strings.Replace(content, from, to, 1)
}

// write writes a manifest to a file of its own, named as the example.
func write(t *testing.T, content string) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), replaceExample)
	if err := os.WriteFile(f, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

// objects are the identities of what serves a performer.
type objects struct {
	deployment        appsv1.Deployment
	pods              map[types.UID]string
	service, secret   types.UID
	connectionSecret  string
	deploymentsListed int
}

// snapshot records what serves a Running performer: its one Deployment,
// pods, Service and connection Secret.
func (e *env) snapshot(t *testing.T, ns, name string) objects {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	o, err := e.objects(ctx, ns, name)
	if err != nil {
		t.Fatal(err)
	}
	if o.deploymentsListed != 1 || len(o.pods) == 0 {
		t.Fatalf("%d Deployments and %d pods, want one Deployment and its pods", o.deploymentsListed, len(o.pods))
	}
	return o
}

func (e *env) objects(ctx context.Context, ns, name string) (objects, error) {
	o := objects{pods: map[types.UID]string{}, connectionSecret: names.ConnectionSecret(name)}
	ds, err := e.deployments(ctx, ns, name)
	if err != nil {
		return o, err
	}
	o.deploymentsListed = len(ds)
	if len(ds) > 0 {
		o.deployment = ds[0]
	}
	pods, err := e.pods(ctx, ns, name)
	if err != nil {
		return o, err
	}
	for _, p := range pods {
		o.pods[p.UID] = p.Name
	}
	svc := &corev1.Service{}
	if err := e.c.Get(ctx, client.ObjectKey{Namespace: ns, Name: names.Service(name)}, svc); err != nil {
		return o, err
	}
	o.service = svc.UID
	sec := &corev1.Secret{}
	if err := e.c.Get(ctx, client.ObjectKey{Namespace: ns, Name: o.connectionSecret}, sec); err != nil {
		return o, err
	}
	o.secret = sec.UID
	return o, nil
}

// sameObjects returns nil while exactly the objects of before serve the
// performer, its Deployment not even updated, and the performer is Ready.
func (e *env) sameObjects(ctx context.Context, ns, name string, before objects) error {
	u, err := e.existing(ctx, ns, name)
	if err != nil {
		return err
	}
	if err := readyNow(u); err != nil {
		return err
	}
	now, err := e.objects(ctx, ns, name)
	if err != nil {
		return err
	}
	d, b := now.deployment, before.deployment
	switch {
	case now.deploymentsListed != 1 || d.UID != b.UID || d.Name != b.Name || d.Generation != b.Generation:
		return fmt.Errorf("%d Deployments, first %s (uid %s, generation %d); want only %s (uid %s, generation %d)",
			now.deploymentsListed, d.Name, d.UID, d.Generation, b.Name, b.UID, b.Generation)
	case !sameKeys(now.pods, before.pods):
		return fmt.Errorf("pods %v, want %v unchanged", now.pods, before.pods)
	case now.service != before.service:
		return fmt.Errorf("Service %s has uid %s, want %s: re-created", names.Service(name), now.service, before.service)
	case now.secret != before.secret:
		return fmt.Errorf("Secret %s has uid %s, want %s: re-created", now.connectionSecret, now.secret, before.secret)
	}
	return nil
}

func sameKeys(a, b map[types.UID]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if _, ok := b[k]; !ok {
			return false
		}
	}
	return true
}
