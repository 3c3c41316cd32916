package main

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/hourglass-xp/crossplane-hourglass/functions/performer/input/v1beta1"
	"github.com/hourglass-xp/crossplane-hourglass/internal/names"
)

func TestWithSpread(t *testing.T) {
	labels := names.Labels("p", "0xAVS", "v1", "")
	term := func(weight int32, match map[string]string) corev1.WeightedPodAffinityTerm {
		return corev1.WeightedPodAffinityTerm{Weight: weight, PodAffinityTerm: corev1.PodAffinityTerm{
			LabelSelector: &metav1.LabelSelector{MatchLabels: match}, NamespaceSelector: &metav1.LabelSelector{}, TopologyKey: corev1.LabelHostname,
		}}
	}
	sameAVS := term(100, map[string]string{names.LabelApp: names.AppPerformer, names.LabelAVS: "0xavs"})
	anyPerformer := term(50, map[string]string{names.LabelApp: names.AppPerformer})
	nodeAffinity := &corev1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{
		NodeSelectorTerms: []corev1.NodeSelectorTerm{{MatchExpressions: []corev1.NodeSelectorRequirement{{Key: "gpu", Operator: corev1.NodeSelectorOpExists}}}},
	}}
	own := &corev1.PodAntiAffinity{PreferredDuringSchedulingIgnoredDuringExecution: []corev1.WeightedPodAffinityTerm{term(1, map[string]string{"x": "y"})}}

	cases := map[string]struct {
		reason string
		a      *corev1.Affinity
		s      Spread
		want   *corev1.Affinity
	}{
		"Default": {
			reason: "Performers of the same AVS apart first, any performers apart second, by host, across namespaces.",
			s:      defaultSpread(),
			want:   &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{PreferredDuringSchedulingIgnoredDuringExecution: []corev1.WeightedPodAffinityTerm{sameAVS, anyPerformer}}},
		},
		"KeepsNodeAffinity": {
			reason: "Node affinity (the user's or the hardware's) stays beside the spread.",
			a:      &corev1.Affinity{NodeAffinity: nodeAffinity},
			s:      defaultSpread(),
			want: &corev1.Affinity{NodeAffinity: nodeAffinity,
				PodAntiAffinity: &corev1.PodAntiAffinity{PreferredDuringSchedulingIgnoredDuringExecution: []corev1.WeightedPodAffinityTerm{sameAVS, anyPerformer}}},
		},
		"PerformerOverrides": {
			reason: "The Performer's own pod anti-affinity replaces the platform's.",
			a:      &corev1.Affinity{PodAntiAffinity: own},
			s:      defaultSpread(),
			want:   &corev1.Affinity{PodAntiAffinity: own},
		},
		"Off": {
			reason: "Both weights 0: no spread, the affinity as it was.",
			s:      Spread{TopologyKey: corev1.LabelHostname},
		},
		"OnlyAVS": {
			reason: "A weight of 0 drops its term.",
			s:      Spread{TopologyKey: corev1.LabelHostname, SameAVSWeight: 100},
			want:   &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{PreferredDuringSchedulingIgnoredDuringExecution: []corev1.WeightedPodAffinityTerm{sameAVS}}},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, WithSpread(tc.a, tc.s, labels)); diff != "" {
				t.Errorf("%s\nWithSpread(...): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestSpreadInput(t *testing.T) {
	cases := map[string]struct {
		reason string
		in     *v1beta1.Spread
		want   Spread
		err    string
	}{
		"Defaults": {
			reason: "No input: by host, same AVS 100, any performer 50.",
			want:   Spread{TopologyKey: corev1.LabelHostname, SameAVSWeight: 100, AnyPerformerWeight: 50},
		},
		"Set": {
			reason: "Spread over zones, only by AVS.",
			in:     &v1beta1.Spread{TopologyKey: new(corev1.LabelTopologyZone), AnyPerformerWeight: new(int32(0))},
			want:   Spread{TopologyKey: corev1.LabelTopologyZone, SameAVSWeight: 100},
		},
		"BadKey": {
			reason: "A topology key that is no label key is refused, naming the field.",
			in:     &v1beta1.Spread{TopologyKey: new("not a key")},
			err:    `spread.topologyKey: Invalid value: "not a key": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')`,
		},
		"BadWeight": {
			reason: "A weight beyond 100 is refused, naming the field.",
			in:     &v1beta1.Spread{SameAVSWeight: new(int32(101))},
			err:    "spread.sameAVSWeight: Invalid value: 101: must be between 0 and 100",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			pl, err := NewPlatform(&v1beta1.Input{Spread: tc.in})
			if diff := cmp.Diff(tc.err, errString(err)); diff != "" {
				t.Fatalf("%s\nNewPlatform(...): -want error, +got error:\n%s", tc.reason, diff)
			}
			if err != nil {
				return
			}
			if diff := cmp.Diff(tc.want, pl.Spread); diff != "" {
				t.Errorf("%s\nNewPlatform(...).Spread: -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}
