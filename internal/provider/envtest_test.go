package provider

import (
	"context"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	extv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	kerrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/yaml"

	"github.com/crossplane/crossplane-runtime/v2/pkg/controller"
	"github.com/crossplane/crossplane-runtime/v2/pkg/logging"
	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"

	hourglass "github.com/hourglass-xp/crossplane-hourglass/apis/hourglass/v1alpha1"
	"github.com/hourglass-xp/crossplane-hourglass/apis/observe/v1alpha1"
	"github.com/hourglass-xp/crossplane-hourglass/internal/testtools"
)

// renderedEndpoint is the serving revision's PerformerEndpoint from the
// composition function's golden file of the minimal example, rendered by
// the real Crossplane CLI, without what Crossplane adds on applying it.
func renderedEndpoint(t *testing.T) *unstructured.Unstructured {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testtools.RepoRoot(t), "functions", "performer", "testdata", "golden", "minimal-running.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for doc := range strings.SplitSeq(string(b), "\n---\n") {
		u := &unstructured.Unstructured{}
		if err := yaml.Unmarshal([]byte(doc), &u.Object); err != nil || u.GetKind() != v1alpha1.PerformerEndpointKind {
			continue
		}
		u.SetAnnotations(nil)
		u.SetOwnerReferences(nil)
		return u
	}
	t.Fatal("no PerformerEndpoint in the golden file")
	return nil
}

// apiServer is a real API server with the provider's CRDs, the provider's
// namespace and the RBAC of package/provider/rbac.yaml.
type apiServer struct {
	scheme *runtime.Scheme
	// admin may do anything; tests arrange the world with it.
	admin client.Client
	// provider is admin's config impersonating the provider's
	// ServiceAccount, which has exactly the shipped RBAC: every test that
	// acts through it also proves those rules suffice.
	provider *rest.Config
}

// startAPIServer starts an API server with the CRDs of
// package/provider/crds and the extra ones given, stopped when the test
// ends. Its scheme holds the types the provider registers.
func startAPIServer(t *testing.T, crds ...*extv1.CustomResourceDefinition) *apiServer {
	t.Helper()
	te := &envtest.Environment{
		BinaryAssetsDirectory: testtools.KubebuilderAssets(t),
		CRDDirectoryPaths:     []string{filepath.Join("..", "..", "package", "provider", "crds")},
		CRDs:                  crds,
		ErrorIfCRDPathMissing: true,
	}
	cfg, err := te.Start()
	if err != nil {
		t.Fatalf("cannot start envtest: %v", err)
	}
	t.Cleanup(func() { _ = te.Stop() })

	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{clientgoscheme.AddToScheme, v1alpha1.AddToScheme, hourglass.AddToScheme} {
		if err := add(s); err != nil {
			t.Fatal(err)
		}
	}
	admin, err := client.New(cfg, client.Options{Scheme: s})
	if err != nil {
		t.Fatal(err)
	}
	applyRBAC(t, admin)
	pcfg := rest.CopyConfig(cfg)
	pcfg.Impersonate = rest.ImpersonationConfig{UserName: "system:serviceaccount:crossplane-system:provider-hourglass"}
	return &apiServer{scheme: s, admin: admin, provider: pcfg}
}

// env is a real API server with the provider's controller running against
// it. Health checks go to loopback servers chosen by pod name; no pod IP is
// ever dialled.
type env struct {
	kube client.Client
}

