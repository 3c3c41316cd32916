package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// PerformerSpec is the desired state of a performer, field for field as the
// Hourglass Performer API reference documents it. Fields after
// ImagePullSecrets are additive and optional.
//
// +kubebuilder:validation:XValidation:rule="!has(self.version) || !self.image.substring(self.image.lastIndexOf('/') + 1).split('@')[0].contains(':') || self.image.substring(self.image.lastIndexOf('/') + 1).split('@')[0].endsWith(':' + self.version)",message="spec.version must equal the tag of spec.image when the image has a tag",fieldPath=".version",reason=FieldValueInvalid
type PerformerSpec struct {
	// AVSAddress identifies the AVS this performer serves: an Ethereum
	// address, 0x followed by 40 hexadecimal characters.
	// +kubebuilder:validation:MaxLength=42
	// +kubebuilder:validation:XValidation:rule="self.matches('^0x[0-9a-fA-F]{40}$')",message="spec.avsAddress must be an Ethereum address: 0x followed by 40 hexadecimal characters"
	AVSAddress string `json:"avsAddress"`

	// Image is the performer's container image reference:
	// repository[:tag][@digest]. When it has neither tag nor digest and
	// version is set, version is used as the tag.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=512
	// +kubebuilder:validation:XValidation:rule="self.matches('^(([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(\\\\.([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*(:[0-9]+)?/)?[a-z0-9]+((\\\\.|_|__|-+)[a-z0-9]+)*(/[a-z0-9]+((\\\\.|_|__|-+)[a-z0-9]+)*)*(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(@[A-Za-z][A-Za-z0-9]*([-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,})?$')",message="spec.image must be a valid image reference: repository[:tag][@digest] with a lowercase repository"
	Image string `json:"image"`

	// ImagePullPolicy is the container's image pull policy, as the original
	// Hourglass operator's API has it. Unset leaves Kubernetes' default
	// (Always for :latest or no tag, IfNotPresent otherwise).
	// +optional
	// +kubebuilder:validation:Enum=Always;Never;IfNotPresent
	ImagePullPolicy corev1.PullPolicy `json:"imagePullPolicy,omitempty"`

	// Version of the performer, used for upgrade tracking and as the image
	// tag when the image has none. Changing it starts a blue-green upgrade.
	// +optional
	// +kubebuilder:validation:MaxLength=128
	// +kubebuilder:validation:XValidation:rule="self.matches('^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$')",message="spec.version must be a valid image tag: letters, digits, '_', '.' and '-', not starting with '.' or '-'"
	Version string `json:"version,omitempty"`

	// Config is the performer process configuration.
	// +optional
	// +kubebuilder:default={}
	Config PerformerConfig `json:"config,omitzero"`

	// Resources are the compute resources of the performer container.
	// +optional
	Resources corev1.ResourceRequirements `json:"resources,omitzero"`

	// Scheduling constrains where the performer pod runs.
	// +optional
	Scheduling *SchedulingConfig `json:"scheduling,omitempty"`

	// HardwareRequirements asks for specialised hardware (GPU, TEE). The
	// platform's hardware profiles turn them into node constraints and
	// resource requests.
	// +optional
	HardwareRequirements *HardwareRequirements `json:"hardwareRequirements,omitempty"`

	// ImagePullSecrets name Secrets in the performer's namespace used to pull
	// the image.
	// +optional
	// +kubebuilder:validation:MaxItems=16
	// +kubebuilder:validation:items:XValidation:rule="size(self.name) > 0",message="spec.imagePullSecrets[].name must not be empty"
	ImagePullSecrets []corev1.LocalObjectReference `json:"imagePullSecrets,omitempty"`

	// NetworkPolicy overrides the platform's default for isolating the
	// performer's gRPC port to its allowed clients.
	// +optional
	NetworkPolicy *NetworkPolicyConfig `json:"networkPolicy,omitempty"`

	// Upgrade tunes blue-green upgrades of this performer, overriding the
	// platform's defaults.
	// +optional
	Upgrade *UpgradeConfig `json:"upgrade,omitempty"`

	// Crossplane holds the fields Crossplane reads and sets on every
	// composite: the Composition (and revision) in use and the composed
	// resources. Crossplane supplies their schema, so the generated
	// definition leaves this field out.
	// +optional
	Crossplane *CrossplaneFields `json:"crossplane,omitempty"`
}

