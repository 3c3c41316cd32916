package names

// What the original Hourglass operator (hourglass-operator in
// Layr-Labs/hourglass-monorepo) leaves in a cluster, as the platform finds
// it when it takes a running operator's performers over: per Performer X, a
// bare pod performer-X and a Service performer-X selecting it by
// LabelOperatorPerformer, both controlled by the Performer, and the
// operator's finalizer on the Performer.
const (
	// LabelOperatorPerformer carries the performer's name on the operator's
	// pod; the operator's Service selects on it alone.
	LabelOperatorPerformer = "hourglass.eigenlayer.io/performer"
	// AppOperatorPerformer is the operator's value of the app label on its
	// pods (the platform's own pods carry AppPerformer).
	AppOperatorPerformer = "hourglass-performer"
	// OperatorFinalizer is the finalizer the operator puts on every
	// Performer and removes only itself: once the operator is stopped it
	// would keep a deleted Performer from going away.
	OperatorFinalizer = "hourglass.eigenlayer.io/performer-finalizer"
	// RevisionOperator is the revision (status.active.revision) of the
	// operator's pod while it serves during a takeover. Revisions of the
	// platform's own are hex hashes, so it never names one of them.
	RevisionOperator = "operator"
)

// OperatorPod is the name of the pod the operator runs for a performer.
func OperatorPod(performer string) string {
	return ServicePrefix + performer
}

// OperatorSelector selects the operator's pod of a performer, and none of
// the platform's: the operator's Service selector narrowed by its app
// label, which the platform's pods do not carry.
func OperatorSelector(performer string) map[string]string {
	return map[string]string{LabelOperatorPerformer: performer, LabelApp: AppOperatorPerformer}
}
