package main

import (
	"fmt"
	"maps"
	"slices"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/hourglass-xp/crossplane-hourglass/apis/hourglass/v1alpha1"
)

// maxNodeTerms bounds the required node affinity terms a merge may produce.
// Terms are ORed and hardware groups ANDed, so the merge multiplies them;
// beyond this the result is unreadable and slow to schedule.
const maxNodeTerms = 64

// Scheduling is the pod's scheduling and the container's resources after
// the user's explicit settings and the hardware needs are merged.
type Scheduling struct {
	NodeSelector      map[string]string
	Affinity          *corev1.Affinity
	Tolerations       []corev1.Toleration
	RuntimeClassName  *string
	PriorityClassName string
	Resources         corev1.ResourceRequirements
}

// Schedule merges the performer's scheduling and resources with its
// hardware needs. The user's explicit settings win where both are a choice
// (a toleration for the same taint, the runtime class, a profile's default
// device quantity); where both are requirements that cannot hold together
// (a nodeSelector value against a customLabels value, a GPU count against
// spec.resources, node terms that exclude each other) the result is an
// error naming both fields.
func Schedule(spec *v1alpha1.PerformerSpec, n *HardwareNeeds) (*Scheduling, error) {
	user := spec.Scheduling
	if user == nil {
		user = &v1alpha1.SchedulingConfig{}
	}
	s := &Scheduling{NodeSelector: copyMap(user.NodeSelector)}
	if user.PriorityClassName != nil {
		s.PriorityClassName = *user.PriorityClassName
	}
	if user.Affinity != nil {
		s.Affinity = user.Affinity.DeepCopy()
	}
	if err := s.mergeNodeLabels(n.NodeLabels); err != nil {
		return nil, err
	}
	if err := s.mergeNodeTerms(n.NodeTerms); err != nil {
		return nil, err
	}
	s.Tolerations = mergeTolerations(user.Tolerations, n.Tolerations)
	switch {
	case user.RuntimeClass != nil && *user.RuntimeClass != "":
		s.RuntimeClassName = new(*user.RuntimeClass)
	case n.RuntimeClassName != "":
		s.RuntimeClassName = new(n.RuntimeClassName)
	}
	r, err := mergeResources(spec.Resources, n.Resources)
	s.Resources = r
	return s, err
}

// mergeNodeLabels turns customLabels into a required node term group, after
// checking that nodeSelector does not ask for another value of a label.
func (s *Scheduling) mergeNodeLabels(labels map[string]string) error {
	if len(labels) == 0 {
		return nil
	}
	var reqs []corev1.NodeSelectorRequirement
	for _, k := range slices.Sorted(maps.Keys(labels)) {
		v := labels[k]
		if sv, ok := s.NodeSelector[k]; ok && sv != v {
			return conflict(field.NewPath("spec", "scheduling", "nodeSelector").Key(k), sv,
				field.NewPath("spec", "hardwareRequirements", "customLabels").Key(k), v)
		}
		reqs = append(reqs, corev1.NodeSelectorRequirement{Key: k, Operator: corev1.NodeSelectorOpIn, Values: []string{v}})
	}
	return s.mergeNodeTerms([]TermGroup{{
		From:  field.NewPath("spec", "hardwareRequirements", "customLabels"),
		Terms: []corev1.NodeSelectorTerm{{MatchExpressions: reqs}},
	}})
}

// mergeNodeTerms ANDs each group into the required node affinity: every
// existing term is combined with every term of the group. Combinations that
// no node can match (an In on a label that nodeSelector or another In
// requires with another value) are dropped; if none is left the
// requirements conflict.
func (s *Scheduling) mergeNodeTerms(groups []TermGroup) error {
	userPath := field.NewPath("spec", "scheduling", "affinity", "nodeAffinity", "requiredDuringSchedulingIgnoredDuringExecution")
	for _, g := range groups {
		current := s.requiredTerms()
		var merged []corev1.NodeSelectorTerm
		if len(current) == 0 {
			current = []corev1.NodeSelectorTerm{{}}
		}
		for _, c := range current {
			for _, t := range g.Terms {
				m := corev1.NodeSelectorTerm{
					MatchExpressions: append(append([]corev1.NodeSelectorRequirement{}, c.MatchExpressions...), t.MatchExpressions...),
					MatchFields:      append(append([]corev1.NodeSelectorRequirement{}, c.MatchFields...), t.MatchFields...),
				}
				if satisfiable(m, s.NodeSelector) {
					merged = append(merged, m)
				}
			}
		}
		if len(merged) == 0 {
			other, v := userPath, any("required node affinity")
			if len(s.requiredTerms()) == 0 {
				other, v = field.NewPath("spec", "scheduling", "nodeSelector"), s.NodeSelector
			}
			return conflict(other, v, g.From, "node selector terms no node can match together with it")
		}
		if len(merged) > maxNodeTerms {
			return field.TooMany(userPath, len(merged), maxNodeTerms)
		}
		s.setRequiredTerms(merged)
	}
	return nil
}

