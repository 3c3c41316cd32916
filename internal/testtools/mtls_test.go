package testtools

import (
	"context"
	"crypto/tls"
	"net"
	"path/filepath"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/crossplane/function-sdk-go"
)

// serveMTLS serves gRPC health on loopback with the credentials the
// function SDK loads from dir (function.MTLSCertificates, as a function
// started with TLS_SERVER_CERTS_DIR=dir loads them).
func serveMTLS(t *testing.T, dir string) string {
	t.Helper()
	o := &function.ServeOptions{}
	if err := function.MTLSCertificates(dir)(o); err != nil {
		t.Fatalf("the SDK cannot load the certificates MTLS wrote: %v", err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer(grpc.Creds(o.Credentials))
	healthpb.RegisterHealthServer(srv, health.NewServer())
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	return lis.Addr().String()
}

func TestMTLS(t *testing.T) {
	dir := t.TempDir()
	caller, err := MTLS(filepath.Join(dir, "server"))
	if err != nil {
		t.Fatal(err)
	}
	stranger, err := MTLS(filepath.Join(dir, "other"))
	if err != nil {
		t.Fatal(err)
	}
	anonymous := caller.Clone()
	anonymous.Certificates = nil
	addr := serveMTLS(t, filepath.Join(dir, "server"))

	cases := map[string]struct {
		reason  string
		client  *tls.Config
		wantErr bool
	}{
		"CallerOfTheSameCA": {
			reason: "The caller MTLS returns trusts the server's certificate for 127.0.0.1, and the server trusts the caller's.",
			client: caller,
		},
		"CallerWithoutCertificate": {
			reason:  "The server requires a client certificate, as a function Crossplane calls does.",
			client:  anonymous,
			wantErr: true,
		},
		"CallerOfAnotherCA": {
			reason:  "Each call of MTLS makes its own CA: a caller of another one is refused.",
			client:  stranger,
			wantErr: true,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(credentials.NewTLS(tc.client)))
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = conn.Close() }()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_, err = healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
			if gotErr := err != nil; gotErr != tc.wantErr {
				t.Errorf("%s\nCheck(...) over mTLS: want error %t, got %v", tc.reason, tc.wantErr, err)
			}
		})
	}
}
