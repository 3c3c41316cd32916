package main

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"
	"k8s.io/apimachinery/pkg/runtime"

	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"

	"github.com/hourglass-xp/crossplane-hourglass/apis/hourglass/v1alpha1"
	"github.com/hourglass-xp/crossplane-hourglass/internal/names"
)

// composedBy gives an object the marks Crossplane puts on what it composes
// for the Performer with uid: its composition resource name and a
// controller reference.
func composedBy(obj map[string]any, resourceName, uid string) map[string]any {
	o := runtime.DeepCopyJSON(obj)
	meta := o["metadata"].(map[string]any)
	meta["annotations"] = map[string]any{"crossplane.io/composition-resource-name": resourceName}
	meta["ownerReferences"] = []any{map[string]any{
		"apiVersion": "hourglass.eigenlayer.io/v1alpha1", "kind": "Performer", "name": "minimal-performer",
		"uid": uid, "controller": true, "blockOwnerDeletion": true,
	}}
	return o
}

// withRequired adds required resources to a request.
func withRequired(t *testing.T, req *fnv1.RunFunctionRequest, required map[string][]map[string]any) *fnv1.RunFunctionRequest {
	t.Helper()
	req.RequiredResources = map[string]*fnv1.Resources{}
	for name, objs := range required {
		rs := &fnv1.Resources{}
		for _, o := range objs {
			rs.Items = append(rs.Items, &fnv1.Resource{Resource: mustStruct(t, o)})
		}
		req.RequiredResources[name] = rs
	}
	return req
}

