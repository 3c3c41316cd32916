//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	kerrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/hourglass-xp/crossplane-hourglass/internal/names"
)

const (
	opNS  = "e2e-executor-shaped"
	opAVS = "0x00000000000000000000000000000000000000a7"
	// The Secret and ConfigMap the executor's environmentFrom reads.
	opSecret, opSecretKey       = "avs-secrets", "api-key"
	opConfigMap, opConfigMapKey = "avs-config", "chain-id"
)

// opEnvironment is the executor's environment map, GRPC_PORT included.
func opEnvironment() map[string]string {
	return map[string]string{"LOG_LEVEL": "info", "GRPC_PORT": "8080", "AVS_ADDRESS": opAVS}
}

func opEnvironmentFrom() []opEnvFrom {
	return []opEnvFrom{
		{Name: "API_KEY", ValueFrom: opValueFrom{SecretKeyRef: &opKeyRef{Name: opSecret, Key: opSecretKey}}},
		{Name: "CHAIN_ID", ValueFrom: opValueFrom{ConfigMapKeyRef: &opKeyRef{Name: opConfigMap, Key: opConfigMapKey}}},
	}
}

// opWantEnv is the container environment the performers here must get:
// environment in sorted name order, then environmentFrom in list order, then
// spec.config.env (extra).
func opWantEnv(extra ...corev1.EnvVar) []corev1.EnvVar {
	env := []corev1.EnvVar{
		{Name: "AVS_ADDRESS", Value: opAVS},
		{Name: "GRPC_PORT", Value: "8080"},
		{Name: "LOG_LEVEL", Value: "info"},
		{Name: "API_KEY", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: opSecret}, Key: opSecretKey}}},
		{Name: "CHAIN_ID", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: opConfigMap}, Key: opConfigMapKey}}},
	}
	return append(env, extra...)
}

