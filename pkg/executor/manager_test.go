package executor

import (
	"context"
	"strings"
	"testing"
	"time"

	performerv1 "github.com/Layr-Labs/protocol-apis/gen/protos/eigenlayer/hourglass/v1/performer"
	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	kerrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/crossplane/crossplane-runtime/v2/pkg/errors"

	"github.com/hourglass-xp/crossplane-hourglass/apis/hourglass/v1alpha1"
	"github.com/hourglass-xp/crossplane-hourglass/internal/testperformer"
)

const (
	avsA = "0x1234567890abcdef1234567890ABCDEF12345678"
	avsB = "0xabcdef1234567890abcdef1234567890abcdef12"
)

type managerEnv struct {
	admin client.WithWatch
	ns    string
	pl    *platform
	lb    *loopback
}

func newManagerEnv(t *testing.T) *managerEnv {
	t.Helper()
	cfg := needAPIServer(t)
	admin := newClient(t, cfg)
	ns := newNamespace(t, admin, "executor")
	return &managerEnv{admin: admin, ns: ns, pl: &platform{t: t, c: admin, ns: ns}, lb: newLoopback()}
}

func (e *managerEnv) manager(t *testing.T, c client.WithWatch, o ManagerOptions) *KubernetesPerformerManager {
	t.Helper()
	if o.Namespace == "" {
		o.Namespace = e.ns
	}
	if o.Executor == "" {
		o.Executor = "executor-0"
	}
	if o.StartTimeout == 0 {
		o.StartTimeout = 30 * time.Second
	}
	if o.UpgradeTimeout == 0 {
		o.UpgradeTimeout = 30 * time.Second
	}
	if o.StopTimeout == 0 {
		o.StopTimeout = 30 * time.Second
	}
	o.Client = ClientOptions{Transport: Plaintext(), Resolve: e.lb.Resolve, HealthTimeout: 2 * time.Second}
	m, err := NewKubernetesPerformerManager(c, o)
	if err != nil {
		t.Fatalf("NewKubernetesPerformerManager: %v", err)
	}
	t.Cleanup(func() { _ = m.Close() })
	return m
}

// run starts fn in the background and returns a channel with its error.
func run(fn func() error) <-chan error {
	ch := make(chan error, 1)
	go func() { ch <- fn() }()
	return ch
}

func wait(t *testing.T, ch <-chan error, what string) error {
	t.Helper()
	select {
	case err := <-ch:
		return err
	case <-time.After(60 * time.Second):
		t.Fatalf("%s did not return", what)
		return nil
	}
}

