// Command testperformer serves the Hourglass PerformerService and
// grpc.health.v1 with internal/testperformer: a real performer process for
// the live stack, where it answers behind a fake pod inside the stack's
// private network namespace.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/hourglass-xp/crossplane-hourglass/internal/testperformer"
)

func main() {
	address := flag.String("address", "127.0.0.1:9090", "Address to serve gRPC on.")
	name := flag.String("name", "testperformer", "Name put in front of every task result.")
	delay := flag.Duration("delay", 0, "How long each task takes.")
	flag.Parse()

	s, err := testperformer.Start(*address, testperformer.Options{Name: *name, Delay: *delay})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("testperformer %s serving on %s\n", *name, s.Address())

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	<-sig
	// Terminate like a pod: health first, then let calls in flight finish.
	done := make(chan struct{})
	go func() { s.GracefulStop(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		s.Stop()
	}
}
