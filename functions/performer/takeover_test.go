package main

import (
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/types/known/structpb"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"

	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"
	"github.com/crossplane/function-sdk-go/resource"

	"github.com/hourglass-xp/crossplane-hourglass/apis/hourglass/v1alpha1"
	"github.com/hourglass-xp/crossplane-hourglass/internal/names"
)

// The original operator's footprint for the test performer "example", as
// its controller writes it: a bare pod and a Service, both controlled by
// the Performer.

func testOperatorPod(ready bool, controller string) *corev1.Pod {
	pod := &corev1.Pod{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{
			Name: "performer-example", Namespace: "avs",
			Labels: map[string]string{
				names.LabelApp: names.AppOperatorPerformer, names.LabelOperatorPerformer: "example",
				names.LabelAVS: "0x1234567890abcdef1234567890abcdef12345678",
			},
			OwnerReferences: []metav1.OwnerReference{{
				APIVersion: v1alpha1.SchemeGroupVersion.String(), Kind: "Performer", Name: "example", UID: "6f1c1b52-3f4e-4c8e-9d55-0e5c2a7d9b10",
				Controller: new(true), BlockOwnerDeletion: new(true),
			}},
		},
		Spec: corev1.PodSpec{NodeName: "node-1", Containers: []corev1.Container{{
			Name: "performer", Image: "myavs/performer:v0.9.0",
			Ports: []corev1.ContainerPort{{Name: PortName, ContainerPort: 8080, Protocol: corev1.ProtocolTCP}},
		}}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, Conditions: []corev1.PodCondition{
			{Type: corev1.PodScheduled, Status: corev1.ConditionTrue},
			{Type: corev1.PodReady, Status: corev1.ConditionFalse},
		}},
	}
	if ready {
		pod.Status.Conditions[1] = corev1.PodCondition{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: *ago(time.Hour)}
	}
	if controller != "" {
		pod.OwnerReferences[0].UID = types.UID("6f1c1b52-0000-0000-0000-" + controller)
	}
	return pod
}

func testOperatorService(controller string) *corev1.Service {
	s := &corev1.Service{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: metav1.ObjectMeta{
			Name: "performer-example", Namespace: "avs",
			OwnerReferences: []metav1.OwnerReference{{
				APIVersion: v1alpha1.SchemeGroupVersion.String(), Kind: "Performer", Name: "example", UID: "6f1c1b52-3f4e-4c8e-9d55-0e5c2a7d9b10",
				Controller: new(true), BlockOwnerDeletion: new(true),
			}},
			ManagedFields: []metav1.ManagedFieldsEntry{{
				Manager: "manager", Operation: metav1.ManagedFieldsOperationUpdate, APIVersion: "v1", FieldsType: "FieldsV1",
				FieldsV1: &metav1.FieldsV1{Raw: []byte(`{"f:metadata":{"f:ownerReferences":{}},"f:spec":{"f:ports":{".":{},"k:{\"port\":8080,\"protocol\":\"TCP\"}":{".":{},"f:name":{},"f:port":{}}},"f:selector":{},"f:type":{}}}`)},
			}},
		},
		Spec: corev1.ServiceSpec{
			Type: corev1.ServiceTypeClusterIP, ClusterIP: "10.96.0.17",
			Selector: map[string]string{names.LabelOperatorPerformer: "example"},
			Ports:    []corev1.ServicePort{{Name: PortName, Port: 8080, TargetPort: intstr.FromString(PortName), Protocol: corev1.ProtocolTCP}},
		},
	}
	if controller != "" {
		s.OwnerReferences[0].UID = types.UID("6f1c1b52-0000-0000-0000-" + controller)
	}
	return s
}

func toMap(t *testing.T, o runtime.Object) map[string]any {
	t.Helper()
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(o)
	if err != nil {
		t.Fatal(err)
	}
	return runtime.DeepCopyJSON(m)
}

