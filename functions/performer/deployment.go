package main

import (
	"encoding/json"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/crossplane/crossplane-runtime/v2/pkg/errors"

	"github.com/hourglass-xp/crossplane-hourglass/internal/names"
)

const (
	errHashTemplate = "cannot hash the pod template"

	// ContainerName is the performer container's name.
	ContainerName = "performer"
	// PortName names the gRPC port on the container and the Service.
	PortName = "grpc"

	// revisionLen is how many hex digits of the pod template hash name a
	// revision.
	revisionLen = 10
)

// Revision is one revision of a performer: a pod template and the name of
// the Deployment that runs it.
type Revision struct {
	// ID is a short hash of the pod template without revision labels: it
	// changes when, and only when, the pods would have to be replaced.
	ID         string
	Deployment *appsv1.Deployment
	GRPCPort   int32
	Image      string
	Version    string

	// Pod is set, and Deployment nil, for the revision the original
	// Hourglass operator left: its bare pod (see takeover.go).
	Pod *corev1.Pod
	// Selector selects the revision's pods when it is not the platform's
	// usual names.Selector.
	Selector map[string]string
}

// selector selects the revision's pods.
func (r *Revision) selector(p *Performer) map[string]string {
	if r.Selector != nil {
		return r.Selector
	}
	return names.Selector(p.Name, r.ID)
}

// workload names what runs the revision, for messages.
func (r *Revision) workload() string {
	if r.Pod != nil {
		return "the Hourglass operator's pod " + r.Pod.Name
	}
	return "Deployment " + r.Deployment.Name
}

// PodTemplate builds the pod template of a performer from its spec, the
// merged scheduling and the platform. It carries no revision label yet.
func PodTemplate(p *Performer, s *Scheduling, pl *Platform) corev1.PodTemplateSpec {
	spec := p.Spec
	podSC, ctrSC := SecurityContexts(pl.Security)
	port := spec.Config.GRPCPort
	probe := func(base corev1.Probe) *corev1.Probe {
		pr := base
		// The kubelet's gRPC probe calls grpc.health.v1.Health/Check with
		// an empty service name, what Hourglass performers serve.
		pr.ProbeHandler = corev1.ProbeHandler{GRPC: &corev1.GRPCAction{Port: port, Service: new("")}}
		return &pr
	}
	ctr := corev1.Container{
		Name:            ContainerName,
		Image:           Image(spec.Image, spec.Version),
		Command:         spec.Config.Command,
		Args:            spec.Config.Args,
		Env:             Env(&spec.Config),
		ImagePullPolicy: spec.ImagePullPolicy,
		Ports:           []corev1.ContainerPort{{Name: PortName, ContainerPort: port, Protocol: corev1.ProtocolTCP}},
		Resources:       s.Resources,
		ReadinessProbe:  probe(pl.Readiness),
		LivenessProbe:   probe(pl.Liveness),
		SecurityContext: ctrSC,
	}
	labels := names.Labels(p.Name, spec.AVSAddress, spec.Version, "")
	pod := corev1.PodSpec{
		Containers:         []corev1.Container{ctr},
		ServiceAccountName: spec.Config.ServiceAccountName,
		ImagePullSecrets:   spec.ImagePullSecrets,
		NodeSelector:       s.NodeSelector,
		Affinity:           WithSpread(s.Affinity, pl.Spread, labels),
		Tolerations:        NodeLossTolerations(s.Tolerations, pl.Disruption.NodeLossTolerationSeconds),
		RuntimeClassName:   s.RuntimeClassName,
		PriorityClassName:  s.PriorityClassName,
		SecurityContext:    podSC,
	}
	if spec.Config.ServiceAccountName == "" {
		// A performer serves gRPC and has no business with the Kubernetes
		// API; without a ServiceAccount of its own it gets no token.
		pod.AutomountServiceAccountToken = new(false)
	}
	return corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: labels},
		Spec:       pod,
	}
}

// RevisionOf hashes a pod template into a revision ID. JSON of the typed
// template is deterministic (struct fields in order, map keys sorted).
func RevisionOf(t corev1.PodTemplateSpec) (string, error) {
	b, err := json.Marshal(t)
	if err != nil {
		return "", errors.Wrap(err, errHashTemplate)
	}
	return names.Hash(string(b), revisionLen), nil
}

// NewRevision builds the Deployment of the performer's desired revision.
func NewRevision(p *Performer, s *Scheduling, pl *Platform) (*Revision, error) {
	tmpl := PodTemplate(p, s, pl)
	id, err := RevisionOf(tmpl)
	if err != nil {
		return nil, err
	}
	tmpl.Labels[names.LabelRevision] = id
	d := &appsv1.Deployment{
		TypeMeta: metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: metav1.ObjectMeta{
			Name:      names.Deployment(p.Name, id),
			Namespace: p.Namespace,
			Labels:    names.Labels(p.Name, p.Spec.AVSAddress, p.Spec.Version, id),
		},
		Spec: appsv1.DeploymentSpec{
			Replicas: new(int32(1)),
			Selector: &metav1.LabelSelector{MatchLabels: names.Selector(p.Name, id)},
			Template: tmpl,
			// A revision's template never changes (its name is its hash), so
			// old ReplicaSets are never rolled back to.
			RevisionHistoryLimit: new(int32(0)),
			// The Deployment reports ProgressDeadlineExceeded on the same
			// clock the upgrade uses to give up on a revision.
			ProgressDeadlineSeconds: new(progressDeadline(p, pl)),
		},
	}
	return &Revision{
		ID: id, Deployment: d, GRPCPort: p.Spec.Config.GRPCPort,
		Image: Image(p.Spec.Image, p.Spec.Version), Version: p.Spec.Version,
	}, nil
}

func progressDeadline(p *Performer, pl *Platform) int32 {
	if u := p.Spec.Upgrade; u != nil && u.ProgressDeadlineSeconds != nil {
		return *u.ProgressDeadlineSeconds
	}
	return pl.ProgressDeadlineSeconds
}

func drainSeconds(p *Performer, pl *Platform) int32 {
	if u := p.Spec.Upgrade; u != nil && u.DrainSeconds != nil {
		return *u.DrainSeconds
	}
	return pl.DrainSeconds
}