func TestManagerLifecycle(t *testing.T) {
	e := newManagerEnv(t)
	blue := startPerformer(t, "127.0.0.1:0", testperformer.Options{Name: "blue"})
	green := startPerformer(t, "127.0.0.1:0", testperformer.Options{Name: "green"})
	sched := &v1alpha1.SchedulingConfig{NodeSelector: map[string]string{"kubernetes.io/os": "linux"}}
	m := e.manager(t, e.admin, ManagerOptions{
		DefaultScheduling: sched,
		ServicePattern:    "performer-{name}.{namespace}.svc.cluster.local:{port}",
	})
	name := PerformerName("executor-0", avsA)
	endpoint := serviceEndpoint(e.ns, name)
	e.lb.Map(endpoint, blue.Address())

	// Start: the claim is created, and StartPerformer waits until the
	// platform reports it running.
	var k *KubernetesAVSPerformer
	started := run(func() error {
		var err error
		k, err = m.StartPerformer(t.Context(), PerformerRequest{AVSAddress: avsA, Image: "myavs/performer:v1", Version: "v1"})
		return err
	})
	claim := e.pl.waitClaim(name)
	select {
	case err := <-started:
		t.Fatalf("StartPerformer returned before the performer ran: %v", err)
	case <-time.After(300 * time.Millisecond):
	}
	e.pl.setStatus(name, func(s *v1alpha1.PerformerStatus) {
		s.Phase = v1alpha1.PhasePending
		s.ServiceName = "performer-" + name
	})
	e.pl.setStatus(name, func(s *v1alpha1.PerformerStatus) {
		s.Phase = v1alpha1.PhaseRunning
		s.GRPCEndpoint = endpoint
		s.Active = &v1alpha1.RevisionStatus{Revision: "r1", Image: "myavs/performer:v1", Version: "v1"}
		s.ReadyTime = ptr.To(metav1.Now())
	})
	if err := wait(t, started, "StartPerformer"); err != nil {
		t.Fatalf("StartPerformer: %v", err)
	}

	t.Run("ClaimShape", func(t *testing.T) {
		want := v1alpha1.PerformerClaimSpec{
			PerformerSpec: v1alpha1.PerformerSpec{
				AVSAddress: avsA, Image: "myavs/performer:v1", Version: "v1",
				Config:     v1alpha1.PerformerConfig{GRPCPort: 9090},
				Scheduling: sched,
			},
			ClaimFields: v1alpha1.ClaimFields{
				WriteConnectionSecretToRef: &corev1.LocalObjectReference{Name: name + "-connection"},
				CompositeDeletePolicy:      ptr.To("Foreground"),
			},
		}
		if diff := cmp.Diff(want, claim.Spec); diff != "" {
			t.Errorf("the claim's spec: -want, +got:\n%s", diff)
		}
		wantLabels := map[string]string{LabelExecutor: "executor-0", LabelAVS: strings.ToLower(avsA)}
		if diff := cmp.Diff(wantLabels, claim.Labels); diff != "" {
			t.Errorf("the claim's labels: -want, +got:\n%s", diff)
		}
	})

	t.Run("EndpointFromStatus", func(t *testing.T) {
		got, err := m.GetPerformerEndpoint(t.Context(), avsA)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(endpoint, got); diff != "" {
			t.Errorf("GetPerformerEndpoint: -want status.grpcEndpoint, +got:\n%s", diff)
		}
		if diff := cmp.Diff(endpoint, k.Endpoint()); diff != "" {
			t.Errorf("the client's endpoint: -want, +got:\n%s", diff)
		}
	})

	t.Run("ExecuteTask", func(t *testing.T) {
		got, err := k.ExecuteTask(t.Context(), task("t1", "hello"))
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff("blue:hello", string(got.GetResult())); diff != "" {
			t.Errorf("ExecuteTask: -want, +got:\n%s", diff)
		}
	})

	t.Run("StartAgainIsIdempotent", func(t *testing.T) {
		before := e.pl.waitClaim(name)
		k2, err := m.StartPerformer(t.Context(), PerformerRequest{AVSAddress: strings.ToLower(avsA), Image: "myavs/performer:v1", Version: "v1"})
		if err != nil {
			t.Fatal(err)
		}
		after := e.pl.waitClaim(name)
		if before.ResourceVersion != after.ResourceVersion {
			t.Errorf("starting an unchanged performer again wrote the claim (resourceVersion %s → %s)", before.ResourceVersion, after.ResourceVersion)
		}
		if k2 != k {
			t.Errorf("starting the same performer again made a second client; want the same one")
		}
	})

	t.Run("UpgradeSwitchesOverWithoutFailingInFlight", func(t *testing.T) {
		blue.SetDelay(2 * time.Second)
		defer blue.SetDelay(0)
		taskStarted := blue.TaskStarted()
		inflight := run(func() error {
			rsp, err := k.ExecuteTask(context.Background(), task("long", "in-flight"))
			if err == nil && string(rsp.GetResult()) != "blue:in-flight" {
				return errors.Errorf("the task in flight was answered by %q", rsp.GetResult())
			}
			return err
		})
		<-taskStarted
		prev := e.pl.waitClaim(name).Status.LastUpgrade

		upgrading := run(func() error { return m.UpgradePerformer(t.Context(), avsA, "v2") })
		e.pl.waitSpec(name, func(p *v1alpha1.Performer) bool { return p.Spec.Version == "v2" })
		got := e.pl.waitClaim(name)
		if got.Spec.Image != "myavs/performer:v2" {
			t.Errorf("UpgradePerformer: spec.image = %q, want the tag to follow the version", got.Spec.Image)
		}
		e.pl.setStatus(name, func(s *v1alpha1.PerformerStatus) {
			s.Phase = v1alpha1.PhaseUpgrading
			s.Target = &v1alpha1.RevisionStatus{Revision: "r2", Image: "myavs/performer:v2", Version: "v2"}
			s.UpgradeStartTime = ptr.To(metav1.Now())
			s.Conditions = []metav1.Condition{condition(v1alpha1.ConditionProgressing, v1alpha1.ReasonUpgradeInProgress, "", time.Now())}
		})
		select {
		case err := <-upgrading:
			t.Fatalf("UpgradePerformer returned while upgrading: %v", err)
		case <-time.After(300 * time.Millisecond):
		}
		// The Service now selects green: new connections reach it.
		e.lb.Map(endpoint, green.Address())
		e.pl.setStatus(name, func(s *v1alpha1.PerformerStatus) {
			s.Phase = v1alpha1.PhaseRunning
			s.Active, s.Target, s.UpgradeStartTime = s.Target, nil, nil
			s.LastUpgrade = ptr.To(metav1.NewTime(time.Now().Add(time.Second)))
			s.Conditions = nil
		})
		if err := wait(t, upgrading, "UpgradePerformer"); err != nil {
			t.Fatalf("UpgradePerformer: %v", err)
		}
		if now := e.pl.waitClaim(name).Status.LastUpgrade; prev != nil && !now.After(prev.Time) {
			t.Errorf("lastUpgrade did not advance")
		}

		rsp, err := k.ExecuteTask(t.Context(), task("t2", "after"))
		if err != nil {
			t.Fatalf("ExecuteTask after the upgrade: %v", err)
		}
		if diff := cmp.Diff("green:after", string(rsp.GetResult())); diff != "" {
			t.Errorf("a task after the upgrade: -want, +got:\n%s", diff)
		}
		if err := wait(t, inflight, "the task in flight"); err != nil {
			t.Errorf("the task in flight during the upgrade: %v", err)
		}
	})

	t.Run("UpgradeFailureReturnsReason", func(t *testing.T) {
		upgrading := run(func() error { return m.UpgradePerformer(t.Context(), avsA, "v3") })
		e.pl.waitSpec(name, func(p *v1alpha1.Performer) bool { return p.Spec.Version == "v3" })
		e.pl.setStatus(name, func(s *v1alpha1.PerformerStatus) {
			s.Phase = v1alpha1.PhaseRunning
			s.Target = &v1alpha1.RevisionStatus{Revision: "r3", Image: "myavs/performer:v3", Version: "v3"}
			s.Conditions = []metav1.Condition{condition(v1alpha1.ConditionDegraded, v1alpha1.ReasonImagePullFailed, "image myavs/performer:v3 not found", time.Now())}
		})
		err := wait(t, upgrading, "UpgradePerformer")
		var ce *ConditionError
		if !errors.As(err, &ce) {
			t.Fatalf("UpgradePerformer to a failing version: want a ConditionError, got %v", err)
		}
		want := &ConditionError{Namespace: e.ns, Name: name, Type: v1alpha1.ConditionDegraded, Reason: v1alpha1.ReasonImagePullFailed, Message: "image myavs/performer:v3 not found"}
		if diff := cmp.Diff(want, ce); diff != "" {
			t.Errorf("UpgradePerformer: -want, +got:\n%s", diff)
		}
		// Calls keep going to the revision still active.
		if _, err := k.ExecuteTask(t.Context(), task("t3", "x")); err != nil {
			t.Errorf("ExecuteTask after a failed upgrade: %v", err)
		}
	})

	t.Run("UpgradeTimeout", func(t *testing.T) {
		short := e.manager(t, e.admin, ManagerOptions{UpgradeTimeout: time.Second})
		err := short.UpgradePerformer(t.Context(), avsA, "v4")
		var te *TimeoutError
		if !errors.As(err, &te) {
			t.Fatalf("UpgradePerformer with no progress: want a TimeoutError, got %v", err)
		}
		if !strings.Contains(te.LastSeen, v1alpha1.ReasonImagePullFailed) {
			t.Errorf("the timeout error should say what was last seen; got %q", te.LastSeen)
		}
	})

	t.Run("RehydrateAfterRestart", func(t *testing.T) {
		// Another executor's claim in the same namespace is not adopted.
		other := e.manager(t, e.admin, ManagerOptions{Executor: "executor-1", StartTimeout: -1})
		if _, err := other.StartPerformer(t.Context(), PerformerRequest{AVSAddress: avsA, Image: "myavs/performer:v1", Version: "v1"}); err != nil {
			t.Fatal(err)
		}
		restarted := e.manager(t, e.admin, ManagerOptions{})
		ks, err := restarted.ListPerformers(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if len(ks) != 1 {
			t.Fatalf("ListPerformers: got %d performers, want 1", len(ks))
		}
		if diff := cmp.Diff(avsA, ks[0].AVSAddress()); diff != "" {
			t.Errorf("ListPerformers: -want AVS, +got:\n%s", diff)
		}
		if diff := cmp.Diff(endpoint, ks[0].Endpoint()); diff != "" {
			t.Errorf("ListPerformers: -want endpoint, +got:\n%s", diff)
		}
		rsp, err := ks[0].ExecuteTask(t.Context(), task("t4", "adopted"))
		if err != nil {
			t.Fatalf("ExecuteTask on an adopted performer: %v", err)
		}
		if diff := cmp.Diff("green:adopted", string(rsp.GetResult())); diff != "" {
			t.Errorf("ExecuteTask on an adopted performer: -want, +got:\n%s", diff)
		}
		if err := other.StopPerformer(t.Context(), avsA); err != nil {
			t.Errorf("StopPerformer of the other executor: %v", err)
		}
	})

	t.Run("ConflictingClaim", func(t *testing.T) {
		// A claim of that name that is not this executor's is never taken over.
		squatter := &v1alpha1.Performer{
			ObjectMeta: metav1.ObjectMeta{Namespace: e.ns, Name: PerformerName("executor-0", avsB)},
			Spec:       v1alpha1.PerformerClaimSpec{PerformerSpec: v1alpha1.PerformerSpec{AVSAddress: avsB, Image: "someone/else:v1"}},
		}
		if err := e.admin.Create(t.Context(), squatter); err != nil {
			t.Fatal(err)
		}
		defer func() { _ = e.admin.Delete(context.Background(), squatter) }()
		if _, err := m.StartPerformer(t.Context(), PerformerRequest{AVSAddress: avsB, Image: "myavs/performer:v1"}); err == nil {
			t.Errorf("StartPerformer over another's claim: want an error, got none")
		}
		if err := m.StopPerformer(t.Context(), avsB); err == nil {
			t.Errorf("StopPerformer of another's claim: want an error, got none")
		}
	})

	t.Run("Stop", func(t *testing.T) {
		if err := m.StopPerformer(t.Context(), avsA); err != nil {
			t.Fatalf("StopPerformer: %v", err)
		}
		err := e.admin.Get(t.Context(), types.NamespacedName{Namespace: e.ns, Name: name}, &v1alpha1.Performer{})
		if !kerrors.IsNotFound(err) {
			t.Errorf("after StopPerformer the claim should be gone; Get: %v", err)
		}
		if _, err := k.ExecuteTask(t.Context(), task("t5", "x")); err == nil {
			t.Errorf("ExecuteTask on a stopped performer's client: want an error, got none")
		}
		if err := m.StopPerformer(t.Context(), avsA); err != nil {
			t.Errorf("StopPerformer of a stopped performer: want success, got %v", err)
		}
		if _, err := m.GetPerformerEndpoint(t.Context(), avsA); !kerrors.IsNotFound(err) {
			t.Errorf("GetPerformerEndpoint of a stopped performer: want NotFound, got %v", err)
		}
	})
}

func TestManagerStartFailure(t *testing.T) {
	e := newManagerEnv(t)
	m := e.manager(t, e.admin, ManagerOptions{})
	name := PerformerName("executor-0", avsB)
	started := run(func() error {
		_, err := m.StartPerformer(t.Context(), PerformerRequest{AVSAddress: avsB, Image: "myavs/performer:v1", Version: "v1",
			Spec: v1alpha1.PerformerSpec{HardwareRequirements: &v1alpha1.HardwareRequirements{GPUType: "nvidia-a100", GPUCount: 2}}})
		return err
	})
	e.pl.waitClaim(name)
	e.pl.setStatus(name, func(s *v1alpha1.PerformerStatus) {
		s.Phase = v1alpha1.PhasePending
		s.Conditions = []metav1.Condition{condition(v1alpha1.ConditionDegraded, v1alpha1.ReasonHardwareUnavailable, "no node has 2 nvidia-a100", time.Now())}
	})
	err := wait(t, started, "StartPerformer")
	var ce *ConditionError
	if !errors.As(err, &ce) || ce.Reason != v1alpha1.ReasonHardwareUnavailable {
		t.Fatalf("StartPerformer of a performer that cannot be placed: want ConditionError HardwareUnavailable, got %v", err)
	}
}

func TestManagerEndpointFromSecret(t *testing.T) {
	e := newManagerEnv(t)
	s := startPerformer(t, "127.0.0.1:0", testperformer.Options{Name: "secret"})
	m := e.manager(t, e.admin, ManagerOptions{StartTimeout: -1})
	name := PerformerName("executor-0", avsB)
	k, err := m.StartPerformer(t.Context(), PerformerRequest{AVSAddress: avsB, Image: "myavs/performer:v1"})
	if err != nil {
		t.Fatal(err)
	}

	var nr *EndpointNotReadyError
	if _, err := m.GetPerformerEndpoint(t.Context(), avsB); !errors.As(err, &nr) {
		t.Fatalf("GetPerformerEndpoint with no status and no Secret: want EndpointNotReadyError, got %v", err)
	}

	// The provider publishes host and port in the connection Secret.
	const ep = "performer-from-secret.example.svc.cluster.local:9191"
	e.lb.Map(ep, s.Address())
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: e.ns, Name: ConnectionSecretName(name)},
		Data: map[string][]byte{
			ConnectionKeyHost: []byte("performer-from-secret.example.svc.cluster.local"),
			ConnectionKeyPort: []byte("9191"),
		},
	}
	if err := e.admin.Create(t.Context(), secret); err != nil {
		t.Fatal(err)
	}
	got, err := m.GetPerformerEndpoint(t.Context(), avsB)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(ep, got); diff != "" {
		t.Errorf("GetPerformerEndpoint from host and port: -want, +got:\n%s", diff)
	}

	// The client made before any endpoint was known finds it when used.
	rsp, err := k.ExecuteTask(t.Context(), &performerv1.TaskRequest{TaskId: []byte("t"), Payload: []byte("p")})
	if err != nil {
		t.Fatalf("ExecuteTask with the endpoint from the Secret: %v", err)
	}
	if diff := cmp.Diff("secret:p", string(rsp.GetResult())); diff != "" {
		t.Errorf("ExecuteTask: -want, +got:\n%s", diff)
	}

	// status.grpcEndpoint wins over the Secret.
	statusEP := serviceEndpoint(e.ns, name)
	e.pl.setStatus(name, func(s *v1alpha1.PerformerStatus) { s.GRPCEndpoint = statusEP })
	if got, _ := m.GetPerformerEndpoint(t.Context(), avsB); got != statusEP {
		t.Errorf("GetPerformerEndpoint with status and Secret: got %q, want status.grpcEndpoint %q", got, statusEP)
	}
}