func TestPlanTakeover(t *testing.T) {
	p := testPerformer(func(s *v1alpha1.PerformerSpec) { s.Version = "v1.0.0" })
	p.UID = testUID
	desired := revisionFor(t, p, DefaultPlatform())
	edited := revisionFor(t, testPerformer(func(s *v1alpha1.PerformerSpec) { s.Version = "v1.1.0" }), DefaultPlatform())
	pod := testOperatorPod(true, "")
	opRev := OperatorRevision(p, pod)
	observed := func(ready map[*Revision]bool, service map[string]string, held ...string) *Observed {
		o := &Observed{Deployments: map[string]*appsv1.Deployment{}, OperatorPod: pod, HeldPorts: held}
		for r, ok := range ready {
			d := r.Deployment.DeepCopy()
			d.Status = deployment().Status
			if !ok {
				unavailable(d)
			}
			d.CreationTimestamp = *ago(time.Minute)
			o.Deployments[r.ID] = d
		}
		o.Service = &corev1.Service{Spec: corev1.ServiceSpec{Selector: service, ClusterIP: "10.96.0.17", Ports: []corev1.ServicePort{{Port: 8080}}}}
		return o
	}
	on8080 := revisionFor(t, testPerformer(func(s *v1alpha1.PerformerSpec) { s.Version = "v1.0.0"; s.Config.GRPCPort = 8080 }), DefaultPlatform())
	operatorSelector := map[string]string{names.LabelOperatorPerformer: "example"}
	ours := names.Selector("example", desired.ID)
	operatorStatus := v1alpha1.PerformerStatus{Phase: "Running", Ready: true, PodName: "performer-example", ServiceName: "performer-example"}
	const drain, deadline = 30 * time.Second, 600 * time.Second

	cases := map[string]struct {
		reason   string
		desired  *Revision
		status   v1alpha1.PerformerStatus
		o        *Observed
		want     planSummary
		wantHeld bool
	}{
		"TakeoverStarts": {
			reason:  "The operator's Service selects its pod: the pod serves and the first Deployment revision is composed beside it.",
			desired: desired, status: operatorStatus, o: observed(nil, operatorSelector),
			want: planSummary{Serving: RevisionOperator, Target: desired.ID, Revisions: []string{RevisionOperator, desired.ID}, Requeue: 10 * time.Second, UpgradeStart: at(0)},
		},
		"TakeoverWaits": {
			reason:  "While the Deployment is not ready the pod keeps serving through the narrowed selector the function applied.",
			desired: desired, status: v1alpha1.PerformerStatus{Active: revisionStatus(opRev), Target: revisionStatus(desired), UpgradeStartTime: ago(time.Minute)},
			o:    observed(map[*Revision]bool{desired: false}, opRev.Selector),
			want: planSummary{Serving: RevisionOperator, Target: desired.ID, Revisions: []string{RevisionOperator, desired.ID}, Requeue: 10 * time.Second, UpgradeStart: at(time.Minute)},
		},
		"TakeoverSwitches": {
			reason:  "The Deployment is ready and nothing else holds the selector: traffic moves in this response, the pod drains.",
			desired: desired, status: v1alpha1.PerformerStatus{Active: revisionStatus(opRev), Target: revisionStatus(desired)},
			o:    observed(map[*Revision]bool{desired: true}, opRev.Selector),
			want: planSummary{Serving: desired.ID, Revisions: []string{desired.ID, RevisionOperator}, Switched: true, Requeue: drain, LastUpgrade: at(0)},
		},
		"TakeoverHeld": {
			reason:  "The stopped operator still owns the Service's port 8080 and the revision serves on 9090: the Service cannot move, so the pod serves on, without failing the upgrade at its deadline.",
			desired: desired, status: v1alpha1.PerformerStatus{Active: revisionStatus(opRev), Target: revisionStatus(desired), UpgradeStartTime: ago(time.Hour)},
			o:        observed(map[*Revision]bool{desired: true}, opRev.Selector, "8080\x00field manager \"manager\""),
			want:     planSummary{Serving: RevisionOperator, Target: desired.ID, Revisions: []string{RevisionOperator, desired.ID}, Requeue: 10 * time.Second, UpgradeStart: at(time.Minute)},
			wantHeld: true,
		},
		"HeldPortKept": {
			reason:  "A port another manager holds that the revision serves on too is no reason to wait: the Service keeps it.",
			desired: on8080, status: v1alpha1.PerformerStatus{Active: revisionStatus(opRev), Target: revisionStatus(on8080)},
			o:    observed(map[*Revision]bool{on8080: true}, opRev.Selector, "8080\x00field manager \"manager\""),
			want: planSummary{Serving: on8080.ID, Revisions: []string{on8080.ID, RevisionOperator}, Switched: true, Requeue: drain, LastUpgrade: at(0)},
		},
		"PortMovesWhenCrossplaneOwnsIt": {
			reason:  "Once Crossplane alone owns the Service's ports, the revision may move it to another port.",
			desired: desired, status: v1alpha1.PerformerStatus{Active: revisionStatus(opRev), Target: revisionStatus(desired)},
			o:    observed(map[*Revision]bool{desired: true}, opRev.Selector),
			want: planSummary{Serving: desired.ID, Revisions: []string{desired.ID, RevisionOperator}, Switched: true, Requeue: drain, LastUpgrade: at(0)},
		},
		"EditedMidTakeover": {
			reason:  "The spec changes before the first Deployment is ready: the new revision replaces the target, the pod still serves.",
			desired: edited, status: v1alpha1.PerformerStatus{Active: revisionStatus(opRev), Target: revisionStatus(desired), UpgradeStartTime: ago(time.Minute)},
			o:    observed(map[*Revision]bool{desired: false}, opRev.Selector),
			want: planSummary{Serving: RevisionOperator, Target: edited.ID, Revisions: []string{RevisionOperator, edited.ID}, Requeue: 10 * time.Second, UpgradeStart: at(0)},
		},
		"PodDraining": {
			reason:  "After the switch the operator's pod stays for the drain, like any revision that served.",
			desired: desired, status: v1alpha1.PerformerStatus{Active: revisionStatus(desired), LastUpgrade: ago(10 * time.Second)},
			o:    observed(map[*Revision]bool{desired: true}, ours),
			want: planSummary{Serving: desired.ID, Revisions: []string{desired.ID, RevisionOperator}, Requeue: 20 * time.Second, LastUpgrade: at(10 * time.Second)},
		},
		"PodDrained": {
			reason:  "Once drained the pod is no longer composed, so Crossplane deletes it.",
			desired: desired, status: v1alpha1.PerformerStatus{Active: revisionStatus(desired), LastUpgrade: ago(time.Minute)},
			o:    observed(map[*Revision]bool{desired: true}, ours),
			want: planSummary{Serving: desired.ID, Revisions: []string{desired.ID}, LastUpgrade: at(time.Minute)},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			pp := *p
			pp.Status = tc.status
			plan := PlanRevisions(&pp, tc.desired, tc.o, Rollout{Drain: drain, Deadline: deadline}, testNow)
			if diff := cmp.Diff(tc.want, summarize(plan)); diff != "" {
				t.Errorf("%s\nPlanRevisions(...): -want, +got:\n%s", tc.reason, diff)
			}
			if (plan.Held != nil) != tc.wantHeld {
				t.Errorf("%s\nPlanRevisions(...).Held = %v, want held %t", tc.reason, plan.Held, tc.wantHeld)
			}
		})
	}
}