func startEnv(t *testing.T, health map[string]string) *env {
	t.Helper()
	api := startAPIServer(t)
	// The provider runs as its ServiceAccount with exactly the RBAC of
	// package/provider/rbac.yaml: every case below also proves those rules
	// suffice.
	mgr, err := ctrl.NewManager(api.provider, ctrl.Options{
		Scheme: api.scheme,
		Cache:  CacheOptions(DefaultCacheSelector, nil),
		Client: ClientOptions(),
		// Nothing listens: no metrics or probe ports in tests.
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
	})
	if err != nil {
		t.Fatalf("cannot create manager: %v", err)
	}
	o := controller.DefaultOptions()
	o.Logger = logging.NewNopLogger()
	// Polls are an hour apart, so only the watches can make a change show
	// within the tests' deadlines.
	o.PollInterval = time.Hour
	err = Setup(mgr, o, Config{
		Health:           GRPCHealthChecker{Resolve: loopback(t, health)},
		FastPollInterval: time.Hour,
	})
	if err != nil {
		t.Fatalf("cannot set up controller: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := mgr.Start(ctx); err != nil {
			t.Errorf("manager stopped: %v", err)
		}
	}()
	t.Cleanup(func() { cancel(); <-done })
	return &env{kube: api.admin}
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

// performer creates, in a namespace of its own, a performer's pod with the
// given status, its Service and an EndpointSlice listing the pod, and a
// PerformerEndpoint observing them.
type performer struct {
	name      string
	podStatus func(*corev1.Pod)
	ready     bool // the pod is a ready endpoint of the Service
	health    *v1alpha1.HealthCheck
	noService bool
}

func (e *env) create(t *testing.T, p performer) *v1alpha1.PerformerEndpoint {
	t.Helper()
	ctx := context.Background()
	ns := p.name
	labels := map[string]string{"app": "performer", "performer-name": p.name}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(e.kube.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}))

	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: p.name + "-0", Namespace: ns, Labels: labels},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "performer", Image: "example/performer:v1"}}},
	}
	must(e.kube.Create(ctx, pod))
	if p.podStatus != nil {
		p.podStatus(pod)
		must(e.kube.Status().Update(ctx, pod))
	}

	if !p.noService {
		must(e.kube.Create(ctx, &corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Name: "performer-" + p.name, Namespace: ns, Labels: labels},
			Spec:       corev1.ServiceSpec{Selector: labels, Ports: []corev1.ServicePort{{Name: "grpc", Port: 9090}}},
		}))
		e.slice(t, ns, "performer-"+p.name, pod.Name, p.ready)
	}

	pe := &v1alpha1.PerformerEndpoint{
		ObjectMeta: metav1.ObjectMeta{Name: p.name, Namespace: ns},
		Spec: v1alpha1.PerformerEndpointSpec{
			ManagedResourceSpec: xpv2.ManagedResourceSpec{WriteConnectionSecretToReference: &xpv2.LocalSecretReference{Name: p.name + "-endpoint"}},
			ForProvider:         v1alpha1.PerformerEndpointParameters{ServiceName: "performer-" + p.name, Selector: labels, Port: 9090, HealthCheck: p.health},
		},
	}
	must(e.kube.Create(ctx, pe))
	return pe
}

// slice creates or updates the Service's EndpointSlice as the EndpointSlice
// controller would: the Service's labels plus kubernetes.io/service-name.
func (e *env) slice(t *testing.T, ns, svc, pod string, ready bool) {
	t.Helper()
	s := &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{Name: svc + "-x1", Namespace: ns, Labels: map[string]string{
			"app": "performer", discoveryv1.LabelServiceName: svc,
		}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Ports:       []discoveryv1.EndpointPort{{Name: ptr.To("grpc"), Port: ptr.To[int32](9090)}},
		Endpoints: []discoveryv1.Endpoint{{
			Addresses:  []string{"10.77.0.9"},
			Conditions: discoveryv1.EndpointConditions{Ready: &ready},
			TargetRef:  &corev1.ObjectReference{Kind: "Pod", Namespace: ns, Name: pod},
		}},
	}
	existing := &discoveryv1.EndpointSlice{}
	switch err := e.kube.Get(context.Background(), client.ObjectKeyFromObject(s), existing); {
	case kerrors.IsNotFound(err):
		if err := e.kube.Create(context.Background(), s); err != nil {
			t.Fatal(err)
		}
	case err != nil:
		t.Fatal(err)
	default:
		s.ResourceVersion = existing.ResourceVersion
		if err := e.kube.Update(context.Background(), s); err != nil {
			t.Fatal(err)
		}
	}
}

