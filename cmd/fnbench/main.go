// Command fnbench calls any composition function's RunFunction over gRPC, by
// address, the way Crossplane does (one connection, mTLS or insecure), and
// prints the latency distribution of the calls; optionally it plots it.
//
//	fnbench --address 127.0.0.1:9443 --certs certs/client -n 2000 -c 2 --plot latency.png req.yaml...
//
// Requests are RunFunctionRequest files (YAML or JSON with protobuf field
// names, as `go test ./functions/performer -run TestBenchCases
// -bench-requests DIR` writes them), or composite resources (--xr) sent as
// newly created together with a Composition's function input. See
// docs/benchmarks.md.
package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"time"

	"github.com/alecthomas/kong"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/crossplane/crossplane-runtime/v2/pkg/errors"
	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"

	"github.com/hourglass-xp/crossplane-hourglass/cmd/fnbench/certs"
)

const (
	errNoRequests = "no requests: give request files or --xr files"
	errCreds      = "give either --insecure or --certs"
	errDial       = "cannot create the gRPC client"
	errCerts      = "cannot write the certificates"
	errPlot       = "cannot plot the latencies"
)

// CLI of fnbench.
type CLI struct {
	Address    string `default:"127.0.0.1:9443"                                                                               help:"Address of the function's gRPC server."`
	Insecure   bool   `help:"Call without TLS, as a function started with --insecure expects."`
	Certs      string `env:"TLS_CLIENT_CERTS_DIR"                                                                             help:"Directory with the caller's tls.crt, tls.key and ca.crt: mTLS, as Crossplane calls functions." type:"existingdir"`
	ServerName string `help:"Name to verify the server's certificate for (default: the host of --address)."`

	Request     []string `arg:""                                                                                           help:"RunFunctionRequest files (YAML or JSON); each is one series."                                   optional:"" type:"existingfile"`
	XR          []string `help:"Composite resource files, sent as just created (nothing observed); each is one series."        name:"xr"      type:"existingfile"`
	Composition string   `help:"Composition whose first pipeline step's input goes with the --xr requests."                    type:"existingfile"`

	N       int           `default:"1000" help:"Measured calls per request."                                                short:"n"`
	C       int           `default:"1"    help:"Concurrent callers (Crossplane calls a function from many reconciles at once)." short:"c"`
	Warmup  int           `default:"50"   help:"Calls per request before measuring: connection, TLS handshake, warm caches."`
	Timeout time.Duration `default:"10s"  help:"Timeout of one call."`

	Plot  string `help:"Write a PNG of the latency distribution to this file."`
	Title string `help:"Title of the plot."`

	WriteCerts string `help:"Write a CA and certificates for a function on 127.0.0.1 and localhost (DIR/server, DIR/client), then exit." placeholder:"DIR"`
}

// Run the benchmark.
func (c *CLI) Run() error {
	if c.WriteCerts != "" {
		return errors.Wrap(certs.Write(c.WriteCerts, "127.0.0.1", "localhost"), errCerts)
	}
	reqs, err := c.requests()
	if err != nil {
		return err
	}
	conn, err := c.dial()
	if err != nil {
		return err
	}
	defer conn.Close()
	res, err := Load(context.Background(), fnv1.NewFunctionRunnerServiceClient(conn), reqs, Options{N: c.N, C: c.C, Warmup: c.Warmup, Timeout: c.Timeout})
	if err != nil {
		return err
	}
	c.report(os.Stdout, res)
	if c.Plot == "" {
		return nil
	}
	title := c.Title
	if title == "" {
		title = fmt.Sprintf("RunFunction over gRPC, %s, %d caller(s)", c.transport(), c.C)
	}
	return errors.Wrap(Plot(c.Plot, title, res), errPlot)
}

func (c *CLI) requests() ([]Request, error) {
	var reqs []Request
	for _, f := range c.Request {
		r, err := ReadRequest(f)
		if err != nil {
			return nil, err
		}
		reqs = append(reqs, r)
	}
	for _, f := range c.XR {
		r, err := RequestFromXR(f, c.Composition)
		if err != nil {
			return nil, err
		}
		reqs = append(reqs, r)
	}
	if len(reqs) == 0 {
		return nil, errors.New(errNoRequests)
	}
	return reqs, nil
}

func (c *CLI) dial() (*grpc.ClientConn, error) {
	if c.Insecure == (c.Certs != "") {
		return nil, errors.New(errCreds)
	}
	creds := insecure.NewCredentials()
	if c.Certs != "" {
		cfg, err := certs.ClientTLS(c.Certs)
		if err != nil {
			return nil, err
		}
		cfg.ServerName = c.ServerName
		if cfg.ServerName == "" {
			cfg.ServerName = hostOf(c.Address)
		}
		creds = credentials.NewTLS(cfg)
	}
	conn, err := grpc.NewClient(c.Address, grpc.WithTransportCredentials(creds))
	return conn, errors.Wrap(err, errDial)
}

func (c *CLI) transport() string {
	if c.Insecure {
		return "insecure"
	}
	return "mTLS"
}

// report prints a markdown table, one row per request.
func (c *CLI) report(w io.Writer, res []Result) {
	fmt.Fprintf(w, "fnbench: %s, %s, %d caller(s), %d calls per request after %d warm-up\n\n", c.Address, c.transport(), c.C, c.N, c.Warmup)
	fmt.Fprintln(w, "| request | calls | errors | mean | p50 | p90 | p99 | p99.9 | max | calls/s |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, r := range res {
		s := r.Summary()
		fmt.Fprintf(w, "| %s | %d | %d | %s | %s | %s | %s | %s | %s | %.0f |\n", r.Name, len(r.Latencies), r.Errors,
			ms(s.Mean), ms(s.P50), ms(s.P90), ms(s.P99), ms(s.P999), ms(s.Max), s.Rate)
		if r.Fatal != "" {
			fmt.Fprintf(w, "\nfnbench: %s answers with a Fatal result, so this measures its error path: %s\n\n", r.Name, r.Fatal)
		}
	}
}

// ms formats a latency in milliseconds, to the microsecond.
func ms(d time.Duration) string { return fmt.Sprintf("%.3f ms", float64(d)/float64(time.Millisecond)) }

func hostOf(addr string) string {
	h, _, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	return h
}

func main() {
	ctx := kong.Parse(&CLI{}, kong.Name("fnbench"),
		kong.Description("Calls a composition function's RunFunction over gRPC and prints the latency distribution."))
	ctx.FatalIfErrorf(ctx.Run())
}
