package main

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/hourglass-xp/crossplane-hourglass/apis/hourglass/v1alpha1"
)

func TestService(t *testing.T) {
	p := testPerformer(func(s *v1alpha1.PerformerSpec) { s.Config.GRPCPort = 8080 })
	r := revisionFor(t, p, DefaultPlatform())
	got := Service(p, r)
	if got.Name != "performer-example" || got.Namespace != "avs" {
		t.Errorf("name: want performer-example in avs, got %s in %s", got.Name, got.Namespace)
	}
	want := corev1.ServiceSpec{
		Type:     corev1.ServiceTypeClusterIP,
		Selector: map[string]string{"app": "performer", "performer-name": "example", "hourglass.eigenlayer.io/revision": r.ID},
		Ports:    []corev1.ServicePort{{Name: "grpc", Protocol: corev1.ProtocolTCP, Port: 8080, TargetPort: intstr.FromString("grpc"), AppProtocol: new("grpc")}},
	}
	if diff := cmp.Diff(want, got.Spec); diff != "" {
		t.Errorf("Service(...).Spec: -want, +got:\n%s", diff)
	}
	if _, ok := got.Labels["hourglass.eigenlayer.io/revision"]; ok {
		t.Error("the Service is shared by revisions and must not carry a revision label")
	}
}

func TestServiceLongName(t *testing.T) {
	p := testPerformer()
	p.Name = "an-extremely-long-performer-name-that-does-not-fit-a-service-name"
	got := Service(p, revisionFor(t, p, DefaultPlatform()))
	if len(got.Name) > 63 {
		t.Errorf("Service name %q is longer than 63 characters", got.Name)
	}
}

func TestNetworkPolicy(t *testing.T) {
	p := testPerformer()
	r := revisionFor(t, p, DefaultPlatform())
	other := *r
	other.GRPCPort = 8080
	got := NetworkPolicy(p, DefaultPlatform(), []*Revision{r, &other})
	want := networkingv1.NetworkPolicySpec{
		PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{"app": "performer", "performer-name": "example"}},
		PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
		Ingress: []networkingv1.NetworkPolicyIngressRule{{
			From: []networkingv1.NetworkPolicyPeer{{PodSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"hourglass.eigenlayer.io/role": "executor"}}}},
			Ports: []networkingv1.NetworkPolicyPort{
				{Protocol: new(corev1.ProtocolTCP), Port: new(intstr.FromInt32(9090))},
				{Protocol: new(corev1.ProtocolTCP), Port: new(intstr.FromInt32(8080))},
			},
		}},
	}
	if diff := cmp.Diff(want, got.Spec); diff != "" {
		t.Errorf("NetworkPolicy(...).Spec: -want, +got:\n%s", diff)
	}
}

func TestNetworkPolicyAdmitsHealthChecks(t *testing.T) {
	p := testPerformer()
	pl := DefaultPlatform()
	pl.Endpoints = true
	r := revisionFor(t, p, pl)
	got := NetworkPolicy(p, pl, []*Revision{r})
	port := []networkingv1.NetworkPolicyPort{{Protocol: new(corev1.ProtocolTCP), Port: new(intstr.FromInt32(9090))}}
	want := []networkingv1.NetworkPolicyIngressRule{
		{From: []networkingv1.NetworkPolicyPeer{{PodSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"hourglass.eigenlayer.io/role": "executor"}}}}, Ports: port},
		{From: []networkingv1.NetworkPolicyPeer{{
			NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"kubernetes.io/metadata.name": "crossplane-system"}},
			PodSelector:       &metav1.LabelSelector{MatchLabels: map[string]string{"pkg.crossplane.io/provider": "hourglass-xp-provider-hourglass"}},
		}}, Ports: port},
	}
	if diff := cmp.Diff(want, got.Spec.Ingress); diff != "" {
		t.Errorf("With the provider's health checks on, the policy must admit the provider too.\nNetworkPolicy(...).Spec.Ingress: -want, +got:\n%s", diff)
	}

	pl.EndpointHealthCheck = false
	if got := NetworkPolicy(p, pl, []*Revision{r}); len(got.Spec.Ingress) != 1 {
		t.Errorf("Without health checks only the allowed clients are admitted; got %d ingress rules", len(got.Spec.Ingress))
	}
}

func TestNetworkPolicyEnabled(t *testing.T) {
	cases := map[string]struct {
		reason    string
		platform  bool
		performer *bool
		want      bool
	}{
		"PlatformOff":    {reason: "The platform default applies when the performer is silent.", want: false},
		"PlatformOn":     {reason: "The platform default applies when the performer is silent.", platform: true, want: true},
		"ClaimOn":        {reason: "A performer can switch it on.", performer: new(true), want: true},
		"ClaimOffWinsOn": {reason: "A performer can switch it off.", platform: true, performer: new(false), want: false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			pl := DefaultPlatform()
			pl.NetworkPolicyEnabled = tc.platform
			p := testPerformer(func(s *v1alpha1.PerformerSpec) {
				s.NetworkPolicy = &v1alpha1.NetworkPolicyConfig{Enabled: tc.performer}
			})
			if got := NetworkPolicyEnabled(p, pl); got != tc.want {
				t.Errorf("%s\nNetworkPolicyEnabled(...): want %v, got %v", tc.reason, tc.want, got)
			}
		})
	}
}
