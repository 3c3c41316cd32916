package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"

	"github.com/crossplane/crossplane-runtime/v2/pkg/resource"

	hourglass "github.com/hourglass-xp/crossplane-hourglass/apis/hourglass/v1alpha1"
)

// Kinds of this API.
const (
	PerformerEndpointKind     = "PerformerEndpoint"
	PerformerEndpointListKind = "PerformerEndpointList"
)

var (
	// PerformerEndpointGroupKind is the group and kind of a PerformerEndpoint,
	// as managed reconcilers name their controllers.
	PerformerEndpointGroupKind = schema.GroupKind{Group: Group, Kind: PerformerEndpointKind}.String()

	// PerformerEndpointGroupVersionKind is the GVK of a PerformerEndpoint.
	PerformerEndpointGroupVersionKind = SchemeGroupVersion.WithKind(PerformerEndpointKind)
)

// Defaults of the gRPC health check.
const (
	DefaultHealthCheckTimeoutSeconds = 2
)

// Reasons a PerformerEndpoint reports in status.atProvider.reason and in its
// Ready condition. The composition function copies them to the Performer's
// conditions when the provider does not find a revision serving, so each is
// the Performer API's constant (apis/hourglass/v1alpha1, where they are
// documented), not a second spelling of it.
const (
	ReasonPodReady            = hourglass.ReasonPodReady
	ReasonServiceReady        = hourglass.ReasonServiceReady
	ReasonImagePullFailed     = hourglass.ReasonImagePullFailed
	ReasonSchedulingFailed    = hourglass.ReasonSchedulingFailed
	ReasonHardwareUnavailable = hourglass.ReasonHardwareUnavailable
	ReasonNoPods              = hourglass.ReasonNoPods
	ReasonPodPending          = hourglass.ReasonPodPending
	ReasonPodNotReady         = hourglass.ReasonPodNotReady
	ReasonCrashLoopBackOff    = hourglass.ReasonCrashLoopBackOff
	ReasonPodFailed           = hourglass.ReasonPodFailed
	ReasonNotServing          = hourglass.ReasonNotServing
	ReasonHealthCheckFailed   = hourglass.ReasonHealthCheckFailed
	ReasonServiceNotFound     = hourglass.ReasonServiceNotFound
	ReasonNoReadyEndpoints    = hourglass.ReasonNoReadyEndpoints
)

// Reasons of the events the provider records on a PerformerEndpoint when
// it becomes Ready or stops being Ready.
const (
	EventReady    = "PerformerReady"
	EventNotReady = "PerformerNotReady"
)

// Health states of the gRPC health check, in status.atProvider.health.
const (
	// HealthServing: grpc.health.v1.Health/Check answered SERVING.
	HealthServing = "Serving"
	// HealthNotServing: it answered NOT_SERVING, SERVICE_UNKNOWN or UNKNOWN.
	HealthNotServing = "NotServing"
	// HealthUnreachable: the call failed (refused, reset, unimplemented).
	HealthUnreachable = "Unreachable"
	// HealthTimeout: no answer within the timeout.
	HealthTimeout = "Timeout"
	// HealthDisabled: the check is off for this resource or this provider.
	HealthDisabled = "Disabled"
	// HealthUnknown: nothing to check yet (no ready pod).
	HealthUnknown = "Unknown"
)

// PerformerEndpointParameters name what to observe. Everything is in the
// resource's own namespace.
type PerformerEndpointParameters struct {
	// ServiceName is the Service in front of the performer, whose
	// EndpointSlices must have a ready endpoint and whose DNS name is
	// published as the endpoint. Empty observes the pods alone (e.g. a
	// revision the Service does not select yet).
	// +optional
	// +kubebuilder:validation:MaxLength=63
	ServiceName string `json:"serviceName,omitempty"`

	// Selector selects the performer's pods by label. The provider only
	// sees pods carrying its cache label (app=performer by default), so the
	// selector should include it.
	// +kubebuilder:validation:MinProperties=1
	Selector map[string]string `json:"selector"`

	// Port is the performer's gRPC port: health-checked on each ready pod
	// and published in the endpoint.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=65535
	Port int32 `json:"port"`

	// HealthCheck configures the grpc.health.v1 check of ready pods.
	// +optional
	HealthCheck *HealthCheck `json:"healthCheck,omitempty"`
}

// HealthCheck configures the gRPC health check. The check dials pod IPs
// directly, so it needs the provider to reach the pod network; turn it off
// where it cannot (Ready then means "pod ready and in the Service").
type HealthCheck struct {
	// Enabled turns the check on. Defaults to true.
	// +optional
	// +kubebuilder:default=true
	Enabled *bool `json:"enabled,omitempty"`

	// TimeoutSeconds bounds one check, connection included.
	// +optional
	// +kubebuilder:default=2
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=30
	TimeoutSeconds *int32 `json:"timeoutSeconds,omitempty"`
}

// PodsSummary counts the pods matching the selector.
type PodsSummary struct {
	// Total pods matching the selector, terminating ones excluded.
	Total int32 `json:"total"`
	// Scheduled pods: placed on a node.
	Scheduled int32 `json:"scheduled"`
	// Ready pods: their Ready condition is True.
	Ready int32 `json:"ready"`
	// Serving pods: ready pods that answered the gRPC health check with
	// SERVING (at most three ready pods are checked per observation), or
	// every ready pod when the check is disabled.
	Serving int32 `json:"serving"`
}