func (s *Scheduling) requiredTerms() []corev1.NodeSelectorTerm {
	if s.Affinity == nil || s.Affinity.NodeAffinity == nil || s.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution == nil {
		return nil
	}
	return s.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms
}

func (s *Scheduling) setRequiredTerms(terms []corev1.NodeSelectorTerm) {
	if s.Affinity == nil {
		s.Affinity = &corev1.Affinity{}
	}
	if s.Affinity.NodeAffinity == nil {
		s.Affinity.NodeAffinity = &corev1.NodeAffinity{}
	}
	s.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution = &corev1.NodeSelector{NodeSelectorTerms: terms}
}

// satisfiable reports whether some node could match the term and the
// nodeSelector, judged only by In requirements: a label must take one value,
// so two In lists on one key with no value in common, or an In list without
// the nodeSelector's value, exclude every node. Other operators are left to
// the scheduler.
func satisfiable(t corev1.NodeSelectorTerm, nodeSelector map[string]string) bool {
	allowed := map[string]map[string]bool{}
	for k, v := range nodeSelector {
		allowed[k] = map[string]bool{v: true}
	}
	for _, r := range t.MatchExpressions {
		if r.Operator != corev1.NodeSelectorOpIn {
			continue
		}
		next := map[string]bool{}
		prev, seen := allowed[r.Key]
		for _, v := range r.Values {
			if !seen || prev[v] {
				next[v] = true
			}
		}
		if len(next) == 0 {
			return false
		}
		allowed[r.Key] = next
	}
	return true
}

// mergeTolerations keeps the user's tolerations and adds the hardware ones
// for taints (key and effect) the user does not already tolerate.
func mergeTolerations(user, hw []corev1.Toleration) []corev1.Toleration {
	if len(user) == 0 && len(hw) == 0 {
		return nil
	}
	out := make([]corev1.Toleration, 0, len(user)+len(hw))
	out = append(out, user...)
	for _, h := range hw {
		covered := false
		for _, u := range out {
			if u.Key == h.Key && (u.Effect == h.Effect || u.Effect == "") {
				covered = true
				break
			}
		}
		if !covered {
			out = append(out, h)
		}
	}
	return out
}

// mergeResources sets each needed resource as both request and limit, as
// Kubernetes requires for extended resources.
func mergeResources(user corev1.ResourceRequirements, needs []ResourceNeed) (corev1.ResourceRequirements, error) {
	r := *user.DeepCopy()
	res := field.NewPath("spec", "resources")
	for _, n := range needs {
		lim, hasLim := r.Limits[n.Name]
		req, hasReq := r.Requests[n.Name]
		if n.Default && (hasLim || hasReq) {
			// The user's own quantity replaces the profile's default.
			continue
		}
		if hasLim && lim.Cmp(n.Quantity) != 0 {
			return r, conflict(res.Child("limits").Key(string(n.Name)), lim.String(), n.From, n.Quantity.String())
		}
		if hasReq && req.Cmp(n.Quantity) != 0 {
			return r, conflict(res.Child("requests").Key(string(n.Name)), req.String(), n.From, n.Quantity.String())
		}
		if r.Limits == nil {
			r.Limits = corev1.ResourceList{}
		}
		if r.Requests == nil {
			r.Requests = corev1.ResourceList{}
		}
		r.Limits[n.Name] = n.Quantity
		r.Requests[n.Name] = n.Quantity
	}
	return r, nil
}

// conflict is the error for two fields that cannot both hold.
func conflict(a *field.Path, av any, b *field.Path, bv any) error {
	return field.Invalid(a, av, fmt.Sprintf("conflicts with %s (%v)", b, bv))
}

func copyMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
