//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestPerformerEvents checks what `kubectl describe performer` tells a
// user: the function's events reach the performer, once per change, with the
// reasons the docs list.
func TestPerformerEvents(t *testing.T) {
	t.Parallel()
	e := setup(t)
	const ns, name = "e2e-events", "events"
	e.ensureNamespace(t, ns)
	c := newPerformer(ns, name, map[string]any{
		"avsAddress": "0x00000000000000000000000000000000000000ee",
		"image":      "example.com/e2e/performer",
		"version":    "v1.0.0",
		"upgrade":    map[string]any{"drainSeconds": int64(5)},
	})
	e.apply(t, c)
	e.readyAndStable(t, ns, name)
	t.Cleanup(func() { e.deletePerformer(t, ns, name) })

	events := func(ctx context.Context) (string, error) {
		out, errs, err := e.kubectl(ctx, nil, "-n", ns, "get", "events",
			"--field-selector", "involvedObject.kind=Performer,involvedObject.name="+name,
			"-o", `jsonpath={range .items[*]}{.type} {.reason} {.message}{"\n"}{end}`)
		if err != nil {
			return "", fmt.Errorf("%w: %s", err, errs)
		}
		return out, nil
	}
	// want checks that, for each pair, one event line starts with the
	// type and reason and contains the message part (Crossplane prefixes the
	// message with the pipeline step).
	want := func(pairs ...[2]string) func(ctx context.Context) error {
		return func(ctx context.Context) error {
			got, err := events(ctx)
			if err != nil {
				return err
			}
			for _, p := range pairs {
				found := false
				for l := range strings.Lines(got) {
					if strings.HasPrefix(l, p[0]+" ") && strings.Contains(l, p[1]) {
						found = true
					}
				}
				if !found {
					return fmt.Errorf("no event %q with %q on the performer; events:\n%s", p[0], p[1], got)
				}
			}
			return nil
		}
	}
	eventually(t, time.Minute, "a PerformerRunning event on the performer",
		want([2]string{"Normal PerformerRunning", "serving at performer-events.e2e-events.svc.cluster.local:9090"}))

	spec := c.obj.Object["spec"].(map[string]any)
	spec["version"] = "v2.0.0"
	e.apply(t, c)
	eventually(t, 3*time.Minute, "upgrade events on the performer", want(
		[2]string{"Normal UpgradeStarted", "upgrading from version v1.0.0 (revision "},
		[2]string{"Normal UpgradeStarted", ") to version v2.0.0 (revision "},
		[2]string{"Normal TrafficSwitched", "Service performer-events now sends traffic to version v2.0.0"}))

	// Kubernetes folds a repeated event into one with a count; a
	// reconcile that changes nothing must not add new kinds of events.
	out, err := events(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(out, "PerformerRunning"); n != 1 {
		t.Errorf("want one PerformerRunning event (with a count), got %d:\n%s", n, out)
	}
}
