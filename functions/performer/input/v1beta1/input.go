// Package v1beta1 contains the input type of the performer composition
// function: the platform's knobs, set in the Composition's pipeline step.
// Every field is optional; defaults live in the function (see
// functions/performer/platform.go) and are documented in the README.
//
// +kubebuilder:object:generate=true
// +groupName=performer.fn.hourglass.eigenlayer.io
// +versionName=v1beta1
package v1beta1

import (
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Input configures how the function turns Performers into Kubernetes
// objects on this platform.
//
// +kubebuilder:object:root=true
// +kubebuilder:storageversion
// +kubebuilder:resource:categories=crossplane
type Input struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Hardware maps a Performer's hardwareRequirements to node constraints,
	// tolerations, device resources and runtime classes.
	// +optional
	Hardware *Hardware `json:"hardware,omitempty"`

	// NetworkPolicy sets whether performers are isolated by a NetworkPolicy
	// unless their claim says otherwise, and who may reach them.
	// +optional
	NetworkPolicy *NetworkPolicy `json:"networkPolicy,omitempty"`

	// Security sets the security context of performer pods.
	// +optional
	Security *Security `json:"security,omitempty"`

	// Probes tunes the gRPC readiness and liveness probes.
	// +optional
	Probes *Probes `json:"probes,omitempty"`

	// Upgrade sets the blue-green upgrade defaults a claim may override.
	// +optional
	Upgrade *Upgrade `json:"upgrade,omitempty"`

	// ObservePods asks Crossplane for the performer's pods, so status
	// names the serving pod and says why a pod is not ready
	// (SchedulingFailed, HardwareUnavailable, ImagePullFailed,
	// CrashLoopBackOff). Crossplane then needs get, list and watch on pods.
	// Defaults to true.
	// +optional
	ObservePods *bool `json:"observePods,omitempty"`

	// Endpoint composes a PerformerEndpoint (observe.hourglass.eigenlayer.io)
	// per revision, so the performer provider health-checks it over gRPC.
	// Needs the provider installed.
	// +optional
	Endpoint *Endpoint `json:"endpoint,omitempty"`

	// Disruption sets how performers ride out node drains and node loss.
	// +optional
	Disruption *Disruption `json:"disruption,omitempty"`

	// Spread sets how performers are spread over nodes.
	// +optional
	Spread *Spread `json:"spread,omitempty"`
}

// Disruption configures how a performer keeps serving through node drains
// and comes back from node loss.
type Disruption struct {
	// Budget composes a PodDisruptionBudget per performer that refuses the
	// eviction of its serving pod while it is the only ready one, and
	// starts a second pod of the serving revision elsewhere while the
	// serving pod's node is cordoned or not ready; the eviction proceeds
	// once that pod is ready. Crossplane then needs to manage
	// PodDisruptionBudgets and read Nodes. Defaults to true.
	// +optional
	Budget *bool `json:"budget,omitempty"`

	// DrainTimeoutSeconds bounds how long a drain waits for a ready
	// replacement (counted from the replacement pod's creation): after it
	// the budget lets the eviction through and the Performer says
	// DrainTimedOut. Defaults to 600.
	// +optional
	// +kubebuilder:validation:Minimum=1
	DrainTimeoutSeconds *int32 `json:"drainTimeoutSeconds,omitempty"`

	// NodeLossTolerationSeconds is the tolerationSeconds of performer pods
	// for the node.kubernetes.io/not-ready and unreachable NoExecute
	// taints: how long a pod stays bound to a lost node before it is
	// evicted. Kubernetes' default is 300; a Performer's own tolerations
	// for these taints win. Defaults to 30.
	// +optional
	// +kubebuilder:validation:Minimum=0
	NodeLossTolerationSeconds *int32 `json:"nodeLossTolerationSeconds,omitempty"`
}

