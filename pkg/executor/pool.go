package executor

import (
	"context"
	"crypto/tls"
	"math/rand/v2"
	"net"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/status"

	"github.com/crossplane/crossplane-runtime/v2/pkg/errors"
)

const (
	errNoTransport    = "choose the performer transport explicitly: Plaintext() or TLS(config)"
	errPoolClosed     = "connection pool is closed"
	errEmptyEndpoint  = "performer endpoint is empty"
	errNewClient      = "cannot create gRPC client"
	errResolve        = "cannot resolve performer endpoint to a dial address"
	errFmtHealthCheck = "health check of %s failed"
	errFmtNotServing  = "performer at %s is %s"
	errFmtSwitchOver  = "cannot switch connections of %s over to a new connection"
)

// Defaults of ClientOptions.
const (
	// DefaultKeepaliveTime is how long a connection with calls in flight
	// may be silent before the client pings. grpc-go servers by default
	// answer pings more frequent than every 5 minutes with GOAWAY
	// "too_many_pings", which would fail a long task in flight; 5 minutes
	// stays within that policy.
	DefaultKeepaliveTime = 5 * time.Minute

	// DefaultKeepaliveTimeout is how long to wait for a ping's answer
	// before the connection is considered dead.
	DefaultKeepaliveTimeout = 20 * time.Second

	// DefaultDrainTimeout bounds how long a retired connection waits for
	// its calls in flight before it is closed anyway.
	DefaultDrainTimeout = 10 * time.Minute

	// DefaultHealthTimeout bounds one health check.
	DefaultHealthTimeout = 5 * time.Second
)

type transportMode int

const (
	transportUnset transportMode = iota
	transportPlaintext
	transportTLS
)

// Transport says how the executor talks to performers. Its zero value is
// invalid on purpose: plaintext and TLS are chosen explicitly, never by
// default, because a swapped default is an easy and silent mistake.
type Transport struct {
	mode transportMode
	tls  *tls.Config
}

// Plaintext talks to performers without TLS, as performers serve by default
// inside a cluster network (optionally isolated by a NetworkPolicy).
func Plaintext() Transport { return Transport{mode: transportPlaintext} }