// CrossplaneFields are the spec.crossplane fields of a Crossplane v2
// composite that clients of this API set: which Composition, and which of
// its revisions, a performer composes with.
type CrossplaneFields struct {
	// CompositionRef names the Composition in use.
	// +optional
	CompositionRef *corev1.LocalObjectReference `json:"compositionRef,omitempty"`

	// CompositionSelector selects a Composition by labels.
	// +optional
	CompositionSelector *metav1.LabelSelector `json:"compositionSelector,omitempty"`

	// CompositionRevisionRef pins a CompositionRevision.
	// +optional
	CompositionRevisionRef *corev1.LocalObjectReference `json:"compositionRevisionRef,omitempty"`

	// CompositionRevisionSelector follows CompositionRevisions by labels,
	// e.g. a release channel.
	// +optional
	CompositionRevisionSelector *metav1.LabelSelector `json:"compositionRevisionSelector,omitempty"`

	// CompositionUpdatePolicy is Automatic or Manual.
	// +optional
	CompositionUpdatePolicy *string `json:"compositionUpdatePolicy,omitempty"`
}

// PerformerConfig configures the performer process. Environment variables
// come from three places: env (the API reference's Kubernetes EnvVar list),
// environment and environmentFrom (the original Hourglass operator's format,
// which its executor writes). A name may be set in only one of them; the
// refusal names both places and the variable. The message expressions map
// to names before filtering: filtering the objects themselves is estimated
// far over the API server's CEL cost budget, and the static message stays
// for when an expression cannot be evaluated.
//
// +kubebuilder:validation:XValidation:rule="!has(self.env) || !has(self.environment) || self.env.all(e, !(e.name in self.environment))",message="spec.config.env and spec.config.environment both set the same variable: set each variable in one place",messageExpression="'spec.config.env and spec.config.environment both set ' + self.env.map(e, e.name).filter(n, n in self.environment)[0] + ': set each variable in one place'"
// +kubebuilder:validation:XValidation:rule="!has(self.env) || !has(self.environmentFrom) || self.env.all(e, self.environmentFrom.all(f, f.name != e.name))",message="spec.config.env and spec.config.environmentFrom both set the same variable: set each variable in one place",messageExpression="'spec.config.env and spec.config.environmentFrom both set ' + self.env.map(e, e.name).filter(n, self.environmentFrom.exists(f, f.name == n))[0] + ': set each variable in one place'"
// +kubebuilder:validation:XValidation:rule="!has(self.environment) || !has(self.environmentFrom) || self.environmentFrom.all(f, !(f.name in self.environment))",message="spec.config.environment and spec.config.environmentFrom both set the same variable: set each variable in one place",messageExpression="'spec.config.environment and spec.config.environmentFrom both set ' + self.environmentFrom.map(f, f.name).filter(n, n in self.environment)[0] + ': set each variable in one place'"
type PerformerConfig struct {
	// GRPCPort is the port the performer serves gRPC on.
	// +optional
	// +kubebuilder:default=9090
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=65535
	GRPCPort int32 `json:"grpcPort,omitempty"`

	// Env are environment variables of the performer container, with the
	// full Kubernetes EnvVar type (value or valueFrom). Names are unique: the
	// API server enforces it for a list map.
	// +optional
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=256
	Env []corev1.EnvVar `json:"env,omitempty"`

	// Environment are environment variables by name, in the original
	// Hourglass operator's format. The container gets them in sorted name
	// order, before environmentFrom and env.
	// +optional
	// +kubebuilder:validation:MaxProperties=256
	// +kubebuilder:validation:XValidation:rule="self.all(k, size(k) <= 256 && k.matches('^[-._a-zA-Z][-._a-zA-Z0-9]*$'))",message="spec.config.environment names must be valid environment variable names: letters, digits, '_', '-' and '.', not starting with a digit"
	Environment map[string]string `json:"environment,omitempty"`

	// EnvironmentFrom are environment variables read from a key of a Secret
	// or ConfigMap in the performer's namespace, in the original Hourglass
	// operator's format. At most 64: checking every name against env's 256
	// must fit the API server's CEL cost limit per call.
	// +optional
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=64
	EnvironmentFrom []EnvironmentFromSource `json:"environmentFrom,omitempty"`

	// Args are additional command line arguments.
	// +optional
	// +kubebuilder:validation:MaxItems=256
	Args []string `json:"args,omitempty"`

	// Command overrides the container entrypoint.
	// +optional
	// +kubebuilder:validation:MaxItems=256
	Command []string `json:"command,omitempty"`

	// ServiceAccountName is the ServiceAccount the performer pod runs as.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:XValidation:rule="self.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$')",message="spec.config.serviceAccountName must be a DNS subdomain: lowercase letters, digits, '-' and '.'"
	ServiceAccountName string `json:"serviceAccountName,omitempty"`
}

