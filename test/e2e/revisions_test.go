//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/hourglass-xp/crossplane-hourglass/internal/names"
)

// The revision test uses a Composition of its own, so it never changes the
// shipped one other tests compose with (the definition's default
// Composition stays the shipped one).
const (
	revComposition = "performers-e2e-revisions"
	revNS          = "e2e-revisions"
	channelLabel   = "hourglass.eigenlayer.io/channel"
	// platformDrain is the drain the test Composition's function input
	// sets (the example performers leave spec.upgrade out, so the platform's
	// default applies): shorter than the function's own 30 s, which the
	// suite would otherwise wait out twice.
	platformDrain = 10 * time.Second
)

var compositionRevisionGVK = schema.GroupVersionKind{Group: "apiextensions.crossplane.io", Version: "v1", Kind: "CompositionRevision"}

// readYAML reads one object from a file of the repository.
func (e *env) readYAML(t *testing.T, rel string) *unstructured.Unstructured {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(e.root, rel))
	if err != nil {
		t.Fatal(err)
	}
	u := &unstructured.Unstructured{}
	if err := yaml.Unmarshal(b, &u.Object); err != nil {
		t.Fatalf("%s: %v", rel, err)
	}
	return u
}

func (e *env) applyObject(t *testing.T, u *unstructured.Unstructured) {
	t.Helper()
	b, err := yaml.Marshal(u.Object)
	if err != nil {
		t.Fatal(err)
	}
	e.mustKubectl(t, b, "apply", "-f", "-")
}

// testComposition is the shipped Composition renamed for this test, on the
// given channel, with the platform drain of platformDrain and the readiness
// probe period of the function input set when period is not zero (the change examples/revisions/composition-canary.yaml
// makes; its unit test keeps it otherwise equal to the shipped one).
func (e *env) testComposition(t *testing.T, channel string, period int64) *unstructured.Unstructured {
	t.Helper()
	u := e.readYAML(t, "compositions/performer.yaml")
	u.SetName(revComposition)
	l := u.GetLabels()
	l[channelLabel] = channel
	u.SetLabels(l)
	steps, _, _ := unstructured.NestedSlice(u.Object, "spec", "pipeline")
	if len(steps) != 1 {
		t.Fatalf("compositions/performer.yaml: %d pipeline steps, want the performer function's alone", len(steps))
	}
	step, _ := steps[0].(map[string]any)
	if err := unstructured.SetNestedField(step, int64(platformDrain/time.Second), "input", "upgrade", "drainSeconds"); err != nil {
		t.Fatal(err)
	}
	if period != 0 {
		if err := unstructured.SetNestedField(step, period, "input", "probes", "readiness", "periodSeconds"); err != nil {
			t.Fatal(err)
		}
	}
	if err := unstructured.SetNestedSlice(u.Object, steps, "spec", "pipeline"); err != nil {
		t.Fatal(err)
	}
	return u
}

// revisionPerformer is an example performer of examples/revisions/ moved to
// this test's namespace and Composition. The example's channel or pin stays
// as written, under spec.crossplane where Crossplane v2 reads it.
func (e *env) revisionPerformer(t *testing.T, file, name string) manifest {
	t.Helper()
	rel := filepath.Join("examples", "revisions", file)
	u := e.readYAML(t, rel)
	if _, ok, _ := unstructured.NestedMap(u.Object, "spec", "crossplane"); !ok {
		t.Fatalf("%s has no spec.crossplane: a performer chooses its Composition revision there", rel)
	}
	u.SetNamespace(revNS)
	u.SetName(name)
	if err := unstructured.SetNestedField(u.Object, revComposition, "spec", "crossplane", "compositionRef", "name"); err != nil {
		t.Fatal(err)
	}
	return manifest{obj: u}
}

