package main

import (
	"fmt"
	"maps"
	"slices"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/hourglass-xp/crossplane-hourglass/apis/hourglass/v1alpha1"
)

// HardwareNeeds is what a performer's hardwareRequirements ask of the pod,
// after the platform's profiles are applied. Each part remembers the spec
// field it came from, so a conflict with the user's explicit scheduling can
// name both.
type HardwareNeeds struct {
	// NodeTerms are groups of node selector terms: a node must match at
	// least one term of every group.
	NodeTerms []TermGroup
	// NodeLabels are customLabels: node labels required exactly.
	NodeLabels map[string]string
	// Tolerations are added to the pod.
	Tolerations []corev1.Toleration
	// Resources are requested and limited for the performer container.
	Resources []ResourceNeed
	// RuntimeClassName is the TEE profile's runtime class, if any.
	RuntimeClassName string
	// RuntimeClassFrom is the field that asked for RuntimeClassName.
	RuntimeClassFrom *field.Path
	// GPUOrTEE is true when the performer asks for a GPU or a TEE: a
	// revision that misses its deadline with no pod to tell why most
	// likely waits for that hardware.
	GPUOrTEE bool
}

// NodeLabelKeys are the node label keys the needs constrain: a pod whose
// nodes are rejected on them waits for hardware.
func (n *HardwareNeeds) NodeLabelKeys() []string {
	var keys []string
	for _, g := range n.NodeTerms {
		for _, t := range g.Terms {
			for _, e := range t.MatchExpressions {
				keys = append(keys, e.Key)
			}
		}
	}
	for k := range n.NodeLabels {
		keys = append(keys, k)
	}
	return keys
}

// TermGroup is a set of ORed node selector terms and where it came from.
type TermGroup struct {
	From  *field.Path
	Terms []corev1.NodeSelectorTerm
}

// ResourceNeed is one extended resource quantity and where it came from.
type ResourceNeed struct {
	From     *field.Path
	Name     corev1.ResourceName
	Quantity resource.Quantity
	// Default is true for a profile's default, which the user's own
	// spec.resources may replace; false for a quantity the user asked for
	// in hardwareRequirements, which spec.resources must not contradict.
	Default bool
}

// Hardware maps hardware requirements to needs with the platform's
// profiles. Unknown GPU or TEE types, and customLabels that name a resource
// but hold no quantity, are errors naming the field.
func Hardware(hw *v1alpha1.HardwareRequirements, pl *Platform) (*HardwareNeeds, error) {
	n := &HardwareNeeds{}
	if hw == nil {
		return n, nil
	}
	n.GPUOrTEE = hw.GPUCount > 0 || hw.TEERequired
	path := field.NewPath("spec", "hardwareRequirements")
	if err := n.gpu(hw, pl, path); err != nil {
		return nil, err
	}
	if err := n.tee(hw, pl, path); err != nil {
		return nil, err
	}
	if err := n.custom(hw, pl, path); err != nil {
		return nil, err
	}
	return n, nil
}

func (n *HardwareNeeds) gpu(hw *v1alpha1.HardwareRequirements, pl *Platform, path *field.Path) error {
	if hw.GPUType != "" {
		if hw.GPUCount < 1 {
			return field.Required(path.Child("gpuCount"), "must be at least 1 when gpuType is set")
		}
		terms, ok := pl.GPUTypes[hw.GPUType]
		switch {
		case ok:
		case pl.GPUFallbackLabel != "":
			terms = []corev1.NodeSelectorTerm{{MatchExpressions: []corev1.NodeSelectorRequirement{
				{Key: pl.GPUFallbackLabel, Operator: corev1.NodeSelectorOpIn, Values: []string{hw.GPUType}},
			}}}
		default:
			return field.NotSupported(path.Child("gpuType"), hw.GPUType, slices.Sorted(maps.Keys(pl.GPUTypes)))
		}
		n.NodeTerms = append(n.NodeTerms, TermGroup{From: path.Child("gpuType"), Terms: terms})
	}
	if hw.GPUCount < 0 {
		return field.Invalid(path.Child("gpuCount"), hw.GPUCount, "must not be negative")
	}
	if hw.GPUCount > 0 {
		n.Resources = append(n.Resources, ResourceNeed{
			From: path.Child("gpuCount"), Name: pl.GPUResource, Quantity: *resource.NewQuantity(int64(hw.GPUCount), resource.DecimalSI),
		})
		n.Tolerations = append(n.Tolerations, pl.GPUTolerations...)
	}
	return nil
}

func (n *HardwareNeeds) tee(hw *v1alpha1.HardwareRequirements, pl *Platform, path *field.Path) error {
	switch {
	case !hw.TEERequired && hw.TEEType == "":
		return nil
	case !hw.TEERequired:
		return field.Invalid(path.Child("teeRequired"), false, "must be true when teeType is set")
	case hw.TEEType == "":
		return field.Required(path.Child("teeType"), fmt.Sprintf("required when teeRequired is true; one of %v", slices.Sorted(maps.Keys(pl.TEE))))
	}
	prof, ok := pl.TEE[hw.TEEType]
	if !ok {
		return field.NotSupported(path.Child("teeType"), hw.TEEType, slices.Sorted(maps.Keys(pl.TEE)))
	}
	from := path.Child("teeType")
	if len(prof.NodeSelectorTerms) > 0 {
		n.NodeTerms = append(n.NodeTerms, TermGroup{From: from, Terms: prof.NodeSelectorTerms})
	}
	n.Tolerations = append(n.Tolerations, prof.Tolerations...)
	for _, name := range slices.Sorted(maps.Keys(prof.Resources)) {
		n.Resources = append(n.Resources, ResourceNeed{From: from, Name: name, Quantity: prof.Resources[name], Default: true})
	}
	if prof.RuntimeClassName != nil && *prof.RuntimeClassName != "" {
		n.RuntimeClassName, n.RuntimeClassFrom = *prof.RuntimeClassName, from
	}
	return nil
}

// custom splits customLabels into node labels and, for the keys the platform
// lists as resource names (sgx.intel.com/epc by default), resource
// quantities. A quantity given this way replaces a TEE profile's default for
// the same resource: it is the user's explicit choice.
func (n *HardwareNeeds) custom(hw *v1alpha1.HardwareRequirements, pl *Platform, path *field.Path) error {
	for _, k := range slices.Sorted(maps.Keys(hw.CustomLabels)) {
		v := hw.CustomLabels[k]
		if !pl.ResourceLabelKeys[k] {
			if n.NodeLabels == nil {
				n.NodeLabels = map[string]string{}
			}
			n.NodeLabels[k] = v
			continue
		}
		from := path.Child("customLabels").Key(k)
		q, err := resource.ParseQuantity(v)
		if err != nil || q.Sign() <= 0 {
			return field.Invalid(from, v, "names an extended resource, so its value must be a positive quantity such as 128Mi")
		}
		n.Resources = setResource(n.Resources, ResourceNeed{From: from, Name: corev1.ResourceName(k), Quantity: q})
	}
	return nil
}

func setResource(rs []ResourceNeed, r ResourceNeed) []ResourceNeed {
	for i := range rs {
		if rs[i].Name == r.Name {
			rs[i] = r
			return rs
		}
	}
	return append(rs, r)
}
