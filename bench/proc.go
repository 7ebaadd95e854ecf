package bench

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// ErrProcFormat is returned when a /proc file does not have the expected
// layout.
var ErrProcFormat = errors.New("bench: unexpected /proc format")

// atClkTck is the auxiliary vector key of sysconf(_SC_CLK_TCK): Go has no
// sysconf without cgo, but the kernel hands the value to every process.
const atClkTck = 17

var clockTicks = sync.OnceValue(func() int64 {
	if b, err := os.ReadFile("/proc/self/auxv"); err == nil {
		if v := auxv(b, atClkTck); v > 0 {
			return int64(v)
		}
	}
	return 100 // USER_HZ on every mainstream Linux architecture
})

// ClockTicks returns the unit of utime and stime in /proc/PID/stat per
// second (sysconf(_SC_CLK_TCK)).
func ClockTicks() int64 { return clockTicks() }

// auxv returns the value for key in a 64-bit auxiliary vector, 0 if absent.
func auxv(b []byte, key uint64) uint64 {
	for ; len(b) >= 16; b = b[16:] {
		k, v := binary.NativeEndian.Uint64(b), binary.NativeEndian.Uint64(b[8:])
		if k == key {
			return v
		}
		if k == 0 {
			break
		}
	}
	return 0
}

// ProcCPU returns the CPU time (user + system) process pid has used, threads
// that already exited included.
func ProcCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	ticks, err := statTicks(b)
	if err != nil {
		return 0, fmt.Errorf("/proc/%d/stat: %w", pid, err)
	}
	return time.Duration(ticks) * time.Second / time.Duration(ClockTicks()), nil
}

// statTicks adds utime and stime (fields 14 and 15) of a /proc/PID/stat
// line. The command name (field 2) may hold spaces and parentheses, so the
// fields are counted from its last closing parenthesis.
func statTicks(b []byte) (int64, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, ErrProcFormat
	}
	f := strings.Fields(string(b[i+1:])) // f[0] is field 3 (state)
	if len(f) < 13 {
		return 0, ErrProcFormat
	}
	u, err1 := strconv.ParseInt(f[11], 10, 64)
	s, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, ErrProcFormat
	}
	return u + s, nil
}

// SelfCPU returns the CPU time (user + system) of the calling process.
func SelfCPU() time.Duration {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		return 0 // cannot fail with valid arguments
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// ThreadCPU returns the CPU time of the calling OS thread. It measures a
// goroutine only when that goroutine holds runtime.LockOSThread.
func ThreadCPU() time.Duration {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts); err != nil {
		return 0 // cannot fail with a valid clock id
	}
	return time.Duration(ts.Nano())
}

// ProcStatus returns the fields of /proc/PID/status that memory reports
// need: VmRSS in bytes and the thread count.
func ProcStatus(pid int) (rss int64, threads int, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	rss, threads = -1, -1
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		f := strings.Fields(v)
		if len(f) == 0 {
			continue
		}
		switch k {
		case "VmRSS": // "  1234 kB"
			if n, perr := strconv.ParseInt(f[0], 10, 64); perr == nil {
				rss = n << 10
			}
		case "Threads":
			if n, perr := strconv.Atoi(f[0]); perr == nil {
				threads = n
			}
		}
	}
	if rss < 0 || threads < 0 {
		return 0, 0, fmt.Errorf("/proc/%d/status: %w", pid, ErrProcFormat)
	}
	return rss, threads, nil
}

// Kernel returns the running kernel's release (uname -r).
func Kernel() string {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return "unknown"
	}
	return unix.ByteSliceToString(u.Release[:])
}

// SystemTicks returns the machine-wide busy and total CPU time of
// /proc/stat's "cpu" line, in clock ticks. Busy is everything but idle and
// iowait; steal (time the hypervisor gave to someone else) is returned on its
// own, since it is neither ours nor idle.
func SystemTicks() (busy, total, steal int64, err error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0, 0, err
	}
	return cpuLine(b)
}

func cpuLine(b []byte) (busy, total, steal int64, err error) {
	line, _, _ := bytes.Cut(b, []byte("\n"))
	f := strings.Fields(string(line))
	if len(f) < 9 || f[0] != "cpu" {
		return 0, 0, 0, ErrProcFormat
	}
	// user nice system idle iowait irq softirq steal [guest guest_nice,
	// already included in user and nice]
	var v [8]int64
	for i := range v {
		if v[i], err = strconv.ParseInt(f[i+1], 10, 64); err != nil {
			return 0, 0, 0, ErrProcFormat
		}
	}
	for _, x := range v {
		total += x
	}
	steal = v[7]
	return total - v[3] - v[4] - steal, total, steal, nil
}

// ProcCtxSwitches returns the voluntary and involuntary context switches of
// every live thread of process pid. A server that hands each connection from
// thread to thread pays for it here, and in a VM a cross-CPU wake-up costs an
// inter-processor interrupt, which is a VM exit.
func ProcCtxSwitches(pid int) (int64, error) {
	tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		return 0, err
	}
	var n int64
	for _, t := range tasks {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/status", pid, t.Name()))
		if err != nil {
			continue // the thread exited meanwhile
		}
		n += ctxSwitches(b)
	}
	return n, nil
}

func ctxSwitches(status []byte) int64 {
	var n int64
	sc := bufio.NewScanner(bytes.NewReader(status))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && (k == "voluntary_ctxt_switches" || k == "nonvoluntary_ctxt_switches") {
			if x, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil {
				n += x
			}
		}
	}
	return n
}
