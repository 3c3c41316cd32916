package main

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/hourglass-xp/crossplane-hourglass/internal/names"
)

// ResourceConnectionSecret is the composed resource name of the Secret that
// holds the performer's connection details. A Crossplane v2 composite has
// no connection details of its own, so the function composes the Secret
// beside the Service it describes.
const ResourceConnectionSecret = "connection-secret"

// ConnectionSecret is the Secret with the endpoint, host and port of the
// performer's Service. Its content depends only on the name, namespace and
// port, so it exists, correct, before the performer is ready and does not
// change across revisions.
func ConnectionSecret(p *Performer, port int32) *corev1.Secret {
	return &corev1.Secret{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
		ObjectMeta: metav1.ObjectMeta{
			Name:      names.ConnectionSecret(p.Name),
			Namespace: p.Namespace,
			Labels:    names.Labels(p.Name, p.Spec.AVSAddress, "", ""),
		},
		Type: corev1.SecretTypeOpaque,
		Data: names.Connection(names.Service(p.Name), p.Namespace, port),
	}
}
