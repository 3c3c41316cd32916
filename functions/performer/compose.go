package main

import (
	"maps"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/crossplane/function-sdk-go/resource"

	"github.com/hourglass-xp/crossplane-hourglass/apis/hourglass/v1alpha1"
	"github.com/hourglass-xp/crossplane-hourglass/internal/names"
	"github.com/hourglass-xp/crossplane-hourglass/internal/podstatus"
)

// Desired is one composed resource the function wants.
type Desired struct {
	Object runtime.Object
	Ready  bool
}

// Result is everything one call decides: pure data, written into the
// response by RunFunction.
type Result struct {
	Resources  map[resource.Name]Desired
	Status     v1alpha1.PerformerStatus
	Conditions []Condition
	Plan       *Plan
	// Events are the changes since the observed status, for the user.
	Events []Event
}

// Compose maps a performer, the platform and what is observed to desired
// resources and status. It reads no clock but now and calls nothing, so the
// same inputs give the same result.
func Compose(p *Performer, pl *Platform, o *Observed, now time.Time) (*Result, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	hw, err := Hardware(p.Spec.HardwareRequirements, pl)
	if err != nil {
		return nil, err
	}
	s, err := Schedule(&p.Spec, hw)
	if err != nil {
		return nil, err
	}
	desired, err := NewRevision(p, s, pl)
	if err != nil {
		return nil, err
	}
	rollout := RolloutOf(p, pl)
	plan := PlanRevisions(p, desired, o, rollout, now)
	plan.disrupt(pl.Disruption, o, now)
	st, conds := StatusOf(p, plan, o, rollout, hw, now)

	res := &Result{
		Resources: make(map[resource.Name]Desired, 2*len(plan.Revisions)+3), Status: st, Conditions: conds, Plan: plan,
		Events: Events(p.Status, st, conds),
	}
	for _, rev := range plan.Revisions {
		// Only the serving revision gates readiness: a draining or failed
		// one must not make a serving performer look unready.
		serving := rev == plan.Serving
		if rev.Pod != nil {
			res.Resources[ResourceOperatorPod] = Desired{Object: AdoptedPod(rev.Pod), Ready: !serving || podstatus.Ready(rev.Pod)}
			continue
		}
		d := withTraffic(rev, plan)
		withReplicas(d, serving && plan.Disruption.Surge)
		res.Resources[ResourceDeployment(rev.ID)] = Desired{Object: d, Ready: !serving || DeploymentReady(o.Deployments[rev.ID])}
		if pl.Endpoints {
			res.Resources[ResourceEndpoint(rev.ID)] = Desired{Object: Endpoint(p, pl, rev, serving), Ready: !serving || EndpointReady(o.Endpoints[rev.ID])}
		}
	}
	res.Resources[ResourceService] = Desired{Object: Service(p, plan.Serving), Ready: ServiceReady(o.Service)}
	// A Secret is usable once it exists.
	res.Resources[ResourceConnectionSecret] = Desired{Object: ConnectionSecret(p, plan.Serving.GRPCPort), Ready: true}
	if pl.Disruption.Budget {
		// A PodDisruptionBudget has no status the function waits for.
		res.Resources[ResourceDisruptionBudget] = Desired{Object: DisruptionBudget(p, plan), Ready: true}
	}
	if NetworkPolicyEnabled(p, pl) {
		// A NetworkPolicy has no status: it works once it exists.
		res.Resources[ResourceNetworkPolicy] = Desired{Object: NetworkPolicy(p, pl, plan.Revisions), Ready: true}
	}
	return res, nil
}

// withTraffic labels a revision's Deployment with its part in the upgrade.
// The label is on the Deployment's metadata only, so changing it replaces
// no pod.
func withTraffic(rev *Revision, plan *Plan) *appsv1.Deployment {
	traffic := names.TrafficDraining
	switch rev {
	case plan.Serving:
		traffic = names.TrafficServing
	case plan.Target:
		traffic = names.TrafficCandidate
	}
	// A shallow copy with labels of its own: nothing writes to the rest
	// from here on, and deep-copying the pod template was most of the
	// copying a call did.
	d := *rev.Deployment
	d.Labels = make(map[string]string, len(rev.Deployment.Labels)+1)
	maps.Copy(d.Labels, rev.Deployment.Labels)
	d.Labels[names.LabelTraffic] = traffic
	return &d
}