// PerformerEndpointObservation is what the provider last saw.
type PerformerEndpointObservation struct {
	// Endpoint is the Service's gRPC endpoint,
	// {service}.{namespace}.svc.cluster.local:{port}; empty without a
	// Service.
	// +optional
	Endpoint string `json:"endpoint,omitempty"`

	// PodName is the pod serving the performer; when none serves, the pod
	// whose state explains why (the newest one).
	// +optional
	PodName string `json:"podName,omitempty"`

	// Pods counts the pods matching the selector.
	// +optional
	Pods PodsSummary `json:"pods,omitzero"`

	// Scheduled is true when PodName is placed on a node.
	// +optional
	Scheduled bool `json:"scheduled"`

	// Healthy is true when at least one ready pod passes the health check
	// (or is ready, with the check disabled). Unlike Ready it does not need
	// the Service, so it also judges a revision not yet behind the Service.
	// +optional
	Healthy bool `json:"healthy"`

	// ServiceReady is true when the Service exists and its EndpointSlices
	// have at least one ready endpoint.
	// +optional
	ServiceReady bool `json:"serviceReady"`

	// ReadyEndpoints counts the ready endpoints of the Service's
	// EndpointSlices.
	// +optional
	ReadyEndpoints int32 `json:"readyEndpoints"`

	// Reason is the most precise known reason for the current state, one
	// of PodReady, ServiceReady, ImagePullFailed, SchedulingFailed,
	// HardwareUnavailable, NoPods, PodPending, PodNotReady,
	// CrashLoopBackOff, PodFailed, NotServing, HealthCheckFailed,
	// ServiceNotFound, NoReadyEndpoints.
	// +optional
	Reason string `json:"reason,omitempty"`

	// Message explains Reason for humans, with the scheduler's or kubelet's
	// own message where there is one.
	// +optional
	Message string `json:"message,omitempty"`

	// Restarts is the sum of container restarts of PodName.
	// +optional
	Restarts int32 `json:"restarts"`

	// Health is the outcome of the last gRPC health check: Serving,
	// NotServing, Unreachable, Timeout, Disabled or Unknown.
	// +optional
	Health string `json:"health,omitempty"`

	// LastHealthCheck is when the last gRPC health check ran.
	// +optional
	LastHealthCheck *metav1.Time `json:"lastHealthCheck,omitempty"`
}

// A PerformerEndpointSpec defines what a PerformerEndpoint observes.
type PerformerEndpointSpec struct {
	xpv2.ManagedResourceSpec `json:",inline"`
	ForProvider              PerformerEndpointParameters `json:"forProvider"`
}

// A PerformerEndpointStatus is the observed state of a PerformerEndpoint.
type PerformerEndpointStatus struct {
	xpv2.ManagedResourceStatus `json:",inline"`
	AtProvider                 PerformerEndpointObservation `json:"atProvider,omitempty"`
}

// +kubebuilder:object:root=true

// A PerformerEndpoint observes one performer's pods, Service and
// EndpointSlices, health-checks its pods over gRPC and publishes its
// endpoint (endpoint, host, port) as connection details. It is Ready when
// a ready pod answers the health check and, if a Service is named, the
// Service has a ready endpoint.
// +kubebuilder:printcolumn:name="READY",type="string",JSONPath=".status.conditions[?(@.type=='Ready')].status"
// +kubebuilder:printcolumn:name="SYNCED",type="string",JSONPath=".status.conditions[?(@.type=='Synced')].status"
// +kubebuilder:printcolumn:name="REASON",type="string",JSONPath=".status.atProvider.reason"
// +kubebuilder:printcolumn:name="POD",type="string",JSONPath=".status.atProvider.podName"
// +kubebuilder:printcolumn:name="ENDPOINT",type="string",JSONPath=".status.atProvider.endpoint",priority=1
// +kubebuilder:printcolumn:name="AGE",type="date",JSONPath=".metadata.creationTimestamp"
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Namespaced,categories={crossplane,managed,hourglass}
type PerformerEndpoint struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   PerformerEndpointSpec   `json:"spec"`
	Status PerformerEndpointStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// PerformerEndpointList contains a list of PerformerEndpoint.
type PerformerEndpointList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []PerformerEndpoint `json:"items"`
}

// HealthCheckEnabled reports whether the resource asks for the gRPC health
// check: on unless explicitly disabled.
func (p PerformerEndpointParameters) HealthCheckEnabled() bool {
	return p.HealthCheck == nil || p.HealthCheck.Enabled == nil || *p.HealthCheck.Enabled
}

// HealthCheckTimeoutSeconds is the check's timeout, defaulted.
func (p PerformerEndpointParameters) HealthCheckTimeoutSeconds() int32 {
	if p.HealthCheck == nil || p.HealthCheck.TimeoutSeconds == nil || *p.HealthCheck.TimeoutSeconds < 1 {
		return DefaultHealthCheckTimeoutSeconds
	}
	return *p.HealthCheck.TimeoutSeconds
}

func init() {
	SchemeBuilder.Register(&PerformerEndpoint{}, &PerformerEndpointList{})
}

// A PerformerEndpoint is a namespaced (modern) managed resource.
var (
	_ resource.ModernManaged = &PerformerEndpoint{}
	_ resource.ManagedList   = &PerformerEndpointList{}
)
