package main

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/hourglass-xp/crossplane-hourglass/apis/hourglass/v1alpha1"
)

func in(key string, values ...string) corev1.NodeSelectorTerm {
	return corev1.NodeSelectorTerm{MatchExpressions: []corev1.NodeSelectorRequirement{{Key: key, Operator: corev1.NodeSelectorOpIn, Values: values}}}
}

var (
	hwPath      = field.NewPath("spec", "hardwareRequirements")
	gpuTol      = corev1.Toleration{Key: "nvidia.com/gpu", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}
	teeTol      = corev1.Toleration{Key: "hourglass.eigenlayer.io/tee", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}
	cmpQuantity = cmp.Comparer(func(a, b resource.Quantity) bool { return a.Cmp(b) == 0 })
)

func TestHardware(t *testing.T) {
	cases := map[string]struct {
		reason string
		hw     *v1alpha1.HardwareRequirements
		want   *HardwareNeeds
		err    string
	}{
		"None": {
			reason: "No hardware requirements need nothing.",
			want:   &HardwareNeeds{},
		},
		"GPUA100": {
			reason: "A known gpuType matches GFD or GKE labels; gpuCount becomes nvidia.com/gpu plus the GPU taint toleration.",
			hw:     &v1alpha1.HardwareRequirements{GPUType: "nvidia-a100", GPUCount: 2},
			want: &HardwareNeeds{
				GPUOrTEE: true,
				NodeTerms: []TermGroup{{From: hwPath.Child("gpuType"), Terms: []corev1.NodeSelectorTerm{
					in("nvidia.com/gpu.product", "NVIDIA-A100-SXM4-40GB", "NVIDIA-A100-SXM4-80GB", "NVIDIA-A100-PCIE-40GB", "NVIDIA-A100-80GB-PCIe"),
					in("cloud.google.com/gke-accelerator", "nvidia-tesla-a100", "nvidia-a100-80gb"),
				}}},
				Tolerations: []corev1.Toleration{gpuTol},
				Resources:   []ResourceNeed{{From: hwPath.Child("gpuCount"), Name: "nvidia.com/gpu", Quantity: resource.MustParse("2")}},
			},
		},
		"GPUCountOnly": {
			reason: "gpuCount without gpuType asks for any GPU: the resource and toleration, no node terms.",
			hw:     &v1alpha1.HardwareRequirements{GPUCount: 1},
			want: &HardwareNeeds{
				GPUOrTEE:    true,
				Tolerations: []corev1.Toleration{gpuTol},
				Resources:   []ResourceNeed{{From: hwPath.Child("gpuCount"), Name: "nvidia.com/gpu", Quantity: resource.MustParse("1")}},
			},
		},
		"GPUTypeNoCount": {
			reason: "gpuType without gpuCount is an error naming gpuCount (admission rejects it too).",
			hw:     &v1alpha1.HardwareRequirements{GPUType: "nvidia-l4"},
			err:    "spec.hardwareRequirements.gpuCount: Required value: must be at least 1 when gpuType is set",
		},
		"TEESGX": {
			reason: "SGX needs the NFD label, the TEE toleration and the SGX device plugin's enclave and EPC; no runtime class.",
			hw:     &v1alpha1.HardwareRequirements{TEERequired: true, TEEType: "sgx"},
			want: &HardwareNeeds{
				GPUOrTEE:    true,
				NodeTerms:   []TermGroup{{From: hwPath.Child("teeType"), Terms: []corev1.NodeSelectorTerm{in("feature.node.kubernetes.io/cpu-security.sgx.enabled", "true")}}},
				Tolerations: []corev1.Toleration{teeTol},
				Resources: []ResourceNeed{
					{From: hwPath.Child("teeType"), Name: "sgx.intel.com/enclave", Quantity: resource.MustParse("1"), Default: true},
					{From: hwPath.Child("teeType"), Name: "sgx.intel.com/epc", Quantity: resource.MustParse("512Ki"), Default: true},
				},
			},
		},
		"TEESEVSNP": {
			reason: "SEV-SNP needs the NFD label and the Confidential Containers runtime class.",
			hw:     &v1alpha1.HardwareRequirements{TEERequired: true, TEEType: "sev-snp"},
			want: &HardwareNeeds{
				GPUOrTEE:         true,
				NodeTerms:        []TermGroup{{From: hwPath.Child("teeType"), Terms: []corev1.NodeSelectorTerm{in("feature.node.kubernetes.io/cpu-security.sev.snp.enabled", "true")}}},
				Tolerations:      []corev1.Toleration{teeTol},
				RuntimeClassName: "kata-qemu-snp", RuntimeClassFrom: hwPath.Child("teeType"),
			},
		},
		"TEESEV": {
			reason: "SEV has its own NFD label and runtime class.",
			hw:     &v1alpha1.HardwareRequirements{TEERequired: true, TEEType: "sev"},
			want: &HardwareNeeds{
				GPUOrTEE:         true,
				NodeTerms:        []TermGroup{{From: hwPath.Child("teeType"), Terms: []corev1.NodeSelectorTerm{in("feature.node.kubernetes.io/cpu-security.sev.enabled", "true")}}},
				Tolerations:      []corev1.Toleration{teeTol},
				RuntimeClassName: "kata-qemu-sev", RuntimeClassFrom: hwPath.Child("teeType"),
			},
		},
		"TEETDX": {
			reason: "TDX has its own NFD label and runtime class.",
			hw:     &v1alpha1.HardwareRequirements{TEERequired: true, TEEType: "tdx"},
			want: &HardwareNeeds{
				GPUOrTEE:         true,
				NodeTerms:        []TermGroup{{From: hwPath.Child("teeType"), Terms: []corev1.NodeSelectorTerm{in("feature.node.kubernetes.io/cpu-security.tdx.enabled", "true")}}},
				Tolerations:      []corev1.Toleration{teeTol},
				RuntimeClassName: "kata-qemu-tdx", RuntimeClassFrom: hwPath.Child("teeType"),
			},
		},
		"TEEWithoutType": {
			reason: "teeRequired without teeType names teeType and the known types.",
			hw:     &v1alpha1.HardwareRequirements{TEERequired: true},
			err:    "spec.hardwareRequirements.teeType: Required value: required when teeRequired is true; one of [sev sev-snp sgx tdx]",
		},
		"TEETypeNotRequired": {
			reason: "teeType without teeRequired is contradictory: names teeRequired.",
			hw:     &v1alpha1.HardwareRequirements{TEEType: "tdx"},
			err:    "spec.hardwareRequirements.teeRequired: Invalid value: false: must be true when teeType is set",
		},
		"TEEUnknown": {
			reason: "An unknown teeType names the field and the known types.",
			hw:     &v1alpha1.HardwareRequirements{TEERequired: true, TEEType: "cca"},
			err:    `spec.hardwareRequirements.teeType: Unsupported value: "cca": supported values: "sev", "sev-snp", "sgx", "tdx"`,
		},
		"SeedTEEExample": {
			reason: "The seed's TEE example puts sgx.intel.com/epc in customLabels: it is read as the EPC quantity, replacing the profile's default, not as a node label no node has.",
			hw:     &v1alpha1.HardwareRequirements{TEERequired: true, TEEType: "sgx", CustomLabels: map[string]string{"sgx.intel.com/epc": "128Mi"}},
			want: &HardwareNeeds{
				GPUOrTEE:    true,
				NodeTerms:   []TermGroup{{From: hwPath.Child("teeType"), Terms: []corev1.NodeSelectorTerm{in("feature.node.kubernetes.io/cpu-security.sgx.enabled", "true")}}},
				Tolerations: []corev1.Toleration{teeTol},
				Resources: []ResourceNeed{
					{From: hwPath.Child("teeType"), Name: "sgx.intel.com/enclave", Quantity: resource.MustParse("1"), Default: true},
					{From: hwPath.Child("customLabels").Key("sgx.intel.com/epc"), Name: "sgx.intel.com/epc", Quantity: resource.MustParse("128Mi")},
				},
			},
		},
		"CustomLabels": {
			reason: "Other customLabels are node labels.",
			hw:     &v1alpha1.HardwareRequirements{CustomLabels: map[string]string{"performance-tier": "premium"}},
			want:   &HardwareNeeds{NodeLabels: map[string]string{"performance-tier": "premium"}},
		},
		"ResourceLabelNotAQuantity": {
			reason: "A resource-naming customLabel must hold a quantity.",
			hw:     &v1alpha1.HardwareRequirements{CustomLabels: map[string]string{"sgx.intel.com/epc": "lots"}},
			err:    `spec.hardwareRequirements.customLabels[sgx.intel.com/epc]: Invalid value: "lots": names an extended resource, so its value must be a positive quantity such as 128Mi`,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := Hardware(tc.hw, DefaultPlatform())
			if diff := cmp.Diff(tc.err, errString(err)); diff != "" {
				t.Fatalf("%s\nHardware(...): -want error, +got error:\n%s", tc.reason, diff)
			}
			if diff := cmp.Diff(tc.want, got, cmpQuantity, cmpopts.EquateEmpty(), cmp.Comparer(func(a, b *field.Path) bool { return a.String() == b.String() })); diff != "" {
				t.Errorf("%s\nHardware(...): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestHardwareFallbackLabel(t *testing.T) {
	p := DefaultPlatform()
	p.GPUFallbackLabel = "example.com/gpu"
	got, err := Hardware(&v1alpha1.HardwareRequirements{GPUType: "amd-mi300x", GPUCount: 1}, p)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]corev1.NodeSelectorTerm{in("example.com/gpu", "amd-mi300x")}, got.NodeTerms[0].Terms); diff != "" {
		t.Errorf("an unknown gpuType with a fallback label: -want, +got:\n%s", diff)
	}
}