// waitFor polls the PerformerEndpoint until ok says yes, failing with its
// last status after the deadline.
func (e *env) waitFor(t *testing.T, pe *v1alpha1.PerformerEndpoint, within time.Duration, what string, ok func(*v1alpha1.PerformerEndpoint) bool) *v1alpha1.PerformerEndpoint {
	t.Helper()
	got := &v1alpha1.PerformerEndpoint{}
	deadline := time.Now().Add(within)
	for {
		err := e.kube.Get(context.Background(), types.NamespacedName{Namespace: pe.Namespace, Name: pe.Name}, got)
		if err == nil && ok(got) {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s/%s: not %s within %s; last error %v, status %+v", pe.Namespace, pe.Name, what, within, err, got.Status)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitForEvent waits for a Kubernetes event about the resource with the
// given reason whose message contains text.
func (e *env) waitForEvent(t *testing.T, pe *v1alpha1.PerformerEndpoint, reason, text string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		l := &corev1.EventList{}
		if err := e.kube.List(context.Background(), l, client.InNamespace(pe.Namespace)); err != nil {
			t.Fatal(err)
		}
		for _, ev := range l.Items {
			if ev.InvolvedObject.UID == pe.UID && ev.Reason == reason && strings.Contains(ev.Message, text) {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s event mentioning %q for %s/%s; events: %+v", reason, text, pe.Namespace, pe.Name, l.Items)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func hasReason(reason string) func(*v1alpha1.PerformerEndpoint) bool {
	return func(pe *v1alpha1.PerformerEndpoint) bool { return pe.Status.AtProvider.Reason == reason }
}

func readyIs(s corev1.ConditionStatus) func(*v1alpha1.PerformerEndpoint) bool {
	return func(pe *v1alpha1.PerformerEndpoint) bool { return pe.GetCondition(xpv2.TypeReady).Status == s }
}

func readyPod(p *corev1.Pod) {
	p.Status = corev1.PodStatus{
		Phase: corev1.PodRunning, PodIP: "10.77.0.9",
		Conditions: []corev1.PodCondition{
			{Type: corev1.PodScheduled, Status: corev1.ConditionTrue},
			{Type: corev1.PodReady, Status: corev1.ConditionTrue},
		},
		ContainerStatuses: []corev1.ContainerStatus{{Name: "performer", Image: "example/performer:v1", Ready: true,
			State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}}},
	}
}

func TestReconcilerEnvtest(t *testing.T) {
	health := map[string]string{
		"serving-0":     healthServer(t, healthpb.HealthCheckResponse_SERVING),
		"notserving-0":  healthServer(t, healthpb.HealthCheckResponse_NOT_SERVING),
		"unreachable-0": closedPort(t),
		"slow-0":        serve(t, slowHealth{delay: 10 * time.Second}),
		"later-0":       healthServer(t, healthpb.HealthCheckResponse_SERVING),
		"fn-0":          healthServer(t, healthpb.HealthCheckResponse_SERVING),
		"nosvc-0":       healthServer(t, healthpb.HealthCheckResponse_SERVING),
	}
	e := startEnv(t, health)
	const within = 15 * time.Second

	t.Run("Serving", func(t *testing.T) {
		pe := e.create(t, performer{name: "serving", podStatus: readyPod, ready: true})
		got := e.waitFor(t, pe, within, "Ready", readyIs(corev1.ConditionTrue))
		a := got.Status.AtProvider
		if a.Reason != v1alpha1.ReasonServiceReady || a.Health != v1alpha1.HealthServing || a.PodName != "serving-0" ||
			!a.Healthy || !a.ServiceReady || a.ReadyEndpoints != 1 || a.LastHealthCheck == nil {
			t.Errorf("atProvider = %+v, want ServiceReady, Serving, pod serving-0, 1 ready endpoint, a health check time", a)
		}
		s := &corev1.Secret{}
		if err := e.kube.Get(context.Background(), types.NamespacedName{Namespace: "serving", Name: "serving-endpoint"}, s); err != nil {
			t.Fatalf("connection Secret: %v", err)
		}
		want := map[string]string{"endpoint": "performer-serving.serving.svc.cluster.local:9090", "host": "performer-serving.serving.svc.cluster.local", "port": "9090"}
		for k, v := range want {
			if string(s.Data[k]) != v {
				t.Errorf("connection Secret %s = %q, want %q", k, s.Data[k], v)
			}
		}
		if len(s.OwnerReferences) != 1 || s.OwnerReferences[0].UID != got.UID {
			t.Errorf("connection Secret owners = %+v, want the PerformerEndpoint", s.OwnerReferences)
		}
	})

	t.Run("NotServing", func(t *testing.T) {
		pe := e.create(t, performer{name: "notserving", podStatus: readyPod, ready: true})
		got := e.waitFor(t, pe, within, "NotServing", hasReason(v1alpha1.ReasonNotServing))
		if c := got.GetCondition(xpv2.TypeReady); c.Status != corev1.ConditionFalse || string(c.Reason) != v1alpha1.ReasonNotServing {
			t.Errorf("Ready condition = %+v, want False with reason NotServing", c)
		}
	})

	t.Run("Unreachable", func(t *testing.T) {
		pe := e.create(t, performer{name: "unreachable", podStatus: readyPod, ready: true})
		got := e.waitFor(t, pe, within, "HealthCheckFailed", hasReason(v1alpha1.ReasonHealthCheckFailed))
		if got.Status.AtProvider.Health != v1alpha1.HealthUnreachable {
			t.Errorf("health = %q, want Unreachable", got.Status.AtProvider.Health)
		}
	})

	t.Run("Timeout", func(t *testing.T) {
		pe := e.create(t, performer{name: "slow", podStatus: readyPod, ready: true, health: &v1alpha1.HealthCheck{TimeoutSeconds: ptr.To[int32](1)}})
		got := e.waitFor(t, pe, within, "HealthCheckFailed", hasReason(v1alpha1.ReasonHealthCheckFailed))
		if got.Status.AtProvider.Health != v1alpha1.HealthTimeout {
			t.Errorf("health = %q, want Timeout", got.Status.AtProvider.Health)
		}
	})

	t.Run("HealthCheckDisabled", func(t *testing.T) {
		// No health server is registered for this pod: dialling it would
		// fail the test.
		pe := e.create(t, performer{name: "unchecked", podStatus: readyPod, ready: true, health: &v1alpha1.HealthCheck{Enabled: ptr.To(false)}})
		got := e.waitFor(t, pe, within, "Ready", readyIs(corev1.ConditionTrue))
		if got.Status.AtProvider.Health != v1alpha1.HealthDisabled {
			t.Errorf("health = %q, want Disabled", got.Status.AtProvider.Health)
		}
	})

	t.Run("ImagePullFailed", func(t *testing.T) {
		pe := e.create(t, performer{name: "badimage", podStatus: func(p *corev1.Pod) {
			p.Status = corev1.PodStatus{Phase: corev1.PodPending,
				Conditions: []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionTrue}},
				ContainerStatuses: []corev1.ContainerStatus{{Name: "performer", Image: "example/performer:v1",
					State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ImagePullBackOff", Message: "Back-off pulling image"}}}},
			}
		}})
		got := e.waitFor(t, pe, within, "ImagePullFailed", hasReason(v1alpha1.ReasonImagePullFailed))
		if c := got.GetCondition(xpv2.TypeReady); string(c.Reason) != v1alpha1.ReasonImagePullFailed {
			t.Errorf("Ready condition = %+v, want reason ImagePullFailed", c)
		}
		e.waitForEvent(t, got, "PerformerNotReady", v1alpha1.ReasonImagePullFailed)
	})

	t.Run("HardwareUnavailable", func(t *testing.T) {
		pe := e.create(t, performer{name: "nogpu", podStatus: func(p *corev1.Pod) {
			p.Status = corev1.PodStatus{Phase: corev1.PodPending, Conditions: []corev1.PodCondition{{
				Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: corev1.PodReasonUnschedulable, Message: msgGPU,
			}}}
		}})
		got := e.waitFor(t, pe, within, "HardwareUnavailable", hasReason(v1alpha1.ReasonHardwareUnavailable))
		if got.Status.AtProvider.Scheduled || got.Status.AtProvider.Message != msgGPU {
			t.Errorf("atProvider = %+v, want unscheduled with the scheduler's message", got.Status.AtProvider)
		}
	})

	t.Run("WatchesPodAndSlice", func(t *testing.T) {
		// Polls are an hour apart: only the pod and EndpointSlice watches
		// can bring this resource to Ready.
		pe := e.create(t, performer{name: "later", podStatus: func(p *corev1.Pod) {
			readyPod(p)
			p.Status.Conditions[1].Status = corev1.ConditionFalse
		}})
		e.waitFor(t, pe, within, "PodNotReady", hasReason(v1alpha1.ReasonPodNotReady))

		pod := &corev1.Pod{}
		if err := e.kube.Get(context.Background(), types.NamespacedName{Namespace: "later", Name: "later-0"}, pod); err != nil {
			t.Fatal(err)
		}
		readyPod(pod)
		if err := e.kube.Status().Update(context.Background(), pod); err != nil {
			t.Fatal(err)
		}
		e.waitFor(t, pe, 5*time.Second, "NoReadyEndpoints after the pod became ready", hasReason(v1alpha1.ReasonNoReadyEndpoints))

		start := time.Now()
		e.slice(t, "later", "performer-later", "later-0", true)
		got := e.waitFor(t, pe, 5*time.Second, "Ready after the slice became ready", readyIs(corev1.ConditionTrue))
		t.Logf("Ready %s after the EndpointSlice change", time.Since(start).Round(time.Millisecond))
		e.waitForEvent(t, got, "PerformerReady", "SERVING")
	})

	t.Run("NoService", func(t *testing.T) {
		pe := e.create(t, performer{name: "nosvc", podStatus: readyPod, noService: true})
		e.waitFor(t, pe, within, "ServiceNotFound", hasReason(v1alpha1.ReasonServiceNotFound))
	})

	t.Run("ComposedByFunction", func(t *testing.T) {
		// The PerformerEndpoint the composition function composes, as the
		// real Crossplane CLI renders it (the function's golden file), is
		// valid against the CRD and observes the performer's Service.
		ctx := context.Background()
		u := renderedEndpoint(t)
		ns, sel := u.GetNamespace(), map[string]string{}
		fp, _, _ := unstructured.NestedStringMap(u.Object, "spec", "forProvider", "selector")
		maps.Copy(sel, fp)
		svc, _, _ := unstructured.NestedString(u.Object, "spec", "forProvider", "serviceName")
		if svc == "" {
			t.Fatal("the rendered PerformerEndpoint of the serving revision names no Service")
		}
		for _, o := range []client.Object{
			&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}},
			&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "fn-0", Namespace: ns, Labels: sel},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "performer", Image: "example/performer:v1"}}}},
			&corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: svc, Namespace: ns, Labels: sel},
				Spec: corev1.ServiceSpec{Selector: sel, Ports: []corev1.ServicePort{{Name: "grpc", Port: 9090}}}},
		} {
			if err := e.kube.Create(ctx, o); err != nil {
				t.Fatal(err)
			}
		}
		pod := &corev1.Pod{}
		if err := e.kube.Get(ctx, types.NamespacedName{Namespace: ns, Name: "fn-0"}, pod); err != nil {
			t.Fatal(err)
		}
		readyPod(pod)
		if err := e.kube.Status().Update(ctx, pod); err != nil {
			t.Fatal(err)
		}
		e.slice(t, ns, svc, "fn-0", true)

		if err := e.kube.Create(ctx, u); err != nil {
			t.Fatalf("cannot create the function's PerformerEndpoint: %v", err)
		}
		pe := &v1alpha1.PerformerEndpoint{ObjectMeta: metav1.ObjectMeta{Name: u.GetName(), Namespace: ns}}
		got := e.waitFor(t, pe, within, "Ready", readyIs(corev1.ConditionTrue))
		at := got.Status.AtProvider
		if !at.Healthy || at.PodName != "fn-0" || !at.ServiceReady {
			t.Errorf("atProvider = %+v, want healthy, pod fn-0, Service ready", at)
		}
	})

	t.Run("Validation", func(t *testing.T) {
		// The CRD's schema rejects what the provider could not observe.
		cases := map[string]v1alpha1.PerformerEndpointParameters{
			"NoSelector":  {ServiceName: "performer-x", Port: 9090},
			"PortZero":    {Selector: map[string]string{"app": "performer"}},
			"PortTooHigh": {Selector: map[string]string{"app": "performer"}, Port: 65536},
			"TimeoutZero": {Selector: map[string]string{"app": "performer"}, Port: 9090, HealthCheck: &v1alpha1.HealthCheck{TimeoutSeconds: ptr.To[int32](0)}},
		}
		for name, p := range cases {
			pe := &v1alpha1.PerformerEndpoint{ObjectMeta: metav1.ObjectMeta{Name: "invalid", Namespace: "default"}, Spec: v1alpha1.PerformerEndpointSpec{ForProvider: p}}
			if err := e.kube.Create(context.Background(), pe); !kerrors.IsInvalid(err) {
				t.Errorf("%s: Create(...) = %v, want Invalid", name, err)
			}
		}
	})

	t.Run("Delete", func(t *testing.T) {
		pe := e.create(t, performer{name: "deleted", podStatus: readyPod, ready: true, health: &v1alpha1.HealthCheck{Enabled: ptr.To(false)}})
		e.waitFor(t, pe, within, "Ready", readyIs(corev1.ConditionTrue))
		if err := e.kube.Delete(context.Background(), pe); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(within)
		for {
			err := e.kube.Get(context.Background(), client.ObjectKeyFromObject(pe), &v1alpha1.PerformerEndpoint{})
			if kerrors.IsNotFound(err) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("PerformerEndpoint still exists %s after delete (error %v)", within, err)
			}
			time.Sleep(100 * time.Millisecond)
		}
		// The observed pod is the composition's: deleting the observer
		// must leave it alone.
		if err := e.kube.Get(context.Background(), types.NamespacedName{Namespace: "deleted", Name: "deleted-0"}, &corev1.Pod{}); err != nil {
			t.Errorf("observed pod after deleting its PerformerEndpoint: %v", err)
		}
	})
}
