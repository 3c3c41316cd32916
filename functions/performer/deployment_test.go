package main

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"

	"github.com/hourglass-xp/crossplane-hourglass/apis/hourglass/v1alpha1"
	"github.com/hourglass-xp/crossplane-hourglass/functions/performer/input/v1beta1"
)

func testPerformer(mutate ...func(*v1alpha1.PerformerSpec)) *Performer {
	p := &Performer{Name: "example", Namespace: "avs", Spec: v1alpha1.PerformerSpec{
		AVSAddress: "0x1234567890abcdef1234567890abcdef12345678",
		Image:      "myavs/performer",
		Version:    "v1.0.0",
		Config:     v1alpha1.PerformerConfig{GRPCPort: 9090},
	}}
	for _, m := range mutate {
		m(&p.Spec)
	}
	return p
}

func revisionFor(t *testing.T, p *Performer, pl *Platform) *Revision {
	t.Helper()
	n, err := Hardware(p.Spec.HardwareRequirements, pl)
	if err != nil {
		t.Fatal(err)
	}
	s, err := Schedule(&p.Spec, n)
	if err != nil {
		t.Fatal(err)
	}
	r, err := NewRevision(p, s, pl)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestPodTemplate(t *testing.T) {
	env := []corev1.EnvVar{
		{Name: "LOG_LEVEL", Value: "info"},
		{Name: "API_KEY", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "api-secrets"}, Key: "api-key"}}},
		{Name: "POD_NAME", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}},
	}
	grpc := func(port int32) corev1.ProbeHandler {
		return corev1.ProbeHandler{GRPC: &corev1.GRPCAction{Port: port, Service: new("")}}
	}
	cases := map[string]struct {
		reason string
		p      *Performer
		pl     *Platform
		check  func(t *testing.T, pod corev1.PodSpec)
	}{
		"Container": {
			reason: "Image with version as tag, command, args, env with valueFrom, named gRPC port, kubelet gRPC probes on it.",
			p: testPerformer(func(s *v1alpha1.PerformerSpec) {
				s.Config = v1alpha1.PerformerConfig{GRPCPort: 8080, Env: env, Command: []string{"/performer"}, Args: []string{"--x"}}
			}),
			check: func(t *testing.T, pod corev1.PodSpec) {
				t.Helper()
				c := pod.Containers[0]
				want := corev1.Container{
					Name: "performer", Image: "myavs/performer:v1.0.0", Command: []string{"/performer"}, Args: []string{"--x"}, Env: env,
					Ports:          []corev1.ContainerPort{{Name: "grpc", ContainerPort: 8080, Protocol: corev1.ProtocolTCP}},
					ReadinessProbe: &corev1.Probe{ProbeHandler: grpc(8080), PeriodSeconds: 5, TimeoutSeconds: 2, FailureThreshold: 3, SuccessThreshold: 1},
					LivenessProbe:  &corev1.Probe{ProbeHandler: grpc(8080), InitialDelaySeconds: 10, PeriodSeconds: 10, TimeoutSeconds: 2, FailureThreshold: 3, SuccessThreshold: 1},
					SecurityContext: &corev1.SecurityContext{
						AllowPrivilegeEscalation: new(false), Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
					},
				}
				if diff := cmp.Diff(want, c); diff != "" {
					t.Errorf("container: -want, +got:\n%s", diff)
				}
			},
		},
		"OperatorFormat": {
			reason: "The original operator's imagePullPolicy goes to the container; its environment and environmentFrom become env before the env list.",
			p: testPerformer(func(s *v1alpha1.PerformerSpec) {
				s.ImagePullPolicy = corev1.PullNever
				s.Config.Environment = map[string]string{"GRPC_PORT": "8080"}
				s.Config.EnvironmentFrom = []v1alpha1.EnvironmentFromSource{{Name: "KEY", ValueFrom: v1alpha1.EnvironmentValueSource{SecretKeyRef: &v1alpha1.KeySelector{Name: "keys", Key: "k"}}}}
				s.Config.Env = []corev1.EnvVar{{Name: "LOG_LEVEL", Value: "info"}}
			}),
			check: func(t *testing.T, pod corev1.PodSpec) {
				t.Helper()
				c := pod.Containers[0]
				if c.ImagePullPolicy != corev1.PullNever {
					t.Errorf("imagePullPolicy: want Never, got %q", c.ImagePullPolicy)
				}
				want := []corev1.EnvVar{
					{Name: "GRPC_PORT", Value: "8080"},
					{Name: "KEY", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "keys"}, Key: "k"}}},
					{Name: "LOG_LEVEL", Value: "info"},
				}
				if diff := cmp.Diff(want, c.Env); diff != "" {
					t.Errorf("env: -want, +got:\n%s", diff)
				}
			},
		},
		"RestrictedPod": {
			reason: "By default the pod meets Pod Security Standards restricted and, without a ServiceAccount of its own, mounts no token.",
			p:      testPerformer(),
			check: func(t *testing.T, pod corev1.PodSpec) {
				t.Helper()
				want := &corev1.PodSecurityContext{RunAsNonRoot: new(true), SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}}
				if diff := cmp.Diff(want, pod.SecurityContext); diff != "" {
					t.Errorf("pod security context: -want, +got:\n%s", diff)
				}
				if pod.AutomountServiceAccountToken == nil || *pod.AutomountServiceAccountToken {
					t.Error("automountServiceAccountToken should be false")
				}
			},
		},
		"ServiceAccountAndPullSecrets": {
			reason: "A ServiceAccount of its own gets its token; image pull secrets pass through.",
			p: testPerformer(func(s *v1alpha1.PerformerSpec) {
				s.Config.ServiceAccountName = "performer"
				s.ImagePullSecrets = []corev1.LocalObjectReference{{Name: "private-registry-secret"}}
			}),
			check: func(t *testing.T, pod corev1.PodSpec) {
				t.Helper()
				if pod.ServiceAccountName != "performer" || pod.AutomountServiceAccountToken != nil {
					t.Errorf("service account: %q, automount %v", pod.ServiceAccountName, pod.AutomountServiceAccountToken)
				}
				if diff := cmp.Diff([]corev1.LocalObjectReference{{Name: "private-registry-secret"}}, pod.ImagePullSecrets); diff != "" {
					t.Errorf("imagePullSecrets: -want, +got:\n%s", diff)
				}
			},
		},
		"Unconfined": {
			reason: "The platform can relax the security context; explicit ids are still set.",
			p:      testPerformer(),
			pl: func() *Platform {
				pl := DefaultPlatform()
				pl.Security = v1beta1.Security{Profile: new(SecurityUnconfined), RunAsUser: new(int64(0))}
				return pl
			}(),
			check: func(t *testing.T, pod corev1.PodSpec) {
				t.Helper()
				if diff := cmp.Diff(&corev1.PodSecurityContext{RunAsUser: new(int64(0))}, pod.SecurityContext); diff != "" {
					t.Errorf("pod security context: -want, +got:\n%s", diff)
				}
				if pod.Containers[0].SecurityContext != nil {
					t.Errorf("container security context: want none, got %+v", pod.Containers[0].SecurityContext)
				}
			},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			pl := tc.pl
			if pl == nil {
				pl = DefaultPlatform()
			}
			t.Log(tc.reason)
			tc.check(t, revisionFor(t, tc.p, pl).Deployment.Spec.Template.Spec)
		})
	}
}

