package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/structpb"

	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"

	"github.com/hourglass-xp/crossplane-hourglass/cmd/fnbench/certs"
	"github.com/hourglass-xp/crossplane-hourglass/internal/testtools"
)

// echo is a function that desires the observed composite and counts calls.
type echo struct {
	fnv1.UnimplementedFunctionRunnerServiceServer

	calls chan struct{}
}

func (e *echo) RunFunction(_ context.Context, req *fnv1.RunFunctionRequest) (*fnv1.RunFunctionResponse, error) {
	e.calls <- struct{}{}
	return &fnv1.RunFunctionResponse{Desired: &fnv1.State{Composite: req.GetObserved().GetComposite()}}, nil
}

// serveMTLS serves f on a loopback port with the server certificates in
// dir, requiring client certificates the way function.Serve does.
func serveMTLS(t *testing.T, dir string, f fnv1.FunctionRunnerServiceServer) string {
	t.Helper()
	crt, err := tls.LoadX509KeyPair(filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key"))
	if err != nil {
		t.Fatal(err)
	}
	ca, err := os.ReadFile(filepath.Join(dir, "ca.crt")) //nolint:gosec // A test's own directory.
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca)
	creds := credentials.NewTLS(&tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{crt}, ClientCAs: pool, ClientAuth: tls.RequireAndVerifyClientCert})
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer(grpc.Creds(creds))
	fnv1.RegisterFunctionRunnerServiceServer(srv, f)
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	return lis.Addr().String()
}

// TestRun calls a function over mTLS with certificates fnbench wrote, from
// a composite resource and a Composition, and plots the calls.
func TestRun(t *testing.T) {
	dir := t.TempDir()
	if err := (&CLI{WriteCerts: filepath.Join(dir, "certs")}).Run(); err != nil {
		t.Fatal(err)
	}
	fn := &echo{calls: make(chan struct{}, 100)}
	addr := serveMTLS(t, filepath.Join(dir, "certs", certs.Server), fn)

	xr := filepath.Join(dir, "xr.yaml")
	if err := os.WriteFile(xr, []byte("apiVersion: example.org/v1\nkind: XThing\nmetadata: {name: a}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "latency.png")
	c := &CLI{
		Address: addr, Certs: filepath.Join(dir, "certs", certs.Client),
		XR: []string{xr}, Composition: "../../compositions/xperformer.yaml",
		N: 20, C: 2, Warmup: 3, Timeout: 5 * time.Second, Plot: out,
	}
	if err := c.Run(); err != nil {
		t.Fatal(err)
	}
	if got := len(fn.calls); got != 23 {
		t.Errorf("calls: want 3 warm-up + 20, got %d", got)
	}
	testtools.ReadPNG(t, out)
}

// TestRunNeedsCredentials: calling without saying how is an error, not a
// silent insecure call.
func TestRunNeedsCredentials(t *testing.T) {
	xr := filepath.Join(t.TempDir(), "xr.yaml")
	if err := os.WriteFile(xr, []byte("apiVersion: example.org/v1\nkind: XThing\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := (&CLI{Address: "127.0.0.1:1", XR: []string{xr}}).Run(); err == nil || err.Error() != errCreds {
		t.Errorf("want %q, got %v", errCreds, err)
	}
}

func TestRequestFromXR(t *testing.T) {
	xr := filepath.Join(t.TempDir(), "thing.yaml")
	if err := os.WriteFile(xr, []byte("apiVersion: example.org/v1\nkind: XThing\nspec: {size: 2}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := RequestFromXR(xr, "../../compositions/xperformer.yaml")
	if err != nil {
		t.Fatal(err)
	}
	composite, _ := structpb.NewStruct(map[string]any{"apiVersion": "example.org/v1", "kind": "XThing", "spec": map[string]any{"size": 2}})
	want := &fnv1.RunFunctionRequest{
		Meta:     &fnv1.RequestMeta{Tag: "thing"},
		Observed: &fnv1.State{Composite: &fnv1.Resource{Resource: composite}},
	}
	if got.Name != "thing" {
		t.Errorf("name: want thing, got %q", got.Name)
	}
	// The input is the Composition's, whatever the platform put in it.
	if got.Req.GetInput().GetFields()["kind"].GetStringValue() != "Input" {
		t.Errorf("input: want the Composition's Input, got %v", got.Req.GetInput())
	}
	got.Req.Input = nil
	if diff := cmp.Diff(want, got.Req, protocmp.Transform()); diff != "" {
		t.Errorf("RequestFromXR(...): -want, +got:\n%s", diff)
	}
}

func TestPercentile(t *testing.T) {
	ms := func(v ...int) []time.Duration {
		out := make([]time.Duration, 0, len(v))
		for _, x := range v {
			out = append(out, time.Duration(x)*time.Millisecond)
		}
		return out
	}
	thousand := make([]time.Duration, 1000)
	for i := range thousand {
		thousand[i] = time.Duration(i+1) * time.Millisecond
	}
	cases := map[string]struct {
		reason string
		lat    []time.Duration
		p      float64
		want   time.Duration
	}{
		"Empty":     {reason: "No calls have no percentile.", lat: nil, p: 50, want: 0},
		"One":       {reason: "One call is every percentile.", lat: ms(7), p: 99, want: 7 * time.Millisecond},
		"Median":    {reason: "Nearest rank: the 2nd of 4 is p50.", lat: ms(1, 2, 3, 4), p: 50, want: 2 * time.Millisecond},
		"Max":       {reason: "p100 is the slowest call.", lat: ms(1, 2, 3, 4), p: 100, want: 4 * time.Millisecond},
		"P999":      {reason: "p99.9 of 1000 calls is the 999th, not the slowest, though 99.9 is inexact in binary.", lat: thousand, p: 99.9, want: 999 * time.Millisecond},
		"P99Of1000": {reason: "p99 of 1000 calls is the 990th.", lat: thousand, p: 99, want: 990 * time.Millisecond},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := (Result{Latencies: tc.lat}).Percentile(tc.p); got != tc.want {
				t.Errorf("%s\nPercentile(%v): want %v, got %v", tc.reason, tc.p, tc.want, got)
			}
		})
	}
}