func TestComposeTakeover(t *testing.T) {
	p := testPerformer()
	p.UID = testUID
	p.Status = v1alpha1.PerformerStatus{Phase: "Running", Ready: true, PodName: "performer-example", ServiceName: "performer-example"}
	pod := testOperatorPod(true, "")
	o := &Observed{Deployments: map[string]*appsv1.Deployment{}, Endpoints: nil, OperatorPod: pod, Service: testOperatorService("")}
	res, err := Compose(p, DefaultPlatform(), o, testNow)
	if err != nil {
		t.Fatal(err)
	}
	svc, ok := res.Resources[ResourceService].Object.(*corev1.Service)
	if !ok {
		t.Fatalf("Compose(...): no Service composed: %v", res.Resources)
	}
	if diff := cmp.Diff(names.OperatorSelector("example"), svc.Spec.Selector); diff != "" {
		t.Errorf("while the operator's pod serves, the Service selects it and none of the platform's pods: -want, +got:\n%s", diff)
	}
	if svc.Spec.Ports[0].Port != 8080 {
		t.Errorf("the Service keeps the operator pod's gRPC port 8080 while it serves, got %d", svc.Spec.Ports[0].Port)
	}
	adopted, ok := res.Resources[ResourceOperatorPod]
	if !ok || !adopted.Ready {
		t.Fatalf("Compose(...): the operator's pod must be composed (adopted) and ready while it serves, got %+v", adopted)
	}
	if diff := cmp.Diff(AdoptedPod(pod), adopted.Object); diff != "" {
		t.Errorf("the adopted pod is its identity only: -want, +got:\n%s", diff)
	}
	if res.Status.Active == nil || res.Status.Active.Revision != RevisionOperator || res.Status.Target == nil {
		t.Errorf("status.active is the operator's pod and status.target the first revision, got active %+v target %+v", res.Status.Active, res.Status.Target)
	}
	if !res.Status.Ready || res.Status.PodName != pod.Name || res.Status.GRPCEndpoint != "performer-example.avs.svc.cluster.local:8080" {
		t.Errorf("status while the operator's pod serves: ready %t, podName %q, endpoint %q; want true, %q and port 8080",
			res.Status.Ready, res.Status.PodName, res.Status.GRPCEndpoint, pod.Name)
	}
}

