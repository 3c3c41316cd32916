package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/crossplane/crossplane-runtime/v2/pkg/errors"

	"github.com/hourglass-xp/crossplane-hourglass/internal/benche2e"
)

const (
	errReadPID    = "cannot read the stack's PID file"
	errNoChild    = "the stack's namespace has no first process; is the stack up?"
	errSelf       = "cannot find this executable"
	errFmtScrape  = "cannot scrape %s inside the stack"
	errFmtNoProc  = "cannot find process %s in the stack"
	errFetchBody  = "cannot read the response"
	errFetchHTTP  = "cannot fetch"
	procRoot      = "/proc"
	scrapeTimeout = 30 * time.Second
)

// Metrics endpoints inside the stack's network namespace, as
// cluster/stack.sh and cluster/stack.d/10-provider.sh start them.
const (
	functionMetrics = "http://127.0.0.1:8080/metrics"
	coreMetrics     = "http://127.0.0.1:8180/metrics"
	providerMetrics = "http://127.0.0.1:8380/metrics"
)

// stack is the running local stack as seen from the host.
type stack struct {
	// nsPID is a host PID of a process in the stack's namespaces, the one
	// nsenter enters.
	nsPID int
	// procs maps benche2e.Processes to host PIDs.
	procs map[string]int
	self  string
}

// findStack finds the stack's processes: the namespace's first process is
// the child of the unshare whose PID stack.sh wrote; the processes it
// started wrote their namespaced PIDs to STATE_DIR/NAME.pid.
func findStack(state string) (*stack, error) {
	up, err := readPID(filepath.Join(state, "stack.pid"))
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(filepath.Join(procRoot, strconv.Itoa(up), "task", strconv.Itoa(up), "children")) //nolint:gosec // A path under /proc.
	if err != nil || len(strings.Fields(string(b))) == 0 {
		return nil, errors.New(errNoChild)
	}
	first, err := strconv.Atoi(strings.Fields(string(b))[0])
	if err != nil {
		return nil, errors.Wrap(err, errNoChild)
	}
	ps, err := benche2e.InPIDNamespace(procRoot, first)
	if err != nil {
		return nil, err
	}
	self, err := os.Executable()
	if err != nil {
		return nil, errors.Wrap(err, errSelf)
	}
	s := &stack{nsPID: first, procs: map[string]int{}, self: self}
	byNS := map[int]int{}
	for _, p := range ps {
		byNS[p.NSPID] = p.HostPID
		// kube-apiserver and etcd are kwokctl's children, not ours: no PID
		// files, but one of each.
		if p.Name == "kube-apiserver" || p.Name == "etcd" {
			s.procs[p.Name] = p.HostPID
		}
	}
	for name, file := range map[string]string{"crossplane": "core.pid", "function": "function.pid", "provider": "provider.pid"} {
		nsp, err := readPID(filepath.Join(state, file))
		if err != nil {
			return nil, err
		}
		hp, ok := byNS[nsp]
		if !ok {
			return nil, errors.Errorf(errFmtNoProc, name)
		}
		s.procs[name] = hp
	}
	for _, p := range benche2e.Processes {
		if _, ok := s.procs[p]; !ok {
			return nil, errors.Errorf(errFmtNoProc, p)
		}
	}
	return s, nil
}

func readPID(file string) (int, error) {
	b, err := os.ReadFile(file) //nolint:gosec // The stack's own PID files.
	if err != nil {
		return 0, errors.Wrap(err, errReadPID)
	}
	p, err := strconv.Atoi(strings.TrimSpace(string(b)))
	return p, errors.Wrap(err, errReadPID)
}

// scrape fetches a metrics endpoint on the stack's loopback: this binary,
// run inside the stack's network namespace only, prints the body.
func (s *stack) scrape(ctx context.Context, url string) (benche2e.Snapshot, error) {
	ctx, cancel := context.WithTimeout(ctx, scrapeTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "nsenter", "--target", strconv.Itoa(s.nsPID), "--net", "--", s.self, "fetch", url) //nolint:gosec // Our own binary and the stack's PID.
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, errors.Wrapf(err, errFmtScrape, url)
	}
	if err := cmd.Start(); err != nil {
		return nil, errors.Wrapf(err, errFmtScrape, url)
	}
	snap, perr := benche2e.Parse(out)
	if err := cmd.Wait(); err != nil {
		return nil, errors.Wrapf(err, errFmtScrape, url)
	}
	return snap, errors.Wrapf(perr, errFmtScrape, url)
}

// procs reads every process's CPU time and RSS.
func (s *stack) readProcs() (map[string]benche2e.Proc, error) {
	out := map[string]benche2e.Proc{}
	for name, pid := range s.procs {
		p, err := benche2e.ReadProc(procRoot, pid)
		if err != nil {
			return nil, errors.Wrapf(err, "cannot read process %s (pid %d)", name, pid)
		}
		out[name] = p
	}
	return out, nil
}

// resetPeaks starts a new peak RSS for every process.
func (s *stack) resetPeaks() error {
	for _, pid := range s.procs {
		if err := benche2e.ResetPeak(procRoot, pid); err != nil {
			return err
		}
	}
	return nil
}

// FetchCmd prints a URL's body: the in-namespace half of stack.scrape.
type FetchCmd struct {
	URL string `arg:"" help:"URL to fetch."`
}

// Run fetches the URL.
func (c *FetchCmd) Run() error {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.URL, nil)
	if err != nil {
		return errors.Wrap(err, errFetchHTTP)
	}
	rsp, err := http.DefaultClient.Do(req)
	if err != nil {
		return errors.Wrap(err, errFetchHTTP)
	}
	defer rsp.Body.Close()
	if rsp.StatusCode != http.StatusOK {
		return errors.New(fmt.Sprintf("%s: HTTP %d", c.URL, rsp.StatusCode))
	}
	_, err = io.Copy(os.Stdout, rsp.Body)
	return errors.Wrap(err, errFetchBody)
}
