package main

import (
	"context"
	"maps"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/structpb"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/crossplane/crossplane-runtime/v2/pkg/errors"
	"github.com/crossplane/function-sdk-go/logging"
	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"
	"github.com/crossplane/function-sdk-go/request"
	"github.com/crossplane/function-sdk-go/resource"
	"github.com/crossplane/function-sdk-go/resource/composed"
	"github.com/crossplane/function-sdk-go/resource/composite"
	"github.com/crossplane/function-sdk-go/response"

	"github.com/hourglass-xp/crossplane-hourglass/apis/hourglass/v1alpha1"
	"github.com/hourglass-xp/crossplane-hourglass/functions/performer/input/v1beta1"
)

const (
	errGetInput       = "cannot get the function input"
	errPlatform       = "invalid function input"
	errDesiredXR      = "cannot get the desired composite resource"
	errDesiredComp    = "cannot get the desired composed resources"
	errCompose        = "cannot compose the performer"
	errSetDesiredXR   = "cannot set the desired composite resource"
	errSetDesiredComp = "cannot set the desired composed resources"
	errToUnstructured = "cannot convert a composed resource"
)

// SteadyTTL is how long Crossplane may wait before calling the function
// again when nothing is in flight (an upgrade or drain asks sooner, through
// Plan.Requeue). Crossplane watches every composed resource and every
// required pod, so each change already calls the function; the TTL is only
// the backstop. The SDK's one minute made every idle performer a
// composition round, three no-op applies and an XR update per minute.
const SteadyTTL = 10 * time.Minute

// Function composes Performers.
type Function struct {
	fnv1.UnimplementedFunctionRunnerServiceServer

	log logging.Logger
	// now is the clock; tests fix it.
	now func() time.Time
}

// RunFunction reads the request, composes, and writes the response. Any
// problem is a Fatal result naming its cause, never a Go error: Crossplane
// shows results to the user, errors only in its own logs.
func (f *Function) RunFunction(_ context.Context, req *fnv1.RunFunctionRequest) (*fnv1.RunFunctionResponse, error) {
	rsp := response.To(req, SteadyTTL)
	pl, err := platform(req)
	if err != nil {
		fatal(rsp, v1alpha1.ReasonInvalidInput, err)
		return rsp, nil
	}
	p, o, lost, err := read(req, pl)
	if err != nil {
		fatal(rsp, reasonOf(err, v1alpha1.ReasonInvalidSpec), err)
		return rsp, nil
	}
	log := f.log.WithValues("namespace", p.Namespace, "name", p.Name)
	res, err := Compose(p, pl, o, f.now())
	if err != nil {
		log.Info("Cannot compose performer", "error", err)
		fatal(rsp, v1alpha1.ReasonInvalidSpec, errors.Wrap(err, errCompose))
		return rsp, nil
	}
	rsp.Requirements = withNodes(requirements(p, pl, lost), res.Plan.Disruption.Nodes)
	if err := write(req, rsp, res); err != nil {
		response.Fatal(rsp, err)
		return rsp, nil
	}
	log.Debug("Composed performer", "phase", res.Status.Phase, "serving", res.Plan.Serving.ID, "upgrading", res.Plan.Target != nil)
	return rsp, nil
}

// fatal stops the pipeline with err, and says why in a condition too:
// Crossplane applies a step's conditions even when the step is fatal, and
// a condition stays on the Performer where an event scrolls away. Nothing
// composed is touched, so a running performer keeps running its last good
// revision.
func fatal(rsp *fnv1.RunFunctionResponse, reason string, err error) {
	response.ConditionTrue(rsp, v1alpha1.ConditionDegraded, reason).WithMessage(err.Error()).TargetComposite()
	response.Fatal(rsp, err)
}

// requirements are the objects the function asks Crossplane for beside
// what it composed: the performer's pods, when the platform observes them,
// and its own objects, or what the Hourglass operator left, when
// Crossplane does not know of them.
func requirements(p *Performer, pl *Platform, lost bool) *fnv1.Requirements {
	rs := map[string]*fnv1.ResourceSelector{}
	if pl.ObservePods {
		rs[RequiredPods] = PodRequirement(p)
	}
	if lost {
		maps.Copy(rs, OwnRequirements(p))
		rs[RequiredOperatorPods] = OperatorPodRequirement(p)
	}
	if len(rs) == 0 {
		return nil
	}
	return &fnv1.Requirements{Resources: rs}
}

// platform reads the function input and applies the defaults.
func platform(req *fnv1.RunFunctionRequest) (*Platform, error) {
	in := &v1beta1.Input{}
	if err := request.GetInput(req, in); err != nil {
		return nil, errors.Wrap(err, errGetInput)
	}
	pl, err := NewPlatform(in)
	return pl, errors.Wrap(err, errPlatform)
}

