package executor

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	kerrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/crossplane/crossplane-runtime/v2/pkg/errors"

	"github.com/hourglass-xp/crossplane-hourglass/apis/hourglass/v1alpha1"
	"github.com/hourglass-xp/crossplane-hourglass/internal/names"
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

	// Start: the Performer is created, and StartPerformer waits until the
	// platform reports it serving.
	var k *KubernetesAVSPerformer
	started := run(func() error {
		var err error
		k, err = m.StartPerformer(t.Context(), PerformerRequest{AVSAddress: avsA, Image: "myavs/performer:v1", Version: "v1"})
		return err
	})
	created := e.pl.waitPerformer(name)
	select {
	case err := <-started:
		t.Fatalf("StartPerformer returned before the performer ran: %v", err)
	case <-time.After(300 * time.Millisecond):
	}
	e.pl.setStatus(name, func(s *v1alpha1.PerformerStatus) {
		s.Phase = v1alpha1.PhasePending
		s.ServiceName = names.Service(name)
		s.GRPCEndpoint = endpoint
		s.ConnectionSecretName = names.ConnectionSecret(name)
		setReady(s, false)
	})
	// Running but not yet ready everywhere: Crossplane's Ready condition
	// lags the function's status.ready.
	e.pl.setStatus(name, func(s *v1alpha1.PerformerStatus) {
		s.Phase = v1alpha1.PhaseRunning
		s.Ready = true
		s.Active = &v1alpha1.RevisionStatus{Revision: "r1", Image: "myavs/performer:v1", Version: "v1"}
		s.ReadyTime = ptr.To(metav1.Now())
	})
	select {
	case err := <-started:
		t.Fatalf("StartPerformer returned while the Ready condition was False: %v", err)
	case <-time.After(300 * time.Millisecond):
	}
	e.pl.setStatus(name, func(s *v1alpha1.PerformerStatus) { setReady(s, true) })
	if err := wait(t, started, "StartPerformer"); err != nil {
		t.Fatalf("StartPerformer: %v", err)
	}

	t.Run("PerformerShape", func(t *testing.T) {
		want := v1alpha1.PerformerSpec{
			AVSAddress: avsA, Image: "myavs/performer:v1", Version: "v1",
			Config:     v1alpha1.PerformerConfig{GRPCPort: 9090},
			Scheduling: sched,
		}
		if diff := cmp.Diff(want, created.Spec); diff != "" {
			t.Errorf("the Performer's spec: -want, +got:\n%s", diff)
		}
		wantLabels := map[string]string{LabelExecutor: "executor-0", LabelAVS: strings.ToLower(avsA)}
		if diff := cmp.Diff(wantLabels, created.Labels); diff != "" {
			t.Errorf("the Performer's labels: -want, +got:\n%s", diff)
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
		before := e.pl.waitPerformer(name)
		k2, err := m.StartPerformer(t.Context(), PerformerRequest{AVSAddress: strings.ToLower(avsA), Image: "myavs/performer:v1", Version: "v1"})
		if err != nil {
			t.Fatal(err)
		}
		after := e.pl.waitPerformer(name)
		if before.ResourceVersion != after.ResourceVersion {
			t.Errorf("starting an unchanged performer again wrote the Performer (resourceVersion %s → %s)", before.ResourceVersion, after.ResourceVersion)
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
		prev := e.pl.waitPerformer(name).Status.LastUpgrade

		upgrading := run(func() error { return m.UpgradePerformer(t.Context(), avsA, "v2") })
		e.pl.waitSpec(name, func(p *v1alpha1.Performer) bool { return p.Spec.Version == "v2" })
		got := e.pl.waitPerformer(name)
		if got.Spec.Image != "myavs/performer:v2" {
			t.Errorf("UpgradePerformer: spec.image = %q, want the tag to follow the version", got.Spec.Image)
		}
		e.pl.setStatus(name, func(s *v1alpha1.PerformerStatus) {
			s.Phase = v1alpha1.PhaseUpgrading
			s.Target = &v1alpha1.RevisionStatus{Revision: "r2", Image: "myavs/performer:v2", Version: "v2"}
			s.UpgradeStartTime = ptr.To(metav1.Now())
			meta.SetStatusCondition(&s.Conditions, condition(v1alpha1.ConditionProgressing, v1alpha1.ReasonUpgradeInProgress, "", time.Now()))
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
			meta.RemoveStatusCondition(&s.Conditions, v1alpha1.ConditionProgressing)
		})
		if err := wait(t, upgrading, "UpgradePerformer"); err != nil {
			t.Fatalf("UpgradePerformer: %v", err)
		}
		if now := e.pl.waitPerformer(name).Status.LastUpgrade; prev != nil && !now.After(prev.Time) {
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
			meta.SetStatusCondition(&s.Conditions, condition(v1alpha1.ConditionDegraded, v1alpha1.ReasonImagePullFailed, "image myavs/performer:v3 not found", time.Now()))
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
		// Another executor's Performer in the same namespace is not adopted.
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
		stopped := run(func() error { return other.StopPerformer(t.Context(), avsA) })
		e.pl.collect(PerformerName("executor-1", avsA))
		if err := wait(t, stopped, "StopPerformer"); err != nil {
			t.Errorf("StopPerformer of the other executor: %v", err)
		}
	})

	t.Run("ConflictingPerformer", func(t *testing.T) {
		// A Performer of that name that is not this executor's is never taken over.
		squatter := &v1alpha1.Performer{
			ObjectMeta: metav1.ObjectMeta{Namespace: e.ns, Name: PerformerName("executor-0", avsB)},
			Spec:       v1alpha1.PerformerSpec{AVSAddress: avsB, Image: "someone/else:v1"},
		}
		if err := e.admin.Create(t.Context(), squatter); err != nil {
			t.Fatal(err)
		}
		defer func() { _ = e.admin.Delete(context.Background(), squatter) }()
		if _, err := m.StartPerformer(t.Context(), PerformerRequest{AVSAddress: avsB, Image: "myavs/performer:v1"}); err == nil {
			t.Errorf("StartPerformer over another's Performer: want an error, got none")
		}
		if err := m.StopPerformer(t.Context(), avsB); err == nil {
			t.Errorf("StopPerformer of another's Performer: want an error, got none")
		}
	})

	t.Run("Stop", func(t *testing.T) {
		stopped := run(func() error { return m.StopPerformer(t.Context(), avsA) })
		// Deleted in the foreground: StopPerformer waits while the
		// garbage collector would still be deleting what was composed.
		e.pl.waitSpec(name, func(p *v1alpha1.Performer) bool { return p.DeletionTimestamp != nil })
		select {
		case err := <-stopped:
			t.Fatalf("StopPerformer returned while the Performer was still being deleted: %v", err)
		case <-time.After(300 * time.Millisecond):
		}
		e.pl.collect(name)
		if err := wait(t, stopped, "StopPerformer"); err != nil {
			t.Fatalf("StopPerformer: %v", err)
		}
		err := e.admin.Get(t.Context(), types.NamespacedName{Namespace: e.ns, Name: name}, &v1alpha1.Performer{})
		if !kerrors.IsNotFound(err) {
			t.Errorf("after StopPerformer the Performer should be gone; Get: %v", err)
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
	e.pl.waitPerformer(name)
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

// TestManagerEndpointFromSecret starts a performer whose status has no
// endpoint yet: its client finds the endpoint in the connection Secret the
// function composes once it is there.
func TestManagerEndpointFromSecret(t *testing.T) {
	e := newManagerEnv(t)
	s := startPerformer(t, "127.0.0.1:0", testperformer.Options{Name: "secret"})
	m := e.manager(t, e.admin, ManagerOptions{StartTimeout: -1})
	name := PerformerName("executor-0", avsB)
	k, err := m.StartPerformer(t.Context(), PerformerRequest{AVSAddress: avsB, Image: "myavs/performer:v1"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := k.ExecuteTask(t.Context(), task("t0", "p")); err == nil {
		t.Fatalf("ExecuteTask with neither status nor Secret: want an error, got none")
	}

	svc := names.Service(name)
	e.lb.Map(names.Endpoint(svc, e.ns, 9090), s.Address())
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: e.ns, Name: names.ConnectionSecret(name)},
		Data:       names.Connection(svc, e.ns, 9090),
	}
	if err := e.admin.Create(t.Context(), secret); err != nil {
		t.Fatal(err)
	}
	rsp, err := k.ExecuteTask(t.Context(), task("t", "p"))
	if err != nil {
		t.Fatalf("ExecuteTask with the endpoint from the Secret: %v", err)
	}
	if diff := cmp.Diff("secret:p", string(rsp.GetResult())); diff != "" {
		t.Errorf("ExecuteTask: -want, +got:\n%s", diff)
	}
}

// TestManagerEndpoint reads a performer's endpoint from each place the
// platform publishes it.
func TestManagerEndpoint(t *testing.T) {
	e := newManagerEnv(t)
	const otherEP = "performer-decoy.elsewhere.svc.cluster.local:9999"
	type args struct {
		status  func(ns, name string, s *v1alpha1.PerformerStatus)
		secrets func(ns, name string) map[string]map[string][]byte // by Secret name
	}
	type want struct {
		endpoint func(ns, name string) string
		notReady bool
	}
	cases := map[string]struct {
		reason string
		args   args
		want   want
	}{
		"NothingYet": {
			reason: "Neither a status nor a Secret: not ready, a typed error callers can wait on.",
			want:   want{notReady: true},
		},
		"ComposedSecret": {
			reason: "Before the status is written, the Secret the function composes, named by ConnectionSecretName, gives the endpoint.",
			args: args{secrets: func(ns, name string) map[string]map[string][]byte {
				return map[string]map[string][]byte{ConnectionSecretName(name): names.Connection(names.Service(name), ns, 9191)}
			}},
			want: want{endpoint: func(ns, name string) string { return names.Endpoint(names.Service(name), ns, 9191) }},
		},
		"HostAndPort": {
			reason: "A Secret with host and port but no endpoint key is joined into host:port.",
			args: args{secrets: func(ns, name string) map[string]map[string][]byte {
				return map[string]map[string][]byte{ConnectionSecretName(name): {
					ConnectionKeyHost: []byte(names.Host(names.Service(name), ns)),
					ConnectionKeyPort: []byte("9292"),
				}}
			}},
			want: want{endpoint: func(ns, name string) string { return names.Endpoint(names.Service(name), ns, 9292) }},
		},
		"SecretNamedInStatus": {
			reason: "status.connectionSecretName, once written, names the Secret to read.",
			args: args{
				status: func(_, _ string, s *v1alpha1.PerformerStatus) { s.ConnectionSecretName = "named-in-status" },
				secrets: func(ns, name string) map[string]map[string][]byte {
					return map[string]map[string][]byte{
						"named-in-status":          names.Connection(names.Service(name), ns, 9393),
						ConnectionSecretName(name): {ConnectionKeyEndpoint: []byte(otherEP)},
					}
				},
			},
			want: want{endpoint: func(ns, name string) string { return names.Endpoint(names.Service(name), ns, 9393) }},
		},
		"StatusWins": {
			reason: "status.grpcEndpoint wins over any Secret.",
			args: args{
				status: func(ns, name string, s *v1alpha1.PerformerStatus) { s.GRPCEndpoint = serviceEndpoint(ns, name) },
				secrets: func(_, name string) map[string]map[string][]byte {
					return map[string]map[string][]byte{ConnectionSecretName(name): {ConnectionKeyEndpoint: []byte(otherEP)}}
				},
			},
			want: want{endpoint: serviceEndpoint},
		},
		"EmptySecret": {
			reason: "A Secret without endpoint, or without host and port, is not an endpoint yet.",
			args: args{secrets: func(_, name string) map[string]map[string][]byte {
				return map[string]map[string][]byte{ConnectionSecretName(name): {ConnectionKeyHost: []byte("h")}}
			}},
			want: want{notReady: true},
		},
	}
	i := 0
	for cname, tc := range cases {
		i++
		executor := fmt.Sprintf("endpoint-%d", i)
		t.Run(cname, func(t *testing.T) {
			m := e.manager(t, e.admin, ManagerOptions{Executor: executor, StartTimeout: -1})
			name := PerformerName(executor, avsA)
			if _, err := m.StartPerformer(t.Context(), PerformerRequest{AVSAddress: avsA, Image: "myavs/performer:v1"}); err != nil {
				t.Fatal(err)
			}
			if tc.args.status != nil {
				e.pl.setStatus(name, func(s *v1alpha1.PerformerStatus) { tc.args.status(e.ns, name, s) })
			}
			if tc.args.secrets != nil {
				for sname, data := range tc.args.secrets(e.ns, name) {
					sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: e.ns, Name: sname}, Data: data}
					if err := e.admin.Create(t.Context(), sec); err != nil {
						t.Fatal(err)
					}
				}
			}
			got, err := m.GetPerformerEndpoint(t.Context(), avsA)
			var nr *EndpointNotReadyError
			if gotNotReady := errors.As(err, &nr); gotNotReady != tc.want.notReady {
				t.Fatalf("%s\nGetPerformerEndpoint(...): want not ready %t, got %q, %v", tc.reason, tc.want.notReady, got, err)
			}
			if tc.want.notReady {
				return
			}
			if err != nil {
				t.Fatalf("%s\nGetPerformerEndpoint(...): %v", tc.reason, err)
			}
			if diff := cmp.Diff(tc.want.endpoint(e.ns, name), got); diff != "" {
				t.Errorf("%s\nGetPerformerEndpoint(...): -want, +got:\n%s", tc.reason, diff)
			}
		})
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
		setReady(s, true)
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

	// GitOps changes the version; the platform switches the Service to a
	// revision that does not serve yet: the client stays where calls work.
	e.lb.Map(endpoint, green.Address())
	e.pl.setStatus(name, func(s *v1alpha1.PerformerStatus) {
		s.Active = &v1alpha1.RevisionStatus{Revision: "r2", Image: "myavs/performer:v2", Version: "v2"}
		s.LastUpgrade = ptr.To(metav1.Now())
		setReady(s, false)
	})
	time.Sleep(300 * time.Millisecond)
	rsp, err := k.ExecuteTask(t.Context(), task("t", "before-ready"))
	if err != nil {
		t.Fatalf("ExecuteTask before the new revision serves: %v", err)
	}
	if diff := cmp.Diff("blue:before-ready", string(rsp.GetResult())); diff != "" {
		t.Errorf("the client switched over to a revision that does not serve yet: -want, +got:\n%s", diff)
	}
	e.pl.setStatus(name, func(s *v1alpha1.PerformerStatus) { setReady(s, true) })

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
	// A finalizer (Crossplane's, or the garbage collector's in a foreground
	// deletion) holds the Performer while it goes away.
	p := e.pl.waitPerformer(name)
	p.Finalizers = []string{"composite.apiextensions.crossplane.io"}
	if err := e.admin.Update(t.Context(), p); err != nil {
		t.Fatal(err)
	}
	if err := e.admin.Delete(t.Context(), p); err != nil {
		t.Fatal(err)
	}
	defer func() {
		p := e.pl.waitPerformer(name)
		p.Finalizers = nil
		_ = e.admin.Update(context.Background(), p)
	}()
	if _, err := m.StartPerformer(t.Context(), PerformerRequest{AVSAddress: avsA, Image: "myavs/performer:v1"}); err == nil {
		t.Errorf("StartPerformer of a performer being deleted: want an error, got none")
	}
}

// TestManagerStartSpec creates Performers through the real API server (the
// CRD Crossplane derives from the definition, with its defaults and CEL
// rules) and checks what is stored, and that starting the same request
// again writes nothing.
func TestManagerStartSpec(t *testing.T) {
	e := newManagerEnv(t)
	channel := &metav1.LabelSelector{MatchLabels: map[string]string{"hourglass.eigenlayer.io/channel": "stable"}}
	type args struct {
		opts ManagerOptions
		spec v1alpha1.PerformerSpec
	}
	type want struct {
		spec v1alpha1.PerformerSpec
		err  string
	}
	cases := map[string]struct {
		reason string
		args   args
		want   want
	}{
		"OperatorWireFormat": {
			reason: "The image pull policy, config.environment and config.environmentFrom of the original operator's format are stored beside config.env.",
			args: args{spec: v1alpha1.PerformerSpec{
				ImagePullPolicy: corev1.PullIfNotPresent,
				Config: v1alpha1.PerformerConfig{
					Environment: map[string]string{"LOG_LEVEL": "debug", "CHAIN_ID": "1"},
					EnvironmentFrom: []v1alpha1.EnvironmentFromSource{
						{Name: "RPC_URL", ValueFrom: v1alpha1.EnvironmentValueSource{ConfigMapKeyRef: &v1alpha1.KeySelector{Name: "avs", Key: "rpc"}}},
						{Name: "SIGNER_KEY", ValueFrom: v1alpha1.EnvironmentValueSource{SecretKeyRef: &v1alpha1.KeySelector{Name: "avs", Key: "key"}}},
					},
					Env: []corev1.EnvVar{{Name: "EXTRA", Value: "x"}},
				},
			}},
			want: want{spec: v1alpha1.PerformerSpec{
				ImagePullPolicy: corev1.PullIfNotPresent,
				Config: v1alpha1.PerformerConfig{
					GRPCPort:    9090,
					Environment: map[string]string{"LOG_LEVEL": "debug", "CHAIN_ID": "1"},
					EnvironmentFrom: []v1alpha1.EnvironmentFromSource{
						{Name: "RPC_URL", ValueFrom: v1alpha1.EnvironmentValueSource{ConfigMapKeyRef: &v1alpha1.KeySelector{Name: "avs", Key: "rpc"}}},
						{Name: "SIGNER_KEY", ValueFrom: v1alpha1.EnvironmentValueSource{SecretKeyRef: &v1alpha1.KeySelector{Name: "avs", Key: "key"}}},
					},
					Env: []corev1.EnvVar{{Name: "EXTRA", Value: "x"}},
				},
			}},
		},
		"DefaultImagePullPolicy": {
			reason: "The manager's default pull policy applies to a request without one.",
			args:   args{opts: ManagerOptions{DefaultImagePullPolicy: corev1.PullNever}},
			want:   want{spec: v1alpha1.PerformerSpec{ImagePullPolicy: corev1.PullNever, Config: v1alpha1.PerformerConfig{GRPCPort: 9090}}},
		},
		"RequestPullPolicyWins": {
			reason: "A request's own pull policy wins over the manager's default.",
			args: args{
				opts: ManagerOptions{DefaultImagePullPolicy: corev1.PullNever},
				spec: v1alpha1.PerformerSpec{ImagePullPolicy: corev1.PullAlways},
			},
			want: want{spec: v1alpha1.PerformerSpec{ImagePullPolicy: corev1.PullAlways, Config: v1alpha1.PerformerConfig{GRPCPort: 9090}}},
		},
		"CompositionChannel": {
			reason: "Composition revision pinning goes to spec.crossplane, where the API server defaults the update policy.",
			args:   args{spec: v1alpha1.PerformerSpec{Crossplane: &v1alpha1.CrossplaneFields{CompositionRevisionSelector: channel}}},
			want: want{spec: v1alpha1.PerformerSpec{
				Config:     v1alpha1.PerformerConfig{GRPCPort: 9090},
				Crossplane: &v1alpha1.CrossplaneFields{CompositionRevisionSelector: channel, CompositionUpdatePolicy: ptr.To("Automatic")},
			}},
		},
		"VariableSetTwice": {
			reason: "A variable set in config.env and config.environment is refused at admission, and the error names both places.",
			args: args{spec: v1alpha1.PerformerSpec{Config: v1alpha1.PerformerConfig{
				Environment: map[string]string{"FOO": "a"},
				Env:         []corev1.EnvVar{{Name: "FOO", Value: "b"}},
			}}},
			want: want{err: "spec.config.env and spec.config.environment both set "},
		},
	}
	i := 0
	for cname, tc := range cases {
		i++
		executor := fmt.Sprintf("spec-%d", i)
		t.Run(cname, func(t *testing.T) {
			o := tc.args.opts
			o.Executor, o.StartTimeout = executor, -1
			m := e.manager(t, e.admin, o)
			req := PerformerRequest{AVSAddress: avsA, Image: "myavs/performer:v1", Version: "v1", Spec: tc.args.spec}
			_, err := m.StartPerformer(t.Context(), req)
			if tc.want.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.want.err) {
					t.Fatalf("%s\nStartPerformer(...): want an error containing %q, got %v", tc.reason, tc.want.err, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("%s\nStartPerformer(...): %v", tc.reason, err)
			}
			got := e.pl.waitPerformer(PerformerName(executor, avsA))
			want := tc.want.spec
			want.AVSAddress, want.Image, want.Version = avsA, "myavs/performer:v1", "v1"
			if diff := cmp.Diff(want, got.Spec); diff != "" {
				t.Errorf("%s\nthe stored spec: -want, +got:\n%s", tc.reason, diff)
			}
			if _, err := m.StartPerformer(t.Context(), req); err != nil {
				t.Fatalf("%s\nStartPerformer again: %v", tc.reason, err)
			}
			if again := e.pl.waitPerformer(PerformerName(executor, avsA)); again.ResourceVersion != got.ResourceVersion {
				t.Errorf("%s\nstarting the same request again wrote the Performer (resourceVersion %s → %s)", tc.reason, got.ResourceVersion, again.ResourceVersion)
			}
		})
	}
}

// TestManagerKeepsCrossplaneFields checks that the manager's writes leave
// what Crossplane keeps in spec.crossplane alone: the Composition and
// revision it resolved, and the references to what it composed, which this
// client's types do not even know.
func TestManagerKeepsCrossplaneFields(t *testing.T) {
	e := newManagerEnv(t)
	m := e.manager(t, e.admin, ManagerOptions{StartTimeout: -1})
	name := PerformerName("executor-0", avsA)
	// UpgradePerformer switches the client over to the new revision.
	e.lb.Map(serviceEndpoint(e.ns, name), startPerformer(t, "127.0.0.1:0", testperformer.Options{Name: "v2"}).Address())
	if _, err := m.StartPerformer(t.Context(), PerformerRequest{AVSAddress: avsA, Image: "myavs/performer:v1", Version: "v1"}); err != nil {
		t.Fatal(err)
	}

	// What Crossplane writes once it has composed the performer.
	crossplane := map[string]any{
		"compositionRef":          map[string]any{"name": "performers.hourglass.eigenlayer.io"},
		"compositionRevisionRef":  map[string]any{"name": "performers.hourglass.eigenlayer.io-0123abc"},
		"compositionUpdatePolicy": "Automatic",
		"resourceRefs": []any{
			map[string]any{"apiVersion": "apps/v1", "kind": "Deployment", "name": names.Deployment(name, "r1")},
			map[string]any{"apiVersion": "v1", "kind": "Service", "name": names.Service(name)},
		},
	}
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(v1alpha1.PerformerGroupVersionKind)
	u.SetNamespace(e.ns)
	u.SetName(name)
	patch, err := json.Marshal(map[string]any{"spec": map[string]any{"crossplane": crossplane}})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.admin.Patch(t.Context(), u, client.RawPatch(types.MergePatchType, patch)); err != nil {
		t.Fatalf("write spec.crossplane as Crossplane: %v", err)
	}

	// A spec change, a composition channel, and an upgrade: all written by
	// the manager.
	channel := &metav1.LabelSelector{MatchLabels: map[string]string{"hourglass.eigenlayer.io/channel": "stable"}}
	if _, err := m.StartPerformer(t.Context(), PerformerRequest{AVSAddress: avsA, Image: "myavs/performer:v1", Version: "v1",
		Spec: v1alpha1.PerformerSpec{
			Config:     v1alpha1.PerformerConfig{Environment: map[string]string{"LOG_LEVEL": "debug"}},
			Crossplane: &v1alpha1.CrossplaneFields{CompositionRevisionSelector: channel},
		}}); err != nil {
		t.Fatalf("StartPerformer with a changed spec: %v", err)
	}
	upgrading := run(func() error { return m.UpgradePerformer(t.Context(), avsA, "v2") })
	e.pl.waitSpec(name, func(p *v1alpha1.Performer) bool { return p.Spec.Version == "v2" })
	e.pl.setStatus(name, func(s *v1alpha1.PerformerStatus) {
		s.Phase = v1alpha1.PhaseRunning
		s.GRPCEndpoint = serviceEndpoint(e.ns, name)
		s.Active = &v1alpha1.RevisionStatus{Revision: "r2", Image: "myavs/performer:v2", Version: "v2"}
		s.LastUpgrade = ptr.To(metav1.NewTime(time.Now().Add(time.Second)))
		setReady(s, true)
	})
	if err := wait(t, upgrading, "UpgradePerformer"); err != nil {
		t.Fatalf("UpgradePerformer: %v", err)
	}

	if err := e.admin.Get(t.Context(), types.NamespacedName{Namespace: e.ns, Name: name}, u); err != nil {
		t.Fatal(err)
	}
	got, _, _ := unstructured.NestedMap(u.Object, "spec", "crossplane")
	want := map[string]any{}
	maps.Copy(want, crossplane)
	want["compositionRevisionSelector"] = map[string]any{"matchLabels": map[string]any{"hourglass.eigenlayer.io/channel": "stable"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("spec.crossplane after the manager's writes: -want, +got:\n%s", diff)
	}
	env, _, _ := unstructured.NestedStringMap(u.Object, "spec", "config", "environment")
	if diff := cmp.Diff(map[string]string{"LOG_LEVEL": "debug"}, env); diff != "" {
		t.Errorf("spec.config.environment: -want, +got:\n%s", diff)
	}
}

func TestOverlayCrossplane(t *testing.T) {
	ref := func(n string) *corev1.LocalObjectReference { return &corev1.LocalObjectReference{Name: n} }
	channel := func(c string) *metav1.LabelSelector {
		return &metav1.LabelSelector{MatchLabels: map[string]string{"hourglass.eigenlayer.io/channel": c}}
	}
	crossplaneSet := &v1alpha1.CrossplaneFields{
		CompositionRef:          ref("performers.hourglass.eigenlayer.io"),
		CompositionRevisionRef:  ref("performers.hourglass.eigenlayer.io-0123abc"),
		CompositionUpdatePolicy: ptr.To("Automatic"),
	}
	type args struct {
		have, want *v1alpha1.CrossplaneFields
	}
	cases := map[string]struct {
		reason string
		args   args
		want   *v1alpha1.CrossplaneFields
	}{
		"RequestSaysNothing": {
			reason: "A request without spec.crossplane keeps everything Crossplane set.",
			args:   args{have: crossplaneSet},
			want:   crossplaneSet,
		},
		"NothingEither": {
			reason: "Nothing set and nothing asked: nothing written.",
		},
		"Channel": {
			reason: "A channel is added; the revision Crossplane resolved stays until Crossplane moves it.",
			args:   args{have: crossplaneSet, want: &v1alpha1.CrossplaneFields{CompositionRevisionSelector: channel("rapid")}},
			want: &v1alpha1.CrossplaneFields{
				CompositionRef:              ref("performers.hourglass.eigenlayer.io"),
				CompositionRevisionRef:      ref("performers.hourglass.eigenlayer.io-0123abc"),
				CompositionRevisionSelector: channel("rapid"),
				CompositionUpdatePolicy:     ptr.To("Automatic"),
			},
		},
		"Pin": {
			reason: "A pinned revision and the Manual policy replace what Crossplane resolved.",
			args: args{have: crossplaneSet, want: &v1alpha1.CrossplaneFields{
				CompositionRevisionRef: ref("performers.hourglass.eigenlayer.io-fedcba9"), CompositionUpdatePolicy: ptr.To("Manual"),
			}},
			want: &v1alpha1.CrossplaneFields{
				CompositionRef:          ref("performers.hourglass.eigenlayer.io"),
				CompositionRevisionRef:  ref("performers.hourglass.eigenlayer.io-fedcba9"),
				CompositionUpdatePolicy: ptr.To("Manual"),
			},
		},
		"FirstWrite": {
			reason: "Fields asked of a Performer Crossplane has not touched yet are set as asked.",
			args:   args{want: &v1alpha1.CrossplaneFields{CompositionSelector: channel("stable")}},
			want:   &v1alpha1.CrossplaneFields{CompositionSelector: channel("stable")},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			before := tc.args.have.DeepCopy()
			got := overlayCrossplane(tc.args.have, tc.args.want)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s\noverlayCrossplane(...): -want, +got:\n%s", tc.reason, diff)
			}
			if diff := cmp.Diff(before, tc.args.have); diff != "" {
				t.Errorf("%s\noverlayCrossplane(...) changed its input: -before, +after:\n%s", tc.reason, diff)
			}
		})
	}
}