// Spread configures the preferred pod anti-affinity that spreads
// performers over nodes. A Performer that sets
// spec.scheduling.affinity.podAntiAffinity replaces it.
type Spread struct {
	// TopologyKey is the node label whose values count as different
	// places. Defaults to kubernetes.io/hostname.
	// +optional
	// +kubebuilder:validation:MinLength=1
	TopologyKey *string `json:"topologyKey,omitempty"`

	// SameAVSWeight is the weight of keeping performers of one AVS apart;
	// 0 turns it off. Defaults to 100.
	// +optional
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=100
	SameAVSWeight *int32 `json:"sameAVSWeight,omitempty"`

	// AnyPerformerWeight is the weight of keeping performers apart
	// whatever their AVS; 0 turns it off. Defaults to 50.
	// +optional
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=100
	AnyPerformerWeight *int32 `json:"anyPerformerWeight,omitempty"`
}

// Endpoint configures the PerformerEndpoints the provider observes.
type Endpoint struct {
	// Enabled composes them. With it, a revision is ready only once the
	// provider finds it healthy, and an upgrade switches traffic only then.
	// Off by default: the provider is a separate package.
	// +optional
	Enabled *bool `json:"enabled,omitempty"`

	// HealthCheck turns the provider's gRPC health check on. Turn it off
	// where the provider cannot reach the pod network. Defaults to true.
	// +optional
	HealthCheck *bool `json:"healthCheck,omitempty"`

	// HealthCheckTimeoutSeconds bounds one check. Defaults to 2.
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=30
	HealthCheckTimeoutSeconds *int32 `json:"healthCheckTimeoutSeconds,omitempty"`

	// HealthCheckClients are where the provider's health checks come from.
	// With endpoints, health checks and a NetworkPolicy on, the policy
	// admits them to the gRPC port too — else the policy would keep every
	// performer unready. Defaults to the provider-hourglass pods in
	// crossplane-system.
	// +optional
	HealthCheckClients []networkingv1.NetworkPolicyPeer `json:"healthCheckClients,omitempty"`
}

// Hardware holds the hardware profiles.
type Hardware struct {
	// GPU configures how gpuType and gpuCount are honoured.
	// +optional
	GPU *GPU `json:"gpu,omitempty"`

	// TEE configures how teeType is honoured. Entries replace the built-in
	// profile of the same type; built-in profiles not listed stay.
	// +optional
	// +listType=map
	// +listMapKey=type
	TEE []TEEProfile `json:"tee,omitempty"`

	// ResourceLabelKeys are customLabels keys that name an extended
	// resource rather than a node label: a customLabels entry with one of
	// these keys becomes a request and limit of that resource, with the
	// label value as quantity (e.g. sgx.intel.com/epc: 128Mi). Replaces the
	// built-in list when set.
	// +optional
	// +listType=set
	ResourceLabelKeys []string `json:"resourceLabelKeys,omitempty"`
}

// GPU configures GPU scheduling.
type GPU struct {
	// ResourceName is the extended resource gpuCount is requested as.
	// +optional
	ResourceName *string `json:"resourceName,omitempty"`

	// Tolerations are added to every pod that asks for GPUs. Replace the
	// built-in ones when set.
	// +optional
	Tolerations []corev1.Toleration `json:"tolerations,omitempty"`

	// Types maps gpuType values to node constraints. Entries replace the
	// built-in profile of the same name; built-in profiles not listed stay.
	// +optional
	// +listType=map
	// +listMapKey=name
	Types []GPUType `json:"types,omitempty"`

	// FallbackNodeLabel, when set, lets a gpuType without a profile schedule
	// onto nodes labelled {FallbackNodeLabel}={gpuType}. When empty an
	// unknown gpuType is an error naming the known ones.
	// +optional
	FallbackNodeLabel *string `json:"fallbackNodeLabel,omitempty"`
}

// GPUType maps one gpuType value to node constraints.
type GPUType struct {
	// Name is the gpuType value, e.g. nvidia-a100.
	Name string `json:"name"`

	// NodeSelectorTerms a node must match one of (they are ORed, as in
	// required node affinity), e.g. one for NVIDIA GPU Feature Discovery's
	// nvidia.com/gpu.product and one for GKE's
	// cloud.google.com/gke-accelerator.
	// +kubebuilder:validation:MinItems=1
	NodeSelectorTerms []corev1.NodeSelectorTerm `json:"nodeSelectorTerms"`
}

