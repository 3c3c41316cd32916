package main

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/hourglass-xp/crossplane-hourglass/functions/performer/input/v1beta1"
	"github.com/hourglass-xp/crossplane-hourglass/internal/names"
)

// Built-in defaults of the spread input (documented in the README).
const (
	DefaultSpreadTopologyKey  = corev1.LabelHostname
	DefaultSameAVSWeight      = 100
	DefaultAnyPerformerWeight = 50
)

// Spread is the preferred pod anti-affinity that keeps performers apart,
// so one lost node does not take every performer of an AVS.
type Spread struct {
	TopologyKey        string
	SameAVSWeight      int32
	AnyPerformerWeight int32
}

func defaultSpread() Spread {
	return Spread{TopologyKey: DefaultSpreadTopologyKey, SameAVSWeight: DefaultSameAVSWeight, AnyPerformerWeight: DefaultAnyPerformerWeight}
}

func (s *Spread) apply(in *v1beta1.Spread, path *field.Path) error {
	if in == nil {
		return nil
	}
	if k := in.TopologyKey; k != nil {
		if errs := validation.IsQualifiedName(*k); len(errs) > 0 {
			return field.Invalid(path.Child("topologyKey"), *k, errs[0])
		}
		s.TopologyKey = *k
	}
	for _, w := range []struct {
		name string
		in   *int32
		dst  *int32
	}{{"sameAVSWeight", in.SameAVSWeight, &s.SameAVSWeight}, {"anyPerformerWeight", in.AnyPerformerWeight, &s.AnyPerformerWeight}} {
		if w.in == nil {
			continue
		}
		if *w.in < 0 || *w.in > 100 {
			return field.Invalid(path.Child(w.name), *w.in, "must be between 0 and 100")
		}
		*w.dst = *w.in
	}
	return nil
}

// WithSpread adds the spread to a pod's affinity, given the pod's labels.
// A Performer that sets its own pod anti-affinity keeps it whole: its
// choice replaces the platform's. The terms look at every namespace, as
// performers of one AVS may live in several.
func WithSpread(a *corev1.Affinity, s Spread, labels map[string]string) *corev1.Affinity {
	if a != nil && a.PodAntiAffinity != nil {
		return a
	}
	var terms []corev1.WeightedPodAffinityTerm
	term := func(weight int32, match map[string]string) {
		if weight == 0 {
			return
		}
		terms = append(terms, corev1.WeightedPodAffinityTerm{Weight: weight, PodAffinityTerm: corev1.PodAffinityTerm{
			LabelSelector:     &metav1.LabelSelector{MatchLabels: match},
			NamespaceSelector: &metav1.LabelSelector{},
			TopologyKey:       s.TopologyKey,
		}})
	}
	term(s.SameAVSWeight, map[string]string{names.LabelApp: names.AppPerformer, names.LabelAVS: labels[names.LabelAVS]})
	term(s.AnyPerformerWeight, map[string]string{names.LabelApp: names.AppPerformer})
	if len(terms) == 0 {
		return a
	}
	out := &corev1.Affinity{}
	if a != nil {
		out = a.DeepCopy()
	}
	out.PodAntiAffinity = &corev1.PodAntiAffinity{PreferredDuringSchedulingIgnoredDuringExecution: terms}
	return out
}