// TestExecutorShapedClient drives a performer the way the Hourglass
// executor does, with the example executor Role's identity: it creates one in
// the original operator's wire format, polls status.ready, dials the endpoint
// it computes from the name (gRPC health, from inside the stack's network),
// reads it into a struct that knows only the operator's fields and PUTs it
// back with a new image, and deletes it. The performer must serve its
// environment, survive the PUT without a second Service or a moment without
// a ready endpoint, and leave nothing behind.
func TestExecutorShapedClient(t *testing.T) {
	t.Parallel()
	e := setup(t)
	xc := xclient(t, e)
	e.ensureNamespace(t, opNS)
	oc := newOpClient(t, executorIdentity(t, e, opNS))
	e.ensureObject(t, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: opNS, Name: opSecret},
		StringData: map[string]string{opSecretKey: "not-a-real-key"},
	})
	e.ensureObject(t, &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Namespace: opNS, Name: opConfigMap},
		Data:       map[string]string{opConfigMapKey: "17000"},
	})

	name := opName(t)
	p := newOpPerformer(opNS, name, opAVS, goodRepo, "v1.0.0", opEnvironment(), opEnvironmentFrom())
	ctx, cancel := context.WithTimeout(t.Context(), settle)
	defer cancel()
	if err := oc.create(ctx, p); err != nil {
		t.Fatalf("create %s/%s as the executor writes it: %v", opNS, name, err)
	}
	t.Cleanup(func() { e.deletePerformer(t, opNS, name) })

	// A second one with spec.config.env too, which the executor never
	// writes but a user may: the three sources together.
	name2 := opName(t)
	extra := []corev1.EnvVar{
		{Name: "EXTRA", Value: "1"},
		{Name: "POD_NAME", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.name"}}},
	}
	p2, err := newOpPerformer(opNS, name2, opAVS, goodRepo, "v1.0.0", opEnvironment(), opEnvironmentFrom()).toUnstructured()
	if err != nil {
		t.Fatal(err)
	}
	if err := unstructured.SetNestedSlice(p2.Object, envList(t, extra), "spec", "config", "env"); err != nil {
		t.Fatal(err)
	}
	if err := e.c.Create(ctx, p2); err != nil {
		t.Fatalf("create %s/%s: %v", opNS, name2, err)
	}
	t.Cleanup(func() { e.deletePerformer(t, opNS, name2) })

	endpoint := opEndpoint(name, opNS)
	t.Run("status.ready, then the computed endpoint answers", func(t *testing.T) {
		got, took, err := oc.waitReady(t.Context(), opNS, name)
		if err != nil {
			t.Fatal(err)
		}
		// The executor dials as soon as it reads ready: no grace.
		st, err := e.healthFromStack(t.Context(), endpoint)
		if err != nil || st != "SERVING" {
			t.Fatalf("status.ready true after %.1fs, but gRPC health of %s: %q, %v", took.Seconds(), endpoint, st, err)
		}
		t.Logf("status.ready true after %.1fs (polled every %s); %s answers %s from inside the stack", took.Seconds(), opPoll, endpoint, st)
		if got.Status.GRPCEndpoint != endpoint {
			t.Errorf("status.grpcEndpoint %q, want the endpoint computed from the name, %q", got.Status.GRPCEndpoint, endpoint)
		}
		e.readyAndStable(t, opNS, name)
		if st, err := e.healthFromStack(t.Context(), endpoint); err != nil || st != "SERVING" {
			t.Errorf("once stable, gRPC health of %s: %q, %v", endpoint, st, err)
		}
	})
	if t.Failed() {
		t.FailNow()
	}

	t.Run("environment in the pod", func(t *testing.T) {
		e.hasEnv(t, opNS, name, opWantEnv())
	})

	t.Run("environment from all three sources", func(t *testing.T) {
		e.readyAndStable(t, opNS, name2)
		e.hasEnv(t, opNS, name2, opWantEnv(extra...))
		e.deletePerformer(t, opNS, name2)
	})

	t.Run("update by PUT of the operator's fields", func(t *testing.T) {
		rev1, before := e.running(t, opNS, name, "v1.0.0")
		if refs, _, _ := unstructured.NestedSlice(before.Object, "spec", "crossplane", "resourceRefs"); len(refs) == 0 {
			t.Fatalf("before the PUT Crossplane tracks nothing in spec.crossplane.resourceRefs: the PUT would prove nothing")
		}
		svc := &corev1.Service{}
		if err := e.c.Get(t.Context(), client.ObjectKey{Namespace: opNS, Name: names.Service(name)}, svc); err != nil {
			t.Fatal(err)
		}
		s := startSampler(t, xc, opNS, name)
		const image = goodRepo + ":v2.0.0"
		var stored *unstructured.Unstructured
		err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
			got, err := oc.get(t.Context(), opNS, name)
			if err != nil {
				return err
			}
			got.Spec.Image, got.Spec.Version = image, "v2.0.0"
			stored, err = oc.update(t.Context(), got)
			return err
		})
		if err != nil {
			t.Fatalf("PUT: %v", err)
		}
		// What the server stored from the PUT: Crossplane's fields are gone.
		if xp, ok, _ := unstructured.NestedFieldNoCopy(stored.Object, "spec", "crossplane"); ok {
			t.Errorf("after the PUT spec.crossplane is %v, want it gone: the write should have dropped it", xp)
		}
		t0 := time.Now()
		rev2, u := e.running(t, opNS, name, "v2.0.0")
		t.Logf("PUT of the operator's fields: %s → %s, Running alone %.1fs later", rev1, rev2, time.Since(t0).Seconds())
		if rev2 == rev1 {
			t.Errorf("the image changed but the revision did not: %s", rev1)
		}
		if img, _, _ := unstructured.NestedString(u.Object, "status", "active", "image"); img != image {
			t.Errorf("status.active.image %q, want %q", img, image)
		}
		s.check(t, rev1, rev2)
		s.sameService(t, svc.UID)
		s.deployments(t, 2)
		// And the executor, polling, sees it ready on the new image.
		got, _, err := oc.waitReady(t.Context(), opNS, name)
		if err != nil {
			t.Fatal(err)
		}
		if got.Spec.Image != image {
			t.Errorf("the executor reads image %q, want %q", got.Spec.Image, image)
		}
		if st, err := e.healthFromStack(t.Context(), endpoint); err != nil || st != "SERVING" {
			t.Errorf("after the upgrade, gRPC health of %s: %q, %v", endpoint, st, err)
		}
		// Crossplane tracks what it composed again.
		eventually(t, time.Minute, "spec.crossplane.resourceRefs back", func(ctx context.Context) error {
			u, err := e.existing(ctx, opNS, name)
			if err != nil {
				return err
			}
			if refs, _, _ := unstructured.NestedSlice(u.Object, "spec", "crossplane", "resourceRefs"); !hasRef(refs, "Service", names.Service(name)) {
				return fmt.Errorf("spec.crossplane.resourceRefs %v has no Service %s", refs, names.Service(name))
			}
			return nil
		})
	})

	t.Run("plain Delete leaves nothing", func(t *testing.T) {
		u, err := e.existing(t.Context(), opNS, name)
		if err != nil {
			t.Fatal(err)
		}
		e.seesComposed(t, opNS, name, u.GetUID(), composedKinds...)
		t0 := time.Now()
		if err := oc.delete(t.Context(), opNS, name); err != nil {
			t.Fatalf("Delete: %v", err)
		}
		e.waitGone(t, opNS, name, u.GetUID())
		t.Logf("after a plain Delete nothing of %s is left %.1fs later", name, time.Since(t0).Seconds())
	})
}

