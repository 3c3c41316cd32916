package main

import (
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/hourglass-xp/crossplane-hourglass/functions/performer/input/v1beta1"
)

// Built-in defaults of the function input. Each is documented in the README;
// a Composition overrides them in its pipeline step's input.
const (
	// DefaultGPUResource is what NVIDIA's device plugin advertises.
	DefaultGPUResource = "nvidia.com/gpu"

	// LabelGFDProduct is set by NVIDIA GPU Feature Discovery (and the GPU
	// Operator) to the GPU's product name with spaces as dashes.
	LabelGFDProduct = "nvidia.com/gpu.product"

	// LabelGKEAccelerator is set by GKE on GPU node pools.
	LabelGKEAccelerator = "cloud.google.com/gke-accelerator"

	// LabelTEETaint is the taint key platforms may put on TEE nodes to keep
	// other workloads off them; TEE performers tolerate it.
	LabelTEETaint = "hourglass.eigenlayer.io/tee"

	// LabelExecutorRole and ExecutorRole select the executor pods that may
	// reach a performer when NetworkPolicy isolation is on.
	LabelExecutorRole = "hourglass.eigenlayer.io/role"
	ExecutorRole      = "executor"

	// LabelCrossplaneProvider is the label Crossplane's package manager puts
	// on a provider's pods, with the Provider's name; the provider of this
	// project installs as DefaultProviderName in DefaultProviderNamespace
	// (Crossplane's own namespace).
	LabelCrossplaneProvider  = "pkg.crossplane.io/provider"
	DefaultProviderName      = "hourglass-xp-provider-hourglass"
	DefaultProviderNamespace = "crossplane-system"

	// nfd is Node Feature Discovery's built-in label prefix.
	nfd = "feature.node.kubernetes.io/"

	SecurityRestricted = "Restricted"
	SecurityUnconfined = "Unconfined"

	DefaultDrainSeconds            = 30
	DefaultProgressDeadlineSeconds = 600
)

// Platform is the function input with every default applied: what the
// mapping code reads.
type Platform struct {
	GPUResource       corev1.ResourceName
	GPUTolerations    []corev1.Toleration
	GPUTypes          map[string][]corev1.NodeSelectorTerm
	GPUFallbackLabel  string
	TEE               map[string]v1beta1.TEEProfile
	ResourceLabelKeys map[string]bool

	NetworkPolicyEnabled bool
	AllowedClients       []networkingv1.NetworkPolicyPeer

	Security v1beta1.Security

	Readiness corev1.Probe
	Liveness  corev1.Probe

	DrainSeconds            int32
	ProgressDeadlineSeconds int32

	ObservePods bool

	Endpoints                         bool
	EndpointHealthCheck               bool
	EndpointHealthCheckTimeoutSeconds int32
	// HealthCheckClients are admitted by the NetworkPolicy when the
	// provider health-checks performers.
	HealthCheckClients []networkingv1.NetworkPolicyPeer

	// Disruption and Spread: how performers ride out node drains and node
	// loss (disruption.go, nodes.go) and spread over nodes (spread.go).
	Disruption Disruption
	Spread     Spread
}

// gpuTypes are the built-in GPU profiles: each matches nodes labelled by
// GKE or by NVIDIA GPU Feature Discovery. Names follow GKE's accelerator
// names, which is also how the Performer API reference writes them.
var gpuTypes = map[string]struct{ gke, gfd []string }{
	"nvidia-tesla-t4":   {gke: []string{"nvidia-tesla-t4"}, gfd: []string{"Tesla-T4"}},
	"nvidia-tesla-v100": {gke: []string{"nvidia-tesla-v100"}, gfd: []string{"Tesla-V100-SXM2-16GB", "Tesla-V100-SXM2-32GB", "Tesla-V100-PCIE-16GB", "Tesla-V100-PCIE-32GB"}},
	"nvidia-tesla-a100": {gke: []string{"nvidia-tesla-a100"}, gfd: []string{"NVIDIA-A100-SXM4-40GB", "NVIDIA-A100-PCIE-40GB"}},
	"nvidia-a100":       {gke: []string{"nvidia-tesla-a100", "nvidia-a100-80gb"}, gfd: []string{"NVIDIA-A100-SXM4-40GB", "NVIDIA-A100-SXM4-80GB", "NVIDIA-A100-PCIE-40GB", "NVIDIA-A100-80GB-PCIe"}},
	"nvidia-a100-80gb":  {gke: []string{"nvidia-a100-80gb"}, gfd: []string{"NVIDIA-A100-SXM4-80GB", "NVIDIA-A100-80GB-PCIe"}},
	"nvidia-l4":         {gke: []string{"nvidia-l4"}, gfd: []string{"NVIDIA-L4"}},
	"nvidia-h100":       {gke: []string{"nvidia-h100-80gb", "nvidia-h100-mega-80gb"}, gfd: []string{"NVIDIA-H100-80GB-HBM3", "NVIDIA-H100-PCIe"}},
	"nvidia-h100-80gb":  {gke: []string{"nvidia-h100-80gb"}, gfd: []string{"NVIDIA-H100-80GB-HBM3"}},
	"nvidia-h200":       {gke: []string{"nvidia-h200-141gb"}, gfd: []string{"NVIDIA-H200"}},
}

