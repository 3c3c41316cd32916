package main

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"google.golang.org/protobuf/types/known/structpb"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/crossplane/crossplane-runtime/v2/pkg/errors"
	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"
	"github.com/crossplane/function-sdk-go/resource"
	"github.com/crossplane/function-sdk-go/resource/composed"

	"github.com/hourglass-xp/crossplane-hourglass/apis/hourglass/v1alpha1"
	"github.com/hourglass-xp/crossplane-hourglass/internal/names"
)

// Taking over from the original Hourglass operator (docs/migration.md).
// The operator's Performers become composites in place, keeping their UID,
// so the operator's pod and Service are already controlled by the
// composite. The function adopts the Service (its ClusterIP is every
// executor's connection target) and treats the operator's pod as the
// serving revision of a blue-green upgrade: it serves until the first
// Deployment revision is ready, the Service switches in one write, and the
// pod goes when the drain is over.
const (
	// ResourceOperatorPod is the composed resource name of the adopted pod.
	ResourceOperatorPod = "operator-pod"
	// RequiredOperatorPods selects the operator's pod of a performer.
	RequiredOperatorPods = "operator-pods"
	// RevisionOperator is the revision ID of the operator's pod.
	RevisionOperator = names.RevisionOperator

	// composedManagerPrefix starts the field manager Crossplane applies
	// composed resources with (one per composite).
	composedManagerPrefix = "apiextensions.crossplane.io/composed/"

	errFmtParseOperatorPod = "cannot parse the Hourglass operator's pod %q"
	errFmtForeignService   = "Service %s exists and is not controlled by this Performer (%s); the platform does not take over what another controller manages: delete or rename one of them"
	errFmtHeldPort         = "Service %s cannot move to port %d yet: its port %s is owned by %s, so it would keep both (two ports named grpc are refused); the previous revision keeps serving. To keep the port executors dial, set spec.config.grpcPort to %s; to move, release the stopped Hourglass operator's hold (scripts/release-hourglass-operator.sh, docs/migration.md)"
)

// Blocked is what stops a takeover, or holds its switch, until someone
// acts: Reason is the condition's reason, Err says what and what to do.
type Blocked struct {
	Reason string
	Err    error
}

func (b *Blocked) Error() string { return b.Err.Error() }

// reasonOf is the condition reason for a problem: its own when it says
// one, else fallback.
func reasonOf(err error, fallback string) string {
	var b *Blocked
	if errors.As(err, &b) {
		return b.Reason
	}
	return fallback
}

// OperatorPodRequirement selects the operator's pod of a performer. Only
// asked for while the function looks for what it may have to take over
// (see LostTrack); once adopted, the pod is an observed composed resource.
func OperatorPodRequirement(p *Performer) *fnv1.ResourceSelector {
	return &fnv1.ResourceSelector{
		ApiVersion: "v1",
		Kind:       "Pod",
		Namespace:  new(p.Namespace),
		Match: &fnv1.ResourceSelector_MatchLabels{MatchLabels: &fnv1.MatchLabels{
			Labels: names.OperatorSelector(p.Name),
		}},
	}
}

// WithOperator returns observed with what the operator left for the
// performer and the performer controls, under the names the function
// composes them by: the Service performer-X (RequiredOwnService) and the
// pod performer-X (RequiredOperatorPods). A Service of that name that the
// performer does not control blocks the takeover: composing over it would
// fail, and taking it silently would steal another controller's object.
func WithOperator(p *Performer, observed map[resource.Name]resource.ObservedComposed, req *fnv1.RunFunctionRequest) (map[resource.Name]resource.ObservedComposed, error) {
	out := observed
	add := func(name resource.Name, u unstructured.Unstructured) {
		if _, ok := out[name]; ok {
			return
		}
		out = maps.Clone(out)
		out[name] = resource.ObservedComposed{Resource: &composed.Unstructured{Unstructured: u}}
	}
	for _, item := range req.GetRequiredResources()[RequiredOwnService].GetItems() {
		u := unstructured.Unstructured{Object: objectOf(item.GetResource())}
		if u.GetName() != names.Service(p.Name) {
			continue
		}
		if !controlledBy(&u, p.UID) {
			return nil, &Blocked{Reason: v1alpha1.ReasonTakeoverBlocked, Err: errors.Errorf(errFmtForeignService, u.GetName(), controllerOf(&u))}
		}
		add(ResourceService, u)
	}
	for _, item := range req.GetRequiredResources()[RequiredOperatorPods].GetItems() {
		u := unstructured.Unstructured{Object: objectOf(item.GetResource())}
		if u.GetName() == names.OperatorPod(p.Name) && controlledBy(&u, p.UID) {
			add(ResourceOperatorPod, u)
		}
	}
	return out, nil
}

// controllerOf says what controls an object, for a message.
func controllerOf(u *unstructured.Unstructured) string {
	if ref := metav1.GetControllerOfNoCopy(u); ref != nil {
		return fmt.Sprintf("its controller is %s %s, uid %s", ref.Kind, ref.Name, ref.UID)
	}
	return "it has no controller"
}

// operatorPodFrom parses the adopted operator pod, if observed.
func operatorPodFrom(ocs map[resource.Name]resource.ObservedComposed) (*corev1.Pod, error) {
	oc, ok := ocs[ResourceOperatorPod]
	if !ok {
		return nil, nil
	}
	pod := &corev1.Pod{}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(oc.Resource.Object, pod); err != nil {
		return nil, errors.Wrapf(err, errFmtParseOperatorPod, oc.Resource.GetName())
	}
	return pod, nil
}