// TestFollowUpgrades upgrades a performer behind the manager's back, as
// GitOps would, and checks that the client follows it to the new revision
// while a task in flight finishes on the old one.
func TestFollowUpgrades(t *testing.T) {
	e := newManagerEnv(t)
	blue := startPerformer(t, "127.0.0.1:0", testperformer.Options{Name: "blue"})
	green := startPerformer(t, "127.0.0.1:0", testperformer.Options{Name: "green"})
	m := e.manager(t, e.admin, ManagerOptions{StartTimeout: -1})
	name := PerformerName("executor-0", avsA)
	endpoint := serviceEndpoint(e.ns, name)
	e.lb.Map(endpoint, blue.Address())

	k, err := m.StartPerformer(t.Context(), PerformerRequest{AVSAddress: avsA, Image: "myavs/performer:v1", Version: "v1"})
	if err != nil {
		t.Fatal(err)
	}
	e.pl.setStatus(name, func(s *v1alpha1.PerformerStatus) {
		s.Phase = v1alpha1.PhaseRunning
		s.GRPCEndpoint = endpoint
		s.Active = &v1alpha1.RevisionStatus{Revision: "r1", Image: "myavs/performer:v1", Version: "v1"}
	})
	// Rehydrate so the client has seen revision r1.
	if _, err := m.ListPerformers(t.Context()); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithCancel(t.Context())
	followed := run(func() error { return m.FollowUpgrades(ctx) })
	defer func() {
		cancel()
		_ = wait(t, followed, "FollowUpgrades")
	}()

	blue.SetDelay(time.Second)
	taskStarted := blue.TaskStarted()
	inflight := run(func() error {
		_, err := k.ExecuteTask(context.Background(), task("long", "x"))
		return err
	})
	<-taskStarted

	// GitOps changes the version; the platform switches the Service.
	e.lb.Map(endpoint, green.Address())
	e.pl.setStatus(name, func(s *v1alpha1.PerformerStatus) {
		s.Active = &v1alpha1.RevisionStatus{Revision: "r2", Image: "myavs/performer:v2", Version: "v2"}
		s.LastUpgrade = ptr.To(metav1.Now())
	})

	deadline := time.Now().Add(10 * time.Second)
	for {
		rsp, err := k.ExecuteTask(t.Context(), task("t", "y"))
		if err != nil {
			t.Fatalf("ExecuteTask while following: %v", err)
		}
		if string(rsp.GetResult()) == "green:y" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the client never followed the upgrade to green; last answer %q", rsp.GetResult())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := wait(t, inflight, "the task in flight"); err != nil {
		t.Errorf("the task in flight during a followed upgrade: %v", err)
	}
}

func TestManagerStartWhileDeleting(t *testing.T) {
	e := newManagerEnv(t)
	m := e.manager(t, e.admin, ManagerOptions{StartTimeout: -1})
	name := PerformerName("executor-0", avsA)
	if _, err := m.StartPerformer(t.Context(), PerformerRequest{AVSAddress: avsA, Image: "myavs/performer:v1"}); err != nil {
		t.Fatal(err)
	}
	// Crossplane's finalizer holds a claim while its composite goes away.
	p := e.pl.waitClaim(name)
	p.Finalizers = []string{"finalizer.apiextensions.crossplane.io"}
	if err := e.admin.Update(t.Context(), p); err != nil {
		t.Fatal(err)
	}
	if err := e.admin.Delete(t.Context(), p); err != nil {
		t.Fatal(err)
	}
	defer func() {
		p := e.pl.waitClaim(name)
		p.Finalizers = nil
		_ = e.admin.Update(context.Background(), p)
	}()
	if _, err := m.StartPerformer(t.Context(), PerformerRequest{AVSAddress: avsA, Image: "myavs/performer:v1"}); err == nil {
		t.Errorf("StartPerformer of a performer being deleted: want an error, got none")
	}
}
