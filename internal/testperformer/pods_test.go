package testperformer

import (
	"context"
	"net/netip"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/hourglass-xp/crossplane-hourglass/internal/testtools"
)

func testPod(mod ...func(*corev1.Pod)) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "p", UID: "u1", Labels: map[string]string{"app": "performer"}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name: "performer", Image: "example.com/performer:v1",
			Ports: []corev1.ContainerPort{{Name: "metrics", ContainerPort: 8080}, {Name: "grpc", ContainerPort: 9090}},
		}}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: "10.77.1.5"},
	}
	for _, m := range mod {
		m(p)
	}
	return p
}

func TestWantFor(t *testing.T) {
	lab := []netip.Prefix{netip.MustParsePrefix("10.77.0.0/16")}
	serving := Want{Address: "10.77.1.5:9090", Pod: "ns/p", UID: "u1", Health: HealthServing}
	cases := map[string]struct {
		reason string
		pod    *corev1.Pod
		want   Want
		ok     bool
	}{
		"Running": {
			reason: "A Running pod with an IP inside the allowed prefix gets a serving server on its grpc port.",
			pod:    testPod(), want: serving, ok: true,
		},
		"Pending": {
			reason: "A pod not Running has no process.",
			pod:    testPod(func(p *corev1.Pod) { p.Status.Phase = corev1.PodPending }),
		},
		"Terminating": {
			reason: "A terminating pod's process has stopped serving.",
			pod:    testPod(func(p *corev1.Pod) { p.DeletionTimestamp = new(metav1.Now()) }),
		},
		"OutsideAllowed": {
			reason: "An IP outside the allowed prefixes is never bound.",
			pod:    testPod(func(p *corev1.Pod) { p.Status.PodIP = "10.96.0.1" }),
		},
		"NoIP": {
			reason: "A pod without an IP cannot be served.",
			pod:    testPod(func(p *corev1.Pod) { p.Status.PodIP = "" }),
		},
		"FirstPort": {
			reason: "Without a port named grpc the first container port is used.",
			pod:    testPod(func(p *corev1.Pod) { p.Spec.Containers[0].Ports = p.Spec.Containers[0].Ports[:1] }),
			want:   Want{Address: "10.77.1.5:8080", Pod: "ns/p", UID: "u1", Health: HealthServing}, ok: true,
		},
		"NoPort": {
			reason: "A pod without container ports has nothing to serve.",
			pod:    testPod(func(p *corev1.Pod) { p.Spec.Containers[0].Ports = nil }),
		},
		"KwokFaultImage": {
			reason: "A pod playing a kwok fault has no running process.",
			pod:    testPod(func(p *corev1.Pod) { p.Spec.Containers[0].Image = "example.com/kwok-fault-crash-loop:v1" }),
		},
		"KwokFaultLabel": {
			reason: "The kwok fault label counts like the image.",
			pod:    testPod(func(p *corev1.Pod) { p.Labels[kwokFaultKey] = "not-ready" }),
		},
		"ImageNotServing": {
			reason: "An image naming grpc-fault-not-serving answers NOT_SERVING.",
			pod:    testPod(func(p *corev1.Pod) { p.Spec.Containers[0].Image = "example.com/grpc-fault-not-serving:v2" }),
			want:   Want{Address: "10.77.1.5:9090", Pod: "ns/p", UID: "u1", Health: HealthNotServing}, ok: true,
		},
		"ImageDown": {
			reason: "An image naming grpc-fault-down gets no server.",
			pod:    testPod(func(p *corev1.Pod) { p.Spec.Containers[0].Image = "example.com/grpc-fault-down:v2" }),
		},
		"AnnotationWins": {
			reason: "The annotation overrides the image, so a test can restore a pod.",
			pod: testPod(func(p *corev1.Pod) {
				p.Spec.Containers[0].Image = "example.com/grpc-fault-down:v2"
				p.Annotations = map[string]string{AnnotationHealth: "serving"}
			}),
			want: serving, ok: true,
		},
		"AnnotationDown": {
			reason: "health=down stops the server.",
			pod:    testPod(func(p *corev1.Pod) { p.Annotations = map[string]string{AnnotationHealth: "down"} }),
		},
		"AnnotationUnknown": {
			reason: "An unknown annotation value is ignored.",
			pod:    testPod(func(p *corev1.Pod) { p.Annotations = map[string]string{AnnotationHealth: "sideways"} }),
			want:   serving, ok: true,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, ok := WantFor(tc.pod, lab)
			if ok != tc.ok {
				t.Errorf("%s\nWantFor(...): ok = %v, want %v", tc.reason, ok, tc.ok)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s\nWantFor(...): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

// healthOfAddr asks addr for its health; "refused" when nothing answers.
func healthOfAddr(t *testing.T, addr string) string {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	r, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
	if err != nil {
		return "refused"
	}
	return r.GetStatus().String()
}

// TestServePods runs the pod server against a fake API server, with a pod
// on a loopback IP: served, made not serving and down by its annotation,
// restored, and stopped when the pod goes.
func TestServePods(t *testing.T) {
	port := int32(testtools.FreeLoopbackPort(t)) //nolint:gosec // A TCP port fits.
	addr := "127.0.0.1:" + strconv.Itoa(int(port))
	pod := testPod(func(p *corev1.Pod) {
		p.Status.PodIP = "127.0.0.1"
		p.Spec.Containers[0].Ports = []corev1.ContainerPort{{Name: "grpc", ContainerPort: port}}
	})
	cs := fake.NewClientset(pod)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- ServePods(ctx, cs, PodsOptions{Allowed: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}, Resync: 100 * time.Millisecond})
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()

	await := func(want string) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			got := healthOfAddr(t, addr)
			if got == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("health of %s is %s, want %s", addr, got, want)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	annotate := func(h Health) {
		t.Helper()
		p, err := cs.CoreV1().Pods("ns").Get(context.Background(), "p", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		p.Annotations = map[string]string{AnnotationHealth: string(h)}
		if _, err := cs.CoreV1().Pods("ns").Update(context.Background(), p, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
	}

	await("SERVING")
	annotate(HealthNotServing)
	await("NOT_SERVING")
	annotate(HealthDown)
	await("refused")
	annotate(HealthServing)
	await("SERVING")
	if err := cs.CoreV1().Pods("ns").Delete(context.Background(), "p", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	await("refused")
}