// EnvironmentFromSource is one environment variable whose value is a key of
// a Secret or ConfigMap.
type EnvironmentFromSource struct {
	// Name of the environment variable.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=256
	// +kubebuilder:validation:XValidation:rule="self.matches('^[-._a-zA-Z][-._a-zA-Z0-9]*$')",message="spec.config.environmentFrom[].name must be a valid environment variable name: letters, digits, '_', '-' and '.', not starting with a digit"
	Name string `json:"name"`

	// ValueFrom is the Secret or ConfigMap key the value is read from.
	ValueFrom EnvironmentValueSource `json:"valueFrom"`
}

// EnvironmentValueSource selects exactly one key of a Secret or ConfigMap.
//
// +kubebuilder:validation:XValidation:rule="has(self.secretKeyRef) != has(self.configMapKeyRef)",message="spec.config.environmentFrom[].valueFrom must set exactly one of secretKeyRef and configMapKeyRef"
type EnvironmentValueSource struct {
	// SecretKeyRef selects a key of a Secret in the performer's namespace.
	// +optional
	SecretKeyRef *KeySelector `json:"secretKeyRef,omitempty"`

	// ConfigMapKeyRef selects a key of a ConfigMap in the performer's
	// namespace.
	// +optional
	ConfigMapKeyRef *KeySelector `json:"configMapKeyRef,omitempty"`
}

// KeySelector names a key of a Secret or ConfigMap.
type KeySelector struct {
	// Name of the Secret or ConfigMap.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`

	// Key within it.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Key string `json:"key"`
}

// SchedulingConfig constrains where the performer pod runs. Explicit settings
// here win over what hardware profiles add.
type SchedulingConfig struct {
	// NodeSelector are labels a node must carry.
	// +optional
	// +kubebuilder:validation:MaxProperties=64
	// +kubebuilder:validation:XValidation:rule="self.all(k, k.matches('^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$'))",message="spec.scheduling.nodeSelector keys must be valid label keys"
	NodeSelector map[string]string `json:"nodeSelector,omitempty"`

	// Tolerations let the pod run on tainted nodes.
	// +optional
	// +kubebuilder:validation:MaxItems=64
	Tolerations []corev1.Toleration `json:"tolerations,omitempty"`

	// Affinity is the full Kubernetes affinity: node, pod and anti-affinity.
	// +optional
	Affinity *corev1.Affinity `json:"affinity,omitempty"`

	// RuntimeClass is the RuntimeClass the pod runs with, e.g. gvisor, kata.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:XValidation:rule="self.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$')",message="spec.scheduling.runtimeClass must be a DNS subdomain: lowercase letters, digits, '-' and '.'"
	RuntimeClass *string `json:"runtimeClass,omitempty"`

	// PriorityClassName is the PriorityClass of the pod.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:XValidation:rule="self.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$')",message="spec.scheduling.priorityClassName must be a DNS subdomain: lowercase letters, digits, '-' and '.'"
	PriorityClassName *string `json:"priorityClassName,omitempty"`
}

