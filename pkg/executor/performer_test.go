package executor

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"sync"
	"testing"
	"time"

	performerv1 "github.com/Layr-Labs/protocol-apis/gen/protos/eigenlayer/hourglass/v1/performer"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/testing/protocmp"

	"github.com/crossplane/crossplane-runtime/v2/pkg/errors"

	"github.com/hourglass-xp/crossplane-hourglass/internal/names"
	"github.com/hourglass-xp/crossplane-hourglass/internal/testperformer"
)

// testHost and testEndpoint are the kind of host and endpoint a Performer's
// status and connection Secret carry. They are never dialled: every test
// maps the endpoint to a loopback server with a resolver.
var (
	testHost     = names.Host(names.Service("example"), "avs-project-a")
	testEndpoint = names.Endpoint(names.Service("example"), "avs-project-a", 9090)
)

// loopback maps endpoints to 127.0.0.1 servers. Remap moves an endpoint to
// another server, as a Service switching to a new revision does for new
// connections. Unknown endpoints fail, so a test can never dial out.
type loopback struct {
	mu    sync.Mutex
	addrs map[string]string
}

func newLoopback() *loopback { return &loopback{addrs: map[string]string{}} }

func (l *loopback) Map(endpoint, addr string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.addrs[endpoint] = addr
}

func (l *loopback) Resolve(_ context.Context, endpoint string) (string, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	addr, ok := l.addrs[endpoint]
	if !ok {
		return "", status.Errorf(codes.Unavailable, "test resolver: no loopback server for %q", endpoint)
	}
	if host, _, err := net.SplitHostPort(addr); err != nil || !net.ParseIP(host).IsLoopback() {
		return "", status.Errorf(codes.Internal, "test resolver: %q is not a loopback address", addr)
	}
	return addr, nil
}

func startPerformer(t *testing.T, address string, o testperformer.Options) *testperformer.Server {
	t.Helper()
	s, err := testperformer.Start(address, o)
	if err != nil {
		t.Fatalf("testperformer.Start(%q): %v", address, err)
	}
	t.Cleanup(s.Stop)
	return s
}

