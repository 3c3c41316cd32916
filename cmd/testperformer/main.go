// Command testperformer serves the Hourglass PerformerService and
// grpc.health.v1 with internal/testperformer: a real performer process for
// the live stack, where it answers behind a fake pod inside the stack's
// private network namespace.
//
//	testperformer -address 10.77.1.5:9090            one server
//	testperformer -serve-pods -kubeconfig K -cidr 10.77.0.0/16
//	                                                 one server per performer pod
//
// With -serve-pods it watches the pods labelled app=performer and runs a
// server bound to podIP:grpcPort for each Running pod, stopping it when the
// pod goes. A pod whose image names a kwok fault (kwok-fault-…) gets none;
// the annotation hourglass-xp.io/health=serving|not-serving|down, or an image
// containing grpc-fault-not-serving or grpc-fault-down, makes its server
// answer NOT_SERVING or refuse connections. Only run it where pod IPs are
// local (the stack's namespace): it binds them.
package main

import (
	"context"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/hourglass-xp/crossplane-hourglass/internal/testperformer"
)

func main() {
	address := flag.String("address", "127.0.0.1:9090", "Address to serve gRPC on.")
	name := flag.String("name", "testperformer", "Name put in front of every task result.")
	delay := flag.Duration("delay", 0, "How long each task takes.")
	servePods := flag.Bool("serve-pods", false, "Serve behind every performer pod's IP instead of on -address.")
	kubeconfig := flag.String("kubeconfig", os.Getenv("KUBECONFIG"), "Kubeconfig of the cluster whose pods to serve (-serve-pods).")
	selector := flag.String("selector", "app=performer", "Label selector of the pods to serve (-serve-pods).")
	cidrs := flag.String("cidr", "", "Comma-separated CIDRs; only pod IPs inside them are bound (-serve-pods). Required.")
	maxPods := flag.Int("max-pods", 500, "At most this many servers at once (-serve-pods).")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	var err error
	if *servePods {
		err = runPods(ctx, *kubeconfig, *selector, *cidrs, *maxPods)
	} else {
		err = runOne(ctx, *address, testperformer.Options{Name: *name, Delay: *delay})
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func runOne(ctx context.Context, address string, o testperformer.Options) error {
	s, err := testperformer.Start(address, o)
	if err != nil {
		return err
	}
	fmt.Printf("testperformer %s serving on %s\n", o.Name, s.Address())
	<-ctx.Done()
	// Terminate like a pod: health first, then let calls in flight finish.
	done := make(chan struct{})
	go func() { s.GracefulStop(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		s.Stop()
	}
	return nil
}

func runPods(ctx context.Context, kubeconfig, selector, cidrs string, maxPods int) error {
	if cidrs == "" {
		return fmt.Errorf("-serve-pods needs -cidr: it binds pod IPs, which must be local")
	}
	var allowed []netip.Prefix
	for _, c := range strings.Split(cidrs, ",") {
		p, err := netip.ParsePrefix(strings.TrimSpace(c))
		if err != nil {
			return fmt.Errorf("-cidr %q: %w", c, err)
		}
		allowed = append(allowed, p)
	}
	sel, err := labels.Parse(selector)
	if err != nil {
		return fmt.Errorf("-selector %q: %w", selector, err)
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return fmt.Errorf("kubeconfig %q: %w", kubeconfig, err)
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	fmt.Printf("testperformer: serving pods %s with IPs in %s\n", sel, cidrs)
	return testperformer.ServePods(ctx, cs, testperformer.PodsOptions{Selector: sel, Allowed: allowed, Max: maxPods, Log: os.Stdout})
}