// servesOperatorPod reports whether the observed Service sends traffic to
// the operator's pod: its selector (the operator's own, or the one the
// function keeps during the takeover) matches the pod and names no
// revision of the platform's.
func (o *Observed) servesOperatorPod() bool {
	if o.Service == nil || o.OperatorPod == nil || o.OperatorPod.DeletionTimestamp != nil {
		return false
	}
	sel := o.Service.Spec.Selector
	if len(sel) == 0 || sel[names.LabelRevision] != "" {
		return false
	}
	return labels.SelectorFromSet(sel).Matches(labels.Set(o.OperatorPod.Labels))
}

// podReadySince is when a pod became ready, nil while it is not.
func podReadySince(pod *corev1.Pod) *metav1.Time {
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue && !c.LastTransitionTime.IsZero() {
			return &c.LastTransitionTime
		}
	}
	return nil
}

// OperatorRevision is the operator's pod as a revision: what the Service
// selects while it serves, and what is composed to keep it (adopted, so
// that Crossplane deletes it once the function no longer wants it).
func OperatorRevision(p *Performer, pod *corev1.Pod) *Revision {
	r := &Revision{ID: RevisionOperator, Pod: pod, GRPCPort: DefaultGRPCPort}
	for _, c := range pod.Spec.Containers {
		for _, port := range c.Ports {
			if port.Name == PortName {
				r.Image, r.GRPCPort = c.Image, port.ContainerPort
			}
		}
	}
	if r.Image == "" && len(pod.Spec.Containers) > 0 {
		r.Image = pod.Spec.Containers[0].Image
	}
	r.Selector = names.OperatorSelector(p.Name)
	return r
}

// AdoptedPod is the desired state of the operator's pod: its identity
// only. Applied, it makes the pod a composed resource of the performer
// (Crossplane adds its labels and annotation, and the controller reference
// the pod already has); nothing of the running pod changes.
func AdoptedPod(pod *corev1.Pod) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1",
		"kind":       "Pod",
		"metadata":   map[string]any{"name": pod.Name, "namespace": pod.Namespace},
	}}
}

// HeldPorts are the ports of a Service (by port number) that Crossplane's
// own field manager does not own alone, as "port\x00holders", sorted;
// holders names the other managers, or says none owns it. Server-side
// apply removes a list entry Crossplane stops applying only when
// Crossplane alone owns it. The operator wrote its Service client-side, so
// its manager keeps owning the port it made; once its managers are cleared
// the entry is owned by nobody until Crossplane applies it again (with the
// transitional before-first-apply manager beside it, which Crossplane
// removes on its next reconcile). Until then a revision on another port
// would make the Service carry both ports, both named grpc, which the API
// server refuses. (The selector needs no such care: a Service's selector
// is an atomic map, which Crossplane's forced apply takes whole.)
func HeldPorts(svc *structpb.Struct) []string {
	owners := map[int32][]string{}
	crossplane := map[int32]bool{}
	for _, e := range svc.GetFields()["metadata"].GetStructValue().GetFields()["managedFields"].GetListValue().GetValues() {
		f := e.GetStructValue().GetFields()
		manager := f["manager"].GetStringValue()
		ports := f["fieldsV1"].GetStructValue().GetFields()["f:spec"].GetStructValue().GetFields()["f:ports"].GetStructValue()
		for k := range ports.GetFields() {
			key := struct {
				Port int32 `json:"port"`
			}{}
			entry, ok := strings.CutPrefix(k, "k:")
			if !ok || json.Unmarshal([]byte(entry), &key) != nil {
				continue
			}
			if strings.HasPrefix(manager, composedManagerPrefix) {
				crossplane[key.Port] = true
				continue
			}
			owners[key.Port] = append(owners[key.Port], strconv.Quote(manager))
		}
	}
	var held []string
	for _, port := range svc.GetFields()["spec"].GetStructValue().GetFields()["ports"].GetListValue().GetValues() {
		n := int32(port.GetStructValue().GetFields()["port"].GetNumberValue())
		switch {
		case len(owners[n]) > 0:
			slices.Sort(owners[n])
			held = append(held, fmt.Sprintf("%d\x00field manager %s", n, strings.Join(owners[n], ", ")))
		case !crossplane[n]:
			held = append(held, fmt.Sprintf("%d\x00no field manager (Crossplane has not applied it since its managers were cleared)", n))
		}
	}
	slices.Sort(held)
	return held
}

// HeldPort says why traffic cannot move to a revision yet, nil when it
// can: the revision serves on a port the Service does not have, and a
// port the Service has is not Crossplane's alone to remove (see
// HeldPorts).
func HeldPort(p *Performer, svc *corev1.Service, held []string, to *Revision) *Blocked {
	if svc == nil || slices.ContainsFunc(svc.Spec.Ports, func(sp corev1.ServicePort) bool { return sp.Port == to.GRPCPort }) {
		return nil
	}
	if len(held) == 0 {
		return nil
	}
	port, holders, _ := strings.Cut(held[0], "\x00")
	return &Blocked{Reason: v1alpha1.ReasonTakeoverBlocked, Err: errors.Errorf(errFmtHeldPort, names.Service(p.Name), to.GRPCPort, port, holders, port)}
}

// rawService is the performer's Service as Crossplane passed it, managed
// fields included: observed, or found through RequiredOwnService.
func rawService(p *Performer, req *fnv1.RunFunctionRequest) *structpb.Struct {
	if r, ok := req.GetObserved().GetResources()[ResourceService]; ok {
		return r.GetResource()
	}
	for _, item := range req.GetRequiredResources()[RequiredOwnService].GetItems() {
		if item.GetResource().GetFields()["metadata"].GetStructValue().GetFields()["name"].GetStringValue() == names.Service(p.Name) {
			return item.GetResource()
		}
	}
	return nil
}
