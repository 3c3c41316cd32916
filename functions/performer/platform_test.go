package main

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/hourglass-xp/crossplane-hourglass/functions/performer/input/v1beta1"
)

func TestNewPlatform(t *testing.T) {
	term := []corev1.NodeSelectorTerm{{MatchExpressions: []corev1.NodeSelectorRequirement{{Key: "gpu", Operator: corev1.NodeSelectorOpIn, Values: []string{"x"}}}}}
	peers := []networkingv1.NetworkPolicyPeer{{NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"team": "avs"}}}}
	type want struct {
		check func(t *testing.T, p *Platform)
		err   string
	}
	cases := map[string]struct {
		reason string
		in     *v1beta1.Input
		want   want
	}{
		"Defaults": {
			reason: "No input gives the documented defaults.",
			want: want{check: func(t *testing.T, p *Platform) {
				t.Helper()
				if p.GPUResource != "nvidia.com/gpu" || p.NetworkPolicyEnabled || *p.Security.Profile != SecurityRestricted ||
					p.DrainSeconds != 30 || p.ProgressDeadlineSeconds != 600 || len(p.GPUTypes) != 9 || len(p.TEE) != 4 {
					t.Errorf("unexpected defaults: %+v", p)
				}
				if diff := cmp.Diff(map[string]string{"hourglass.eigenlayer.io/role": "executor"}, p.AllowedClients[0].PodSelector.MatchLabels); diff != "" {
					t.Errorf("allowed clients: -want, +got:\n%s", diff)
				}
			}},
		},
		"MergeByName": {
			reason: "A GPU type and a TEE profile in the input replace the built-in ones of the same name; the others stay.",
			in: &v1beta1.Input{Hardware: &v1beta1.Hardware{
				GPU: &v1beta1.GPU{Types: []v1beta1.GPUType{{Name: "nvidia-l4", NodeSelectorTerms: term}, {Name: "amd-mi300x", NodeSelectorTerms: term}}},
				TEE: []v1beta1.TEEProfile{{Type: "tdx", RuntimeClassName: new("kata-cc-tdx")}},
			}},
			want: want{check: func(t *testing.T, p *Platform) {
				t.Helper()
				if diff := cmp.Diff(term, p.GPUTypes["nvidia-l4"]); diff != "" {
					t.Errorf("nvidia-l4: -want, +got:\n%s", diff)
				}
				if len(p.GPUTypes) != 10 || *p.TEE["tdx"].RuntimeClassName != "kata-cc-tdx" || *p.TEE["sev-snp"].RuntimeClassName != "kata-qemu-snp" {
					t.Errorf("merge by name failed: %d GPU types, TEE %+v", len(p.GPUTypes), p.TEE)
				}
			}},
		},
		"Overrides": {
			reason: "Scalar knobs and lists replace the defaults; unset probe fields keep theirs.",
			in: &v1beta1.Input{
				NetworkPolicy: &v1beta1.NetworkPolicy{Enabled: new(true), AllowedClients: peers},
				Security:      &v1beta1.Security{Profile: new(SecurityUnconfined), RunAsUser: new(int64(1000))},
				Probes:        &v1beta1.Probes{Readiness: &v1beta1.ProbeTiming{PeriodSeconds: new(int32(2))}},
				Upgrade:       &v1beta1.Upgrade{DrainSeconds: new(int32(0)), ProgressDeadlineSeconds: new(int32(60))},
				Hardware:      &v1beta1.Hardware{ResourceLabelKeys: []string{"example.com/fpga"}},
			},
			want: want{check: func(t *testing.T, p *Platform) {
				t.Helper()
				if !p.NetworkPolicyEnabled || *p.Security.Profile != SecurityUnconfined || *p.Security.RunAsUser != 1000 ||
					p.Readiness.PeriodSeconds != 2 || p.Readiness.FailureThreshold != 3 || p.DrainSeconds != 0 || p.ProgressDeadlineSeconds != 60 {
					t.Errorf("overrides not applied: %+v", p)
				}
				if diff := cmp.Diff(peers, p.AllowedClients); diff != "" {
					t.Errorf("allowed clients: -want, +got:\n%s", diff)
				}
				if diff := cmp.Diff(map[string]bool{"example.com/fpga": true}, p.ResourceLabelKeys); diff != "" {
					t.Errorf("resource label keys: -want, +got:\n%s", diff)
				}
			}},
		},
		"BadProfile": {
			reason: "An unknown security profile names the input field.",
			in:     &v1beta1.Input{Security: &v1beta1.Security{Profile: new("Lax")}},
			want:   want{err: `security.profile: Unsupported value: "Lax": supported values: "Restricted", "Unconfined"`},
		},
		"GPUTypeWithoutTerms": {
			reason: "A GPU type that constrains nothing would schedule anywhere: an error naming the entry.",
			in:     &v1beta1.Input{Hardware: &v1beta1.Hardware{GPU: &v1beta1.GPU{Types: []v1beta1.GPUType{{Name: "x"}}}}},
			want:   want{err: "hardware.gpu.types[0].nodeSelectorTerms: Required value: a GPU type needs at least one node selector term"},
		},
		"EmptyResourceName": {
			reason: "An empty GPU resource name names the input field.",
			in:     &v1beta1.Input{Hardware: &v1beta1.Hardware{GPU: &v1beta1.GPU{ResourceName: new("")}}},
			want:   want{err: "hardware.gpu.resourceName: Required value: must not be empty when set"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			p, err := NewPlatform(tc.in)
			if diff := cmp.Diff(tc.want.err, errString(err)); diff != "" {
				t.Fatalf("%s\nNewPlatform(...): -want error, +got error:\n%s", tc.reason, diff)
			}
			if tc.want.check != nil {
				tc.want.check(t, p)
			}
		})
	}
}

func TestDefaultsNotShared(t *testing.T) {
	// An input that changes a profile must not change the next call's defaults.
	if _, err := NewPlatform(&v1beta1.Input{Hardware: &v1beta1.Hardware{TEE: []v1beta1.TEEProfile{{Type: "sgx"}}}}); err != nil {
		t.Fatal(err)
	}
	if len(DefaultPlatform().TEE["sgx"].Resources) == 0 {
		t.Error("an input changed the built-in sgx profile")
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
