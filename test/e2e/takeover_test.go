//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/hourglass-xp/crossplane-hourglass/internal/names"
)

// The takeover of a running Hourglass operator (issue 15, docs/migration.md)
// needs a cluster where the platform is not installed yet: `make
// e2e-takeover` starts a stack without the Configuration and sets
// stackKindEnv. The test installs the platform itself.
const (
	stackKindEnv      = "HOURGLASS_E2E_STACK"
	stackKindOperator = "operator"
)

// releaseScript is the documented step between stopping the operator and
// installing the platform.
const releaseScript = "scripts/release-hourglass-operator.sh"

func TestTakeover(t *testing.T) {
	if os.Getenv(stackKindEnv) != stackKindOperator {
		t.Skipf("needs a stack without the platform installed (%s=%s): make e2e-takeover", stackKindEnv, stackKindOperator)
	}
	e := setup(t)
	ctx := t.Context()

	// A namespace as the operator's users had it: no Pod Security
	// enforcement the operator's pods would fail.
	const ns = "takeover"
	e.mustKubectl(t, nil, "create", "namespace", ns)
	e.installOperatorCRD(t)
	ops := []operatorPerformer{
		// No spec.config: the operator's pod listened on 8080.
		{name: "plain", image: "example.com/e2e/takeover:v1"},
		{name: "with-env", image: "example.com/e2e/takeover:v1", config: map[string]any{
			"grpcPort": int64(9090), "environment": map[string]any{"RPC_URL": "http://rpc.example", "LOG_LEVEL": "debug"},
		}},
		// Edited after the operator stopped, to an image whose first
		// revision never answers gRPC health (the stack's test performer
		// answers NOT_SERVING for it): the takeover waits on it, and the
		// test edits the image again mid-takeover.
		{name: "mid-change", image: "example.com/e2e/takeover-grpc-fault-not-serving:v1", podImage: "example.com/e2e/takeover:v1",
			config: map[string]any{"grpcPort": int64(9090)}},
	}
	type watched struct {
		op       operatorPerformer
		uid      string
		svc      *corev1.Service
		endpoint string
		sampler  *trafficSampler
		caller   *healthCaller
	}
	var ws []*watched
	for _, op := range ops {
		p := e.operatorFootprint(t, ns, op)
		svc := &corev1.Service{}
		if err := e.c.Get(ctx, client.ObjectKey{Namespace: ns, Name: names.Service(op.name)}, svc); err != nil {
			t.Fatal(err)
		}
		w := &watched{op: op, uid: string(p.GetUID()), svc: svc, endpoint: names.Endpoint(svc.Name, ns, op.port())}
		e.answers(t, w.endpoint)
		ws = append(ws, w)
	}
	// What cannot be taken over: a Service of the performer's name that
	// another controller manages.
	foreign := operatorPerformer{name: "foreign", image: "example.com/e2e/takeover:v1", foreignService: true}
	e.operatorFootprint(t, ns, foreign)
	foreignSvc := &corev1.Service{}
	if err := e.c.Get(ctx, client.ObjectKey{Namespace: ns, Name: names.Service(foreign.name)}, foreignSvc); err != nil {
		t.Fatal(err)
	}
	// A namespace whose hold is released only later, with a performer the
	// operator ran on 8080 (no spec.config) where the platform's default
	// is 9090: the platform must keep traffic on the operator's pod until
	// the release step pins the port and clears the operator's ownership.
	const heldNS = "takeover-held"
	e.mustKubectl(t, nil, "create", "namespace", heldNS)
	held := operatorPerformer{name: "held", image: "example.com/e2e/takeover:v1"}
	heldUID := e.operatorFootprint(t, heldNS, held).GetUID()
	heldSvc := &corev1.Service{}
	if err := e.c.Get(ctx, client.ObjectKey{Namespace: heldNS, Name: names.Service(held.name)}, heldSvc); err != nil {
		t.Fatal(err)
	}

	// From here on every performer must keep answering: through the
	// release step, the platform's install and the switch.
	for _, w := range ws {
		w.sampler = startTakeoverSampler(t, e.c, ns, w.op.name)
		w.caller = e.startHealthCaller(t, w.endpoint)
	}
	heldEndpoint := names.Endpoint(heldSvc.Name, heldNS, held.port())
	e.answers(t, heldEndpoint)
	heldSampler := startTakeoverSampler(t, e.c, heldNS, held.name)
	heldCaller := e.startHealthCaller(t, heldEndpoint)

	// The documented takeover: the operator is stopped (it never ran
	// here), its hold released, the platform installed over its CRD.
	out, errOut, err := e.run(ctx, nil, "bash", filepath.Join(e.root, releaseScript), ns)
	if err != nil {
		t.Fatalf("%s: %v\n%s%s", releaseScript, err, out, errOut)
	}
	t.Logf("%s:\n%s", releaseScript, out)
	e.installConfiguration(t)

	// Mid-change: the image is edited once the takeover has begun (the
	// function composed the first revision beside the operator's pod, and
	// the provider found it not serving), as a GitOps sync or an
	// executor's update would.
	mid := ws[2]
	steadily(t, 3*time.Minute, 5*time.Second, "the takeover of "+mid.op.name+" under way, held on its unhealthy first revision", func(ctx context.Context) error {
		u, err := e.existing(ctx, ns, mid.op.name)
		if err != nil {
			return err
		}
		if st := stateOf(u); st.Active != names.RevisionOperator || st.Target == "" {
			return fmt.Errorf("status %+v, want the operator's pod serving and a target", st)
		}
		if ready, _, _ := unstructured.NestedBool(u.Object, "status", "ready"); !ready {
			return fmt.Errorf("status.ready false while the operator's pod serves")
		}
		return nil
	})
	e.mustKubectl(t, nil, "-n", ns, "patch", "performer", mid.op.name, "--type=merge", "-p", `{"spec":{"image":"example.com/e2e/takeover:v2"}}`)

	for _, w := range ws {
		image := w.op.image
		if w == mid {
			image = "example.com/e2e/takeover:v2"
		}
		rev, _ := e.runningImage(t, ns, w.op.name, image)
		eventually(t, 2*time.Minute, "the operator's pod of "+w.op.name+" deleted after its drain", func(ctx context.Context) error {
			err := e.c.Get(ctx, client.ObjectKey{Namespace: ns, Name: names.OperatorPod(w.op.name)}, &corev1.Pod{})
			if err == nil {
				return fmt.Errorf("pod %s still exists", names.OperatorPod(w.op.name))
			}
			return client.IgnoreNotFound(err)
		})
		w.sampler.check(t, names.RevisionOperator, rev)
		w.sampler.sameService(t, w.svc.UID)
		w.caller.check(t)
		e.takenOver(t, ns, w.op.name, w.uid, w.svc, rev)
	}
	e.hasEnv(t, ns, "with-env", []corev1.EnvVar{{Name: "LOG_LEVEL", Value: "debug"}, {Name: "RPC_URL", Value: "http://rpc.example"}})

	// The foreign Service is refused with a reason, and left alone:
	// nothing composed for that performer, the Service untouched.
	e.blocked(t, ns, foreign.name, "is not controlled by this Performer")
	got := &corev1.Service{}
	if err := e.c.Get(ctx, client.ObjectKeyFromObject(foreignSvc), got); err != nil {
		t.Fatal(err)
	}
	if got.ResourceVersion != foreignSvc.ResourceVersion {
		t.Errorf("the foreign Service %s/%s was written (resourceVersion %s → %s)", ns, got.Name, foreignSvc.ResourceVersion, got.ResourceVersion)
	}
	if ds, err := e.deployments(ctx, ns, foreign.name); err != nil || len(ds) != 0 {
		t.Errorf("performer %s/%s: %d Deployments (%v), want none while its takeover is refused", ns, foreign.name, len(ds), err)
	}

	// Without the release step, the first revision (on the definition's
	// default 9090) is ready but traffic stays on the operator's pod, with
	// the reason; the release step pins the port the Service serves on,
	// and the switch happens there.
	e.blocked(t, heldNS, held.name, "its port 8080 is owned by field manager \""+operatorFieldManager+"\"")
	out, errOut, err = e.run(ctx, nil, "bash", filepath.Join(e.root, releaseScript), heldNS)
	if err != nil {
		t.Fatalf("%s %s: %v\n%s%s", releaseScript, heldNS, err, out, errOut)
	}
	heldRev, _ := e.runningImage(t, heldNS, held.name, held.image)
	heldSampler.check(t, names.RevisionOperator, heldRev)
	heldSampler.sameService(t, heldSvc.UID)
	heldCaller.check(t)
	e.takenOver(t, heldNS, held.name, string(heldUID), heldSvc, heldRev)

	// A taken-over performer is an ordinary one: deleting it removes
	// everything, the operator's finalizer no longer in the way.
	plain := ws[0]
	e.seesComposed(t, ns, plain.op.name, "", composedKinds...)
	e.deletePerformer(t, ns, plain.op.name)
}

