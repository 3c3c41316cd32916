package names

import "strings"

// Label keys on every object composed for a performer. app and
// performer-name are the ones the Performer API reference's kubectl commands
// select on; the app.kubernetes.io ones are Kubernetes' recommended labels.
const (
	LabelApp           = "app"
	LabelPerformerName = "performer-name"
	LabelAVS           = "hourglass.eigenlayer.io/avs"
	LabelRevision      = "hourglass.eigenlayer.io/revision"
	// LabelTraffic is on a revision's Deployment only (not its pods, so
	// setting it replaces no pod): Serving, Candidate (upgrade target) or
	// Draining, so `kubectl get deploy -L hourglass.eigenlayer.io/traffic`
	// shows what serves.
	LabelTraffic = "hourglass.eigenlayer.io/traffic"

	LabelK8sName      = "app.kubernetes.io/name"
	LabelK8sInstance  = "app.kubernetes.io/instance"
	LabelK8sVersion   = "app.kubernetes.io/version"
	LabelK8sComponent = "app.kubernetes.io/component"
	LabelK8sPartOf    = "app.kubernetes.io/part-of"
	LabelK8sManagedBy = "app.kubernetes.io/managed-by"

	// AppPerformer is the value of the app label.
	AppPerformer = "performer"

	// PartOf is the value of app.kubernetes.io/part-of.
	PartOf = "hourglass"

	// ManagedBy is the value of app.kubernetes.io/managed-by: Crossplane
	// applies every composed object.
	ManagedBy = "crossplane"

	// Values of LabelTraffic.
	TrafficServing   = "Serving"
	TrafficCandidate = "Candidate"
	TrafficDraining  = "Draining"
)

// Identity returns the labels that identify a performer's pods across all
// its revisions: what a NetworkPolicy or an executor selects on.
func Identity(performer string) map[string]string {
	return map[string]string{
		LabelApp:           AppPerformer,
		LabelPerformerName: LabelValue(performer),
	}
}

// Selector returns the labels that select the pods of one revision of a
// performer: a Deployment's selector, and the Service's while that revision
// serves.
func Selector(performer, revision string) map[string]string {
	l := Identity(performer)
	l[LabelRevision] = revision
	return l
}

// Labels returns every label of a performer object. revision may be empty
// for objects shared by all revisions (Service, NetworkPolicy), and version
// is left out when empty.
func Labels(performer, avsAddress, version, revision string) map[string]string {
	l := Identity(performer)
	l[LabelAVS] = LabelValue(strings.ToLower(avsAddress))
	l[LabelK8sName] = AppPerformer
	l[LabelK8sInstance] = LabelValue(performer)
	l[LabelK8sComponent] = AppPerformer
	l[LabelK8sPartOf] = PartOf
	l[LabelK8sManagedBy] = ManagedBy
	if version != "" {
		l[LabelK8sVersion] = LabelValue(version)
	}
	if revision != "" {
		l[LabelRevision] = revision
	}
	return l
}