// TEEProfile maps one teeType value to what a pod needs to run in it.
type TEEProfile struct {
	// Type is the teeType value.
	// +kubebuilder:validation:Enum=sgx;sev;sev-snp;tdx
	Type string `json:"type"`

	// NodeSelectorTerms a node must match one of.
	// +optional
	NodeSelectorTerms []corev1.NodeSelectorTerm `json:"nodeSelectorTerms,omitempty"`

	// Tolerations added to the pod.
	// +optional
	Tolerations []corev1.Toleration `json:"tolerations,omitempty"`

	// Resources are device-plugin resources requested (and limited) for
	// the performer container, e.g. sgx.intel.com/enclave: 1.
	// +optional
	Resources corev1.ResourceList `json:"resources,omitempty"`

	// RuntimeClassName is the runtime class for confidential containers,
	// used unless the claim sets scheduling.runtimeClass. Empty means none.
	// +optional
	RuntimeClassName *string `json:"runtimeClassName,omitempty"`
}

// NetworkPolicy configures the optional NetworkPolicy.
type NetworkPolicy struct {
	// Enabled is the platform default; a claim's spec.networkPolicy.enabled
	// overrides it. Off by default, because the allowed clients must carry
	// the selected labels before isolation can be switched on.
	// +optional
	Enabled *bool `json:"enabled,omitempty"`

	// AllowedClients may reach a performer's gRPC port. Without a
	// namespaceSelector a peer selects pods of the performer's own
	// namespace. Defaults to pods labelled hourglass.eigenlayer.io/role:
	// executor.
	// +optional
	AllowedClients []networkingv1.NetworkPolicyPeer `json:"allowedClients,omitempty"`
}

// Security configures pod and container security contexts.
type Security struct {
	// Profile is Restricted (the default: Pod Security Standards
	// restricted: non-root, RuntimeDefault seccomp, no privilege
	// escalation, all capabilities dropped) or Unconfined (no security
	// context is set: the image and the namespace's policy decide).
	// +optional
	// +kubebuilder:validation:Enum=Restricted;Unconfined
	Profile *string `json:"profile,omitempty"`

	// RunAsUser sets a numeric user, for images whose USER is a name.
	// +optional
	RunAsUser *int64 `json:"runAsUser,omitempty"`

	// RunAsGroup sets a numeric group.
	// +optional
	RunAsGroup *int64 `json:"runAsGroup,omitempty"`

	// FSGroup sets the group owning mounted volumes.
	// +optional
	FSGroup *int64 `json:"fsGroup,omitempty"`

	// ReadOnlyRootFilesystem mounts the container's root read-only.
	// +optional
	ReadOnlyRootFilesystem *bool `json:"readOnlyRootFilesystem,omitempty"`
}

// Probes tunes the kubelet gRPC probes.
type Probes struct {
	// Readiness decides when a performer takes traffic.
	// +optional
	Readiness *ProbeTiming `json:"readiness,omitempty"`

	// Liveness decides when a performer is restarted.
	// +optional
	Liveness *ProbeTiming `json:"liveness,omitempty"`
}

// ProbeTiming is the timing of one probe; unset fields keep their defaults.
type ProbeTiming struct {
	// +optional
	// +kubebuilder:validation:Minimum=0
	InitialDelaySeconds *int32 `json:"initialDelaySeconds,omitempty"`
	// +optional
	// +kubebuilder:validation:Minimum=1
	PeriodSeconds *int32 `json:"periodSeconds,omitempty"`
	// +optional
	// +kubebuilder:validation:Minimum=1
	TimeoutSeconds *int32 `json:"timeoutSeconds,omitempty"`
	// +optional
	// +kubebuilder:validation:Minimum=1
	FailureThreshold *int32 `json:"failureThreshold,omitempty"`
}

// Upgrade sets blue-green upgrade defaults.
type Upgrade struct {
	// DrainSeconds is how long the previous revision keeps running after
	// traffic switched.
	// +optional
	// +kubebuilder:validation:Minimum=0
	DrainSeconds *int32 `json:"drainSeconds,omitempty"`

	// ProgressDeadlineSeconds is how long a new revision may take to become
	// ready before the upgrade is marked failed.
	// +optional
	// +kubebuilder:validation:Minimum=10
	ProgressDeadlineSeconds *int32 `json:"progressDeadlineSeconds,omitempty"`
}