// answers waits until the operator's performer at endpoint answers gRPC
// health through its Service: before that (its pod just ready, the
// EndpointSlice a moment behind) there is nothing to keep serving.
func (e *env) answers(t *testing.T, endpoint string) {
	t.Helper()
	eventually(t, time.Minute, "the operator's performer at "+endpoint+" answers gRPC health", func(ctx context.Context) error {
		st, err := e.healthFromStack(ctx, endpoint)
		if err == nil && st != "SERVING" {
			err = fmt.Errorf("health %s", st)
		}
		return err
	})
}

// blocked waits until a performer's takeover is refused: Degraded with
// reason TakeoverBlocked and a message containing want, the operator's pod
// still serving (status.ready true).
func (e *env) blocked(t *testing.T, ns, name, want string) {
	t.Helper()
	steadily(t, 3*time.Minute, 5*time.Second, fmt.Sprintf("performer %s/%s refused with TakeoverBlocked", ns, name), func(ctx context.Context) error {
		u, err := e.existing(ctx, ns, name)
		if err != nil {
			return err
		}
		s, r, m := condition(u, "Degraded")
		if s != "True" || r != "TakeoverBlocked" || !strings.Contains(m, want) {
			return fmt.Errorf("Degraded %s (%s: %s), want True (TakeoverBlocked: ...%s...)", s, r, m, want)
		}
		return nil
	})
	if err := e.c.Get(t.Context(), client.ObjectKey{Namespace: ns, Name: names.OperatorPod(name)}, &corev1.Pod{}); err != nil {
		t.Errorf("the operator's pod of %s/%s, while its takeover is refused: %v", ns, name, err)
	}
}

