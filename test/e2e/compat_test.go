//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/hourglass-xp/crossplane-hourglass/apis/hourglass/v1alpha1"
)

// TestCompat is the compact live check that proves the packages on a
// Crossplane version (issue 17): make e2e-matrix runs it alone on a fresh
// stack of every supported minor, make test on the oldest. In one pass it
// needs every Crossplane feature the packages rely on: the v2 namespaced
// XRD with its default Composition and revision channel
// (defaultCompositionRevisionSelector), the function pipeline with required
// resources (the performer's pods), composed managed resources of the
// provider, realtime composition on their changes, and deletion through
// the provider's finalizer.
func TestCompat(t *testing.T) {
	t.Parallel()
	e := setup(t)
	xc := xclient(t, e)
	const ns, name, faulty = "e2e-compat", "compat", "compat-pull-error"

	c := newPerformer(ns, name, upgradeSpec(goodRepo, "v1.0.0", 120))
	e.apply(t, c)
	defer e.deletePerformer(t, ns, name)
	// A performer whose pod cannot pull its image: only the pods Crossplane
	// hands the function as required resources say so.
	f := newPerformer(ns, faulty, upgradeSpec(faultRepo("image-pull-error"), "v1.0.0", 10))
	e.apply(t, f)
	defer e.deletePerformer(t, ns, faulty)

	rev1, u := e.running(t, ns, name, "v1.0.0")
	t.Run("Ready with its endpoint", func(t *testing.T) {
		// Phase, Service, gRPC endpoint, and status.podName among the
		// performer's pods: the function saw them.
		e.checkStatus(t, c, u)
	})

	t.Run("the definition's Composition channel", func(t *testing.T) {
		// The performer was created without spec.crossplane: Crossplane
		// fills in the definition's defaultCompositionRevisionSelector,
		// which keeps performers on the stable channel.
		sel, _, _ := unstructured.NestedStringMap(u.Object, "spec", "crossplane", "compositionRevisionSelector", "matchLabels")
		if sel[channelLabel] != "stable" {
			t.Errorf("spec.crossplane.compositionRevisionSelector.matchLabels = %v, want %s: stable from the definition", sel, channelLabel)
		}
	})

	t.Run("provider's PerformerEndpoint", func(t *testing.T) {
		steadily(t, settle, stable, "serving PerformerEndpoint Ready and Serving", func(ctx context.Context) error {
			u, err := e.existing(ctx, ns, name)
			if err != nil {
				return err
			}
			_, err = e.endpointServes(ctx, u)
			return err
		})
	})

	t.Run("blue-green upgrade with no gap", func(t *testing.T) {
		e.blueGreen(t, xc, c, rev1, "v2.0.0")
	})

	t.Run("pod faults reach the function", func(t *testing.T) {
		eventually(t, 2*time.Minute, "performer not ready, with reason "+v1alpha1.ReasonImagePullFailed, func(ctx context.Context) error {
			u, err := e.existing(ctx, ns, faulty)
			if err != nil {
				return err
			}
			if err := notReady(u); err != nil {
				return err
			}
			if !anyConditionReason(u, []string{v1alpha1.ReasonImagePullFailed}) {
				return fmt.Errorf("no condition with reason %s; status:\n%s", v1alpha1.ReasonImagePullFailed, describe(u))
			}
			return nil
		})
	})

	t.Run("delete leaves nothing", func(t *testing.T) {
		// deletePerformer waits until the performer and everything composed
		// for it, PerformerEndpoints included, are gone.
		e.deletePerformer(t, ns, faulty)
		e.deletePerformer(t, ns, name)
	})
}
