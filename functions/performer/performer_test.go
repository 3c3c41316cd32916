package main

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"

	"github.com/crossplane/function-sdk-go/resource/composite"

	"github.com/hourglass-xp/crossplane-hourglass/apis/hourglass/v1alpha1"
)

func TestFromComposite(t *testing.T) {
	cases := map[string]struct {
		reason string
		xr     map[string]any
		want   *Performer
		err    string
	}{
		"Performer": {
			reason: "Name, namespace and uid are the Performer's own; grpcPort defaults to 9090; spec.crossplane is read but composes nothing.",
			xr:     minimalXR(t),
			want: func() *Performer {
				p := testPerformer()
				p.Name, p.Namespace, p.UID = "minimal-performer", "my-avs-project", testUID
				p.Spec.Image, p.Spec.Version = "myavs/performer:latest", ""
				p.Spec.Crossplane = &v1alpha1.CrossplaneFields{
					CompositionRef:          &corev1.LocalObjectReference{Name: "performers.hourglass.eigenlayer.io"},
					CompositionUpdatePolicy: new("Automatic"),
				}
				return p
			}(),
		},
		"NoNamespace": {
			reason: "A composite without a namespace has nowhere to compose: an error naming metadata.namespace.",
			xr: func() map[string]any {
				xr := minimalXR(t)
				delete(xr["metadata"].(map[string]any), "namespace")
				return xr
			}(),
			err: "metadata.namespace: Required value: a Performer is composed into its own namespace",
		},
		"WrongType": {
			reason: "A field of the wrong type cannot be parsed: an error, not a panic.",
			xr: func() map[string]any {
				xr := minimalXR(t)
				xr["spec"].(map[string]any)["config"] = map[string]any{"grpcPort": "ninety"}
				return xr
			}(),
			err: "cannot parse the observed Performer",
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
	p = testPerformer()
	p.Spec.Config.Environment = map[string]string{"A": "1"}
	p.Spec.Config.EnvironmentFrom = []v1alpha1.EnvironmentFromSource{{Name: "A", ValueFrom: v1alpha1.EnvironmentValueSource{SecretKeyRef: &v1alpha1.KeySelector{Name: "s", Key: "k"}}}}
	want = `spec.config.environmentFrom[0].name: Duplicate value: "A is also set by spec.config.environment[A]: set each variable in one place"`
	if err := p.Validate(); errString(err) != want {
		t.Errorf("Validate(): want %q, got %v", want, err)
	}
}
