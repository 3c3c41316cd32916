//go:build e2e

package e2e

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	performerv1 "github.com/Layr-Labs/protocol-apis/gen/protos/eigenlayer/hourglass/v1/performer"
	appsv1 "k8s.io/api/apps/v1"
	kerrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/hourglass-xp/crossplane-hourglass/apis/hourglass/v1alpha1"
	"github.com/hourglass-xp/crossplane-hourglass/internal/names"
	"github.com/hourglass-xp/crossplane-hourglass/internal/testperformer"
	"github.com/hourglass-xp/crossplane-hourglass/pkg/executor"
)

const (
	executorNS  = "executor-e2e"
	executorAVS = "0x5555666677778888999900001111222233334444"
)

// loopbackOnly maps performer endpoints to loopback servers the test runs.
// The stack's endpoints (cluster DNS names) are neither resolvable nor
// dialable from the host, and must never be: anything not mapped fails.
type loopbackOnly struct {
	mu    sync.Mutex
	addrs map[string]string
}

func (l *loopbackOnly) Map(endpoint, addr string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.addrs[endpoint] = addr
}

func (l *loopbackOnly) Resolve(_ context.Context, endpoint string) (string, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	addr, ok := l.addrs[endpoint]
	if !ok {
		return "", fmt.Errorf("e2e: refusing to dial unmapped endpoint %q", endpoint)
	}
	if host, _, err := net.SplitHostPort(addr); err != nil || !net.ParseIP(host).IsLoopback() {
		return "", fmt.Errorf("e2e: %q is not a loopback address", addr)
	}
	return addr, nil
}