// revision waits for the test Composition's revision number n and checks
// it carries the channel label; it returns its name.
func (e *env) revision(t *testing.T, n int64, channel string) string {
	t.Helper()
	var name string
	eventually(t, time.Minute, fmt.Sprintf("CompositionRevision %d of %s", n, revComposition), func(ctx context.Context) error {
		l := &unstructured.UnstructuredList{}
		l.SetGroupVersionKind(compositionRevisionGVK.GroupVersion().WithKind("CompositionRevisionList"))
		if err := e.c.List(ctx, l, client.MatchingLabels{"crossplane.io/composition-name": revComposition}); err != nil {
			return err
		}
		for _, r := range l.Items {
			if got, _, _ := unstructured.NestedInt64(r.Object, "spec", "revision"); got != n {
				continue
			}
			if c := r.GetLabels()[channelLabel]; c != channel {
				return fmt.Errorf("revision %d %s has channel %q, want %q", n, r.GetName(), c, channel)
			}
			name = r.GetName()
			return nil
		}
		return fmt.Errorf("%d revisions, none numbered %d", len(l.Items), n)
	})
	return name
}

// compositionRevision is the CompositionRevision the performer composes
// with: Crossplane records it under spec.crossplane.
func (e *env) compositionRevision(ctx context.Context, ns, name string) (string, error) {
	u, err := e.existing(ctx, ns, name)
	if err != nil {
		return "", err
	}
	r, _, _ := unstructured.NestedString(u.Object, "spec", "crossplane", "compositionRevisionRef", "name")
	return r, nil
}

// readinessPeriod is the readiness probe period of a Deployment's performer
// container: the platform default the test's Composition revisions change.
func readinessPeriod(d appsv1.Deployment) int32 {
	for _, c := range d.Spec.Template.Spec.Containers {
		if c.ReadinessProbe != nil {
			return c.ReadinessProbe.PeriodSeconds
		}
	}
	return 0
}

// deploymentOn waits until the performer runs alone on one Deployment composed
// by revision rev with the given readiness period, stably, and returns it.
func (e *env) deploymentOn(t *testing.T, ns, name, rev string, period int32) appsv1.Deployment {
	t.Helper()
	var d appsv1.Deployment
	e.running(t, ns, name, "v1.5.0")
	steadily(t, 2*time.Minute, stable, fmt.Sprintf("%s/%s on %s, readiness period %ds", ns, name, rev, period), func(ctx context.Context) error {
		got, err := e.compositionRevision(ctx, ns, name)
		if err != nil {
			return err
		}
		if got != rev {
			return fmt.Errorf("performer composes with %s, want %s", got, rev)
		}
		ds, err := e.deployments(ctx, ns, name)
		if err != nil {
			return err
		}
		if len(ds) != 1 {
			return fmt.Errorf("%d Deployments %v", len(ds), deploymentNames(ds))
		}
		if p := readinessPeriod(ds[0]); p != period {
			return fmt.Errorf("Deployment %s has readiness period %ds, want %ds", ds[0].Name, p, period)
		}
		d = ds[0]
		return nil
	})
	return d
}

// unchanged checks, for a hold, that the performer's only Deployment is still d,
// untouched (same UID and generation), and the performer still on rev.
func (e *env) unchanged(t *testing.T, ns, name, rev string, d appsv1.Deployment, hold time.Duration) {
	t.Helper()
	steadily(t, 2*hold+time.Minute, hold, fmt.Sprintf("%s/%s unchanged on %s", ns, name, rev), func(ctx context.Context) error {
		got, err := e.compositionRevision(ctx, ns, name)
		if err != nil {
			return err
		}
		if got != rev {
			return fmt.Errorf("performer composes with %s, want %s still", got, rev)
		}
		ds, err := e.deployments(ctx, ns, name)
		if err != nil {
			return err
		}
		if len(ds) != 1 || ds[0].UID != d.UID || ds[0].Generation != d.Generation {
			return fmt.Errorf("Deployments %v; want only %s (uid %s, generation %d) untouched", deploymentNames(ds), d.Name, d.UID, d.Generation)
		}
		return nil
	})
}

