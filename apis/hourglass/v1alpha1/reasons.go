package v1alpha1

// Condition types of a Performer, beside Crossplane's Ready and Synced.
const (
	ConditionAvailable   = "Available"
	ConditionProgressing = "Progressing"
	ConditionDegraded    = "Degraded"
)

// Reasons of the Performer API reference.
const (
	ReasonPodReady            = "PodReady"
	ReasonServiceReady        = "ServiceReady"
	ReasonScheduled           = "Scheduled"
	ReasonImagePullFailed     = "ImagePullFailed"
	ReasonSchedulingFailed    = "SchedulingFailed"
	ReasonHardwareUnavailable = "HardwareUnavailable"
	ReasonUpgradeInProgress   = "UpgradeInProgress"
)

// Reasons for states the API reference has no word for. Every reason a
// Performer's conditions can carry is declared here: the composition
// function's own, and the PerformerEndpoint's (observe.hourglass.eigenlayer.io
// spells its reasons with these constants), which the function copies when
// the provider does not find a revision serving.
const (
	// ReasonPodNotReady: the pod is not ready yet (being scheduled,
	// starting, or its readiness probe not passing) and nothing says it
	// will not become ready.
	ReasonPodNotReady = "PodNotReady"
	// ReasonPodPending: a pod exists but the scheduler has not placed it
	// yet, or its containers are still being created.
	ReasonPodPending = "PodPending"
	// ReasonNoPods: no pod matches the revision's selector (not created
	// yet, or scaled to zero).
	ReasonNoPods = "NoPods"
	// ReasonCrashLoopBackOff: a container keeps exiting.
	ReasonCrashLoopBackOff = "CrashLoopBackOff"
	// ReasonPodFailed: the pod terminated and will not be restarted
	// (evicted, rejected by the kubelet), or a container cannot be created
	// as configured (a missing Secret or ConfigMap key, a failing hook).
	ReasonPodFailed = "PodFailed"
	// ReasonPodCreationFailed: the Deployment cannot create the pod (an
	// admission webhook, a quota or a missing RuntimeClass refuses it).
	ReasonPodCreationFailed = "PodCreationFailed"
	// ReasonProgressDeadlineExceeded: the Deployment gave up waiting, and
	// no pod says more precisely why.
	ReasonProgressDeadlineExceeded = "ProgressDeadlineExceeded"
	// ReasonServiceNotReady: the pod is ready; the Service has no cluster
	// IP yet.
	ReasonServiceNotReady = "ServiceNotReady"
	// ReasonRolloutInProgress: the serving revision is being rolled out
	// and its pod is not scheduled yet.
	ReasonRolloutInProgress = "RolloutInProgress"
	// ReasonAsExpected: nothing in progress (Progressing) or nothing wrong
	// (Degraded).
	ReasonAsExpected = "AsExpected"
	// ReasonDeleting: the Performer is being deleted.
	ReasonDeleting = "Deleting"
	// ReasonInvalidSpec: the spec cannot be composed; the message names the
	// field.
	ReasonInvalidSpec = "InvalidSpec"
	// ReasonInvalidInput: the platform's function input is invalid.
	ReasonInvalidInput = "InvalidInput"

	// ReasonEndpointNotObserved: the provider must find the revision
	// healthy and has not reported on it yet.
	ReasonEndpointNotObserved = "EndpointNotObserved"
	// ReasonNotServing: the pod answers grpc.health.v1 with a status other
	// than SERVING.
	ReasonNotServing = "NotServing"
	// ReasonHealthCheckFailed: the gRPC health check could not be made
	// (connection refused, timeout).
	ReasonHealthCheckFailed = "HealthCheckFailed"
	// ReasonServiceNotFound: the Service does not exist.
	ReasonServiceNotFound = "ServiceNotFound"
	// ReasonNoReadyEndpoints: the Service exists but none of its
	// EndpointSlices has a ready endpoint.
	ReasonNoReadyEndpoints = "NoReadyEndpoints"

	// ReasonTakeoverBlocked: the platform cannot take over what the
	// original Hourglass operator left for this Performer (a Service of its
	// name controlled by something else, or a port change the Service
	// cannot make while another field manager owns its port); the message
	// says what and what to do.
	ReasonTakeoverBlocked = "TakeoverBlocked"
	// ReasonNodeNotReady: the serving pod's node is not ready (lost, or
	// its kubelet stopped reporting); the pod is replaced on another node.
	ReasonNodeNotReady = "NodeNotReady"
	// ReasonNodeDisrupted: the serving pod's node is cordoned (drained) or
	// not ready, and another pod of the serving revision is starting
	// elsewhere before the old one goes.
	ReasonNodeDisrupted = "NodeDisrupted"
	// ReasonDrainTimedOut: a drain waited the platform's drain timeout and
	// no other node ran a ready replacement, so the eviction is allowed.
	ReasonDrainTimedOut = "DrainTimedOut"
)

// Reasons of the events recorded on a Performer: what `kubectl describe
// performer` shows when it changes. Crossplane records the composition
// function's results as events on the Performer; the provider records
// EventCrossplaneAccessDenied itself.
const (
	EventRunning         = "PerformerRunning"
	EventNotRunning      = "PerformerNotRunning"
	EventUpgradeStarted  = "UpgradeStarted"
	EventTrafficSwitched = "TrafficSwitched"
	EventDegraded        = "PerformerDegraded"
	EventRecovered       = "PerformerRecovered"
	// EventCrossplaneAccessDenied: Crossplane lacks a permission it needs
	// to compose the Performer; the message names it.
	EventCrossplaneAccessDenied = "CrossplaneAccessDenied"
)