func newTestPool(t *testing.T, l *loopback, o ClientOptions) *Pool {
	t.Helper()
	if o.Transport == (Transport{}) {
		o.Transport = Plaintext()
	}
	o.Resolve = l.Resolve
	p, err := NewPool(o)
	if err != nil {
		t.Fatalf("NewPool: %v", err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return p
}

func task(id, payload string) *performerv1.TaskRequest {
	return &performerv1.TaskRequest{TaskId: []byte(id), Payload: []byte(payload)}
}

func TestNewPoolTransportIsExplicit(t *testing.T) {
	if _, err := NewPool(ClientOptions{}); err == nil {
		t.Errorf("NewPool(ClientOptions{}): want an error asking for an explicit transport, got none")
	}
}

func TestExecuteTask(t *testing.T) {
	s := startPerformer(t, "127.0.0.1:0", testperformer.Options{Name: "blue"})
	l := newLoopback()
	l.Map(testEndpoint, s.Address())
	k := NewAVSPerformer(newTestPool(t, l, ClientOptions{}), testEndpoint)
	defer func() { _ = k.Close() }()

	cases := map[string]struct {
		reason   string
		req      *performerv1.TaskRequest
		want     *performerv1.TaskResponse
		wantCode codes.Code
	}{
		"RoundTrip": {
			reason: "The task reaches the performer and its result comes back.",
			req:    task("t1", "hello"),
			want:   &performerv1.TaskResponse{TaskId: []byte("t1"), Result: []byte("blue:hello")},
		},
		"PerformerError": {
			reason:   "An error of the performer itself is returned as is, not retried.",
			req:      task("", "no id"),
			wantCode: codes.InvalidArgument,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			before := s.Tasks()
			got, err := k.ExecuteTask(t.Context(), tc.req)
			if diff := cmp.Diff(tc.wantCode, status.Code(err)); diff != "" {
				t.Errorf("%s\nExecuteTask(...): -want code, +got code:\n%s\nerror: %v", tc.reason, diff, err)
			}
			if diff := cmp.Diff(tc.want, got, protocmp.Transform()); diff != "" {
				t.Errorf("%s\nExecuteTask(...): -want, +got:\n%s", tc.reason, diff)
			}
			if n := s.Tasks() - before; n != 1 {
				t.Errorf("%s\nthe performer received %d calls, want 1", tc.reason, n)
			}
		})
	}

	if _, err := k.StartSync(t.Context(), &performerv1.StartSyncRequest{}); err != nil {
		t.Errorf("StartSync: %v", err)
	}
	if s.Syncs() != 1 {
		t.Errorf("StartSync: the performer received %d calls, want 1", s.Syncs())
	}
}

func TestConnectionReuse(t *testing.T) {
	s := startPerformer(t, "127.0.0.1:0", testperformer.Options{Name: "blue"})
	l := newLoopback()
	l.Map(testEndpoint, s.Address())
	p := newTestPool(t, l, ClientOptions{})
	a := NewAVSPerformer(p, testEndpoint)
	b := NewAVSPerformer(p, testEndpoint)
	for _, k := range []*KubernetesAVSPerformer{a, b, a} {
		if _, err := k.ExecuteTask(t.Context(), task("t", "x")); err != nil {
			t.Fatalf("ExecuteTask: %v", err)
		}
	}
	ca, _ := p.acquire(testEndpoint)
	defer p.release(testEndpoint, ca)
	cb, _ := p.acquire(testEndpoint)
	defer p.release(testEndpoint, cb)
	if ca.cc != cb.cc {
		t.Errorf("two clients of one endpoint use different connections; want one shared connection")
	}
	_ = a.Close()
	if cur, _ := p.stats(testEndpoint); !cur {
		t.Errorf("closing one of two clients closed the shared connection")
	}
}

func TestRetryAcrossRestart(t *testing.T) {
	s := startPerformer(t, "127.0.0.1:0", testperformer.Options{Name: "first"})
	addr := s.Address()
	l := newLoopback()
	l.Map(testEndpoint, addr)
	k := NewAVSPerformer(newTestPool(t, l, ClientOptions{
		Retry: RetryPolicy{MaxAttempts: 20, InitialBackoff: 50 * time.Millisecond, MaxBackoff: 200 * time.Millisecond, Multiplier: 2},
	}), testEndpoint)
	defer func() { _ = k.Close() }()

	if _, err := k.ExecuteTask(t.Context(), task("t1", "before")); err != nil {
		t.Fatalf("ExecuteTask before the restart: %v", err)
	}

	// A crash: every connection drops. The performer comes back on the
	// same address while the executor is retrying.
	s.Stop()
	restarted := make(chan *testperformer.Server, 1)
	go func() {
		time.Sleep(400 * time.Millisecond)
		s2, err := testperformer.Start(addr, testperformer.Options{Name: "second"})
		if err != nil {
			t.Errorf("restart on %s: %v", addr, err)
			close(restarted)
			return
		}
		restarted <- s2
	}()

	got, err := k.ExecuteTask(t.Context(), task("t2", "after"))
	if s2, ok := <-restarted; ok {
		defer s2.Stop()
	}
	if err != nil {
		t.Fatalf("ExecuteTask across a restart: want success after retries, got %v", err)
	}
	want := &performerv1.TaskResponse{TaskId: []byte("t2"), Result: []byte("second:after")}
	if diff := cmp.Diff(want, got, protocmp.Transform()); diff != "" {
		t.Errorf("ExecuteTask across a restart: -want, +got:\n%s", diff)
	}
}

func TestRetryGivesUp(t *testing.T) {
	s := startPerformer(t, "127.0.0.1:0", testperformer.Options{})
	l := newLoopback()
	l.Map(testEndpoint, s.Address())
	s.Stop()
	k := NewAVSPerformer(newTestPool(t, l, ClientOptions{
		Retry: RetryPolicy{MaxAttempts: 3, InitialBackoff: 10 * time.Millisecond, MaxBackoff: 20 * time.Millisecond, Multiplier: 2},
	}), testEndpoint)
	defer func() { _ = k.Close() }()
	_, err := k.ExecuteTask(t.Context(), task("t", "x"))
	if status.Code(err) != codes.Unavailable {
		t.Errorf("ExecuteTask against a stopped performer: want UNAVAILABLE after the retries, got %v", err)
	}
}

func TestHealth(t *testing.T) {
	s := startPerformer(t, "127.0.0.1:0", testperformer.Options{})
	l := newLoopback()
	l.Map(testEndpoint, s.Address())
	k := NewAVSPerformer(newTestPool(t, l, ClientOptions{HealthTimeout: time.Second}), testEndpoint)
	defer func() { _ = k.Close() }()

	if err := k.Health(t.Context()); err != nil {
		t.Fatalf("Health of a serving performer: %v", err)
	}

	s.SetServing(false)
	err := k.Health(t.Context())
	var ns NotServingError
	if !errors.As(err, &ns) || ns.Status != healthpb.HealthCheckResponse_NOT_SERVING {
		t.Errorf("Health of a NOT_SERVING performer: want NotServingError{NOT_SERVING}, got %v", err)
	}

	s.SetServing(true)
	if err := k.Health(t.Context()); err != nil {
		t.Errorf("Health after serving again: %v", err)
	}

	s.Stop()
	if err := k.Health(t.Context()); err == nil {
		t.Errorf("Health of a stopped performer: want an error, got nil")
	}
}

func TestSwitchOverDuringUpgrade(t *testing.T) {
	blue := startPerformer(t, "127.0.0.1:0", testperformer.Options{Name: "blue", Delay: 1500 * time.Millisecond})
	green := startPerformer(t, "127.0.0.1:0", testperformer.Options{Name: "green"})
	l := newLoopback()
	l.Map(testEndpoint, blue.Address())
	p := newTestPool(t, l, ClientOptions{})
	k := NewAVSPerformer(p, testEndpoint)
	defer func() { _ = k.Close() }()

	// A long task starts on blue.
	started := blue.TaskStarted()
	type result struct {
		rsp *performerv1.TaskResponse
		err error
	}
	inflight := make(chan result, 1)
	go func() {
		rsp, err := k.ExecuteTask(t.Context(), task("long", "in-flight"))
		inflight <- result{rsp, err}
	}()
	<-started

	// The upgrade switches the Service to green: new connections reach
	// green; the open one stays on blue, as with a ClusterIP Service.
	l.Map(testEndpoint, green.Address())
	if err := k.SwitchOver(t.Context(), ""); err != nil {
		t.Fatalf("SwitchOver: %v", err)
	}
	if _, retired := p.stats(testEndpoint); retired != 1 {
		t.Errorf("after SwitchOver: %d connections draining, want 1 (blue, with a call in flight)", retired)
	}

	// New tasks go to green at once, while blue's task is still running.
	got, err := k.ExecuteTask(t.Context(), task("new", "after-switch"))
	if err != nil {
		t.Fatalf("ExecuteTask after SwitchOver: %v", err)
	}
	if diff := cmp.Diff([]byte("green:after-switch"), got.GetResult()); diff != "" {
		t.Errorf("a task after SwitchOver: -want, +got:\n%s", diff)
	}

	// The in-flight task finishes on blue without an error.
	r := <-inflight
	if r.err != nil {
		t.Fatalf("the task in flight during SwitchOver failed: %v", r.err)
	}
	if diff := cmp.Diff([]byte("blue:in-flight"), r.rsp.GetResult()); diff != "" {
		t.Errorf("the task in flight during SwitchOver: -want, +got:\n%s", diff)
	}
	if n := blue.Tasks(); n != 1 {
		t.Errorf("blue received %d tasks, want only the one in flight before the switch", n)
	}
	// Then blue's connection is closed.
	if _, retired := p.stats(testEndpoint); retired != 0 {
		t.Errorf("after the task in flight returned: %d connections draining, want 0", retired)
	}
}

func TestSwitchOverToUnhealthyKeepsOld(t *testing.T) {
	blue := startPerformer(t, "127.0.0.1:0", testperformer.Options{Name: "blue"})
	green := startPerformer(t, "127.0.0.1:0", testperformer.Options{Name: "green"})
	green.SetServing(false)
	l := newLoopback()
	l.Map(testEndpoint, blue.Address())
	k := NewAVSPerformer(newTestPool(t, l, ClientOptions{HealthTimeout: time.Second}), testEndpoint)
	defer func() { _ = k.Close() }()
	if _, err := k.ExecuteTask(t.Context(), task("t", "x")); err != nil {
		t.Fatalf("ExecuteTask: %v", err)
	}

	l.Map(testEndpoint, green.Address())
	if err := k.SwitchOver(t.Context(), ""); err == nil {
		t.Fatalf("SwitchOver to a NOT_SERVING performer: want an error, got nil")
	}
	got, err := k.ExecuteTask(t.Context(), task("t", "y"))
	if err != nil {
		t.Fatalf("ExecuteTask after a refused SwitchOver: %v", err)
	}
	if diff := cmp.Diff([]byte("blue:y"), got.GetResult()); diff != "" {
		t.Errorf("after a refused SwitchOver calls stay on the old connection: -want, +got:\n%s", diff)
	}
}

func TestTransport(t *testing.T) {
	host := testHost
	cert, pool := selfSigned(t, host)
	s := startPerformer(t, "127.0.0.1:0", testperformer.Options{Name: "tls", TLS: &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}})
	l := newLoopback()
	l.Map(testEndpoint, s.Address())

	cases := map[string]struct {
		reason    string
		transport Transport
		wantErr   bool
	}{
		"TLS": {
			reason:    "TLS verifies the performer's certificate against the Service's DNS name, though the test dials loopback.",
			transport: TLS(&tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}),
		},
		"TLSUntrusted": {
			reason:    "A certificate from an unknown CA is refused.",
			transport: TLS(&tls.Config{MinVersion: tls.VersionTLS12}),
			wantErr:   true,
		},
		"PlaintextAgainstTLS": {
			reason:    "Plaintext is never upgraded silently: it fails against a TLS performer.",
			transport: Plaintext(),
			wantErr:   true,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			p := newTestPool(t, l, ClientOptions{Transport: tc.transport, Retry: RetryPolicy{MaxAttempts: 1}})
			k := NewAVSPerformer(p, testEndpoint)
			defer func() { _ = k.Close() }()
			ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
			defer cancel()
			_, err := k.ExecuteTask(ctx, task("t", "x"))
			if gotErr := err != nil; gotErr != tc.wantErr {
				t.Errorf("%s\nExecuteTask(...): want error %t, got %v", tc.reason, tc.wantErr, err)
			}
		})
	}
}

// selfSigned returns a certificate for host and a pool trusting it.
func selfSigned(t *testing.T, host string) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: host},
		DNSNames:     []string{host},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA:         true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}