// takenOver checks that nothing of the operator is left of a performer:
// its Service is the one the operator made (same UID and ClusterIP) with
// the platform's selector alone, no field manager of the operator, no
// operator finalizer on the Performer.
func (e *env) takenOver(t *testing.T, ns, name, uid string, before *corev1.Service, rev string) {
	t.Helper()
	ctx := t.Context()
	svc := &corev1.Service{}
	if err := e.c.Get(ctx, client.ObjectKeyFromObject(before), svc); err != nil {
		t.Fatal(err)
	}
	if svc.UID != before.UID || svc.Spec.ClusterIP != before.Spec.ClusterIP {
		t.Errorf("Service %s/%s: uid %s, ClusterIP %s; want the operator's, %s and %s", ns, svc.Name, svc.UID, svc.Spec.ClusterIP, before.UID, before.Spec.ClusterIP)
	}
	want := names.Selector(name, rev)
	if fmt.Sprint(svc.Spec.Selector) != fmt.Sprint(want) {
		t.Errorf("Service %s/%s selector %v, want the platform's %v alone", ns, svc.Name, svc.Spec.Selector, want)
	}
	for _, m := range svc.ManagedFields {
		if m.Manager == operatorFieldManager || m.Manager == "before-first-apply" {
			t.Errorf("Service %s/%s still has field manager %q", ns, svc.Name, m.Manager)
		}
	}
	u, err := e.existing(ctx, ns, name)
	if err != nil {
		t.Fatal(err)
	}
	if string(u.GetUID()) != uid {
		t.Errorf("performer %s/%s uid %s, want the operator's %s: taken over in place", ns, name, u.GetUID(), uid)
	}
	for _, f := range u.GetFinalizers() {
		if f == names.OperatorFinalizer {
			t.Errorf("performer %s/%s still has the operator's finalizer", ns, name)
		}
	}
	ep, _, _ := unstructured.NestedString(u.Object, "status", "grpcEndpoint")
	if ep != names.Endpoint(before.Name, ns, before.Spec.Ports[0].Port) {
		t.Errorf("performer %s/%s status.grpcEndpoint %q, want the operator Service's host and port", ns, name, ep)
	}
}

// installConfiguration installs the platform's Configuration, the same
// package the stack installs, beside the Function already there, and waits
// for the Performer definition to take over the operator's CRD.
func (e *env) installConfiguration(t *testing.T) {
	t.Helper()
	l := &unstructured.UnstructuredList{}
	l.SetAPIVersion("pkg.crossplane.io/v1")
	l.SetKind("FunctionList")
	if err := e.c.List(t.Context(), l); err != nil || len(l.Items) != 1 {
		t.Fatalf("want the platform's one Function installed, got %d (%v)", len(l.Items), err)
	}
	pkg, _, _ := unstructured.NestedString(l.Items[0].Object, "spec", "package")
	if !strings.Contains(pkg, "/function-performer:") {
		t.Fatalf("Function package %q is not the platform's", pkg)
	}
	cfg := fmt.Sprintf("apiVersion: pkg.crossplane.io/v1\nkind: Configuration\nmetadata:\n  name: hourglass-xp-configuration-performer\nspec:\n  package: %s\n",
		strings.Replace(pkg, "/function-performer:", "/configuration-performer:", 1))
	e.mustKubectl(t, []byte(cfg), "apply", "-f", "-")
	e.mustKubectl(t, nil, "wait", "--for=condition=Healthy", "configuration.pkg.crossplane.io/hourglass-xp-configuration-performer", "--timeout=180s")
	e.mustKubectl(t, nil, "wait", "--for=condition=Established", "xrd/performers.hourglass.eigenlayer.io", "--timeout=120s")
}
