package benche2e

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// A /proc/PID/stat line of a process whose name holds a space and a
// parenthesis; utime 1234 and stime 566 ticks.
const statLine = "4242 (core (x) y) S 1 4242 4242 0 -1 4194560 9000 0 0 0 1234 566 0 0 20 0 12 0 1000 1431408640 26536 18446744073709551615 1 1 0 0 0 0 0 0 2143420159 0 0 0 17 1 0 0 0 0 0 0 0 0 0 0 0 0 0\n"

const statusText = `Name:	crossplane-core
Umask:	0022
State:	S (sleeping)
Tgid:	4242
NSpid:	4242	345
VmHWM:	  120000 kB
VmRSS:	  100000 kB
Threads:	12
`

func TestParseStatCPU(t *testing.T) {
	type want struct {
		cpu float64
		err bool
	}
	cases := map[string]struct {
		reason string
		args   string
		want   want
	}{
		"NameWithParens": {
			reason: "Fields count from the name's last ')': utime + stime in USER_HZ.",
			args:   statLine,
			want:   want{cpu: 18},
		},
		"Truncated": {
			reason: "A line without the time fields is an error.",
			args:   "1 (x) S 1 2 3",
			want:   want{err: true},
		},
		"NoName": {
			reason: "A line without the name's parentheses is an error.",
			args:   "garbage",
			want:   want{err: true},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			cpu, err := ParseStatCPU(tc.args)
			got := want{cpu: cpu, err: err != nil}
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(want{})); diff != "" {
				t.Errorf("%s\nParseStatCPU(...): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestParseStatus(t *testing.T) {
	cases := map[string]struct {
		reason string
		args   string
		want   Status
	}{
		"Namespaced": {
			reason: "Sizes are kB; NSpid lists the PID outermost first.",
			args:   statusText,
			want:   Status{Name: "crossplane-core", RSS: 100000 * 1024, PeakRSS: 120000 * 1024, NSpid: []int{4242, 345}},
		},
		"KernelThread": {
			reason: "A kernel thread has no memory lines.",
			args:   "Name:\tkthreadd\nNSpid:\t2\n",
			want:   Status{Name: "kthreadd", NSpid: []int{2}},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, ParseStatus(tc.args)); diff != "" {
				t.Errorf("%s\nParseStatus(...): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

// fakeProc writes a /proc-like tree: each process's stat, status and
// ns/pid link.
func fakeProc(t *testing.T, procs map[int]struct{ ns, status string }) string {
	t.Helper()
	root := t.TempDir()
	for pid, p := range procs {
		dir := filepath.Join(root, strconv.Itoa(pid))
		if err := os.MkdirAll(filepath.Join(dir, "ns"), 0o750); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "stat"), []byte(statLine), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "status"), []byte(p.status), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(p.ns, filepath.Join(dir, "ns", "pid")); err != nil {
			t.Fatal(err)
		}
	}
	// Not a process.
	if err := os.WriteFile(filepath.Join(root, "loadavg"), []byte("0.1 0.2 0.3 1/2 3\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return root
}

func TestReadProc(t *testing.T) {
	root := fakeProc(t, map[int]struct{ ns, status string }{4242: {ns: "pid:[1]", status: statusText}})
	type want struct {
		p   Proc
		err bool
	}
	cases := map[string]struct {
		reason string
		args   int
		want   want
	}{
		"Exists": {
			reason: "CPU from stat, memory from status.",
			args:   4242,
			want:   want{p: Proc{CPUSeconds: 18, RSS: 100000 * 1024, PeakRSS: 120000 * 1024}},
		},
		"Gone": {
			reason: "A process that is gone is an error.",
			args:   1,
			want:   want{err: true},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			p, err := ReadProc(root, tc.args)
			got := want{p: p, err: err != nil}
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(want{})); diff != "" {
				t.Errorf("%s\nReadProc(...): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestInPIDNamespace(t *testing.T) {
	root := fakeProc(t, map[int]struct{ ns, status string }{
		100: {ns: "pid:[7]", status: "Name:\tbash\nNSpid:\t100\t1\n"},
		101: {ns: "pid:[7]", status: "Name:\tcrossplane-core\nNSpid:\t101\t345\n"},
		102: {ns: "pid:[7]", status: "Name:\tkube-apiserver\nNSpid:\t102\t88\n"},
		200: {ns: "pid:[1]", status: "Name:\tsshd\nNSpid:\t200\n"},
	})
	type want struct {
		procs map[int]NamespacedProc
		err   bool
	}
	cases := map[string]struct {
		reason string
		args   int
		want   want
	}{
		"Namespace": {
			reason: "Only the processes of the namespace of the given process, each with its PID inside.",
			args:   100,
			want: want{procs: map[int]NamespacedProc{
				1:   {HostPID: 100, NSPID: 1, Name: "bash"},
				345: {HostPID: 101, NSPID: 345, Name: "crossplane-core"},
				88:  {HostPID: 102, NSPID: 88, Name: "kube-apiserver"},
			}},
		},
		"NoSuchProcess": {
			reason: "A process that does not exist has no namespace.",
			args:   999,
			want:   want{err: true},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			ps, err := InPIDNamespace(root, tc.args)
			got := want{err: err != nil}
			if ps != nil {
				got.procs = map[int]NamespacedProc{}
				for _, p := range ps {
					got.procs[p.NSPID] = p
				}
			}
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(want{})); diff != "" {
				t.Errorf("%s\nInPIDNamespace(...): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}
