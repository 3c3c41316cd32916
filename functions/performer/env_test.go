package main

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"

	"github.com/hourglass-xp/crossplane-hourglass/apis/hourglass/v1alpha1"
)

func TestEnv(t *testing.T) {
	secret := v1alpha1.EnvironmentFromSource{Name: "PRIVATE_KEY", ValueFrom: v1alpha1.EnvironmentValueSource{SecretKeyRef: &v1alpha1.KeySelector{Name: "keys", Key: "ecdsa"}}}
	config := v1alpha1.EnvironmentFromSource{Name: "CHAIN_ID", ValueFrom: v1alpha1.EnvironmentValueSource{ConfigMapKeyRef: &v1alpha1.KeySelector{Name: "chain", Key: "id"}}}
	cases := map[string]struct {
		reason string
		c      v1alpha1.PerformerConfig
		want   []corev1.EnvVar
	}{
		"None": {
			reason: "No variables: no env at all, so the pod template (and revision) of a Performer without them is as before.",
			want:   nil,
		},
		"EnvOnly": {
			reason: "The API reference's env list passes through unchanged.",
			c:      v1alpha1.PerformerConfig{Env: []corev1.EnvVar{{Name: "B", Value: "2"}, {Name: "A", Value: "1"}}},
			want:   []corev1.EnvVar{{Name: "B", Value: "2"}, {Name: "A", Value: "1"}},
		},
		"AllThree": {
			reason: "environment comes first in sorted name order, then environmentFrom in list order as Secret/ConfigMap key references, then env.",
			c: v1alpha1.PerformerConfig{
				Environment:     map[string]string{"GRPC_PORT": "8080", "AVS_ADDRESS": "0xabc", "LOG_LEVEL": "debug"},
				EnvironmentFrom: []v1alpha1.EnvironmentFromSource{secret, config},
				Env:             []corev1.EnvVar{{Name: "POD_NAME", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}}},
			},
			want: []corev1.EnvVar{
				{Name: "AVS_ADDRESS", Value: "0xabc"},
				{Name: "GRPC_PORT", Value: "8080"},
				{Name: "LOG_LEVEL", Value: "debug"},
				{Name: "PRIVATE_KEY", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "keys"}, Key: "ecdsa"}}},
				{Name: "CHAIN_ID", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "chain"}, Key: "id"}}},
				{Name: "POD_NAME", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}},
			},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, Env(&tc.c)); diff != "" {
				t.Errorf("%s\nEnv(...): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestEnvDuplicate(t *testing.T) {
	from := func(n string) v1alpha1.EnvironmentFromSource {
		return v1alpha1.EnvironmentFromSource{Name: n, ValueFrom: v1alpha1.EnvironmentValueSource{SecretKeyRef: &v1alpha1.KeySelector{Name: "s", Key: "k"}}}
	}
	cases := map[string]struct {
		reason string
		c      v1alpha1.PerformerConfig
		want   string
	}{
		"Unique": {
			reason: "Every name set once: no error.",
			c:      v1alpha1.PerformerConfig{Environment: map[string]string{"A": "1"}, EnvironmentFrom: []v1alpha1.EnvironmentFromSource{from("B")}, Env: []corev1.EnvVar{{Name: "C"}}},
		},
		"EnvironmentAndEnv": {
			reason: "The error names the later place and the first.",
			c:      v1alpha1.PerformerConfig{Environment: map[string]string{"A": "1"}, Env: []corev1.EnvVar{{Name: "A", Value: "2"}}},
			want:   `spec.config.env[0].name: Duplicate value: "A is also set by spec.config.environment[A]: set each variable in one place"`,
		},
		"EnvironmentFromAndEnv": {
			reason: "environmentFrom against env.",
			c:      v1alpha1.PerformerConfig{EnvironmentFrom: []v1alpha1.EnvironmentFromSource{from("B")}, Env: []corev1.EnvVar{{Name: "X"}, {Name: "B"}}},
			want:   `spec.config.env[1].name: Duplicate value: "B is also set by spec.config.environmentFrom[0].name: set each variable in one place"`,
		},
		"WithinEnvironmentFrom": {
			reason: "A name twice within environmentFrom (the list-map key admission enforces).",
			c:      v1alpha1.PerformerConfig{EnvironmentFrom: []v1alpha1.EnvironmentFromSource{from("B"), from("B")}},
			want:   `spec.config.environmentFrom[1].name: Duplicate value: "B is also set by spec.config.environmentFrom[0].name: set each variable in one place"`,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := errString(EnvDuplicate(&tc.c)); got != tc.want {
				t.Errorf("%s\nEnvDuplicate(...): want %q, got %q", tc.reason, tc.want, got)
			}
		})
	}
}
