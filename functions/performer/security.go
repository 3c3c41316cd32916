package main

import (
	"reflect"

	corev1 "k8s.io/api/core/v1"

	"github.com/hourglass-xp/crossplane-hourglass/functions/performer/input/v1beta1"
)

// SecurityContexts returns the pod and container security contexts. The
// Restricted profile meets the Pod Security Standards' restricted level, so
// performers run in namespaces that enforce it; Unconfined sets only what
// the platform asked for explicitly.
func SecurityContexts(s v1beta1.Security) (*corev1.PodSecurityContext, *corev1.SecurityContext) {
	pod := &corev1.PodSecurityContext{RunAsUser: s.RunAsUser, RunAsGroup: s.RunAsGroup, FSGroup: s.FSGroup}
	ctr := &corev1.SecurityContext{ReadOnlyRootFilesystem: s.ReadOnlyRootFilesystem}
	if s.Profile == nil || *s.Profile == SecurityRestricted {
		pod.RunAsNonRoot = new(true)
		pod.SeccompProfile = &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}
		ctr.AllowPrivilegeEscalation = new(false)
		ctr.Capabilities = &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}}
	}
	if reflect.DeepEqual(*pod, corev1.PodSecurityContext{}) {
		pod = nil
	}
	if reflect.DeepEqual(*ctr, corev1.SecurityContext{}) {
		ctr = nil
	}
	return pod, ctr
}
