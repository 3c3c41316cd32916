package testtools

import (
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
)

// Ports a test hands to another process are taken below the kernel's
// ephemeral range: a port picked by listening on :0 and closing is free
// only until any other process on the machine — a parallel test package's
// API server, an outgoing connection — is given the same ephemeral port,
// which CI saw ("bind: address already in use"). Below the range nothing
// is assigned implicitly, so a port that is free stays free.
const (
	lowestPort          = 10000
	defaultEphemeralLow = 32768
)

// FreeLoopbackAddr returns 127.0.0.1:port with a port nothing listens on,
// outside the ephemeral range, for a process the test starts to bind.
func FreeLoopbackAddr(t testing.TB) string {
	t.Helper()
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(FreeLoopbackPort(t)))
}

// FreeLoopbackPort returns a loopback port nothing listens on, outside the
// ephemeral range.
func FreeLoopbackPort(t testing.TB) int {
	t.Helper()
	high := ephemeralLow()
	for range 200 {
		port := lowestPort + rand.IntN(high-lowestPort) //nolint:gosec // Not a secret: spreading tests over ports.
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		l, err := net.Listen("tcp", addr)
		if err != nil {
			continue
		}
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		return port
	}
	t.Fatalf("no free loopback port in [%d, %d)", lowestPort, high)
	return 0
}

// ephemeralLow is the first port the kernel assigns implicitly.
func ephemeralLow() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return defaultEphemeralLow
	}
	f := strings.Fields(string(b))
	if len(f) != 2 {
		return defaultEphemeralLow
	}
	low, err := strconv.Atoi(f[0])
	if err != nil || low <= lowestPort+100 {
		return defaultEphemeralLow
	}
	return low
}