func TestWithOperator(t *testing.T) {
	p := testPerformer()
	p.UID = testUID
	required := func(objs ...runtime.Object) *fnv1.RunFunctionRequest {
		req := &fnv1.RunFunctionRequest{RequiredResources: map[string]*fnv1.Resources{}}
		for _, o := range objs {
			name := RequiredOwnService
			if _, ok := o.(*corev1.Pod); ok {
				name = RequiredOperatorPods
			}
			if req.RequiredResources[name] == nil {
				req.RequiredResources[name] = &fnv1.Resources{}
			}
			s, err := structpb.NewStruct(toMap(t, o))
			if err != nil {
				t.Fatal(err)
			}
			req.RequiredResources[name].Items = append(req.RequiredResources[name].Items, &fnv1.Resource{Resource: s})
		}
		return req
	}
	cases := map[string]struct {
		reason     string
		req        *fnv1.RunFunctionRequest
		want       []resource.Name
		wantReason string
	}{
		"Adopts": {
			reason: "The Service and pod the Performer controls become its composed Service and operator pod.",
			req:    required(testOperatorService(""), testOperatorPod(true, "")),
			want:   []resource.Name{ResourceOperatorPod, ResourceService},
		},
		"ForeignService": {
			reason:     "A Service of the performer's name controlled by something else blocks the takeover, with a reason.",
			req:        required(testOperatorService("other"), testOperatorPod(true, "")),
			wantReason: v1alpha1.ReasonTakeoverBlocked,
		},
		"ForeignPod": {
			reason: "A pod with the operator's labels that another owner controls is not taken.",
			req:    required(testOperatorService(""), testOperatorPod(true, "other")),
			want:   []resource.Name{ResourceService},
		},
		"NothingLeft": {
			reason: "Nothing found, nothing added.",
			req:    required(),
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := WithOperator(p, map[resource.Name]resource.ObservedComposed{}, tc.req)
			if r := reasonOf(err, ""); r != tc.wantReason {
				t.Fatalf("%s\nWithOperator(...): reason %q (error %v), want %q", tc.reason, r, err, tc.wantReason)
			}
			var keys []resource.Name
			for k := range got {
				keys = append(keys, k)
			}
			if diff := cmp.Diff(tc.want, keys, sortNames); diff != "" {
				t.Errorf("%s\nWithOperator(...): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

var sortNames = cmp.Transformer("sort", func(in []resource.Name) []string {
	out := make([]string, 0, len(in))
	for _, n := range in {
		out = append(out, string(n))
	}
	slices.Sort(out)
	return out
})

func TestHeldPorts(t *testing.T) {
	withManagers := func(m ...metav1.ManagedFieldsEntry) *structpb.Struct {
		s := testOperatorService("")
		s.ManagedFields = m
		st, err := structpb.NewStruct(toMap(t, s))
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	entry := func(manager, fields string) metav1.ManagedFieldsEntry {
		return metav1.ManagedFieldsEntry{Manager: manager, Operation: metav1.ManagedFieldsOperationUpdate, FieldsType: "FieldsV1", FieldsV1: &metav1.FieldsV1{Raw: []byte(fields)}}
	}
	// As the API server records a client-side create: the selector an
	// atomic map (no keys), the port a list entry keyed by port and protocol.
	const fields = `{"f:spec":{"f:ports":{".":{},"k:{\"port\":8080,\"protocol\":\"TCP\"}":{".":{},"f:name":{}}},"f:selector":{}}}`
	cases := map[string]struct {
		reason string
		svc    *structpb.Struct
		want   []string
	}{
		"Operator": {
			reason: "The operator's client-side write owns its port.",
			svc:    withManagers(entry("manager", fields)),
			want:   []string{"8080\x00field manager \"manager\""},
		},
		"SharedWithCrossplane": {
			reason: "Crossplane applying the same port does not take it from the operator: both own it.",
			svc:    withManagers(entry(composedManagerPrefix+"abc", fields), entry("manager", fields)),
			want:   []string{"8080\x00field manager \"manager\""},
		},
		"CrossplaneOnly": {
			reason: "Crossplane's own composed-resource manager alone is no hold.",
			svc:    withManagers(entry(composedManagerPrefix+"abc", fields)),
		},
		"BeforeFirstApply": {
			reason: "Crossplane's transitional manager holds the port until its next reconcile removes it.",
			svc:    withManagers(entry(composedManagerPrefix+"abc", fields), entry("before-first-apply", fields)),
			want:   []string{"8080\x00field manager \"before-first-apply\""},
		},
		"Cleared": {
			reason: "Right after its managers are cleared nobody owns the port, and a port change would keep it.",
			svc:    withManagers(),
			want:   []string{"8080\x00no field manager (Crossplane has not applied it since its managers were cleared)"},
		},
		"NoService": {
			reason: "No Service, nothing held.",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, HeldPorts(tc.svc)); diff != "" {
				t.Errorf("%s\nHeldPorts(...): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestRunFunctionTakeover(t *testing.T) {
	// A Performer the operator made, as Crossplane first passes it: no
	// resourceRefs, the operator's status.
	xr := xrOf(t, map[string]any{
		"apiVersion": "hourglass.eigenlayer.io/v1alpha1", "kind": "Performer",
		"metadata": map[string]any{"name": "example", "namespace": "avs", "finalizers": []any{names.OperatorFinalizer}},
		"spec": map[string]any{
			"avsAddress": "0x1234567890abcdef1234567890abcdef12345678", "image": "myavs/performer:v0.9.0",
			"config": map[string]any{"grpcPort": int64(8080)},
		},
		"status": map[string]any{
			"phase": "Running", "ready": true, "podName": "performer-example", "serviceName": "performer-example",
			"grpcEndpoint": "performer-example.avs.svc.cluster.local",
		},
	})
	first, err := newTestFunction().RunFunction(t.Context(), newRequest(t, xr, nil, nil))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := first.GetRequirements().GetResources()[RequiredOperatorPods]; !ok {
		t.Fatalf("first call: the function must ask for the operator's pod, asked %v", first.GetRequirements().GetResources())
	}
	found := withRequired(t, newRequest(t, xr, nil, nil), map[string][]map[string]any{
		RequiredOwnService:   {toMap(t, testOperatorService(""))},
		RequiredOperatorPods: {toMap(t, testOperatorPod(true, ""))},
	})
	rsp, err := newTestFunction().RunFunction(t.Context(), found)
	if err != nil {
		t.Fatal(err)
	}
	if len(rsp.GetResults()) > 0 && rsp.GetResults()[0].GetSeverity() == fnv1.Severity_SEVERITY_FATAL {
		t.Fatalf("Fatal: %s", rsp.GetResults()[0].GetMessage())
	}
	got := rsp.GetDesired().GetResources()
	if _, ok := got[ResourceOperatorPod]; !ok {
		t.Errorf("the operator's pod must be adopted (composed), desired: %v", got)
	}
	sel := got[ResourceService].GetResource().AsMap()["spec"].(map[string]any)["selector"]
	if diff := cmp.Diff(map[string]any{names.LabelOperatorPerformer: "example", names.LabelApp: names.AppOperatorPerformer}, sel); diff != "" {
		t.Errorf("the Service keeps selecting the operator's pod while the first revision starts: -want, +got:\n%s", diff)
	}
	deployments := 0
	for n := range got {
		if len(n) > len(resourceDeploymentPfx) && n[:len(resourceDeploymentPfx)] == resourceDeploymentPfx {
			deployments++
		}
	}
	if deployments != 1 {
		t.Errorf("one Deployment revision composed beside the operator's pod, got %d", deployments)
	}
	ready, _ := rsp.GetDesired().GetComposite().GetResource().AsMap()["status"].(map[string]any)["ready"].(bool)
	if !ready {
		t.Error("status.ready stays true while the operator's pod serves")
	}
}
