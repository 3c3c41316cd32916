package main

import (
	"context"
	"os"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"

	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"

	"github.com/hourglass-xp/crossplane-hourglass/internal/testtools"
)

// benchServer is a function server started through the function's own CLI
// (main.go's Run: function.Serve with its options) on a loopback port, and a
// client connected to it the way Crossplane connects: one cached
// connection, unary RunFunction calls.
type benchServer struct {
	once   sync.Once
	client fnv1.FunctionRunnerServiceClient
	err    error
}

// The servers live as long as the test binary: function.Serve cannot be
// stopped, and every sub-benchmark and -count round reuses them.
var (
	benchInsecure benchServer
	benchMTLS     benchServer
)

// start serves the function once and connects to it; tls selects mTLS with
// throwaway certificates (as Crossplane and an installed Function use),
// otherwise --insecure.
func (s *benchServer) start(tb testing.TB, tls bool) fnv1.FunctionRunnerServiceClient {
	tb.Helper()
	s.once.Do(func() { s.client, s.err = serveBench(testtools.FreeLoopbackAddr(tb), tls) })
	if s.client == nil {
		tb.Fatalf("cannot serve the function for the benchmark: %v", s.err)
	}
	return s.client
}

// serveBench serves the function on addr (function.Serve listens itself, so
// the address is chosen free beforehand) and returns a client once it
// answers.
func serveBench(addr string, tls bool) (fnv1.FunctionRunnerServiceClient, error) {
	// The SDK registers its gRPC metrics with the process-wide Prometheus
	// registry, which takes them once; neither server exports metrics, so
	// both measure the same server.
	cli := &CLI{Network: "tcp", Address: addr, Insecure: !tls, MaxRecvMessageSize: 4}
	creds := insecure.NewCredentials()
	if tls {
		// Not a test's TempDir: the server outlives the test that starts
		// it. Both sides have read the certificates once the first call
		// is answered.
		dir, err := os.MkdirTemp("", "bench-certs-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(dir)
		cfg, err := testtools.MTLS(dir)
		if err != nil {
			return nil, err
		}
		cli.TLSCertsDir = dir
		creds = credentials.NewTLS(cfg)
	}
	go func() { _ = cli.Run() }()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(creds))
	if err != nil {
		return nil, err
	}
	c := fnv1.NewFunctionRunnerServiceClient(conn)
	// Wait until it serves.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := c.RunFunction(ctx, &fnv1.RunFunctionRequest{}, grpc.WaitForReady(true)); err != nil {
		return nil, err
	}
	return c, nil
}

// BenchmarkRunFunctionGRPC makes the calls of BenchmarkRunFunction over
// gRPC on loopback, client and server in this process: the difference is
// the transport (protobuf encoding on both sides, HTTP/2, TLS), which
// Crossplane pays on every call too. cpu-ns/op counts both sides.
//
//	go test ./functions/performer -run '^$' -bench BenchmarkRunFunctionGRPC -benchmem
func BenchmarkRunFunctionGRPC(b *testing.B) {
	cases := benchCases(b)
	for _, tr := range []struct {
		name string
		srv  *benchServer
		tls  bool
	}{{"insecure", &benchInsecure, false}, {"mtls", &benchMTLS, true}} {
		c := tr.srv.start(b, tr.tls)
		for _, bc := range cases {
			b.Run(tr.name+"/"+bc.name(), func(b *testing.B) {
				ctx := context.Background()
				b.ReportAllocs()
				start := cpuTime(b)
				for b.Loop() {
					if _, err := c.RunFunction(ctx, bc.req); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(cpuTime(b)-start)/float64(b.N), "cpu-ns/op")
			})
		}
	}
}
