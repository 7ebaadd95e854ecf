package bench

import (
	"encoding/binary"
	"errors"
	"os"
	"testing"
)

func TestStatTicks(t *testing.T) {
	tests := []struct {
		line string
		want int64
	}{
		// utime 1234, stime 56 (fields 14 and 15).
		{"4242 (ja3echo) S 1 4242 4242 0 -1 4194560 100 0 0 0 1234 56 0 0 20 0 9 0 100 0 0", 1290},
		// A command name with spaces and a parenthesis must not shift the fields.
		{"7 (a b) c) R 1 7 7 0 -1 0 0 0 0 0 7 3 0 0 20 0 1 0 1 0 0", 10},
	}
	for _, tt := range tests {
		got, err := statTicks([]byte(tt.line))
		if err != nil || got != tt.want {
			t.Errorf("statTicks(%q) = %d, %v; want %d", tt.line, got, err, tt.want)
		}
	}
	for _, bad := range []string{"", "1 (x) S 1 2", "1 (x) S 1 1 1 0 -1 0 0 0 0 0 a b"} {
		if _, err := statTicks([]byte(bad)); !errors.Is(err, ErrProcFormat) {
			t.Errorf("statTicks(%q) error = %v, want ErrProcFormat", bad, err)
		}
	}
}

func TestAuxv(t *testing.T) {
	var b []byte
	for _, kv := range [][2]uint64{{6, 4096}, {atClkTck, 250}, {0, 0}} {
		b = binary.NativeEndian.AppendUint64(b, kv[0])
		b = binary.NativeEndian.AppendUint64(b, kv[1])
	}
	if got := auxv(b, atClkTck); got != 250 {
		t.Errorf("auxv(AT_CLKTCK) = %d, want 250", got)
	}
	if got := auxv(b, 99); got != 0 {
		t.Errorf("auxv(absent key) = %d, want 0", got)
	}
}

// TestOwnProcess reads this process's own /proc files, which exist on every
// Linux machine the benchmarks run on.
func TestOwnProcess(t *testing.T) {
	if _, err := ProcCPU(os.Getpid()); err != nil {
		t.Errorf("ProcCPU(self): %v", err)
	}
	rss, threads, err := ProcStatus(os.Getpid())
	if err != nil || rss <= 0 || threads < 1 {
		t.Errorf("ProcStatus(self) = %d, %d, %v; want positive RSS and threads", rss, threads, err)
	}
	if ClockTicks() <= 0 {
		t.Errorf("ClockTicks() = %d", ClockTicks())
	}
}

func TestCPULine(t *testing.T) {
	// user nice system idle iowait irq softirq steal guest guest_nice
	busy, total, steal, err := cpuLine([]byte("cpu  100 2 30 500 7 1 3 11 0 0\ncpu0 1 2 3 4 5 6 7 8 9 10\n"))
	if err != nil || busy != 136 || total != 654 || steal != 11 {
		t.Errorf("cpuLine = %d, %d, %d, %v; want 136, 654, 11", busy, total, steal, err)
	}
	if _, _, _, err := cpuLine([]byte("intr 1 2 3")); !errors.Is(err, ErrProcFormat) {
		t.Errorf("cpuLine(not cpu) error = %v, want ErrProcFormat", err)
	}
}

func TestCtxSwitches(t *testing.T) {
	status := "Name:\tx\nvoluntary_ctxt_switches:\t40\nnonvoluntary_ctxt_switches:\t2\n"
	if got := ctxSwitches([]byte(status)); got != 42 {
		t.Errorf("ctxSwitches = %d, want 42", got)
	}
	if _, err := ProcCtxSwitches(os.Getpid()); err != nil {
		t.Errorf("ProcCtxSwitches(self): %v", err)
	}
}
