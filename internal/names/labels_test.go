package names

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestLabels(t *testing.T) {
	cases := map[string]struct {
		reason                            string
		performer, avs, version, revision string
		want                              map[string]string
	}{
		"Full": {
			reason:    "Every label is set; the AVS address is lowercased.",
			performer: "example", avs: "0xABCDEF1234567890abcdef1234567890abcdef12", version: "v2.1.0", revision: "0123456789",
			want: map[string]string{
				"app":                              "performer",
				"performer-name":                   "example",
				"hourglass.eigenlayer.io/avs":      "0xabcdef1234567890abcdef1234567890abcdef12",
				"hourglass.eigenlayer.io/revision": "0123456789",
				"app.kubernetes.io/name":           "performer",
				"app.kubernetes.io/instance":       "example",
				"app.kubernetes.io/version":        "v2.1.0",
				"app.kubernetes.io/component":      "performer",
				"app.kubernetes.io/part-of":        "hourglass",
				"app.kubernetes.io/managed-by":     "crossplane",
			},
		},
		"Shared": {
			reason:    "Objects shared by revisions carry no revision label; no version, no version label.",
			performer: "example", avs: "0x1234567890abcdef1234567890abcdef12345678",
			want: map[string]string{
				"app":                          "performer",
				"performer-name":               "example",
				"hourglass.eigenlayer.io/avs":  "0x1234567890abcdef1234567890abcdef12345678",
				"app.kubernetes.io/name":       "performer",
				"app.kubernetes.io/instance":   "example",
				"app.kubernetes.io/component":  "performer",
				"app.kubernetes.io/part-of":    "hourglass",
				"app.kubernetes.io/managed-by": "crossplane",
			},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := Labels(tc.performer, tc.avs, tc.version, tc.revision)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s\nLabels(...): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestSelector(t *testing.T) {
	got := Selector("example", "r1")
	want := map[string]string{"app": "performer", "performer-name": "example", "hourglass.eigenlayer.io/revision": "r1"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Selector(...): -want, +got:\n%s", diff)
	}
}
