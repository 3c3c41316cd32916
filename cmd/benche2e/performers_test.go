package main

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	hourglass "github.com/hourglass-xp/crossplane-hourglass/apis/hourglass/v1alpha1"
)

func TestNewPerformer(t *testing.T) {
	u := newPerformer("bench-scale-03", "s100-0003", "s100", "v1", 3)
	if got := u.GroupVersionKind(); got != hourglass.PerformerGroupVersionKind {
		t.Errorf("newPerformer(...) is a %s, want %s", got, hourglass.PerformerGroupVersionKind)
	}
	b, err := json.Marshal(u.Object)
	if err != nil {
		t.Fatal(err)
	}
	// Every field must be one the Performer API has: the API server would
	// prune any other without a word.
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	p := &hourglass.Performer{}
	if err := d.Decode(p); err != nil {
		t.Fatalf("newPerformer(...) is not a Performer: %v\n%s", err, b)
	}
	want := hourglass.PerformerSpec{AVSAddress: "0x0000000000000000000000000000000000000004", Image: benchImage, Version: "v1"}
	if diff := cmp.Diff(want, p.Spec); diff != "" {
		t.Errorf("newPerformer(...).spec: -want, +got:\n%s", diff)
	}
	if p.Namespace != "bench-scale-03" || p.Name != "s100-0003" || p.Labels[labelRun] != "s100" {
		t.Errorf("newPerformer(...) is %s/%s labelled %v, want bench-scale-03/s100-0003 with %s=s100", p.Namespace, p.Name, p.Labels, labelRun)
	}
}

func TestReady(t *testing.T) {
	status := func(ready any, cond string) *unstructured.Unstructured {
		st := map[string]any{}
		if ready != nil {
			st["ready"] = ready
		}
		if cond != "" {
			st["conditions"] = []any{
				map[string]any{"type": "Synced", "status": "True"},
				map[string]any{"type": "Ready", "status": cond, "reason": "Available"},
			}
		}
		return &unstructured.Unstructured{Object: map[string]any{"status": st}}
	}
	cases := map[string]struct {
		reason string
		u      *unstructured.Unstructured
		want   bool
	}{
		"Both": {
			reason: "The Ready condition True and status.ready true: Ready to kubectl and to the executor.",
			u:      status(true, "True"), want: true,
		},
		"ConditionOnly": {
			reason: "The executor polls status.ready: without it the Performer is not Ready yet.",
			u:      status(nil, "True"),
		},
		"ReadyFieldOnly": {
			reason: "kubectl wait and GitOps read the Ready condition: without it the Performer is not Ready yet.",
			u:      status(true, "False"),
		},
		"NotReady": {
			reason: "status.ready false is not Ready.",
			u:      status(false, "True"),
		},
		"NoStatus": {
			reason: "A Performer just created has no status.",
			u:      &unstructured.Unstructured{Object: map[string]any{}},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := ready(tc.u); got != tc.want {
				t.Errorf("%s\nready(...) = %t, want %t", tc.reason, got, tc.want)
			}
		})
	}
}
