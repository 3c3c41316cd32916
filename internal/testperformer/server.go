// Package testperformer is a small Hourglass performer: a real gRPC server
// implementing PerformerService and grpc.health.v1, for tests of the executor
// client and for the live stack, where it can stand behind a fake pod. It
// answers ExecuteTask with a result that names the server, so a test can tell
// which revision served a call.
package testperformer

import (
	"context"
	"crypto/tls"
	"net"
	"sync"
	"sync/atomic"
	"time"

	performerv1 "github.com/Layr-Labs/protocol-apis/gen/protos/eigenlayer/hourglass/v1/performer"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/status"

	"github.com/crossplane/crossplane-runtime/v2/pkg/errors"
)

const (
	errListen = "cannot listen"
)

// Options configure a Server.
type Options struct {
	// Name is put in front of every result, "<name>:<payload>", so callers
	// can tell servers apart.
	Name string

	// Delay is how long ExecuteTask takes before answering; a context
	// cancellation ends it early.
	Delay time.Duration

	// TLS serves TLS with this configuration instead of plaintext.
	TLS *tls.Config
}

// Server is a running test performer.
type Server struct {
	performerv1.UnimplementedPerformerServiceServer

	opts   Options
	grpc   *grpc.Server
	health *health.Server
	lis    net.Listener
	done   chan struct{}

	mu      sync.Mutex
	delay   time.Duration
	started chan struct{} // closed and replaced whenever a task starts

	tasks atomic.Int64
	syncs atomic.Int64
}

// Start serves on address (use 127.0.0.1:0 for a free loopback port) until
// Stop or GracefulStop.
func Start(address string, o Options) (*Server, error) {
	lis, err := net.Listen("tcp", address)
	if err != nil {
		return nil, errors.Wrap(err, errListen)
	}
	return Serve(lis, o), nil
}

// Serve serves on lis until Stop or GracefulStop.
func Serve(lis net.Listener, o Options) *Server {
	opts := []grpc.ServerOption{
		// Accept keepalive pings as often as a client may send them
		// (10 s), so tests of short keepalive settings are not cut off
		// with GOAWAY "too_many_pings".
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 5 * time.Second, PermitWithoutStream: true}),
	}
	if o.TLS != nil {
		opts = append(opts, grpc.Creds(credentials.NewTLS(o.TLS)))
	}
	s := &Server{
		opts:    o,
		grpc:    grpc.NewServer(opts...),
		health:  health.NewServer(),
		lis:     lis,
		done:    make(chan struct{}),
		delay:   o.Delay,
		started: make(chan struct{}),
	}
	performerv1.RegisterPerformerServiceServer(s.grpc, s)
	healthpb.RegisterHealthServer(s.grpc, s.health)
	s.health.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	go func() {
		defer close(s.done)
		_ = s.grpc.Serve(lis)
	}()
	return s
}

// Address is where the server listens.
func (s *Server) Address() string { return s.lis.Addr().String() }

// SetServing sets the health of the empty service name, which is what
// executors and kubelet probes check.
func (s *Server) SetServing(serving bool) {
	st := healthpb.HealthCheckResponse_NOT_SERVING
	if serving {
		st = healthpb.HealthCheckResponse_SERVING
	}
	s.health.SetServingStatus("", st)
}

// SetDelay changes how long the next tasks take.
func (s *Server) SetDelay(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.delay = d
}

// TaskStarted returns a channel closed when the next task starts.
func (s *Server) TaskStarted() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.started
}

// Tasks is how many ExecuteTask calls the server has received.
func (s *Server) Tasks() int64 { return s.tasks.Load() }

// Syncs is how many StartSync calls the server has received.
func (s *Server) Syncs() int64 { return s.syncs.Load() }

// Stop closes every connection at once, failing calls in flight: a crash.
func (s *Server) Stop() {
	s.grpc.Stop()
	<-s.done
}

// GracefulStop stops accepting calls and waits for those in flight: a
// terminating pod.
func (s *Server) GracefulStop() {
	s.health.Shutdown()
	s.grpc.GracefulStop()
	<-s.done
}

// ExecuteTask answers "<name>:<payload>" after the configured delay.
func (s *Server) ExecuteTask(ctx context.Context, req *performerv1.TaskRequest) (*performerv1.TaskResponse, error) {
	s.tasks.Add(1)
	s.mu.Lock()
	d := s.delay
	close(s.started)
	s.started = make(chan struct{})
	s.mu.Unlock()
	if d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return nil, status.FromContextError(ctx.Err()).Err()
		}
	}
	if len(req.GetTaskId()) == 0 {
		return nil, status.Error(codes.InvalidArgument, "task_id is required")
	}
	return &performerv1.TaskResponse{TaskId: req.GetTaskId(), Result: []byte(s.opts.Name + ":" + string(req.GetPayload()))}, nil
}

// StartSync counts the call and answers at once.
func (s *Server) StartSync(_ context.Context, _ *performerv1.StartSyncRequest) (*performerv1.StartSyncResponse, error) {
	s.syncs.Add(1)
	return &performerv1.StartSyncResponse{}, nil
}
