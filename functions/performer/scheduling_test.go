package main

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/hourglass-xp/crossplane-hourglass/apis/hourglass/v1alpha1"
)

func required(terms ...corev1.NodeSelectorTerm) *corev1.Affinity {
	return &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{
		RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{NodeSelectorTerms: terms},
	}}
}

func and(terms ...corev1.NodeSelectorTerm) corev1.NodeSelectorTerm {
	var out corev1.NodeSelectorTerm
	for _, t := range terms {
		out.MatchExpressions = append(out.MatchExpressions, t.MatchExpressions...)
	}
	return out
}

func TestSchedule(t *testing.T) {
	gpuA100 := &v1alpha1.HardwareRequirements{GPUType: "nvidia-a100", GPUCount: 2}
	gfd := in("nvidia.com/gpu.product", "NVIDIA-A100-SXM4-40GB", "NVIDIA-A100-SXM4-80GB", "NVIDIA-A100-PCIE-40GB", "NVIDIA-A100-80GB-PCIe")
	gke := in("cloud.google.com/gke-accelerator", "nvidia-tesla-a100", "nvidia-a100-80gb")
	two := resource.MustParse("2")
	cases := map[string]struct {
		reason string
		spec   v1alpha1.PerformerSpec
		want   *Scheduling
		err    string
	}{
		"PassThrough": {
			reason: "Without hardware, scheduling passes through: runtimeClass becomes runtimeClassName.",
			spec: v1alpha1.PerformerSpec{Scheduling: &v1alpha1.SchedulingConfig{
				NodeSelector: map[string]string{"a": "b"}, RuntimeClass: new("gvisor"), PriorityClassName: new("high-priority"),
				Tolerations: []corev1.Toleration{{Key: "dedicated", Operator: corev1.TolerationOpEqual, Value: "avs", Effect: corev1.TaintEffectNoSchedule}},
			}},
			want: &Scheduling{
				NodeSelector: map[string]string{"a": "b"}, RuntimeClassName: new("gvisor"), PriorityClassName: "high-priority",
				Tolerations: []corev1.Toleration{{Key: "dedicated", Operator: corev1.TolerationOpEqual, Value: "avs", Effect: corev1.TaintEffectNoSchedule}},
			},
		},
		"SeedGPUExample": {
			reason: "The seed's GPU example: its own nvidia.com/gpu quantity and toleration agree with the hardware needs, so nothing is duplicated; the GPU node terms are added.",
			spec: v1alpha1.PerformerSpec{
				Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{"nvidia.com/gpu": two}, Limits: corev1.ResourceList{"nvidia.com/gpu": two}},
				Scheduling: &v1alpha1.SchedulingConfig{
					NodeSelector: map[string]string{"accelerator": "nvidia-tesla-a100"},
					Tolerations:  []corev1.Toleration{gpuTol},
				},
				HardwareRequirements: gpuA100,
			},
			want: &Scheduling{
				NodeSelector: map[string]string{"accelerator": "nvidia-tesla-a100"},
				Affinity:     required(gfd, gke),
				Tolerations:  []corev1.Toleration{gpuTol},
				Resources:    corev1.ResourceRequirements{Requests: corev1.ResourceList{"nvidia.com/gpu": two}, Limits: corev1.ResourceList{"nvidia.com/gpu": two}},
			},
		},
		"GPUCountConflict": {
			reason: "spec.resources asking for another GPU count than gpuCount is a conflict naming both fields.",
			spec: v1alpha1.PerformerSpec{
				Resources:            corev1.ResourceRequirements{Limits: corev1.ResourceList{"nvidia.com/gpu": resource.MustParse("1")}},
				HardwareRequirements: gpuA100,
			},
			err: `spec.resources.limits[nvidia.com/gpu]: Invalid value: "1": conflicts with spec.hardwareRequirements.gpuCount (2)`,
		},
		"UserAffinityANDHardware": {
			reason: "The user's required terms are ANDed with the hardware's ORed terms: every combination.",
			spec: v1alpha1.PerformerSpec{
				Scheduling:           &v1alpha1.SchedulingConfig{Affinity: required(in("kubernetes.io/arch", "amd64"), in("kubernetes.io/arch", "arm64"))},
				HardwareRequirements: gpuA100,
			},
			want: &Scheduling{
				Affinity: required(
					and(in("kubernetes.io/arch", "amd64"), gfd), and(in("kubernetes.io/arch", "amd64"), gke),
					and(in("kubernetes.io/arch", "arm64"), gfd), and(in("kubernetes.io/arch", "arm64"), gke),
				),
				Tolerations: []corev1.Toleration{gpuTol},
				Resources:   corev1.ResourceRequirements{Requests: corev1.ResourceList{"nvidia.com/gpu": two}, Limits: corev1.ResourceList{"nvidia.com/gpu": two}},
			},
		},
		"UnmatchableCombinationsDropped": {
			reason: "A user term pinning the GFD product to a T4 cannot meet the A100's GFD term: that combination is dropped, the GKE one stays.",
			spec: v1alpha1.PerformerSpec{
				Scheduling:           &v1alpha1.SchedulingConfig{Affinity: required(in("nvidia.com/gpu.product", "Tesla-T4"))},
				HardwareRequirements: gpuA100,
			},
			want: &Scheduling{
				Affinity:    required(and(in("nvidia.com/gpu.product", "Tesla-T4"), gke)),
				Tolerations: []corev1.Toleration{gpuTol},
				Resources:   corev1.ResourceRequirements{Requests: corev1.ResourceList{"nvidia.com/gpu": two}, Limits: corev1.ResourceList{"nvidia.com/gpu": two}},
			},
		},
		"NodeSelectorExcludesHardware": {
			reason: "A nodeSelector no term of the GPU profile can match is a conflict naming both fields.",
			spec: v1alpha1.PerformerSpec{
				Scheduling: &v1alpha1.SchedulingConfig{NodeSelector: map[string]string{
					"nvidia.com/gpu.product": "Tesla-T4", "cloud.google.com/gke-accelerator": "nvidia-tesla-t4",
				}},
				HardwareRequirements: gpuA100,
			},
			err: `spec.scheduling.nodeSelector: Invalid value: {"cloud.google.com/gke-accelerator":"nvidia-tesla-t4","nvidia.com/gpu.product":"Tesla-T4"}: ` +
				`conflicts with spec.hardwareRequirements.gpuType (node selector terms no node can match together with it)`,
		},
		"CustomLabelConflict": {
			reason: "nodeSelector and customLabels asking for different values of one label conflict, naming both.",
			spec: v1alpha1.PerformerSpec{
				Scheduling:           &v1alpha1.SchedulingConfig{NodeSelector: map[string]string{"tier": "standard"}},
				HardwareRequirements: &v1alpha1.HardwareRequirements{CustomLabels: map[string]string{"tier": "premium"}},
			},
			err: `spec.scheduling.nodeSelector[tier]: Invalid value: "standard": conflicts with spec.hardwareRequirements.customLabels[tier] (premium)`,
		},
		"TEEUserWins": {
			reason: "The seed's TEE example: its explicit runtime class (kata) and EPC request win over the sgx profile's defaults; its sgx toleration stays beside the TEE one.",
			spec: v1alpha1.PerformerSpec{
				Resources: corev1.ResourceRequirements{Limits: corev1.ResourceList{"sgx.intel.com/epc": resource.MustParse("64Mi")}},
				Scheduling: &v1alpha1.SchedulingConfig{
					RuntimeClass: new("kata"),
					Tolerations:  []corev1.Toleration{{Key: "sgx", Operator: corev1.TolerationOpEqual, Value: "enabled", Effect: corev1.TaintEffectNoSchedule}},
				},
				HardwareRequirements: &v1alpha1.HardwareRequirements{TEERequired: true, TEEType: "sgx"},
			},
			want: &Scheduling{
				Affinity:         required(in("feature.node.kubernetes.io/cpu-security.sgx.enabled", "true")),
				RuntimeClassName: new("kata"),
				Tolerations: []corev1.Toleration{
					{Key: "sgx", Operator: corev1.TolerationOpEqual, Value: "enabled", Effect: corev1.TaintEffectNoSchedule}, teeTol,
				},
				Resources: corev1.ResourceRequirements{
					Limits:   corev1.ResourceList{"sgx.intel.com/epc": resource.MustParse("64Mi"), "sgx.intel.com/enclave": resource.MustParse("1")},
					Requests: corev1.ResourceList{"sgx.intel.com/enclave": resource.MustParse("1")},
				},
			},
		},
		"TEERuntimeDefault": {
			reason: "Without an explicit runtime class the TEE profile's applies.",
			spec:   v1alpha1.PerformerSpec{HardwareRequirements: &v1alpha1.HardwareRequirements{TEERequired: true, TEEType: "tdx"}},
			want: &Scheduling{
				Affinity:         required(in("feature.node.kubernetes.io/cpu-security.tdx.enabled", "true")),
				RuntimeClassName: new("kata-qemu-tdx"),
				Tolerations:      []corev1.Toleration{teeTol},
			},
		},
		"UserTolerationCoversTaint": {
			reason: "A user toleration for the GPU taint (any effect) replaces the hardware one.",
			spec: v1alpha1.PerformerSpec{
				Scheduling:           &v1alpha1.SchedulingConfig{Tolerations: []corev1.Toleration{{Key: "nvidia.com/gpu", Operator: corev1.TolerationOpEqual, Value: "present"}}},
				HardwareRequirements: &v1alpha1.HardwareRequirements{GPUCount: 1},
			},
			want: &Scheduling{
				Tolerations: []corev1.Toleration{{Key: "nvidia.com/gpu", Operator: corev1.TolerationOpEqual, Value: "present"}},
				Resources: corev1.ResourceRequirements{
					Requests: corev1.ResourceList{"nvidia.com/gpu": resource.MustParse("1")},
					Limits:   corev1.ResourceList{"nvidia.com/gpu": resource.MustParse("1")},
				},
			},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			n, err := Hardware(tc.spec.HardwareRequirements, DefaultPlatform())
			if err != nil {
				t.Fatal(err)
			}
			got, err := Schedule(&tc.spec, n)
			if diff := cmp.Diff(tc.err, errString(err)); diff != "" {
				t.Fatalf("%s\nSchedule(...): -want error, +got error:\n%s", tc.reason, diff)
			}
			if err != nil {
				return
			}
			if diff := cmp.Diff(tc.want, got, cmpQuantity, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("%s\nSchedule(...): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestScheduleTooManyTerms(t *testing.T) {
	var terms []corev1.NodeSelectorTerm
	for range 40 {
		terms = append(terms, in("zone", "a"))
	}
	spec := v1alpha1.PerformerSpec{Scheduling: &v1alpha1.SchedulingConfig{Affinity: required(terms...)}, HardwareRequirements: &v1alpha1.HardwareRequirements{GPUType: "nvidia-a100", GPUCount: 1}}
	n, err := Hardware(spec.HardwareRequirements, DefaultPlatform())
	if err != nil {
		t.Fatal(err)
	}
	want := "spec.scheduling.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution: Too many: 80: must have at most 64 items"
	if _, err := Schedule(&spec, n); errString(err) != want {
		t.Errorf("Schedule(...): want %q, got %v", want, err)
	}
}

func TestScheduleDoesNotMutateSpec(t *testing.T) {
	spec := v1alpha1.PerformerSpec{
		Scheduling:           &v1alpha1.SchedulingConfig{Affinity: required(in("a", "b")), NodeSelector: map[string]string{"x": "y"}},
		HardwareRequirements: &v1alpha1.HardwareRequirements{GPUType: "nvidia-l4", GPUCount: 1, CustomLabels: map[string]string{"k": "v"}},
	}
	before := spec.DeepCopy()
	n, err := Hardware(spec.HardwareRequirements, DefaultPlatform())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Schedule(&spec, n); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(before, &spec); diff != "" {
		t.Errorf("Schedule changed the spec: -before, +after:\n%s", diff)
	}
}
