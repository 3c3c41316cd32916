package provider

import (
	"context"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/hourglass-xp/crossplane-hourglass/apis/observe/v1alpha1"
)

// healthServer starts a real grpc.health.v1 server on 127.0.0.1 reporting
// st for the empty service name, and returns its address.
func healthServer(t *testing.T, st healthpb.HealthCheckResponse_ServingStatus) string {
	t.Helper()
	h := health.NewServer()
	h.SetServingStatus("", st)
	return serve(t, h)
}

// slowHealth answers only after delay: a performer too busy to answer.
type slowHealth struct {
	healthpb.UnimplementedHealthServer
	delay time.Duration
}

func (s slowHealth) Check(ctx context.Context, _ *healthpb.HealthCheckRequest) (*healthpb.HealthCheckResponse, error) {
	select {
	case <-time.After(s.delay):
	case <-ctx.Done():
	}
	return &healthpb.HealthCheckResponse{Status: healthpb.HealthCheckResponse_SERVING}, nil
}

func serve(t *testing.T, h healthpb.HealthServer) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("cannot listen on loopback: %v", err)
	}
	s := grpc.NewServer()
	healthpb.RegisterHealthServer(s, h)
	go func() { _ = s.Serve(lis) }()
	t.Cleanup(s.Stop)
	return lis.Addr().String()
}

// closedPort returns a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("cannot listen on loopback: %v", err)
	}
	addr := lis.Addr().String()
	_ = lis.Close()
	return addr
}

// loopback resolves every target by pod name to a loopback address and
// refuses anything else: tests never dial a pod IP.
func loopback(t *testing.T, byPod map[string]string) AddressResolver {
	t.Helper()
	return func(ht HealthTarget) (string, error) {
		addr, ok := byPod[ht.Pod]
		if !ok {
			t.Errorf("health check of unexpected pod %q (IP %s)", ht.Pod, ht.IP)
			return "", net.ErrClosed
		}
		if ap, err := netip.ParseAddrPort(addr); err != nil || !ap.Addr().IsLoopback() {
			t.Fatalf("test resolver must only return loopback addresses, got %q", addr)
		}
		return addr, nil
	}
}

func TestGRPCHealthChecker(t *testing.T) {
	servingAddr := healthServer(t, healthpb.HealthCheckResponse_SERVING)
	notServingAddr := healthServer(t, healthpb.HealthCheckResponse_NOT_SERVING)
	slowAddr := serve(t, slowHealth{delay: 5 * time.Second})
	closedAddr := closedPort(t)

	c := GRPCHealthChecker{Resolve: loopback(t, map[string]string{
		"serving": servingAddr, "not-serving": notServingAddr, "slow": slowAddr, "closed": closedAddr,
	})}

	cases := map[string]struct {
		reason  string
		pod     string
		timeout time.Duration
		want    string
		maxTook time.Duration
	}{
		"Serving":     {reason: "A server answering SERVING is Serving.", pod: "serving", timeout: 2 * time.Second, want: v1alpha1.HealthServing},
		"NotServing":  {reason: "A server answering NOT_SERVING is NotServing.", pod: "not-serving", timeout: 2 * time.Second, want: v1alpha1.HealthNotServing},
		"Unreachable": {reason: "A refused connection is Unreachable, at once rather than at the timeout.", pod: "closed", timeout: 3 * time.Second, want: v1alpha1.HealthUnreachable, maxTook: 2 * time.Second},
		"Timeout":     {reason: "A server slower than the timeout is Timeout, and the check returns by the timeout.", pod: "slow", timeout: 300 * time.Millisecond, want: v1alpha1.HealthTimeout, maxTook: 2 * time.Second},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), tc.timeout)
			defer cancel()
			start := time.Now()
			got := c.Check(ctx, HealthTarget{Namespace: "ns", Pod: tc.pod, IP: "10.77.0.9", Port: 9090})
			took := time.Since(start)
			if diff := cmp.Diff(tc.want, got.State); diff != "" {
				t.Errorf("%s\nCheck(...): -want state, +got state:\n%s\n(message %q)", tc.reason, diff, got.Message)
			}
			if tc.maxTook > 0 && took > tc.maxTook {
				t.Errorf("%s\nCheck(...) took %s, want at most %s", tc.reason, took, tc.maxTook)
			}
		})
	}
}

func TestPodIPResolver(t *testing.T) {
	podNet := netip.MustParsePrefix("10.77.0.0/24")
	cases := map[string]struct {
		reason  string
		allowed []netip.Prefix
		t       HealthTarget
		want    string
		wantErr bool
	}{
		"Allowed": {reason: "A pod IP inside the allowed range is dialled at its port.", allowed: []netip.Prefix{podNet}, t: HealthTarget{IP: "10.77.0.9", Port: 9090}, want: "10.77.0.9:9090"},
		"Any":     {reason: "Without ranges any pod IP is allowed.", t: HealthTarget{IP: "10.1.2.3", Port: 8080}, want: "10.1.2.3:8080"},
		"IPv6":    {reason: "IPv6 pod IPs are bracketed.", t: HealthTarget{IP: "fd00::9", Port: 9090}, want: "[fd00::9]:9090"},
		"Outside": {reason: "A pod IP outside the allowed ranges is never dialled.", allowed: []netip.Prefix{podNet}, t: HealthTarget{IP: "10.78.0.9", Port: 9090}, wantErr: true},
		"NoIP":    {reason: "A pod without an IP cannot be checked.", t: HealthTarget{Port: 9090}, wantErr: true},
		"BadIP":   {reason: "An IP that does not parse is refused.", t: HealthTarget{IP: "pod.example", Port: 9090}, wantErr: true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := PodIPResolver(tc.allowed...)(tc.t)
			if (err != nil) != tc.wantErr {
				t.Fatalf("%s\nPodIPResolver(...)(...): error %v, want error: %t", tc.reason, err, tc.wantErr)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s\nPodIPResolver(...)(...): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

// TestGRPCHealthCheckerRefusesOutsideRange checks that a resolver refusal
// becomes Unreachable without any dialling.
func TestGRPCHealthCheckerRefusesOutsideRange(t *testing.T) {
	c := GRPCHealthChecker{Resolve: PodIPResolver(netip.MustParsePrefix("127.0.0.0/8"))}
	got := c.Check(context.Background(), HealthTarget{Pod: "a", IP: "10.77.0.9", Port: 9090})
	want := HealthResult{State: v1alpha1.HealthUnreachable, Message: "not dialled: pod IP 10.77.0.9 is outside the provider's --health-check-cidr ranges"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Check(...): -want, +got:\n%s", diff)
	}
}
