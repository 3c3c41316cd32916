package provider

import (
	"context"
	"net"
	"net/netip"
	"strconv"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/crossplane/crossplane-runtime/v2/pkg/errors"

	"github.com/hourglass-xp/crossplane-hourglass/apis/observe/v1alpha1"
)

const (
	errNoPodIP      = "pod has no IP yet"
	errFmtNotAllowd = "not dialled: pod IP %s is outside the provider's --health-check-cidr ranges"
	errNewClient    = "cannot create gRPC client"
)

// A HealthTarget is one pod to check.
type HealthTarget struct {
	Namespace string
	Pod       string
	IP        string
	Port      int32
}

// A HealthResult is the outcome of one check: one of the v1alpha1 Health
// constants and, when it is not Serving, why.
type HealthResult struct {
	State   string
	Message string
}

// A HealthChecker checks one pod. The context carries the check's timeout.
type HealthChecker interface {
	Check(ctx context.Context, t HealthTarget) HealthResult
}

// A HealthCheckerFn is a function that is a HealthChecker.
type HealthCheckerFn func(ctx context.Context, t HealthTarget) HealthResult

// Check calls fn.
func (fn HealthCheckerFn) Check(ctx context.Context, t HealthTarget) HealthResult {
	return fn(ctx, t)
}

// An AddressResolver turns a target into the address to dial. The
// production resolver dials the pod IP; tests map targets to health
// servers on 127.0.0.1, so no test ever dials a pod IP.
type AddressResolver func(t HealthTarget) (string, error)

// PodIPResolver dials the pod IP and port, but only when the IP lies in one
// of the allowed prefixes (all, when none are given). Limiting the prefixes
// keeps the provider from dialling anything but the pod network even if a
// pod reports an unexpected IP.
func PodIPResolver(allowed ...netip.Prefix) AddressResolver {
	return func(t HealthTarget) (string, error) {
		if t.IP == "" {
			return "", errors.New(errNoPodIP)
		}
		ip, err := netip.ParseAddr(t.IP)
		if err != nil {
			return "", errors.Wrapf(err, "cannot parse pod IP %q", t.IP)
		}
		if len(allowed) > 0 && !containsAddr(allowed, ip) {
			return "", errors.Errorf(errFmtNotAllowd, t.IP)
		}
		return net.JoinHostPort(ip.String(), strconv.Itoa(int(t.Port))), nil
	}
}

func containsAddr(ps []netip.Prefix, ip netip.Addr) bool {
	for _, p := range ps {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// GRPCHealthChecker calls grpc.health.v1.Health/Check with the empty
// service name over plaintext, as the Hourglass executor and the kubelet's
// gRPC probe do.
type GRPCHealthChecker struct {
	Resolve AddressResolver
}

// Check dials the target and asks for its overall health. Every failure is
// a result, never an error: an unreachable performer is an observation.
func (c GRPCHealthChecker) Check(ctx context.Context, t HealthTarget) HealthResult {
	addr, err := c.Resolve(t)
	if err != nil {
		return HealthResult{State: v1alpha1.HealthUnreachable, Message: err.Error()}
	}
	// passthrough: the address is an IP, not a name to resolve. No proxy:
	// a pod IP must be dialled directly, never through HTTPS_PROXY.
	conn, err := grpc.NewClient("passthrough:///"+addr,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithNoProxy(),
	)
	if err != nil {
		return HealthResult{State: v1alpha1.HealthUnreachable, Message: errors.Wrap(err, errNewClient).Error()}
	}
	// Nothing to do about a failed close of a finished check.
	defer func() { _ = conn.Close() }()

	rsp, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
	switch {
	case status.Code(err) == codes.DeadlineExceeded || (err != nil && ctx.Err() != nil):
		return HealthResult{State: v1alpha1.HealthTimeout, Message: "no answer from " + t.Pod + " within the timeout"}
	case err != nil:
		return HealthResult{State: v1alpha1.HealthUnreachable, Message: "health check of " + t.Pod + " failed: " + status.Convert(err).Message()}
	case rsp.GetStatus() == healthpb.HealthCheckResponse_SERVING:
		return HealthResult{State: v1alpha1.HealthServing}
	default:
		return HealthResult{State: v1alpha1.HealthNotServing, Message: t.Pod + " reports " + rsp.GetStatus().String()}
	}
}
