// Command forward relays byte streams from one listener to one address. The
// local stack uses it twice to give a normal shell access to the API server
// that lives in a private network namespace: inside the namespace it relays a
// Unix socket (a file, reachable from both sides) to the API server's
// loopback port; outside it relays a host loopback port to that socket. TLS
// passes through untouched, so the kubeconfig's certificates keep working.
package main

import (
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

func main() {
	listen := flag.String("listen", "", "where to listen: tcp:HOST:PORT or unix:PATH")
	to := flag.String("to", "", "where to relay each connection: tcp:HOST:PORT or unix:PATH")
	flag.Parse()
	if *listen == "" || *to == "" {
		flag.Usage()
		os.Exit(2)
	}
	lnet, laddr := split(*listen)
	tnet, taddr := split(*to)
	if lnet == "unix" {
		_ = os.Remove(laddr)
	}
	ln, err := net.Listen(lnet, laddr)
	if err != nil {
		log.Fatalf("forward: cannot listen on %s: %v", *listen, err)
	}
	// Close the listener on SIGTERM/SIGINT so a Unix socket file is removed.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	go func() { <-sig; _ = ln.Close(); os.Exit(0) }()
	for {
		c, err := ln.Accept()
		if err != nil {
			log.Fatalf("forward: accept: %v", err)
		}
		go relay(c, tnet, taddr)
	}
}

func split(s string) (network, addr string) {
	n, a, ok := strings.Cut(s, ":")
	if !ok || (n != "tcp" && n != "unix") {
		fmt.Fprintf(os.Stderr, "forward: %q is not tcp:HOST:PORT or unix:PATH\n", s)
		os.Exit(2)
	}
	return n, a
}

func relay(c net.Conn, network, addr string) {
	defer c.Close()
	u, err := net.Dial(network, addr)
	if err != nil {
		log.Printf("forward: cannot dial %s:%s: %v", network, addr, err)
		return
	}
	defer u.Close()
	done := make(chan struct{}, 2)
	pipe := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src)
		if cw, ok := dst.(interface{ CloseWrite() error }); ok {
			_ = cw.CloseWrite()
		}
		done <- struct{}{}
	}
	go pipe(u, c)
	go pipe(c, u)
	<-done
	<-done
}
