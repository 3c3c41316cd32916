package main

import (
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/hourglass-xp/crossplane-hourglass/internal/names"
)

// Service builds the ClusterIP Service that gives the performer its stable
// endpoint. It selects the serving revision only, so traffic moves between
// revisions in one write.
func Service(p *Performer, serving *Revision) *corev1.Service {
	return &corev1.Service{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: metav1.ObjectMeta{
			Name:      names.Service(p.Name),
			Namespace: p.Namespace,
			Labels:    names.Labels(p.Name, p.Spec.AVSAddress, "", ""),
		},
		Spec: corev1.ServiceSpec{
			Type:     corev1.ServiceTypeClusterIP,
			Selector: serving.selector(p),
			Ports: []corev1.ServicePort{{
				Name:       PortName,
				Protocol:   corev1.ProtocolTCP,
				Port:       serving.GRPCPort,
				TargetPort: intstr.FromString(PortName),
				// Tells meshes and gateways the port speaks HTTP/2 gRPC.
				AppProtocol: new("grpc"),
			}},
		},
	}
}

// NetworkPolicy builds the policy that admits only the allowed clients to
// the gRPC port of every revision of the performer. Selecting the pods for
// ingress denies everything else to them.
func NetworkPolicy(p *Performer, pl *Platform, revs []*Revision) *networkingv1.NetworkPolicy {
	var ports []networkingv1.NetworkPolicyPort
	seen := map[int32]bool{}
	for _, r := range revs {
		if seen[r.GRPCPort] {
			continue
		}
		seen[r.GRPCPort] = true
		ports = append(ports, networkingv1.NetworkPolicyPort{Protocol: new(corev1.ProtocolTCP), Port: new(intstr.FromInt32(r.GRPCPort))})
	}
	ingress := []networkingv1.NetworkPolicyIngressRule{{From: pl.AllowedClients, Ports: ports}}
	if pl.Endpoints && pl.EndpointHealthCheck {
		// Ready means "answers the provider's gRPC health check": a policy
		// that kept the provider out would keep every performer unready.
		ingress = append(ingress, networkingv1.NetworkPolicyIngressRule{From: pl.HealthCheckClients, Ports: ports})
	}
	return &networkingv1.NetworkPolicy{
		TypeMeta: metav1.TypeMeta{APIVersion: "networking.k8s.io/v1", Kind: "NetworkPolicy"},
		ObjectMeta: metav1.ObjectMeta{
			Name:      names.Service(p.Name),
			Namespace: p.Namespace,
			Labels:    names.Labels(p.Name, p.Spec.AVSAddress, "", ""),
		},
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{MatchLabels: names.Identity(p.Name)},
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
			Ingress:     ingress,
		},
	}
}

// NetworkPolicyEnabled reports whether the performer gets a NetworkPolicy:
// the performer's choice when it made one, else the platform's.
func NetworkPolicyEnabled(p *Performer, pl *Platform) bool {
	if np := p.Spec.NetworkPolicy; np != nil && np.Enabled != nil {
		return *np.Enabled
	}
	return pl.NetworkPolicyEnabled
}
