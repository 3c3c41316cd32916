package main

import (
	"fmt"
	"sort"

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
func Hardware(hw *v1alpha1.HardwareRequirements, p *Platform) (*HardwareNeeds, error) {
	n := &HardwareNeeds{}
	if hw == nil {
		return n, nil
	}
	path := field.NewPath("spec", "hardwareRequirements")
	if err := n.gpu(hw, p, path); err != nil {
		return nil, err
	}
	if err := n.tee(hw, p, path); err != nil {
		return nil, err
	}
	if err := n.custom(hw, p, path); err != nil {
		return nil, err
	}
	return n, nil
}

func (n *HardwareNeeds) gpu(hw *v1alpha1.HardwareRequirements, p *Platform, path *field.Path) error {
	if hw.GPUType != "" {
		if hw.GPUCount < 1 {
			return field.Required(path.Child("gpuCount"), "must be at least 1 when gpuType is set")
		}
		terms, ok := p.GPUTypes[hw.GPUType]
		switch {
		case ok:
		case p.GPUFallbackLabel != "":
			terms = []corev1.NodeSelectorTerm{{MatchExpressions: []corev1.NodeSelectorRequirement{
				{Key: p.GPUFallbackLabel, Operator: corev1.NodeSelectorOpIn, Values: []string{hw.GPUType}},
			}}}
		default:
			return field.NotSupported(path.Child("gpuType"), hw.GPUType, p.knownGPUTypes())
		}
		n.NodeTerms = append(n.NodeTerms, TermGroup{From: path.Child("gpuType"), Terms: terms})
	}
	if hw.GPUCount < 0 {
		return field.Invalid(path.Child("gpuCount"), hw.GPUCount, "must not be negative")
	}
	if hw.GPUCount > 0 {
		n.Resources = append(n.Resources, ResourceNeed{
			From: path.Child("gpuCount"), Name: p.GPUResource, Quantity: *resource.NewQuantity(int64(hw.GPUCount), resource.DecimalSI),
		})
		n.Tolerations = append(n.Tolerations, p.GPUTolerations...)
	}
	return nil
}

func (n *HardwareNeeds) tee(hw *v1alpha1.HardwareRequirements, p *Platform, path *field.Path) error {
	switch {
	case !hw.TEERequired && hw.TEEType == "":
		return nil
	case !hw.TEERequired:
		return field.Invalid(path.Child("teeRequired"), false, "must be true when teeType is set")
	case hw.TEEType == "":
		return field.Required(path.Child("teeType"), fmt.Sprintf("required when teeRequired is true; one of %v", p.knownTEETypes()))
	}
	prof, ok := p.TEE[hw.TEEType]
	if !ok {
		return field.NotSupported(path.Child("teeType"), hw.TEEType, p.knownTEETypes())
	}
	from := path.Child("teeType")
	if len(prof.NodeSelectorTerms) > 0 {
		n.NodeTerms = append(n.NodeTerms, TermGroup{From: from, Terms: prof.NodeSelectorTerms})
	}
	n.Tolerations = append(n.Tolerations, prof.Tolerations...)
	for _, name := range sortedResourceNames(prof.Resources) {
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
func (n *HardwareNeeds) custom(hw *v1alpha1.HardwareRequirements, p *Platform, path *field.Path) error {
	keys := make([]string, 0, len(hw.CustomLabels))
	for k := range hw.CustomLabels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := hw.CustomLabels[k]
		if !p.ResourceLabelKeys[k] {
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

func sortedResourceNames(l corev1.ResourceList) []corev1.ResourceName {
	out := make([]corev1.ResourceName, 0, len(l))
	for k := range l {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}