// HardwareRequirements asks for specialised hardware.
//
// +kubebuilder:validation:XValidation:rule="!has(self.gpuType) || (has(self.gpuCount) && self.gpuCount >= 1)",message="spec.hardwareRequirements.gpuCount must be at least 1 when gpuType is set",fieldPath=".gpuCount",reason=FieldValueRequired
// +kubebuilder:validation:XValidation:rule="!(has(self.teeRequired) && self.teeRequired) || has(self.teeType)",message="spec.hardwareRequirements.teeType is required when teeRequired is true",fieldPath=".teeType",reason=FieldValueRequired
// +kubebuilder:validation:XValidation:rule="!has(self.teeType) || (has(self.teeRequired) && self.teeRequired)",message="spec.hardwareRequirements.teeRequired must be true when teeType is set",fieldPath=".teeRequired",reason=FieldValueInvalid
type HardwareRequirements struct {
	// GPUType names the GPU model, e.g. nvidia-tesla-v100, nvidia-a100. The
	// platform's hardware profiles map it to node constraints.
	// +optional
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:XValidation:rule="self.matches('^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$')",message="spec.hardwareRequirements.gpuType must be lowercase letters, digits, '-' and '.'"
	GPUType string `json:"gpuType,omitempty"`

	// GPUCount is the number of GPUs required.
	// +optional
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=64
	GPUCount int32 `json:"gpuCount,omitempty"`

	// TEERequired asks for a Trusted Execution Environment.
	// +optional
	TEERequired bool `json:"teeRequired,omitempty"`

	// TEEType is the TEE technology.
	// +optional
	// +kubebuilder:validation:Enum=sgx;sev;sev-snp;tdx
	TEEType string `json:"teeType,omitempty"`

	// CustomLabels are node labels the performer requires, turned into
	// required node affinity.
	// +optional
	// +kubebuilder:validation:MaxProperties=32
	// +kubebuilder:validation:XValidation:rule="self.all(k, k.matches('^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$'))",message="spec.hardwareRequirements.customLabels keys must be valid label keys"
	CustomLabels map[string]string `json:"customLabels,omitempty"`
}

// NetworkPolicyConfig controls the NetworkPolicy that isolates the
// performer's gRPC port.
type NetworkPolicyConfig struct {
	// Enabled composes a NetworkPolicy that admits only the allowed clients
	// (by default the executor pods of the same namespace) to the gRPC port.
	// Unset follows the platform default.
	// +optional
	Enabled *bool `json:"enabled,omitempty"`
}

// UpgradeConfig tunes blue-green upgrades.
type UpgradeConfig struct {
	// DrainSeconds is how long the previous version keeps running after
	// traffic switched to the new one, so in-flight tasks finish.
	// +optional
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=86400
	DrainSeconds *int32 `json:"drainSeconds,omitempty"`

	// ProgressDeadlineSeconds is how long a new version may take to become
	// ready before the upgrade is marked failed.
	// +optional
	// +kubebuilder:validation:Minimum=10
	// +kubebuilder:validation:Maximum=86400
	ProgressDeadlineSeconds *int32 `json:"progressDeadlineSeconds,omitempty"`
}

// Phases of a performer.
const (
	PhasePending     = "Pending"
	PhaseRunning     = "Running"
	PhaseUpgrading   = "Upgrading"
	PhaseTerminating = "Terminating"
	PhaseFailed      = "Failed"
)

