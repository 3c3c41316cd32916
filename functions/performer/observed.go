package main

import (
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/crossplane/crossplane-runtime/v2/pkg/errors"
	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"
	"github.com/crossplane/function-sdk-go/resource"

	observev1alpha1 "github.com/hourglass-xp/crossplane-hourglass/apis/observe/v1alpha1"
	"github.com/hourglass-xp/crossplane-hourglass/internal/names"
)

// Composed resource names in the pipeline (not metadata.name). A
// Deployment's name carries its revision, so several revisions can exist at
// once and each is found again on the next call.
const (
	ResourceService       = "service"
	ResourceNetworkPolicy = "networkpolicy"
	resourceDeploymentPfx = "deployment-"

	errFmtParseObserved = "cannot parse observed composed resource %q"
)

// ResourceDeployment is the composed resource name of a revision.
func ResourceDeployment(revision string) resource.Name {
	return resource.Name(resourceDeploymentPfx + revision)
}

// Observed is what exists of a performer's composed resources.
type Observed struct {
	// Deployments by revision ID.
	Deployments map[string]*appsv1.Deployment
	Service     *corev1.Service
	// Pods of every revision, when the platform observes pods.
	Pods []corev1.Pod
	// Endpoints by revision ID, when the platform composes them.
	Endpoints map[string]*observev1alpha1.PerformerEndpoint
	// OperatorPod is the pod the original Hourglass operator left, while
	// the performer is being taken over (see takeover.go).
	OperatorPod *corev1.Pod
	// HeldPorts are the Service's ports other field managers own too (see
	// HeldPorts).
	HeldPorts []string
	// Nodes of the serving revision's pods by name, when pods are observed.
	Nodes map[string]*corev1.Node
}

// RevisionReady reports whether a revision can take traffic: its
// Deployment is ready and, when the provider health-checks revisions
// (Rollout.HealthChecked), the provider found it healthy.
func (o *Observed) RevisionReady(id string, healthChecked bool) bool {
	return DeploymentReady(o.Deployments[id]) && (!healthChecked || EndpointHealthy(o.Endpoints[id]))
}

// ReadySince is when a revision became ready, as its observed objects
// record it: the later of its Deployment's Available transition and, when
// the provider health-checks revisions and reports this one Ready, its
// PerformerEndpoint's Ready transition. Nil while the Deployment is not
// available.
//
// Times in the status come from here rather than the clock because
// Crossplane may pass an XR older than the one it last wrote (it reads the
// XR from a cache its own writes have not reached yet, crossplane/crossplane
// #7062): a clock time would then be taken again and differ, and every
// difference is a write to the XR and another composition round.
func (o *Observed) ReadySince(id string, healthChecked bool) *metav1.Time {
	if id == RevisionOperator && o.OperatorPod != nil {
		return podReadySince(o.OperatorPod)
	}
	d := o.Deployments[id]
	if d == nil {
		return nil
	}
	c := deploymentCondition(d, appsv1.DeploymentAvailable)
	if c == nil || c.Status != corev1.ConditionTrue || c.LastTransitionTime.IsZero() {
		return nil
	}
	since := c.LastTransitionTime
	if e := o.Endpoints[id]; healthChecked && e != nil {
		r := e.Status.GetCondition(xpv2.TypeReady)
		if r.Status == corev1.ConditionTrue && since.Before(&r.LastTransitionTime) {
			since = r.LastTransitionTime
		}
	}
	return &since
}

// CreatedAt is when a revision's Deployment was created, nil when none is
// observed. Like ReadySince, it makes a time in the status a function of
// observed state.
func (o *Observed) CreatedAt(id string) *metav1.Time {
	d := o.Deployments[id]
	if d == nil || d.CreationTimestamp.IsZero() {
		return nil
	}
	return &d.CreationTimestamp
}

// ObservedFrom reads the observed composed resources the function knows.
func ObservedFrom(ocs map[resource.Name]resource.ObservedComposed) (*Observed, error) {
	o := &Observed{Deployments: map[string]*appsv1.Deployment{}, Endpoints: map[string]*observev1alpha1.PerformerEndpoint{}}
	for name, oc := range ocs {
		n := string(name)
		switch {
		case n == ResourceService:
			o.Service = &corev1.Service{}
			if err := runtime.DefaultUnstructuredConverter.FromUnstructured(oc.Resource.Object, o.Service); err != nil {
				return nil, errors.Wrapf(err, errFmtParseObserved, n)
			}
		case strings.HasPrefix(n, resourceDeploymentPfx):
			d := &appsv1.Deployment{}
			if err := runtime.DefaultUnstructuredConverter.FromUnstructured(oc.Resource.Object, d); err != nil {
				return nil, errors.Wrapf(err, errFmtParseObserved, n)
			}
			o.Deployments[strings.TrimPrefix(n, resourceDeploymentPfx)] = d
		case strings.HasPrefix(n, resourceEndpointPfx):
			e := &observev1alpha1.PerformerEndpoint{}
			if err := runtime.DefaultUnstructuredConverter.FromUnstructured(oc.Resource.Object, e); err != nil {
				return nil, errors.Wrapf(err, errFmtParseObserved, n)
			}
			o.Endpoints[strings.TrimPrefix(n, resourceEndpointPfx)] = e
		}
	}
	pod, err := operatorPodFrom(ocs)
	o.OperatorPod = pod
	return o, err
}

// ServedRevision is the revision the observed Service selects, if any.
func (o *Observed) ServedRevision() string {
	if o.servesOperatorPod() {
		return RevisionOperator
	}
	if o.Service == nil {
		return ""
	}
	return o.Service.Spec.Selector[names.LabelRevision]
}

// KeptRevision rebuilds a revision the function no longer derives from the
// spec (the one serving during an upgrade, or one draining) from its
// observed Deployment: only the fields the function itself sets are kept,
// so applying it again changes nothing.
func KeptRevision(id string, d *appsv1.Deployment, version string) *Revision {
	kept := &appsv1.Deployment{
		TypeMeta: d.TypeMeta,
	}
	kept.APIVersion, kept.Kind = "apps/v1", "Deployment"
	kept.Name, kept.Namespace, kept.Labels = d.Name, d.Namespace, d.Labels
	kept.Spec = appsv1.DeploymentSpec{
		Replicas:                d.Spec.Replicas,
		Selector:                d.Spec.Selector,
		Template:                d.Spec.Template,
		RevisionHistoryLimit:    d.Spec.RevisionHistoryLimit,
		ProgressDeadlineSeconds: d.Spec.ProgressDeadlineSeconds,
	}
	r := &Revision{ID: id, Deployment: kept, Version: version, GRPCPort: DefaultGRPCPort}
	for _, c := range d.Spec.Template.Spec.Containers {
		if c.Name != ContainerName {
			continue
		}
		r.Image = c.Image
		for _, port := range c.Ports {
			if port.Name == PortName {
				r.GRPCPort = port.ContainerPort
			}
		}
	}
	return r
}
