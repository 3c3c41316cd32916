package testtools

import (
	"net"
	"strconv"
	"testing"
)

func TestFreeLoopbackAddrIsBelowTheEphemeralRange(t *testing.T) {
	for range 50 {
		addr := FreeLoopbackAddr(t)
		host, p, err := net.SplitHostPort(addr)
		if err != nil {
			t.Fatal(err)
		}
		port, err := strconv.Atoi(p)
		if err != nil {
			t.Fatal(err)
		}
		if host != "127.0.0.1" || port < lowestPort || port >= ephemeralLow() {
			t.Fatalf("FreeLoopbackAddr(t) = %s, want 127.0.0.1 and a port in [%d, %d)", addr, lowestPort, ephemeralLow())
		}
		l, err := net.Listen("tcp", addr)
		if err != nil {
			t.Fatalf("FreeLoopbackAddr(t) = %s, which cannot be bound: %v", addr, err)
		}
		_ = l.Close()
	}
}