// read gathers the performer and what is observed of it, and whether
// Crossplane lost track of what it composed (see LostTrack).
func read(req *fnv1.RunFunctionRequest, pl *Platform) (*Performer, *Observed, bool, error) {
	// Not the SDK's getters: they convert every object whole, managed
	// fields included, and objectOf leaves those out.
	oxr := &composite.Unstructured{Unstructured: unstructured.Unstructured{Object: objectOf(req.GetObserved().GetComposite().GetResource())}}
	p, err := FromComposite(oxr)
	if err != nil {
		return nil, nil, false, err
	}
	ocs := make(map[resource.Name]resource.ObservedComposed, len(req.GetObserved().GetResources()))
	for name, r := range req.GetObserved().GetResources() {
		ocs[resource.Name(name)] = resource.ObservedComposed{
			Resource:          &composed.Unstructured{Unstructured: unstructured.Unstructured{Object: objectOf(r.GetResource())}},
			ConnectionDetails: r.GetConnectionDetails(),
		}
	}
	lost := LostTrack(p, ocs)
	if lost {
		ocs = WithOwn(p, ocs, req)
		if ocs, err = WithOperator(p, ocs, req); err != nil {
			return nil, nil, false, err
		}
	}
	o, err := ObservedFrom(ocs)
	if err != nil {
		return nil, nil, false, err
	}
	o.HeldPorts = HeldPorts(rawService(p, req))
	if !pl.ObservePods {
		return p, o, lost, nil
	}
	if o.Pods, err = PodsFrom(RequiredPodsOf(req)); err != nil {
		return nil, nil, false, err
	}
	o.Nodes, err = NodesFrom(req)
	return p, o, lost, err
}

// objectOf converts an object Crossplane passed, without its managed
// fields: the function never reads them, and as the API server returns
// objects they are a large part of each (the XR, every composed resource,
// every pod), converted twice (protobuf to map, map to typed) for nothing.
func objectOf(s *structpb.Struct) map[string]any {
	f := s.GetFields()
	out := make(map[string]any, len(f))
	for k, v := range f {
		if k == "metadata" {
			out[k] = metadataOf(v)
			continue
		}
		out[k] = v.AsInterface()
	}
	return out
}

// metadataOf is an object's metadata without its managed fields.
func metadataOf(v *structpb.Value) map[string]any {
	f := v.GetStructValue().GetFields()
	m := make(map[string]any, len(f))
	for k, v := range f {
		if k != "managedFields" {
			m[k] = v.AsInterface()
		}
	}
	return m
}

// write puts the result into the response, beside what earlier pipeline
// steps desired.
func write(req *fnv1.RunFunctionRequest, rsp *fnv1.RunFunctionResponse, res *Result) error {
	dxr, err := request.GetDesiredCompositeResource(req)
	if err != nil {
		return errors.Wrap(err, errDesiredXR)
	}
	st, err := runtime.DefaultUnstructuredConverter.ToUnstructured(&res.Status)
	if err != nil {
		return errors.Wrap(err, errSetDesiredXR)
	}
	// Merged key by key into what earlier steps desired. Not SetValue: it
	// parses a field path and round-trips each value through JSON, and
	// these values are JSON-ready already.
	status, _ := dxr.Resource.Object["status"].(map[string]any)
	if status == nil {
		status = make(map[string]any, len(st))
		dxr.Resource.Object["status"] = status
	}
	maps.Copy(status, st)
	if err := response.SetDesiredCompositeResource(rsp, dxr); err != nil {
		return errors.Wrap(err, errSetDesiredXR)
	}

	dcds, err := request.GetDesiredComposedResources(req)
	if err != nil {
		return errors.Wrap(err, errDesiredComp)
	}
	for name, d := range res.Resources {
		u, err := toUnstructured(d.Object)
		if err != nil {
			return err
		}
		ready := resource.ReadyFalse
		if d.Ready {
			ready = resource.ReadyTrue
		}
		dcds[name] = &resource.DesiredComposed{Resource: &composed.Unstructured{Unstructured: *u}, Ready: ready}
	}
	if err := response.SetDesiredComposedResources(rsp, dcds); err != nil {
		return errors.Wrap(err, errSetDesiredComp)
	}

	for _, c := range res.Conditions {
		set := response.ConditionFalse
		if c.Status {
			set = response.ConditionTrue
		}
		co := set(rsp, c.Type, c.Reason)
		if c.Message != "" {
			co = co.WithMessage(c.Message)
		}
		co.TargetComposite()
	}
	for _, e := range res.Events {
		if e.Warning {
			response.Warning(rsp, errors.New(e.Message)).WithReason(e.Reason).TargetComposite()
			continue
		}
		response.Normal(rsp, e.Message).WithReason(e.Reason).TargetComposite()
	}
	if res.Plan.Requeue > 0 {
		rsp.Meta.Ttl = durationpb.New(res.Plan.Requeue)
	}
	return nil
}

// toUnstructured converts a typed object, dropping what the API server
// owns (status, creationTimestamp) so the desired state holds only intent.
func toUnstructured(o runtime.Object) (*unstructured.Unstructured, error) {
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(o)
	if err != nil {
		return nil, errors.Wrap(err, errToUnstructured)
	}
	delete(m, "status")
	dropNullTimestamps(m)
	return &unstructured.Unstructured{Object: m}, nil
}

// dropNullTimestamps removes metadata.creationTimestamp: null, which typed
// ObjectMeta always marshals, at every level (pod templates have one too).
func dropNullTimestamps(m map[string]any) {
	for k, v := range m {
		switch t := v.(type) {
		case nil:
			if k == "creationTimestamp" {
				delete(m, k)
			}
		case map[string]any:
			dropNullTimestamps(t)
			// Empty container resources and Deployment strategy carry no
			// intent; elsewhere an empty map can (a podSelector: {} selects
			// every pod), so only these two go.
			if (k == "resources" || k == "strategy") && len(t) == 0 {
				delete(m, k)
			}
		}
	}
}
