package main

import (
	"maps"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/crossplane/crossplane-runtime/v2/pkg/xcrd"
	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"
	"github.com/crossplane/function-sdk-go/resource"
	"github.com/crossplane/function-sdk-go/resource/composed"

	observev1alpha1 "github.com/hourglass-xp/crossplane-hourglass/apis/observe/v1alpha1"
	"github.com/hourglass-xp/crossplane-hourglass/internal/names"
)

// Requirements through which the function finds the objects it composed
// when Crossplane has lost track of them (see LostTrack).
const (
	RequiredOwnDeployments = "own-deployments"
	RequiredOwnService     = "own-service"
	RequiredOwnEndpoints   = "own-endpoints"
)

// LostTrack reports whether Crossplane has lost track of what it composed
// for the performer: the status says a Service was composed, yet none is
// observed. The original Hourglass operator writes status.serviceName too,
// so a Performer it made is found the same way on the platform's first
// call (see takeover.go). Crossplane finds composed resources only through the
// composite's spec.crossplane.resourceRefs, and a full-object write of the
// Performer (kubectl replace of the manifest in git, Argo CD's
// Replace=true, a typed client that reads into a struct of its own and
// updates) drops them. Composing from what is observed then would switch
// the Service to a new revision before it is ready and leave the old
// Deployment running unmanaged; the function asks for its objects instead.
// The status survives such a write: it is the status subresource's.
func LostTrack(p *Performer, observed map[resource.Name]resource.ObservedComposed) bool {
	_, ok := observed[ResourceService]
	return p.Status.ServiceName != "" && !ok
}

// OwnRequirements select what the function composes for a performer and
// needs to see to continue an upgrade: its Deployments and
// PerformerEndpoints (every revision) and its Service.
func OwnRequirements(p *Performer) map[string]*fnv1.ResourceSelector {
	ns := new(p.Namespace)
	byIdentity := &fnv1.ResourceSelector_MatchLabels{MatchLabels: &fnv1.MatchLabels{Labels: names.Identity(p.Name)}}
	return map[string]*fnv1.ResourceSelector{
		RequiredOwnDeployments: {ApiVersion: "apps/v1", Kind: "Deployment", Namespace: ns, Match: byIdentity},
		RequiredOwnEndpoints: {
			ApiVersion: observev1alpha1.SchemeGroupVersion.String(), Kind: observev1alpha1.PerformerEndpointKind,
			Namespace: ns, Match: byIdentity,
		},
		RequiredOwnService: {ApiVersion: "v1", Kind: "Service", Namespace: ns, Match: &fnv1.ResourceSelector_MatchName{MatchName: names.Service(p.Name)}},
	}
}

// WithOwn returns observed with the required objects the performer
// controls added under their composition resource names (the annotation
// Crossplane puts on everything it composes), where Crossplane did not
// observe them itself. Objects controlled by anything else are left out:
// finding them is not a reason to take them over.
func WithOwn(p *Performer, observed map[resource.Name]resource.ObservedComposed, req *fnv1.RunFunctionRequest) map[resource.Name]resource.ObservedComposed {
	out := maps.Clone(observed)
	for _, name := range []string{RequiredOwnDeployments, RequiredOwnService, RequiredOwnEndpoints} {
		for _, item := range req.GetRequiredResources()[name].GetItems() {
			u := unstructured.Unstructured{Object: objectOf(item.GetResource())}
			rn := resource.Name(xcrd.GetCompositionResourceName(&u))
			if rn == "" || !controlledBy(&u, p.UID) {
				continue
			}
			if _, ok := out[rn]; !ok {
				out[rn] = resource.ObservedComposed{Resource: &composed.Unstructured{Unstructured: u}}
			}
		}
	}
	return out
}

func controlledBy(u *unstructured.Unstructured, uid string) bool {
	for _, ref := range u.GetOwnerReferences() {
		if ref.Controller != nil && *ref.Controller {
			return uid != "" && string(ref.UID) == uid
		}
	}
	return false
}
