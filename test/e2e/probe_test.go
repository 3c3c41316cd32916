//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// A performer's endpoint is a cluster DNS name behind a Service: only
// something inside the stack's private network namespace may dial what it
// stands for. The test binary re-runs itself there (nsenter into the
// namespace's first process, as test/e2e/stack-process.sh and cmd/benche2e
// do) as a one-shot gRPC health probe; TestMain runs the probe instead of the
// tests when the probe's environment is set.
const (
	// probeTarget is the endpoint the client dials, host:port: the gRPC
	// authority the probe sends.
	probeTarget = "E2E_PROBE_TARGET"
	// probeAddress is the pod address the cluster's DNS and Service proxy
	// would connect the target to.
	probeAddress = "E2E_PROBE_ADDRESS"
	// probeHostNetNS is the test process's network namespace: the probe
	// refuses to dial from it.
	probeHostNetNS = "E2E_PROBE_HOST_NETNS"
	// probeTimeout bounds one probe.
	probeTimeout = 20 * time.Second
)

// stackPodNetwork holds every pod IP of the stack (cluster/README.md: nodes
// get 10.77.N.0/24 pod CIDRs inside the private namespace). The probe dials
// nothing else.
var stackPodNetwork = netip.MustParsePrefix("10.77.0.0/16")

func TestMain(m *testing.M) {
	if os.Getenv(probeTarget) != "" {
		os.Exit(probe())
	}
	os.Exit(m.Run())
}

// probe is the in-namespace half of healthFromStack: it asks
// grpc.health.v1.Health/Check, empty service name, plaintext, as the
// executor does, prints the answer, and exits 0 only for SERVING.
func probe() int {
	target, addr := os.Getenv(probeTarget), os.Getenv(probeAddress)
	own, err := os.Readlink("/proc/self/ns/net")
	if err != nil || own == os.Getenv(probeHostNetNS) {
		fmt.Fprintf(os.Stderr, "probe: refusing to dial %s from the host's network namespace (%s, %v)\n", addr, own, err)
		return 3
	}
	ap, err := netip.ParseAddrPort(addr)
	if err != nil || !stackPodNetwork.Contains(ap.Addr()) {
		fmt.Fprintf(os.Stderr, "probe: %q is not an address in the stack's pod network %s\n", addr, stackPodNetwork)
		return 3
	}
	// The authority stays the endpoint's name; only the dial goes to the
	// address the cluster would have picked for it.
	conn, err := grpc.NewClient("passthrough:///"+target,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithNoProxy(),
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "tcp", addr)
		}),
	)
	if err != nil {
		fmt.Fprintf(os.Stderr, "probe: %v\n", err)
		return 2
	}
	defer func() { _ = conn.Close() }()
	ctx, cancel := context.WithTimeout(context.Background(), probeTimeout)
	defer cancel()
	rsp, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
	if err != nil {
		fmt.Fprintf(os.Stderr, "probe: health check of %s at %s: %v\n", target, addr, err)
		return 2
	}
	fmt.Print(rsp.GetStatus().String())
	if rsp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		return 1
	}
	return 0
}

// resolveInStack does what the cluster's DNS and Service proxy do for an
// endpoint {service}.{namespace}.svc.cluster.local:{port}, from the API
// alone: the Service of that name, its port, and one ready endpoint of its
// EndpointSlices. It returns the pod address, which only the probe dials.
func (e *env) resolveInStack(ctx context.Context, endpoint string) (string, error) {
	host, port, err := net.SplitHostPort(endpoint)
	if err != nil {
		return "", err
	}
	svcName, rest, _ := strings.Cut(host, ".")
	ns, domain, _ := strings.Cut(rest, ".")
	if domain != "svc.cluster.local" {
		return "", fmt.Errorf("%s is not a cluster Service name", host)
	}
	svc := &corev1.Service{}
	if err := e.c.Get(ctx, client.ObjectKey{Namespace: ns, Name: svcName}, svc); err != nil {
		return "", fmt.Errorf("no Service for %s: %w", host, err)
	}
	var sp *corev1.ServicePort
	for i := range svc.Spec.Ports {
		if strconv.Itoa(int(svc.Spec.Ports[i].Port)) == port {
			sp = &svc.Spec.Ports[i]
		}
	}
	if sp == nil {
		return "", fmt.Errorf("Service %s/%s has no port %s", ns, svcName, port)
	}
	sl := &discoveryv1.EndpointSliceList{}
	if err := e.c.List(ctx, sl, client.InNamespace(ns), client.MatchingLabels{discoveryv1.LabelServiceName: svcName}); err != nil {
		return "", err
	}
	for _, s := range sl.Items {
		var target int32
		for _, p := range s.Ports {
			if p.Port != nil && (p.Name == nil || *p.Name == sp.Name) {
				target = *p.Port
			}
		}
		for _, ep := range s.Endpoints {
			if target == 0 || len(ep.Addresses) == 0 || (ep.Conditions.Ready != nil && !*ep.Conditions.Ready) {
				continue
			}
			return net.JoinHostPort(ep.Addresses[0], strconv.Itoa(int(target))), nil
		}
	}
	return "", fmt.Errorf("Service %s/%s has no ready endpoint for port %s in %d EndpointSlice(s)", ns, svcName, port, len(sl.Items))
}

// healthFromStack resolves endpoint as the cluster would and asks its gRPC
// health from inside the stack's network namespace; it returns the status
// the performer answered.
func (e *env) healthFromStack(ctx context.Context, endpoint string) (string, error) {
	addr, err := e.resolveInStack(ctx, endpoint)
	if err != nil {
		return "", err
	}
	pid, err := e.stackInit()
	if err != nil {
		return "", err
	}
	self, err := os.Executable()
	if err != nil {
		return "", err
	}
	own, err := os.Readlink("/proc/self/ns/net")
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(ctx, probeTimeout+10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "nsenter", "--target", strconv.Itoa(pid), "--net", "--", self) //nolint:gosec // This test binary, in the stack's namespace.
	cmd.Env = append(os.Environ(), probeTarget+"="+endpoint, probeAddress+"="+addr, probeHostNetNS+"="+own)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err = cmd.Run()
	st := strings.TrimSpace(out.String())
	if err != nil {
		return st, fmt.Errorf("gRPC health of %s (pod address %s) from inside the stack: %w: %s%s", endpoint, addr, err, st, strings.TrimSpace(errb.String()))
	}
	return st, nil
}

// stackInit is the host PID of the stack namespace's first process, the
// one nsenter enters: the only child of the unshare whose PID the stack
// wrote.
func (e *env) stackInit() (int, error) {
	b, err := os.ReadFile(filepath.Join(e.stateDir(), "stack.pid"))
	if err != nil {
		return 0, fmt.Errorf("no stack: %w", err)
	}
	up := strings.TrimSpace(string(b))
	children, err := os.ReadFile(filepath.Join("/proc", up, "task", up, "children")) //nolint:gosec // A path under /proc.
	if err != nil {
		return 0, fmt.Errorf("the stack's namespace (unshare %s): %w", up, err)
	}
	if len(strings.Fields(string(children))) == 0 {
		return 0, fmt.Errorf("the stack's namespace (unshare %s) has no first process", up)
	}
	return strconv.Atoi(strings.Fields(string(children))[0])
}