// executorIdentity applies the example RBAC to ns and returns a config that
// acts as the example ServiceAccount.
func executorIdentity(t *testing.T, e *env, ns string) *rest.Config {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(e.root, "examples", "executor", "rbac.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	e.mustKubectl(t, []byte(strings.ReplaceAll(string(b), "namespace: my-avs-project", "namespace: "+ns)), "apply", "-f", "-")
	cfg, err := clientcmd.BuildConfigFromFlags("", e.kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	cfg.QPS, cfg.Burst = 50, 100
	cfg.Impersonate = rest.ImpersonationConfig{
		UserName: "system:serviceaccount:" + ns + ":executor",
		Groups:   []string{"system:serviceaccounts", "system:serviceaccounts:" + ns, "system:authenticated"},
	}
	return cfg
}

// TestExecutorClient drives the executor client, with the example Role's
// identity, against the real stack: Crossplane composes, the function runs
// the blue-green upgrade, and the client waits on what they report.
func TestExecutorClient(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.ensureNamespace(t, executorNS)
	cfg := executorIdentity(t, e, executorNS)

	tp, err := testperformer.Start("127.0.0.1:0", testperformer.Options{Name: "e2e"})
	if err != nil {
		t.Fatal(err)
	}
	defer tp.Stop()
	lb := &loopbackOnly{addrs: map[string]string{}}

	opts := executor.ManagerOptions{
		Namespace:      executorNS,
		Executor:       "executor-0",
		StartTimeout:   4 * time.Minute,
		UpgradeTimeout: 4 * time.Minute,
		StopTimeout:    4 * time.Minute,
		ServicePattern: "performer-{name}.{namespace}.svc.cluster.local:{port}",
		Client:         executor.ClientOptions{Transport: executor.Plaintext(), Resolve: lb.Resolve},
	}
	m, err := executor.NewForConfig(cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	name := executor.PerformerName("executor-0", executorAVS)

	// Leave nothing behind, whatever happens.
	defer func() {
		e.mustKubectl(t, nil, "-n", executorNS, "delete", "performers", "--all", "--ignore-not-found", "--wait=false")
	}()

	var endpoint string
	t.Run("StartEndpointIsStatus", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
		defer cancel()
		k, err := m.StartPerformer(ctx, executor.PerformerRequest{
			AVSAddress: executorAVS, Image: "myavs/performer:v1.0.0", Version: "v1.0.0",
			// A short deadline, so the failed upgrade below is reported
			// within the test.
			Spec: v1alpha1.PerformerSpec{Upgrade: &v1alpha1.UpgradeConfig{ProgressDeadlineSeconds: ptr.To[int32](15)}},
		})
		if err != nil {
			t.Fatalf("StartPerformer: %v", err)
		}
		u, err := e.get(ctx, executorNS, name)
		if err != nil || u == nil {
			t.Fatalf("get performer: %v", err)
		}
		status, _, _ := unstructured.NestedString(u.Object, "status", "grpcEndpoint")
		got, err := m.GetPerformerEndpoint(ctx, executorAVS)
		if err != nil {
			t.Fatalf("GetPerformerEndpoint: %v", err)
		}
		if got != status || k.Endpoint() != status {
			t.Errorf("endpoint: GetPerformerEndpoint %q, client %q; want status.grpcEndpoint %q", got, k.Endpoint(), status)
		}
		// The platform's naming rule, as the judge of what was composed.
		if want := names.Endpoint(names.Service(name), executorNS, 9090); got != want {
			t.Errorf("endpoint %q, want the Service's %q", got, want)
		}
		endpoint = got

		// A loopback performer stands in for the pod, which is fake.
		lb.Map(endpoint, tp.Address())
		rsp, err := k.ExecuteTask(ctx, &performerv1.TaskRequest{TaskId: []byte("t1"), Payload: []byte("hello")})
		if err != nil || string(rsp.GetResult()) != "e2e:hello" {
			t.Errorf("ExecuteTask: %q, %v", rsp.GetResult(), err)
		}
	})
	if endpoint == "" {
		t.FailNow()
	}

	t.Run("NewManagerAdopts", func(t *testing.T) {
		m2, err := executor.NewForConfig(cfg, opts)
		if err != nil {
			t.Fatal(err)
		}
		defer m2.Close()
		ks, err := m2.ListPerformers(t.Context())
		if err != nil {
			t.Fatalf("ListPerformers: %v", err)
		}
		if len(ks) != 1 || !strings.EqualFold(ks[0].AVSAddress(), executorAVS) || ks[0].Endpoint() != endpoint {
			t.Fatalf("ListPerformers: got %d performers (%v); want the one started, at %s", len(ks), ks, endpoint)
		}
		if err := ks[0].Health(t.Context()); err != nil {
			t.Errorf("Health of the adopted performer: %v", err)
		}
	})

	t.Run("UpgradeWaitsForCompletion", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
		defer cancel()
		if err := m.UpgradePerformer(ctx, executorAVS, "v1.1.0"); err != nil {
			t.Fatalf("UpgradePerformer: %v", err)
		}
		u, err := e.get(ctx, executorNS, name)
		if err != nil || u == nil {
			t.Fatalf("get performer: %v", err)
		}
		if v, _, _ := unstructured.NestedString(u.Object, "status", "active", "version"); v != "v1.1.0" {
			t.Errorf("after UpgradePerformer: status.active.version %q, want v1.1.0\n%s", v, describe(u))
		}
		if p, _, _ := unstructured.NestedString(u.Object, "status", "phase"); p != v1alpha1.PhaseRunning {
			t.Errorf("after UpgradePerformer: phase %q, want Running", p)
		}
	})

	t.Run("FailedUpgradeReturnsReason", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
		defer cancel()
		// kwok's fault stage fails the pull of this image.
		err := m.UpgradePerformerImage(ctx, executorAVS, "myavs/kwok-fault-image-pull-error:v1.2.0", "v1.2.0")
		var ce *executor.ConditionError
		if !errors.As(err, &ce) {
			t.Fatalf("UpgradePerformerImage to an image that cannot be pulled: want a ConditionError, got %v", err)
		}
		t.Logf("the performer's reason: %s: %s", ce.Reason, ce.Message)
		if ce.Reason == "" || ce.Message == "" {
			t.Errorf("the ConditionError should carry the performer's reason and message, got %+v", ce)
		}
		// The previous version keeps serving.
		u, err := e.get(ctx, executorNS, name)
		if err != nil || u == nil {
			t.Fatalf("get performer: %v", err)
		}
		if v, _, _ := unstructured.NestedString(u.Object, "status", "active", "version"); v != "v1.1.0" {
			t.Errorf("after a failed upgrade: status.active.version %q, want v1.1.0 still", v)
		}
	})

	t.Run("RefusedOutsideRole", func(t *testing.T) {
		c, err := client.New(cfg, client.Options{Scheme: mustScheme(t)})
		if err != nil {
			t.Fatal(err)
		}
		err = c.List(t.Context(), &v1alpha1.PerformerList{}, client.InNamespace("my-avs-project"))
		if !kerrors.IsForbidden(err) {
			t.Errorf("listing performers of another namespace: want Forbidden, got %v", err)
		}
		err = c.List(t.Context(), &appsv1.DeploymentList{}, client.InNamespace(executorNS))
		if !kerrors.IsForbidden(err) {
			t.Errorf("listing Deployments: want Forbidden, got %v", err)
		}
	})

	t.Run("StopRemovesEverything", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
		defer cancel()
		if err := m.StopPerformer(ctx, executorAVS); err != nil {
			t.Fatalf("StopPerformer: %v", err)
		}
		// Foreground: once StopPerformer returns, nothing composed is left.
		if err := e.gone(ctx, executorNS, name, ""); err != nil {
			t.Errorf("after StopPerformer: %v", err)
		}
	})
}

func mustScheme(t *testing.T) *runtime.Scheme {
	t.Helper()
	s, err := executor.Scheme()
	if err != nil {
		t.Fatal(err)
	}
	return s
}