// TestLostTrack checks what the function does after a full-object write of
// the Performer dropped spec.crossplane.resourceRefs: Crossplane then passes
// no observed composed resources although the performer runs.
func TestLostTrack(t *testing.T) {
	running := minimalXR(t)
	dep := observedDeployment(t, running, true)
	svc := observedService(t, running, "10.96.0.17")
	depName := "deployment-" + minimalRevision

	// The status the function wrote while it kept track.
	normal, err := newTestFunction().RunFunction(context.Background(), newRequest(t, running, map[string]map[string]any{depName: dep, ResourceService: svc}, nil))
	if err != nil {
		t.Fatal(err)
	}
	status := normal.GetDesired().GetComposite().GetResource().AsMap()["status"]
	replaced := minimalXR(t)
	delete(replaced["spec"].(map[string]any), "crossplane")
	replaced["status"] = status

	upgraded := runtime.DeepCopyJSON(replaced)
	upgraded["spec"].(map[string]any)["image"] = "myavs/performer:v2"

	own := map[string][]map[string]any{
		RequiredOwnDeployments: {composedBy(dep, depName, testUID)},
		RequiredOwnService:     {composedBy(svc, ResourceService, testUID)},
	}
	foreign := map[string][]map[string]any{
		RequiredOwnDeployments: {composedBy(dep, depName, "another-uid")},
		RequiredOwnService:     {composedBy(svc, ResourceService, "another-uid")},
	}

	type want struct {
		askOwn bool
		// deployments desired, and the revision the Service selects.
		deployments int
		serves      string
		ready       bool
		// refused is the condition reason of a Fatal result.
		refused string
	}
	cases := map[string]struct {
		reason string
		req    *fnv1.RunFunctionRequest
		want   want
	}{
		"New": {
			reason: "A new Performer has no status: nothing was lost, nothing to ask for.",
			req:    newRequest(t, minimalXR(t), nil, nil),
			want:   want{deployments: 1, serves: minimalRevision},
		},
		"Tracked": {
			reason: "Crossplane observes the Service: nothing to ask for.",
			req:    newRequest(t, replaced, map[string]map[string]any{depName: dep, ResourceService: svc}, nil),
			want:   want{deployments: 1, serves: minimalRevision, ready: true},
		},
		"LostAsks": {
			reason: "The status names a Service, none is observed: the function asks for its own objects.",
			req:    newRequest(t, replaced, nil, nil),
			want:   want{askOwn: true, deployments: 1, serves: minimalRevision},
		},
		"LostFound": {
			reason: "With its own objects found, the result is the one with nothing lost: ready, same revision.",
			req:    withRequired(t, newRequest(t, replaced, nil, nil), own),
			want:   want{askOwn: true, deployments: 1, serves: minimalRevision, ready: true},
		},
		"LostFoundWhileUpgrading": {
			reason: "An image change in the same write goes blue-green: the old revision keeps the Service, the new one is composed beside it.",
			req:    withRequired(t, newRequest(t, upgraded, nil, nil), own),
			want:   want{askOwn: true, deployments: 2, serves: minimalRevision, ready: true},
		},
		"ForeignRefused": {
			reason: "A Service of the performer's name controlled by something else is not taken over: refused with a reason, nothing composed.",
			req:    withRequired(t, newRequest(t, replaced, nil, nil), foreign),
			want:   want{refused: v1alpha1.ReasonTakeoverBlocked},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			rsp, err := newTestFunction().RunFunction(context.Background(), tc.req)
			if err != nil {
				t.Fatal(err)
			}
			if len(rsp.GetResults()) > 0 && rsp.GetResults()[0].GetSeverity() == fnv1.Severity_SEVERITY_FATAL {
				got := want{refused: rsp.GetConditions()[0].GetReason()}
				if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(want{})); diff != "" || len(rsp.GetDesired().GetResources()) > 0 {
					t.Errorf("%s\nRunFunction(...): Fatal %q, desired %v: -want, +got:\n%s", tc.reason, rsp.GetResults()[0].GetMessage(), rsp.GetDesired().GetResources(), diff)
				}
				return
			}
			_, asked := rsp.GetRequirements().GetResources()[RequiredOwnDeployments]
			var deployments int
			for n := range rsp.GetDesired().GetResources() {
				if len(n) > len(resourceDeploymentPfx) && n[:len(resourceDeploymentPfx)] == resourceDeploymentPfx {
					deployments++
				}
			}
			sel, _ := rsp.GetDesired().GetResources()[ResourceService].GetResource().AsMap()["spec"].(map[string]any)["selector"].(map[string]any)
			ready, _ := rsp.GetDesired().GetComposite().GetResource().AsMap()["status"].(map[string]any)["ready"].(bool)
			got := want{askOwn: asked, deployments: deployments, serves: sel[names.LabelRevision].(string), ready: ready}
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(want{})); diff != "" {
				t.Errorf("%s\nRunFunction(...): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}

	// Found again, the desired state is the one composed while tracked,
	// byte for byte: Crossplane applies nothing new and the status does
	// not flap.
	found, err := newTestFunction().RunFunction(context.Background(), withRequired(t, newRequest(t, replaced, nil, nil), own))
	if err != nil {
		t.Fatal(err)
	}
	tracked, err := newTestFunction().RunFunction(context.Background(), newRequest(t, replaced, map[string]map[string]any{depName: dep, ResourceService: svc}, nil))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(tracked.GetDesired(), found.GetDesired(), protocmp.Transform()); diff != "" {
		t.Errorf("desired state found again differs from the tracked one: -tracked, +found:\n%s", diff)
	}
}

func TestOwnRequirements(t *testing.T) {
	p := testPerformer()
	got := OwnRequirements(p)
	want := map[string]*fnv1.ResourceSelector{
		RequiredOwnDeployments: {ApiVersion: "apps/v1", Kind: "Deployment", Namespace: new("avs"),
			Match: &fnv1.ResourceSelector_MatchLabels{MatchLabels: &fnv1.MatchLabels{Labels: map[string]string{"app": "performer", "performer-name": "example"}}}},
		RequiredOwnEndpoints: {ApiVersion: "observe.hourglass.eigenlayer.io/v1alpha1", Kind: "PerformerEndpoint", Namespace: new("avs"),
			Match: &fnv1.ResourceSelector_MatchLabels{MatchLabels: &fnv1.MatchLabels{Labels: map[string]string{"app": "performer", "performer-name": "example"}}}},
		RequiredOwnService: {ApiVersion: "v1", Kind: "Service", Namespace: new("avs"),
			Match: &fnv1.ResourceSelector_MatchName{MatchName: "performer-example"}},
	}
	if diff := cmp.Diff(want, got, protocmp.Transform()); diff != "" {
		t.Errorf("OwnRequirements(...): -want, +got:\n%s", diff)
	}
}