// TLS talks to performers over TLS with the given configuration. The
// server name checked defaults to the host of the endpoint (the Service's
// DNS name) when cfg.ServerName is empty.
func TLS(cfg *tls.Config) Transport {
	if cfg == nil {
		cfg = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	return Transport{mode: transportTLS, tls: cfg}
}

// IsTLS reports whether the transport is TLS.
func (t Transport) IsTLS() bool { return t.mode == transportTLS }

func (t Transport) credentials() (credentials.TransportCredentials, error) {
	switch t.mode {
	case transportPlaintext:
		return insecure.NewCredentials(), nil
	case transportTLS:
		return credentials.NewTLS(t.tls), nil
	case transportUnset:
	}
	return nil, errors.New(errNoTransport)
}

// A Resolver maps a performer endpoint (host:port, as published in the
// Performer's status) to the address actually dialled. The default dials the
// endpoint itself. Tests map endpoints to loopback servers; nothing else
// should need it.
type Resolver func(ctx context.Context, endpoint string) (string, error)

// RetryPolicy retries calls that fail with UNAVAILABLE: the performer was
// unreachable (a restart, a connection reset, no ready pod behind the
// Service yet). Other codes come from the performer itself and are returned
// at once. Performers must treat a repeated task_id idempotently, as a call
// may fail with UNAVAILABLE after the performer received it.
type RetryPolicy struct {
	// MaxAttempts is the number of attempts including the first; 1 turns
	// retries off.
	MaxAttempts int
	// InitialBackoff is the wait before the first retry.
	InitialBackoff time.Duration
	// MaxBackoff caps the wait between retries.
	MaxBackoff time.Duration
	// Multiplier grows the wait after each retry.
	Multiplier float64
}

// DefaultRetryPolicy waits 0.2, 0.4, 0.8, 1.6 s (±20 %) between five
// attempts: long enough to ride out a performer restart, short enough that
// a task's own deadline still matters.
func DefaultRetryPolicy() RetryPolicy {
	return RetryPolicy{MaxAttempts: 5, InitialBackoff: 200 * time.Millisecond, MaxBackoff: 5 * time.Second, Multiplier: 2}
}

// ClientOptions configure the gRPC side of the executor.
type ClientOptions struct {
	// Transport is required: Plaintext() or TLS(cfg).
	Transport Transport

	// Resolve maps endpoints to dial addresses; nil dials the endpoint.
	Resolve Resolver

	// Keepalive of every connection; zero fields take the defaults.
	Keepalive keepalive.ClientParameters

	// Retry of calls failing with UNAVAILABLE; zero takes DefaultRetryPolicy.
	Retry RetryPolicy

	// DrainTimeout bounds how long a retired connection waits for its
	// calls in flight; zero takes DefaultDrainTimeout.
	DrainTimeout time.Duration

	// HealthTimeout bounds a health check; zero takes DefaultHealthTimeout.
	HealthTimeout time.Duration

	// DialOptions are added to every connection, after the pool's own.
	DialOptions []grpc.DialOption
}

func (o ClientOptions) withDefaults() ClientOptions {
	if o.Keepalive.Time == 0 {
		o.Keepalive.Time = DefaultKeepaliveTime
	}
	if o.Keepalive.Timeout == 0 {
		o.Keepalive.Timeout = DefaultKeepaliveTimeout
	}
	if o.Retry.MaxAttempts == 0 {
		o.Retry = DefaultRetryPolicy()
	}
	if o.Retry.Multiplier < 1 {
		o.Retry.Multiplier = 1
	}
	if o.DrainTimeout == 0 {
		o.DrainTimeout = DefaultDrainTimeout
	}
	if o.HealthTimeout == 0 {
		o.HealthTimeout = DefaultHealthTimeout
	}
	if o.Resolve == nil {
		o.Resolve = func(_ context.Context, endpoint string) (string, error) { return endpoint, nil }
	}
	return o
}

// Pool holds gRPC connections to performers, one in use per endpoint and
// shared by every caller of that endpoint. SwitchOver replaces an endpoint's
// connection: new calls take the new one while calls in flight finish on the
// old one, which is closed when its last call returns. That is what a
// blue-green upgrade needs: a ClusterIP Service pins an open connection to
// the pod it was opened to, so only a new connection reaches the new
// revision.
type Pool struct {
	opts  ClientOptions
	creds credentials.TransportCredentials

	mu        sync.Mutex
	closed    bool
	endpoints map[string]*endpointConns
}

type endpointConns struct {
	refs    int
	current *conn
	retired map[*conn]struct{}
}

// conn is one gRPC connection and the calls in flight on it. inflight and
// retired are guarded by the pool's mutex.
type conn struct {
	cc       *grpc.ClientConn
	inflight int
	retired  bool
	timer    *time.Timer
}

// NewPool returns an empty pool. It dials nothing until the first call.
func NewPool(o ClientOptions) (*Pool, error) {
	creds, err := o.Transport.credentials()
	if err != nil {
		return nil, err
	}
	return &Pool{opts: o.withDefaults(), creds: creds, endpoints: map[string]*endpointConns{}}, nil
}

func (p *Pool) dial(endpoint string) (*grpc.ClientConn, error) {
	if endpoint == "" {
		return nil, errors.New(errEmptyEndpoint)
	}
	resolve := p.opts.Resolve
	opts := []grpc.DialOption{
		grpc.WithTransportCredentials(p.creds),
		grpc.WithKeepaliveParams(p.opts.Keepalive),
		// Reconnect quickly after a performer restart; grpc's default
		// starts at 1 s, longer than the first retries would wait.
		grpc.WithConnectParams(grpc.ConnectParams{
			Backoff:           backoff.Config{BaseDelay: 100 * time.Millisecond, Multiplier: 1.6, Jitter: 0.2, MaxDelay: 5 * time.Second},
			MinConnectTimeout: 5 * time.Second,
		}),
		// The endpoint is resolved at each connect (by the dialer), not
		// by a gRPC resolver: a performer's Service has one stable name.
		grpc.WithContextDialer(func(ctx context.Context, endpoint string) (net.Conn, error) {
			addr, err := resolve(ctx, endpoint)
			if err != nil {
				return nil, errors.Wrap(err, errResolve)
			}
			var d net.Dialer
			return d.DialContext(ctx, "tcp", addr)
		}),
	}
	opts = append(opts, p.opts.DialOptions...)
	// passthrough keeps the endpoint as the authority, so TLS checks the
	// Service's DNS name even when a test resolves it to loopback.
	cc, err := grpc.NewClient("passthrough:///"+endpoint, opts...)
	return cc, errors.Wrap(err, errNewClient)
}

// ref and unref count the performers using an endpoint; an endpoint no one
// uses has its connections drained and closed.
func (p *Pool) ref(endpoint string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.entry(endpoint).refs++
}

func (p *Pool) unref(endpoint string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	e, ok := p.endpoints[endpoint]
	if !ok {
		return
	}
	e.refs--
	if e.refs > 0 {
		return
	}
	if e.current != nil {
		p.retireLocked(e, e.current)
		e.current = nil
	}
	if len(e.retired) == 0 {
		delete(p.endpoints, endpoint)
	}
}

func (p *Pool) entry(endpoint string) *endpointConns {
	e, ok := p.endpoints[endpoint]
	if !ok {
		e = &endpointConns{retired: map[*conn]struct{}{}}
		p.endpoints[endpoint] = e
	}
	return e
}

// acquire returns the endpoint's current connection, dialling it when
// there is none, and counts a call in flight on it.
func (p *Pool) acquire(endpoint string) (*conn, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, errors.New(errPoolClosed)
	}
	e := p.entry(endpoint)
	if e.current == nil {
		cc, err := p.dial(endpoint)
		if err != nil {
			return nil, err
		}
		e.current = &conn{cc: cc}
	}
	e.current.inflight++
	return e.current, nil
}