func defaultGPUTypes() map[string][]corev1.NodeSelectorTerm {
	out := make(map[string][]corev1.NodeSelectorTerm, len(gpuTypes))
	for name, t := range gpuTypes {
		out[name] = []corev1.NodeSelectorTerm{
			{MatchExpressions: []corev1.NodeSelectorRequirement{{Key: LabelGFDProduct, Operator: corev1.NodeSelectorOpIn, Values: t.gfd}}},
			{MatchExpressions: []corev1.NodeSelectorRequirement{{Key: LabelGKEAccelerator, Operator: corev1.NodeSelectorOpIn, Values: t.gke}}},
		}
	}
	return out
}

func nfdTrue(feature string) []corev1.NodeSelectorTerm {
	return []corev1.NodeSelectorTerm{{MatchExpressions: []corev1.NodeSelectorRequirement{
		{Key: nfd + feature, Operator: corev1.NodeSelectorOpIn, Values: []string{"true"}},
	}}}
}

func teeToleration() []corev1.Toleration {
	return []corev1.Toleration{{Key: LabelTEETaint, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}}
}

// defaultTEE are the built-in TEE profiles. SGX enclaves run in ordinary
// containers with the Intel SGX device plugin's devices; SEV, SEV-SNP and
// TDX run whole pods as confidential VMs with the Confidential Containers
// runtime classes.
func defaultTEE() map[string]v1beta1.TEEProfile {
	return map[string]v1beta1.TEEProfile{
		"sgx": {
			Type:              "sgx",
			NodeSelectorTerms: nfdTrue("cpu-security.sgx.enabled"),
			Tolerations:       teeToleration(),
			Resources: corev1.ResourceList{
				"sgx.intel.com/enclave": resource.MustParse("1"),
				"sgx.intel.com/epc":     resource.MustParse("512Ki"),
			},
		},
		"sev": {
			Type:              "sev",
			NodeSelectorTerms: nfdTrue("cpu-security.sev.enabled"),
			Tolerations:       teeToleration(),
			RuntimeClassName:  new("kata-qemu-sev"),
		},
		"sev-snp": {
			Type:              "sev-snp",
			NodeSelectorTerms: nfdTrue("cpu-security.sev.snp.enabled"),
			Tolerations:       teeToleration(),
			RuntimeClassName:  new("kata-qemu-snp"),
		},
		"tdx": {
			Type:              "tdx",
			NodeSelectorTerms: nfdTrue("cpu-security.tdx.enabled"),
			Tolerations:       teeToleration(),
			RuntimeClassName:  new("kata-qemu-tdx"),
		},
	}
}

// DefaultPlatform is the platform with no input at all.
func DefaultPlatform() *Platform {
	pl, _ := NewPlatform(nil)
	return pl
}