func TestNewRevision(t *testing.T) {
	r := revisionFor(t, testPerformer(), DefaultPlatform())
	d := r.Deployment
	if *d.Spec.Replicas != 1 {
		t.Errorf("replicas: want 1, got %d", *d.Spec.Replicas)
	}
	if d.Name != "performer-example-"+r.ID || d.Namespace != "avs" {
		t.Errorf("name: want performer-example-%s in avs, got %s in %s", r.ID, d.Name, d.Namespace)
	}
	want := map[string]string{"app": "performer", "performer-name": "example", "hourglass.eigenlayer.io/revision": r.ID}
	if diff := cmp.Diff(want, d.Spec.Selector.MatchLabels); diff != "" {
		t.Errorf("selector: -want, +got:\n%s", diff)
	}
	for k, v := range want {
		if d.Spec.Template.Labels[k] != v {
			t.Errorf("pod label %s: want %q, got %q", k, v, d.Spec.Template.Labels[k])
		}
	}
	if d.Spec.Template.Labels["hourglass.eigenlayer.io/avs"] != "0x1234567890abcdef1234567890abcdef12345678" || d.Spec.Template.Labels["app.kubernetes.io/version"] != "v1.0.0" {
		t.Errorf("pod labels: %v", d.Spec.Template.Labels)
	}
}

func TestRevisionID(t *testing.T) {
	base := revisionFor(t, testPerformer(), DefaultPlatform()).ID
	cases := map[string]struct {
		reason  string
		p       *Performer
		pl      func(*Platform)
		changes bool
	}{
		"Same": {reason: "The same inputs give the same revision.", p: testPerformer()},
		"Version": {
			reason: "A new version is a new revision.", changes: true,
			p: testPerformer(func(s *v1alpha1.PerformerSpec) { s.Version = "v1.0.1" }),
		},
		"Env": {
			reason: "Any pod template change is a new revision: pods must be replaced.", changes: true,
			p: testPerformer(func(s *v1alpha1.PerformerSpec) { s.Config.Env = []corev1.EnvVar{{Name: "A", Value: "b"}} }),
		},
		"PlatformProbe": {
			reason: "A platform change to the pod template is a new revision too (rolled out blue-green).", changes: true,
			p: testPerformer(), pl: func(p *Platform) { p.Readiness.PeriodSeconds = 1 },
		},
		"ProgressDeadline": {
			reason: "Upgrade tuning is not part of the pod template: same revision.",
			p: testPerformer(func(s *v1alpha1.PerformerSpec) {
				s.Upgrade = &v1alpha1.UpgradeConfig{ProgressDeadlineSeconds: new(int32(60))}
			}),
		},
		"NetworkPolicy": {
			reason: "Switching the NetworkPolicy does not touch pods.",
			p:      testPerformer(func(s *v1alpha1.PerformerSpec) { s.NetworkPolicy = &v1alpha1.NetworkPolicyConfig{Enabled: new(true)} }),
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			pl := DefaultPlatform()
			if tc.pl != nil {
				tc.pl(pl)
			}
			got := revisionFor(t, tc.p, pl).ID
			if (got != base) != tc.changes {
				t.Errorf("%s\nrevision %s, base %s, want changed=%v", tc.reason, got, base, tc.changes)
			}
		})
	}
}
