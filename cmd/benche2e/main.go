// Command benche2e is the live benchmark of make bench-e2e: it measures the
// local stack (cluster/stack.sh) from outside, through the API server and
// /proc, the way an operator would see it.
//
//	benche2e run    --state-dir DIR [--phases latency,floor,scale,upgrade] [-n 30] [--sizes 100,500,1000] ...
//	benche2e report --out DIR        re-render DIR/results.md and the plot from DIR/*.json
//
// Phases:
//
//   - latency: N Performers applied one after the other; for each, the time
//     from the apply until its Deployment exists, it is Ready (its Ready
//     condition and status.ready), and its connection Secret exists.
//   - floor: for each size, the Deployments and Services the function
//     composes, created by a plain client straight against the API server,
//     until every Deployment is available. The scale figures read as a
//     ratio to it.
//   - scale: for each size, that many Performers across the namespaces
//     applied at once, until every one is Ready and stays so; API requests
//     and writes (kube-apiserver's own counters), RunFunction calls, CPU and
//     peak RSS of Crossplane, the function, the provider, kube-apiserver and
//     etcd; then a window in which nothing changes (steady state).
//   - upgrade: a new version on --upgrade Performers of the first scale size
//     at once, until every one shows it active and Ready, watching every
//     EndpointSlice of their Services throughout.
//
// The stack's processes live in a private PID and network namespace: their
// /proc entries are found from the host by their namespaced PIDs, and their
// loopback metrics endpoints are scraped by this binary re-run inside the
// network namespace (benche2e fetch, through nsenter). Nothing dials a pod
// or Service IP.
package main

import (
	"github.com/alecthomas/kong"
)

// CLI of benche2e.
type CLI struct {
	Run    RunCmd    `cmd:"" default:"withargs" help:"Run the benchmark against a running stack."`
	Report ReportCmd `cmd:""                    help:"Render results.md and the plot from the JSON results in --out."`
	Fetch  FetchCmd  `cmd:""                    help:"Print a URL's body (run inside the stack's network namespace by 'run')." hidden:""`
}

func main() {
	ctx := kong.Parse(&CLI{}, kong.Name("benche2e"),
		kong.Description("Live benchmark of crossplane-hourglass on the local stack (make bench-e2e)."),
		kong.Vars{"plotTitle": plotTitle})
	ctx.FatalIfErrorf(ctx.Run())
}