// NewPlatform applies the built-in defaults to the input. Errors name the
// input field.
func NewPlatform(in *v1beta1.Input) (*Platform, error) {
	pl := &Platform{
		GPUResource:       DefaultGPUResource,
		GPUTolerations:    []corev1.Toleration{{Key: DefaultGPUResource, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}},
		GPUTypes:          defaultGPUTypes(),
		TEE:               defaultTEE(),
		ResourceLabelKeys: map[string]bool{"sgx.intel.com/epc": true},
		AllowedClients: []networkingv1.NetworkPolicyPeer{{
			PodSelector: &metav1.LabelSelector{MatchLabels: map[string]string{LabelExecutorRole: ExecutorRole}},
		}},
		Security:                v1beta1.Security{Profile: new(SecurityRestricted)},
		Readiness:               corev1.Probe{PeriodSeconds: 5, TimeoutSeconds: 2, FailureThreshold: 3, SuccessThreshold: 1},
		Liveness:                corev1.Probe{InitialDelaySeconds: 10, PeriodSeconds: 10, TimeoutSeconds: 2, FailureThreshold: 3, SuccessThreshold: 1},
		DrainSeconds:            DefaultDrainSeconds,
		ProgressDeadlineSeconds: DefaultProgressDeadlineSeconds,
		ObservePods:             true,

		EndpointHealthCheck:               true,
		EndpointHealthCheckTimeoutSeconds: 2,
		HealthCheckClients: []networkingv1.NetworkPolicyPeer{{
			NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{corev1.LabelMetadataName: DefaultProviderNamespace}},
			PodSelector:       &metav1.LabelSelector{MatchLabels: map[string]string{LabelCrossplaneProvider: DefaultProviderName}},
		}},
		Disruption: defaultDisruption(),
		Spread:     defaultSpread(),
	}
	if in == nil {
		return pl, nil
	}
	if err := pl.applyHardware(in.Hardware, field.NewPath("hardware")); err != nil {
		return nil, err
	}
	if err := pl.Disruption.apply(in.Disruption, field.NewPath("disruption")); err != nil {
		return nil, err
	}
	if err := pl.Spread.apply(in.Spread, field.NewPath("spread")); err != nil {
		return nil, err
	}
	if np := in.NetworkPolicy; np != nil {
		if np.Enabled != nil {
			pl.NetworkPolicyEnabled = *np.Enabled
		}
		if len(np.AllowedClients) > 0 {
			pl.AllowedClients = np.AllowedClients
		}
	}
	if s := in.Security; s != nil {
		if s.Profile != nil {
			if *s.Profile != SecurityRestricted && *s.Profile != SecurityUnconfined {
				return nil, field.NotSupported(field.NewPath("security", "profile"), *s.Profile, []string{SecurityRestricted, SecurityUnconfined})
			}
			pl.Security.Profile = s.Profile
		}
		pl.Security.RunAsUser, pl.Security.RunAsGroup, pl.Security.FSGroup = s.RunAsUser, s.RunAsGroup, s.FSGroup
		pl.Security.ReadOnlyRootFilesystem = s.ReadOnlyRootFilesystem
	}
	if pr := in.Probes; pr != nil {
		applyTiming(&pl.Readiness, pr.Readiness)
		applyTiming(&pl.Liveness, pr.Liveness)
	}
	if in.ObservePods != nil {
		pl.ObservePods = *in.ObservePods
	}
	if e := in.Endpoint; e != nil {
		setBool(&pl.Endpoints, e.Enabled)
		setBool(&pl.EndpointHealthCheck, e.HealthCheck)
		if e.HealthCheckTimeoutSeconds != nil {
			pl.EndpointHealthCheckTimeoutSeconds = *e.HealthCheckTimeoutSeconds
		}
		if len(e.HealthCheckClients) > 0 {
			pl.HealthCheckClients = e.HealthCheckClients
		}
	}
	if u := in.Upgrade; u != nil {
		if u.DrainSeconds != nil {
			pl.DrainSeconds = *u.DrainSeconds
		}
		if u.ProgressDeadlineSeconds != nil {
			pl.ProgressDeadlineSeconds = *u.ProgressDeadlineSeconds
		}
	}
	return pl, nil
}

func (pl *Platform) applyHardware(hw *v1beta1.Hardware, path *field.Path) error {
	if hw == nil {
		return nil
	}
	if g := hw.GPU; g != nil {
		if g.ResourceName != nil {
			if *g.ResourceName == "" {
				return field.Required(path.Child("gpu", "resourceName"), "must not be empty when set")
			}
			pl.GPUResource = corev1.ResourceName(*g.ResourceName)
		}
		if g.Tolerations != nil {
			pl.GPUTolerations = g.Tolerations
		}
		for i, t := range g.Types {
			if len(t.NodeSelectorTerms) == 0 {
				return field.Required(path.Child("gpu", "types").Index(i).Child("nodeSelectorTerms"), "a GPU type needs at least one node selector term")
			}
			pl.GPUTypes[t.Name] = t.NodeSelectorTerms
		}
		if g.FallbackNodeLabel != nil {
			pl.GPUFallbackLabel = *g.FallbackNodeLabel
		}
	}
	for _, t := range hw.TEE {
		pl.TEE[t.Type] = t
	}
	if hw.ResourceLabelKeys != nil {
		pl.ResourceLabelKeys = make(map[string]bool, len(hw.ResourceLabelKeys))
		for _, k := range hw.ResourceLabelKeys {
			pl.ResourceLabelKeys[k] = true
		}
	}
	return nil
}

func setBool(dst *bool, src *bool) {
	if src != nil {
		*dst = *src
	}
}

func applyTiming(probe *corev1.Probe, t *v1beta1.ProbeTiming) {
	if t == nil {
		return
	}
	set := func(dst *int32, src *int32) {
		if src != nil {
			*dst = *src
		}
	}
	set(&probe.InitialDelaySeconds, t.InitialDelaySeconds)
	set(&probe.PeriodSeconds, t.PeriodSeconds)
	set(&probe.TimeoutSeconds, t.TimeoutSeconds)
	set(&probe.FailureThreshold, t.FailureThreshold)
}
