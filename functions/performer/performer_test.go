package main

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/crossplane/function-sdk-go/resource/composite"
)

func TestFromComposite(t *testing.T) {
	cases := map[string]struct {
		reason string
		xr     map[string]any
		want   *Performer
		err    string
	}{
		"Claim": {
			reason: "Name and namespace come from the claim; grpcPort defaults to 9090.",
			xr:     minimalXR(t),
			want: func() *Performer {
				p := testPerformer()
				p.Name, p.Namespace = "minimal-performer", "my-avs-project"
				p.Spec.Image, p.Spec.Version = "myavs/performer:latest", ""
				return p
			}(),
		},
		"NoClaimNamespace": {
			reason: "A claimRef without namespace names spec.claimRef.",
			xr: func() map[string]any {
				xr := minimalXR(t)
				delete(xr["spec"].(map[string]any)["claimRef"].(map[string]any), "namespace")
				return xr
			}(),
			err: "spec.claimRef: Required value: an XPerformer is composed into its claim's namespace: create a Performer claim rather than an XPerformer",
		},
		"WrongType": {
			reason: "A field of the wrong type cannot be parsed: an error, not a panic.",
			xr: func() map[string]any {
				xr := minimalXR(t)
				xr["spec"].(map[string]any)["config"] = map[string]any{"grpcPort": "ninety"}
				return xr
			}(),
			err: "cannot parse the observed XPerformer",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := FromComposite(&composite.Unstructured{Unstructured: *unstructuredOf(tc.xr)})
			if tc.err != "" {
				if err == nil || len(err.Error()) < len(tc.err) || err.Error()[:len(tc.err)] != tc.err {
					t.Fatalf("%s\nFromComposite(...): want error starting %q, got %v", tc.reason, tc.err, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.want.Spec.AVSAddress = "0x1234567890abcdef1234567890abcdef12345678"
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s\nFromComposite(...): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	p := testPerformer()
	p.Spec.Config.GRPCPort = 70000
	want := "spec.config.grpcPort: Invalid value: 70000: must be between 1 and 65535"
	if err := p.Validate(); errString(err) != want {
		t.Errorf("Validate(): want %q, got %v", want, err)
	}
	p = testPerformer()
	p.Spec.Image = ""
	want = "spec.image: Required value: the performer's container image"
	if err := p.Validate(); errString(err) != want {
		t.Errorf("Validate(): want %q, got %v", want, err)
	}
}
