package benche2e

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/crossplane/crossplane-runtime/v2/pkg/errors"
)

const (
	errReadStat   = "cannot read the process's stat"
	errReadStatus = "cannot read the process's status"
	errParseStat  = "cannot parse the process's stat"
	errReadNS     = "cannot read the process's PID namespace"
	errListProc   = "cannot list processes"
	errResetPeak  = "cannot reset the process's peak RSS"
)

// userHZ is the unit of utime and stime in /proc/PID/stat. Linux reports
// them in USER_HZ, 100 on every architecture Go supports, whatever the
// kernel's own tick rate (procfs hard-codes it for the same reason).
const userHZ = 100

// Proc is what /proc says about a process's cost.
type Proc struct {
	// CPUSeconds is user plus system time since the process started.
	CPUSeconds float64 `json:"cpuSeconds"`
	// RSS is the resident set now; PeakRSS the largest it has been since
	// the process started or its peak was last reset.
	RSS     uint64 `json:"rss"`
	PeakRSS uint64 `json:"peakRSS"`
}

// ReadProc reads /proc/PID/stat and /proc/PID/status under root.
func ReadProc(root string, pid int) (Proc, error) {
	dir := filepath.Join(root, strconv.Itoa(pid))
	stat, err := os.ReadFile(filepath.Join(dir, "stat")) //nolint:gosec // A path under /proc made from a PID.
	if err != nil {
		return Proc{}, errors.Wrap(err, errReadStat)
	}
	cpu, err := ParseStatCPU(string(stat))
	if err != nil {
		return Proc{}, err
	}
	status, err := os.ReadFile(filepath.Join(dir, "status")) //nolint:gosec // A path under /proc made from a PID.
	if err != nil {
		return Proc{}, errors.Wrap(err, errReadStatus)
	}
	st := ParseStatus(string(status))
	return Proc{CPUSeconds: cpu, RSS: st.RSS, PeakRSS: st.PeakRSS}, nil
}

// ResetPeak resets the peak RSS the kernel keeps for a process (VmHWM), so
// the next ReadProc reports the peak of what happened since. It needs the
// right to write /proc/PID/clear_refs (root, or the process's owner).
func ResetPeak(root string, pid int) error {
	return errors.Wrap(os.WriteFile(filepath.Join(root, strconv.Itoa(pid), "clear_refs"), []byte("5"), 0o600), errResetPeak)
}

// ParseStatCPU returns utime + stime of a /proc/PID/stat line in seconds.
// The command name (field 2) is in parentheses and may hold spaces and
// parentheses itself, so fields are counted from its last ')'.
func ParseStatCPU(stat string) (float64, error) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, errors.New(errParseStat)
	}
	f := strings.Fields(stat[i+1:])
	// f[0] is field 3 (state); utime and stime are fields 14 and 15.
	if len(f) < 13 {
		return 0, errors.New(errParseStat)
	}
	u, err := strconv.ParseUint(f[11], 10, 64)
	if err != nil {
		return 0, errors.Wrap(err, errParseStat)
	}
	s, err := strconv.ParseUint(f[12], 10, 64)
	if err != nil {
		return 0, errors.Wrap(err, errParseStat)
	}
	return float64(u+s) / userHZ, nil
}

// Status is what the benchmark reads of /proc/PID/status.
type Status struct {
	Name    string
	RSS     uint64
	PeakRSS uint64
	// NSpid is the process's PID in each PID namespace it is in, outermost
	// first: the last is its PID in its own namespace.
	NSpid []int
}

// ParseStatus parses /proc/PID/status. Sizes are in kB there.
func ParseStatus(status string) Status {
	var st Status
	sc := bufio.NewScanner(strings.NewReader(status))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		v = strings.TrimSpace(v)
		switch k {
		case "Name":
			st.Name = v
		case "VmRSS":
			st.RSS = kB(v)
		case "VmHWM":
			st.PeakRSS = kB(v)
		case "NSpid":
			for _, f := range strings.Fields(v) {
				if n, err := strconv.Atoi(f); err == nil {
					st.NSpid = append(st.NSpid, n)
				}
			}
		}
	}
	return st
}

func kB(v string) uint64 {
	n, err := strconv.ParseUint(strings.TrimSuffix(v, " kB"), 10, 64)
	if err != nil {
		return 0
	}
	return n * 1024
}

// NamespacedProc is a process seen from the host: its host PID, its PID in
// its own namespace and its name.
type NamespacedProc struct {
	HostPID int
	NSPID   int
	Name    string
}

// InPIDNamespace lists the processes under root that share the PID
// namespace of process pid (pid itself included). The stack runs in a
// private PID namespace and writes the PIDs its processes have there; the
// host sees them under other PIDs, which the last element of NSpid maps.
func InPIDNamespace(root string, pid int) ([]NamespacedProc, error) {
	want, err := os.Readlink(filepath.Join(root, strconv.Itoa(pid), "ns", "pid"))
	if err != nil {
		return nil, errors.Wrap(err, errReadNS)
	}
	ents, err := os.ReadDir(root)
	if err != nil {
		return nil, errors.Wrap(err, errListProc)
	}
	var out []NamespacedProc
	for _, e := range ents {
		hp, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		// Processes come and go while we look: skip what vanished.
		ns, err := os.Readlink(filepath.Join(root, e.Name(), "ns", "pid"))
		if err != nil || ns != want {
			continue
		}
		b, err := os.ReadFile(filepath.Join(root, e.Name(), "status")) //nolint:gosec // A path under /proc made from a PID.
		if err != nil {
			continue
		}
		st := ParseStatus(string(b))
		if len(st.NSpid) == 0 {
			continue
		}
		out = append(out, NamespacedProc{HostPID: hp, NSPID: st.NSpid[len(st.NSpid)-1], Name: st.Name})
	}
	return out, nil
}