// hasEnv checks the performer's serving Deployment's pod template and its
// pods carry exactly want, and the executor's pull policy.
func (e *env) hasEnv(t *testing.T, ns, name string, want []corev1.EnvVar) {
	t.Helper()
	u := e.readyAndStable(t, ns, name)
	active, _, _ := unstructured.NestedString(u.Object, "status", "active", "deployment")
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	d := &appsv1.Deployment{}
	if err := e.c.Get(ctx, client.ObjectKey{Namespace: ns, Name: active}, d); err != nil {
		t.Fatalf("serving Deployment %q: %v", active, err)
	}
	checkContainers(t, "Deployment "+d.Name, d.Spec.Template.Spec.Containers, want)
	pods, err := e.pods(ctx, ns, name)
	if err != nil {
		t.Fatal(err)
	}
	if len(pods) == 0 {
		t.Fatalf("no pods of %s/%s", ns, name)
	}
	for _, p := range pods {
		checkContainers(t, "pod "+p.Name, p.Spec.Containers, want)
	}
}

func checkContainers(t *testing.T, what string, cs []corev1.Container, want []corev1.EnvVar) {
	t.Helper()
	if len(cs) != 1 {
		t.Errorf("%s has %d containers, want the performer's alone", what, len(cs))
	}
	for _, c := range cs {
		if d := cmp.Diff(want, c.Env); d != "" {
			t.Errorf("%s container %s env (-want +got):\n%s", what, c.Name, d)
		}
		if c.ImagePullPolicy != corev1.PullIfNotPresent {
			t.Errorf("%s container %s imagePullPolicy %q, want the executor's %q", what, c.Name, c.ImagePullPolicy, corev1.PullIfNotPresent)
		}
	}
}

// envList is env as an unstructured list.
func envList(t *testing.T, env []corev1.EnvVar) []any {
	t.Helper()
	out := make([]any, 0, len(env))
	for _, v := range env {
		m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(&v)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

func hasRef(refs []any, kind, name string) bool {
	for _, r := range refs {
		m, _ := r.(map[string]any)
		if m["kind"] == kind && m["name"] == name {
			return true
		}
	}
	return false
}

// ensureObject creates o, or leaves it when it exists (a rerun against the
// same stack).
func (e *env) ensureObject(t *testing.T, o client.Object) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	if err := e.c.Create(ctx, o); err != nil && !kerrors.IsAlreadyExists(err) {
		t.Fatalf("create %T %s: %v", o, o.GetName(), err)
	}
}