// PerformerStatus is the observed state of a performer. The fields of the
// API reference come first; the rest are additive.
type PerformerStatus struct {
	// Phase is one of Pending, Running, Upgrading, Terminating, Failed.
	// +optional
	// +kubebuilder:validation:Enum=Pending;Running;Upgrading;Terminating;Failed
	Phase string `json:"phase,omitempty"`

	// Ready is true exactly while the serving revision answers through the
	// Service (the Ready condition is True), as the original Hourglass
	// operator's status has it; executors poll it. Always written, false
	// included.
	// +optional
	Ready bool `json:"ready"`

	// PodName is the pod serving the performer.
	// +optional
	PodName string `json:"podName,omitempty"`

	// ServiceName is the Service in front of the performer.
	// +optional
	ServiceName string `json:"serviceName,omitempty"`

	// GRPCEndpoint is where executors reach the performer:
	// {service}.{namespace}.svc.cluster.local:{port}.
	// +optional
	GRPCEndpoint string `json:"grpcEndpoint,omitempty"`

	// ConnectionSecretName is the Secret in the performer's namespace that
	// holds its endpoint, host and port.
	// +optional
	ConnectionSecretName string `json:"connectionSecretName,omitempty"`

	// Conditions are Available, Progressing and Degraded with the reasons
	// of the API reference, beside Crossplane's Ready and Synced.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// LastUpgrade is when traffic last switched to a new version.
	// +optional
	LastUpgrade *metav1.Time `json:"lastUpgrade,omitempty"`

	// ReadyTime is when the performer became ready.
	// +optional
	ReadyTime *metav1.Time `json:"readyTime,omitempty"`

	// Active is the revision the Service sends traffic to.
	// +optional
	Active *RevisionStatus `json:"active,omitempty"`

	// Target is the revision an upgrade in progress moves to; empty when
	// no upgrade is in progress.
	// +optional
	Target *RevisionStatus `json:"target,omitempty"`

	// UpgradeStartTime is when the upgrade to Target began.
	// +optional
	UpgradeStartTime *metav1.Time `json:"upgradeStartTime,omitempty"`
}

// RevisionStatus identifies one revision (one Deployment) of a performer.
type RevisionStatus struct {
	// Revision is a short hash of everything that defines the pod template,
	// or "operator" for the pod the original Hourglass operator left, while
	// it serves during a takeover (docs/migration.md).
	Revision string `json:"revision"`

	// Image is the full image reference the revision runs.
	Image string `json:"image"`

	// Version is the spec.version the revision was made from.
	// +optional
	Version string `json:"version,omitempty"`

	// Deployment is the name of the revision's Deployment; empty for the
	// operator's pod.
	// +optional
	Deployment string `json:"deployment,omitempty"`
}

// Performer is the namespaced Crossplane composite executors and GitOps
// repositories apply. Its CRD is made by Crossplane from the generated
// definition.
//
// +kubebuilder:object:root=true
// +kubebuilder:resource:scope=Namespaced,categories=hourglass
// +kubebuilder:subresource:status
// +kubebuilder:printcolumn:name="AVS",type=string,JSONPath=".spec.avsAddress"
// +kubebuilder:printcolumn:name="IMAGE",type=string,JSONPath=".spec.image"
// +kubebuilder:printcolumn:name="VERSION",type=string,JSONPath=".spec.version"
// +kubebuilder:printcolumn:name="PHASE",type=string,JSONPath=".status.phase"
// +kubebuilder:printcolumn:name="ENDPOINT",type=string,JSONPath=".status.grpcEndpoint"
// +kubebuilder:printcolumn:name="POD",type=string,JSONPath=".status.podName",priority=1
// +kubebuilder:printcolumn:name="SERVICE",type=string,JSONPath=".status.serviceName",priority=1
// +kubebuilder:printcolumn:name="ACTIVE",type=string,JSONPath=".status.active.revision",priority=1
// +kubebuilder:printcolumn:name="LAST-UPGRADE",type=date,JSONPath=".status.lastUpgrade",priority=1
type Performer struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   PerformerSpec   `json:"spec"`
	Status PerformerStatus `json:"status,omitzero"`
}

// PerformerList is a list of Performer.
//
// +kubebuilder:object:root=true
type PerformerList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Performer `json:"items"`
}
