package main

import (
	"github.com/hourglass-xp/crossplane-hourglass/internal/testtools"

	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"

	"github.com/hourglass-xp/crossplane-hourglass/apis/observe/v1alpha1"
)

// TestProviderBinary runs the provider binary, as its ServiceAccount with
// the RBAC of package/provider/rbac.yaml and leader election on, against a
// real API server. The performer's pod reports IP 127.0.0.1 and a real
// grpc.health.v1 server listens there; --health-check-cidr=127.0.0.0/8
// keeps the binary from dialling anything else. It checks Ready, the
// connection Secret, /readyz, /metrics, that a restart loses nothing, and
// that a performer that stops answering is reported.
func TestProviderBinary(t *testing.T) {
	dir := testtools.KubebuilderAssets(t)
	if testing.Short() {
		t.Skip("builds the provider binary")
	}
	bin := filepath.Join(t.TempDir(), "provider-hourglass")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("cannot build the provider: %v\n%s", err, out)
	}

	te := &envtest.Environment{
		BinaryAssetsDirectory: dir,
		CRDDirectoryPaths:     []string{filepath.Join("..", "..", "package", "provider", "crds")},
		ErrorIfCRDPathMissing: true,
	}
	cfg, err := te.Start()
	if err != nil {
		t.Fatalf("cannot start envtest: %v", err)
	}
	t.Cleanup(func() { _ = te.Stop() })
	s := runtime.NewScheme()
	_ = clientgoscheme.AddToScheme(s)
	_ = v1alpha1.AddToScheme(s)
	kube, err := client.New(cfg, client.Options{Scheme: s})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	applyRBAC(t, kube)

	user, err := te.AddUser(envtest.User{Name: "system:serviceaccount:crossplane-system:provider-hourglass"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	kc, err := user.KubeConfig()
	if err != nil {
		t.Fatal(err)
	}
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(kubeconfig, kc, 0o600); err != nil {
		t.Fatal(err)
	}

	hs := health.NewServer()
	hs.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gs := grpc.NewServer()
	healthpb.RegisterHealthServer(gs, hs)
	go func() { _ = gs.Serve(lis) }()
	t.Cleanup(gs.Stop)
	port := int32(lis.Addr().(*net.TCPAddr).Port)

	labels := map[string]string{"app": "performer", "performer-name": "bin"}
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "bin-0", Namespace: "bin", Labels: labels},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "performer", Image: "example/performer:v1"}}}}
	for _, o := range []client.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "bin"}},
		pod,
		&corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "performer-bin", Namespace: "bin", Labels: labels},
			Spec: corev1.ServiceSpec{Selector: labels, Ports: []corev1.ServicePort{{Name: "grpc", Port: port}}}},
		&discoveryv1.EndpointSlice{
			ObjectMeta:  metav1.ObjectMeta{Name: "performer-bin-x1", Namespace: "bin", Labels: map[string]string{"app": "performer", discoveryv1.LabelServiceName: "performer-bin"}},
			AddressType: discoveryv1.AddressTypeIPv4,
			Endpoints: []discoveryv1.Endpoint{{Addresses: []string{"10.77.0.9"}, Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true)},
				TargetRef: &corev1.ObjectReference{Kind: "Pod", Namespace: "bin", Name: "bin-0"}}},
		},
		&v1alpha1.PerformerEndpoint{ObjectMeta: metav1.ObjectMeta{Name: "performer-bin", Namespace: "bin"},
			Spec: v1alpha1.PerformerEndpointSpec{
				ManagedResourceSpec: xpv2.ManagedResourceSpec{WriteConnectionSecretToReference: &xpv2.LocalSecretReference{Name: "performer-bin-endpoint"}},
				ForProvider:         v1alpha1.PerformerEndpointParameters{ServiceName: "performer-bin", Selector: labels, Port: port},
			}},
	} {
		if err := kube.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	pod.Status = corev1.PodStatus{Phase: corev1.PodRunning, PodIP: "127.0.0.1",
		Conditions: []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionTrue}, {Type: corev1.PodReady, Status: corev1.ConditionTrue}}}
	if err := kube.Status().Update(ctx, pod); err != nil {
		t.Fatal(err)
	}

	metricsAddr, probeAddr := testtools.FreeLoopbackAddr(t), testtools.FreeLoopbackAddr(t)
	logs, err := os.Create(filepath.Join(t.TempDir(), "provider.log"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			b, _ := os.ReadFile(logs.Name())
			t.Logf("provider logs:\n%s", b)
		}
	})
	start := func() *exec.Cmd {
		cmd := exec.Command(bin, "--leader-election", "--namespace=crossplane-system", "--poll=1s", "--poll-fast=1s",
			"--metrics-address="+metricsAddr, "--probe-address="+probeAddr, "--health-check-cidr=127.0.0.0/8")
		cmd.Env = append(os.Environ(), "KUBECONFIG="+kubeconfig)
		cmd.Stdout, cmd.Stderr = logs, logs
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd
	}
	stop := func(cmd *exec.Cmd) {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	}

	key := types.NamespacedName{Namespace: "bin", Name: "performer-bin"}
	cmd := start()
	pe := waitFor(t, kube, key, 60*time.Second, "Ready", func(pe *v1alpha1.PerformerEndpoint) bool {
		return pe.GetCondition(xpv2.TypeReady).Status == corev1.ConditionTrue
	})
	if pe.Status.AtProvider.Health != v1alpha1.HealthServing {
		t.Errorf("health = %q, want Serving", pe.Status.AtProvider.Health)
	}
	if code, _ := get(t, "http://"+probeAddr+"/readyz"); code != http.StatusOK {
		t.Errorf("/readyz = %d, want 200", code)
	}
	if _, body := get(t, "http://"+metricsAddr+"/metrics"); !strings.Contains(body, `hourglass_provider_health_checks_total{result="Serving"}`) {
		t.Errorf("/metrics has no Serving health check count")
	}
	secret := &corev1.Secret{}
	if err := kube.Get(ctx, types.NamespacedName{Namespace: "bin", Name: "performer-bin-endpoint"}, secret); err != nil {
		t.Fatalf("connection Secret: %v", err)
	}
	want := fmt.Sprintf("performer-bin.bin.svc.cluster.local:%d", port)
	if got := string(secret.Data["endpoint"]); got != want {
		t.Errorf("connection Secret endpoint = %q, want %q", got, want)
	}

	// A restart resumes from the API server alone: still Ready, same Secret.
	stop(cmd)
	restarted := metav1.Now()
	cmd = start()
	defer stop(cmd)
	waitFor(t, kube, key, 30*time.Second, "Ready and checked again after a restart", func(pe *v1alpha1.PerformerEndpoint) bool {
		lc := pe.Status.AtProvider.LastHealthCheck
		return pe.GetCondition(xpv2.TypeReady).Status == corev1.ConditionTrue && lc != nil && lc.After(restarted.Time)
	})
	after := &corev1.Secret{}
	if err := kube.Get(ctx, types.NamespacedName{Namespace: "bin", Name: "performer-bin-endpoint"}, after); err != nil || after.UID != secret.UID {
		t.Errorf("connection Secret after restart: %v (UID %s, was %s)", err, after.UID, secret.UID)
	}

	// The performer stops serving: reported within a few polls.
	hs.SetServingStatus("", healthpb.HealthCheckResponse_NOT_SERVING)
	waitFor(t, kube, key, 30*time.Second, "NotServing", func(pe *v1alpha1.PerformerEndpoint) bool {
		return pe.Status.AtProvider.Reason == v1alpha1.ReasonNotServing && pe.GetCondition(xpv2.TypeReady).Status == corev1.ConditionFalse
	})
}

// applyRBAC creates the provider's namespace and the objects of
// package/provider/rbac.yaml, exactly as shipped.
func applyRBAC(t *testing.T, kube client.Client) {
	t.Helper()
	if err := kube.Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "crossplane-system"}}); err != nil {
		t.Fatal(err)
	}
	testtools.CreateFromFile(t, kube, "package/provider/rbac.yaml")
}

func waitFor(t *testing.T, kube client.Client, key types.NamespacedName, within time.Duration, what string, ok func(*v1alpha1.PerformerEndpoint) bool) *v1alpha1.PerformerEndpoint {
	t.Helper()
	pe := &v1alpha1.PerformerEndpoint{}
	deadline := time.Now().Add(within)
	for {
		err := kube.Get(context.Background(), key, pe)
		if err == nil && ok(pe) {
			return pe
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not %s within %s; last error %v, status %+v", key, what, within, err, pe.Status)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	rsp, err := http.Get(url)
	if err != nil {
		t.Errorf("GET %s: %v", url, err)
		return 0, ""
	}
	defer func() { _ = rsp.Body.Close() }()
	b, _ := io.ReadAll(rsp.Body)
	return rsp.StatusCode, string(b)
}
