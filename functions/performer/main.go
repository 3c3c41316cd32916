// Package main is the performer composition function: it turns Performers
// into a Deployment per revision, a Service, a connection Secret and an
// optional NetworkPolicy, and reports the performer's status.
package main

import (
	"time"

	"github.com/alecthomas/kong"

	"github.com/crossplane/function-sdk-go"
)

// CLI of this function.
type CLI struct {
	Debug bool `help:"Emit debug logs in addition to info logs." short:"d"`

	Network            string `default:"tcp"                 help:"Network on which to listen for gRPC connections."`
	Address            string `default:":9443"               help:"Address at which to listen for gRPC connections."`
	TLSCertsDir        string `env:"TLS_SERVER_CERTS_DIR"    help:"Directory containing server certs (tls.key, tls.crt) and the CA used to verify client certificates (ca.crt)."`
	Insecure           bool   `help:"Run without mTLS credentials. With it, --tls-certs-dir is ignored."`
	MaxRecvMessageSize int    `default:"4"                   help:"Maximum size of received messages in MB."`
	// The SDK's metrics server binds :8080 by default; tests and local
	// runs beside other servers need to move it.
	MetricsAddress string `default:":8080" env:"METRICS_ADDRESS" help:"Address of the Prometheus metrics server; empty disables it."`
}

// Run this function.
func (c *CLI) Run() error {
	log, err := function.NewLogger(c.Debug)
	if err != nil {
		return err
	}
	return function.Serve(&Function{log: log, now: time.Now},
		function.Listen(c.Network, c.Address),
		function.MTLSCertificates(c.TLSCertsDir),
		function.Insecure(c.Insecure),
		function.MaxRecvMessageSize(c.MaxRecvMessageSize*1024*1024),
		function.WithMetricsServer(c.MetricsAddress))
}

func main() {
	ctx := kong.Parse(&CLI{}, kong.Description("Composes Hourglass performers: Deployment, Service, NetworkPolicy and status."))
	ctx.FatalIfErrorf(ctx.Run())
}