// TestCompositionRevisions publishes revisions of a Composition on channels
// and shows what reaches which performer: a performer pinned to a revision
// (spec.crossplane.compositionUpdatePolicy Manual + compositionRevisionRef)
// keeps its Deployment while performers following a channel
// (spec.crossplane.compositionRevisionSelector) take the change, and
// promoting the pinned performer rolls the change out blue-green. The change is a platform default in the function input (the
// readiness probe period, 5s → 7s), which changes the pod template.
func TestCompositionRevisions(t *testing.T) {
	t.Parallel()
	e := setup(t)
	xc := xclient(t, e)
	e.ensureNamespace(t, revNS)
	defer func() {
		e.mustKubectl(t, nil, "delete", "composition", revComposition, "--ignore-not-found")
	}()

	// Revision 1: the shipped Composition, on the stable channel.
	e.applyObject(t, e.testComposition(t, "stable", 0))
	rev1 := e.revision(t, 1, "stable")

	pinned := e.revisionPerformer(t, "pinned.yaml", "pinned")
	if err := unstructured.SetNestedField(pinned.obj.Object, rev1, "spec", "crossplane", "compositionRevisionRef", "name"); err != nil {
		t.Fatal(err)
	}
	stablePerformer := e.revisionPerformer(t, "stable-channel.yaml", "stable")
	canaryPerformer := e.revisionPerformer(t, "canary-channel.yaml", "canary")
	for _, c := range []manifest{pinned, stablePerformer} {
		e.apply(t, c)
		defer e.deletePerformer(t, c.namespace(), c.name())
	}
	dPinned := e.deploymentOn(t, revNS, "pinned", rev1, 5)
	dStable := e.deploymentOn(t, revNS, "stable", rev1, 5)

	t.Run("canary revision reaches only canary performers", func(t *testing.T) {
		e.applyObject(t, e.testComposition(t, "canary", 7))
		rev2 := e.revision(t, 2, "canary")
		e.apply(t, canaryPerformer)
		t.Cleanup(func() { e.deletePerformer(t, revNS, "canary") })
		e.deploymentOn(t, revNS, "canary", rev2, 7)
		e.unchanged(t, revNS, "pinned", rev1, dPinned, 2*stable)
		e.unchanged(t, revNS, "stable", rev1, dStable, 0)
	})

	// Promote the change: the same Composition, back on the stable channel.
	var rev3 string
	t.Run("promoted to stable, stable performers upgrade blue-green", func(t *testing.T) {
		rec := recordStatus(t, xc, revNS, "stable")
		s := startSampler(t, xc, revNS, "stable")
		e.applyObject(t, e.testComposition(t, "stable", 7))
		rev3 = e.revision(t, 3, "stable")
		d := e.deploymentOn(t, revNS, "stable", rev3, 7)
		if d.Name == dStable.Name {
			t.Fatalf("the pod template change did not make a new revision Deployment: %s", d.Name)
		}
		rec.sawUpgrading(t, dStable.Labels[names.LabelRevision], d.Labels[names.LabelRevision])
		s.check(t, dStable.Labels[names.LabelRevision], d.Labels[names.LabelRevision])
		s.drained(t, platformDrain)
		e.unchanged(t, revNS, "pinned", rev1, dPinned, stable)
	})
	if rev3 == "" {
		t.FailNow()
	}

	t.Run("promoting the pinned performer upgrades it blue-green", func(t *testing.T) {
		rec := recordStatus(t, xc, revNS, "pinned")
		s := startSampler(t, xc, revNS, "pinned")
		patch := []byte(`{"spec":{"crossplane":{"compositionRevisionRef":{"name":` + strconv.Quote(rev3) + `}}}}`)
		u := &unstructured.Unstructured{}
		u.SetGroupVersionKind(performerGVK)
		u.SetNamespace(revNS)
		u.SetName("pinned")
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := e.c.Patch(ctx, u, client.RawPatch(types.MergePatchType, patch)); err != nil {
			t.Fatal(err)
		}
		d := e.deploymentOn(t, revNS, "pinned", rev3, 7)
		if d.Name == dPinned.Name {
			t.Fatalf("the pod template change did not make a new revision Deployment: %s", d.Name)
		}
		rec.sawUpgrading(t, dPinned.Labels[names.LabelRevision], d.Labels[names.LabelRevision])
		s.check(t, dPinned.Labels[names.LabelRevision], d.Labels[names.LabelRevision])
		s.drained(t, platformDrain)
	})
}
