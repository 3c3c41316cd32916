package main

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"google.golang.org/protobuf/testing/protocmp"

	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"
)

func TestNodeLossTolerations(t *testing.T) {
	toleration := func(key string, seconds int64) corev1.Toleration {
		return corev1.Toleration{Key: key, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: new(seconds)}
	}
	gpu := corev1.Toleration{Key: "nvidia.com/gpu", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}
	cases := map[string]struct {
		reason string
		in     []corev1.Toleration
		want   []corev1.Toleration
	}{
		"None": {
			reason: "Without tolerations of its own the pod gets the platform's two.",
			want:   []corev1.Toleration{toleration(corev1.TaintNodeNotReady, 30), toleration(corev1.TaintNodeUnreachable, 30)},
		},
		"OthersKept": {
			reason: "Other tolerations stay, first.",
			in:     []corev1.Toleration{gpu},
			want:   []corev1.Toleration{gpu, toleration(corev1.TaintNodeNotReady, 30), toleration(corev1.TaintNodeUnreachable, 30)},
		},
		"UserWins": {
			reason: "The Performer's own toleration of a node-loss taint wins, even one without seconds (forever).",
			in:     []corev1.Toleration{{Key: corev1.TaintNodeUnreachable, Operator: corev1.TolerationOpExists}},
			want:   []corev1.Toleration{{Key: corev1.TaintNodeUnreachable, Operator: corev1.TolerationOpExists}, toleration(corev1.TaintNodeNotReady, 30)},
		},
		"TolerateEverything": {
			reason: "A toleration of every taint covers both: nothing is added that would shorten it.",
			in:     []corev1.Toleration{{Operator: corev1.TolerationOpExists}},
			want:   []corev1.Toleration{{Operator: corev1.TolerationOpExists}},
		},
		"NoScheduleOnly": {
			reason: "A NoSchedule toleration of the key does not cover its NoExecute taint.",
			in:     []corev1.Toleration{{Key: corev1.TaintNodeNotReady, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}},
			want: []corev1.Toleration{{Key: corev1.TaintNodeNotReady, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule},
				toleration(corev1.TaintNodeNotReady, 30), toleration(corev1.TaintNodeUnreachable, 30)},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			in := append([]corev1.Toleration(nil), tc.in...)
			got := NodeLossTolerations(in, 30)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s\nNodeLossTolerations(...): -want, +got:\n%s", tc.reason, diff)
			}
			if diff := cmp.Diff(tc.in, in); diff != "" {
				t.Errorf("NodeLossTolerations changed its input: -before, +after:\n%s", diff)
			}
		})
	}
}

func TestNodesFrom(t *testing.T) {
	n := map[string]any{
		"apiVersion": "v1", "kind": "Node",
		"metadata": map[string]any{"name": "n1", "managedFields": []any{map[string]any{"manager": "kubelet"}}},
		"spec":     map[string]any{"unschedulable": true, "podCIDR": "10.0.0.0/24"},
		"status": map[string]any{
			"conditions": []any{map[string]any{"type": "Ready", "status": "Unknown"}},
			"images":     []any{map[string]any{"names": []any{"big"}}},
		},
	}
	req := &fnv1.RunFunctionRequest{RequiredResources: map[string]*fnv1.Resources{
		RequiredNodePrefix + "n1": {Items: []*fnv1.Resource{{Resource: mustStruct(t, n)}}},
		RequiredPods:              {Items: []*fnv1.Resource{{Resource: mustStruct(t, map[string]any{"metadata": map[string]any{"name": "p"}})}}},
	}}
	got, err := NodesFrom(req)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]*corev1.Node{"n1": {
		ObjectMeta: metav1.ObjectMeta{Name: "n1"},
		Spec:       corev1.NodeSpec{Unschedulable: true},
		Status:     corev1.NodeStatus{Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionUnknown}}},
	}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("NodesFrom(...): only the name, unschedulable and conditions: -want, +got:\n%s", diff)
	}
}

func TestWithNodes(t *testing.T) {
	pods := &fnv1.ResourceSelector{ApiVersion: "v1", Kind: "Pod"}
	node := func(n string) *fnv1.ResourceSelector {
		return &fnv1.ResourceSelector{ApiVersion: "v1", Kind: "Node", Match: &fnv1.ResourceSelector_MatchName{MatchName: n}}
	}
	cases := map[string]struct {
		reason string
		r      *fnv1.Requirements
		nodes  []string
		want   *fnv1.Requirements
	}{
		"NoNodes": {
			reason: "No node: the requirements are unchanged.",
			r:      &fnv1.Requirements{Resources: map[string]*fnv1.ResourceSelector{RequiredPods: pods}},
			want:   &fnv1.Requirements{Resources: map[string]*fnv1.ResourceSelector{RequiredPods: pods}},
		},
		"Nodes": {
			reason: "Each node by name beside the pods.",
			r:      &fnv1.Requirements{Resources: map[string]*fnv1.ResourceSelector{RequiredPods: pods}},
			nodes:  []string{"a", "b"},
			want:   &fnv1.Requirements{Resources: map[string]*fnv1.ResourceSelector{RequiredPods: pods, "node-a": node("a"), "node-b": node("b")}},
		},
		"NothingElse": {
			reason: "Nodes alone make requirements of their own.",
			nodes:  []string{"a"},
			want:   &fnv1.Requirements{Resources: map[string]*fnv1.ResourceSelector{"node-a": node("a")}},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, withNodes(tc.r, tc.nodes), protocmp.Transform()); diff != "" {
				t.Errorf("%s\nwithNodes(...): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}