func (p *Pool) release(endpoint string, c *conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	c.inflight--
	if c.retired && c.inflight == 0 {
		p.closeRetiredLocked(endpoint, c)
	}
}

// retireLocked stops handing c out. It is closed when its last call
// returns, or after the drain timeout.
func (p *Pool) retireLocked(e *endpointConns, c *conn) {
	c.retired = true
	if c.inflight == 0 {
		_ = c.cc.Close()
		return
	}
	e.retired[c] = struct{}{}
	cc := c.cc
	c.timer = time.AfterFunc(p.opts.DrainTimeout, func() { _ = cc.Close() })
}

func (p *Pool) closeRetiredLocked(endpoint string, c *conn) {
	if c.timer != nil {
		c.timer.Stop()
	}
	_ = c.cc.Close()
	e, ok := p.endpoints[endpoint]
	if !ok {
		return
	}
	delete(e.retired, c)
	if e.refs <= 0 && e.current == nil && len(e.retired) == 0 {
		delete(p.endpoints, endpoint)
	}
}

// SwitchOver opens a new connection to endpoint, checks its health, and
// makes it the one new calls use; calls in flight on the previous connection
// finish there. When the new connection is not healthy the previous one
// stays in use and the health error is returned.
func (p *Pool) SwitchOver(ctx context.Context, endpoint string) error {
	cc, err := p.dial(endpoint)
	if err != nil {
		return err
	}
	if err := p.check(ctx, endpoint, cc); err != nil {
		_ = cc.Close()
		return errors.Wrapf(err, errFmtSwitchOver, endpoint)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		_ = cc.Close()
		return errors.New(errPoolClosed)
	}
	e := p.entry(endpoint)
	if e.current != nil {
		p.retireLocked(e, e.current)
	}
	e.current = &conn{cc: cc}
	return nil
}

// Health checks the grpc.health.v1 status of the empty service name at
// endpoint, which is what performers report and kubelet probes check. It
// returns nil only for SERVING.
func (p *Pool) Health(ctx context.Context, endpoint string) error {
	c, err := p.acquire(endpoint)
	if err != nil {
		return err
	}
	defer p.release(endpoint, c)
	return p.check(ctx, endpoint, c.cc)
}

func (p *Pool) check(ctx context.Context, endpoint string, cc *grpc.ClientConn) error {
	ctx, cancel := context.WithTimeout(ctx, p.opts.HealthTimeout)
	defer cancel()
	// Wait for the connection rather than fail fast: a health check is
	// asked when the caller wants to know, including just after a dial.
	rsp, err := healthpb.NewHealthClient(cc).Check(ctx, &healthpb.HealthCheckRequest{}, grpc.WaitForReady(true))
	if err != nil {
		return errors.Wrapf(err, errFmtHealthCheck, endpoint)
	}
	if s := rsp.GetStatus(); s != healthpb.HealthCheckResponse_SERVING {
		return NotServingError{Endpoint: endpoint, Status: s}
	}
	return nil
}

// NotServingError is returned by health checks of a performer that answers
// but does not report SERVING.
type NotServingError struct {
	Endpoint string
	Status   healthpb.HealthCheckResponse_ServingStatus
}

func (e NotServingError) Error() string {
	return errors.Errorf(errFmtNotServing, e.Endpoint, e.Status).Error()
}

// invoke runs call on endpoint's current connection, retrying UNAVAILABLE
// with backoff. Each attempt takes the connection current at that moment,
// so a retry after a switch-over reaches the new revision.
func (p *Pool) invoke(ctx context.Context, endpoint func(context.Context) (string, error), call func(context.Context, *grpc.ClientConn) error) error {
	r := p.opts.Retry
	wait := r.InitialBackoff
	for attempt := 1; ; attempt++ {
		ep, err := endpoint(ctx)
		if err != nil {
			return err
		}
		c, err := p.acquire(ep)
		if err != nil {
			return err
		}
		err = call(ctx, c.cc)
		p.release(ep, c)
		if status.Code(err) != codes.Unavailable || attempt >= r.MaxAttempts {
			return err
		}
		t := time.NewTimer(jitter(wait))
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
		wait = min(time.Duration(float64(wait)*r.Multiplier), r.MaxBackoff)
	}
}

// jitter spreads d by ±20 % so executors restarted together do not retry
// in lockstep.
func jitter(d time.Duration) time.Duration {
	return time.Duration(float64(d) * (0.8 + 0.4*rand.Float64())) //nolint:gosec // Jitter needs no cryptographic randomness.
}

// Close closes every connection at once, including those draining.
func (p *Pool) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	for ep, e := range p.endpoints {
		if e.current != nil {
			_ = e.current.cc.Close()
		}
		for c := range e.retired {
			if c.timer != nil {
				c.timer.Stop()
			}
			_ = c.cc.Close()
		}
		delete(p.endpoints, ep)
	}
	return nil
}

// stats reports, for tests, how many connections an endpoint has open.
func (p *Pool) stats(endpoint string) (current bool, retired int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	e, ok := p.endpoints[endpoint]
	if !ok {
		return false, 0
	}
	return e.current != nil, len(e.retired)
}
