package poller

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

const emfileChildEnv = "POLLER_TEST_EMFILE_CHILD"

// TestEMFILE runs a Loop in a child process whose RLIMIT_NOFILE is tiny
// (lowering it in this process would break the other tests), floods it
// until accept4 fails with EMFILE, and checks that the child neither spins
// nor dies: it uses well under one core while out of descriptors, and
// serves again once they are freed.
func TestEMFILE(t *testing.T) {
	if os.Getenv(emfileChildEnv) != "" {
		emfileChild()
		return
	}
	if testing.Short() {
		t.Skip("spawns a child process")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestEMFILE$")
	cmd.Env = append(os.Environ(), emfileChildEnv+"=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	lines := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		exited <- cmd.Wait()
	}()
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	expect := func(prefix string) string {
		t.Helper()
		timeout := time.After(wait)
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatalf("child exited before %q; stderr:\n%s", prefix, stderr.Bytes())
				}
				if rest, found := strings.CutPrefix(l, prefix); found {
					return rest
				}
			case <-timeout:
				t.Fatalf("child did not print %q", prefix)
			}
		}
	}

	addr := expect("ADDR ")
	var flood []net.Conn // the kernel completes these handshakes whether or not the child accepts
	for range 200 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatalf("flood dial: %v", err)
		}
		flood = append(flood, c)
	}
	expect("PAUSED")

	// USER_HZ, the unit of /proc/<pid>/stat times, is 100 on Linux.
	before := cpuTicks(t, cmd.Process.Pid)
	time.Sleep(time.Second)
	used := cpuTicks(t, cmd.Process.Pid) - before
	t.Logf("child used %d%% of a core while out of fds", used)
	if used >= 50 {
		t.Errorf("child used %d%% of a core during a second out of fds, want < 50%%", used)
	}

	for _, c := range flood {
		_ = c.Close()
	}
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("dial after the flood: %v", err)
	}
	defer c.Close()
	write(t, c, hello(100, 16384))
	if got := readToClose(t, c); string(got) != "served\n" {
		t.Errorf("child answered %q after the flood, want %q", got, "served\n")
	}

	_ = stdin.Close() // asks the child to Stop
	stats := expect("STATS ")
	var accepted, acceptErrors int
	if _, err := fmt.Sscanf(stats, "%d %d", &accepted, &acceptErrors); err != nil {
		t.Fatalf("child stats %q: %v", stats, err)
	}
	t.Logf("child: %d accepted, %d accept errors", accepted, acceptErrors)
	// Backoff doubling from 5ms to 1s bounds the retries; a spinning loop
	// would fail accept4 hundreds of thousands of times.
	if acceptErrors == 0 || acceptErrors > 500 {
		t.Errorf("child saw %d accept errors, want 1..500", acceptErrors)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("child: %v; stderr:\n%s", err, stderr.Bytes())
		}
	case <-time.After(wait):
		t.Error("child did not exit after Stop")
	}
}

// emfileChild serves with only a few spare descriptors and reports on
// stdout: ADDR once listening, PAUSED once accept4 failed, STATS at exit.
func emfileChild() {
	fail := func(err error) {
		fmt.Fprintln(os.Stderr, "child:", err)
		os.Exit(2)
	}
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		fail(err)
	}
	var rl unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &rl); err != nil {
		fail(err)
	}
	rl.Cur = uint64(len(ents) + 40)
	if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &rl); err != nil {
		fail(err)
	}
	l, err := New(Config{
		Addr:   "127.0.0.1:0",
		Framer: frame,
		Handoff: func(fd int, _ []byte, _ netip.AddrPort) {
			_, _ = unix.Write(fd, []byte("served\n"))
			_ = unix.Close(fd)
		},
		HelloTimeout: time.Minute, // only the parent's closes free descriptors
		MaxConns:     1 << 20,     // so accept4 itself runs out
	})
	if err != nil {
		fail(err)
	}
	fmt.Println("ADDR", l.Addr())
	go func() {
		for l.Stats().AcceptErrors == 0 {
			time.Sleep(5 * time.Millisecond)
		}
		fmt.Println("PAUSED")
	}()
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		_ = l.Stop()
	}()
	if err := l.Run(); err != nil {
		fail(err)
	}
	s := l.Stats()
	fmt.Println("STATS", s.Accepted, s.AcceptErrors)
	os.Exit(0)
}

// cpuTicks returns utime+stime of pid in clock ticks.
func cpuTicks(t *testing.T, pid int) int {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	// Fields after the parenthesised command name, which may contain spaces;
	// utime and stime are fields 14 and 15 of the whole line.
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	utime, err1 := strconv.Atoi(f[11])
	stime, err2 := strconv.Atoi(f[12])
	if err1 != nil || err2 != nil {
		t.Fatalf("parse %s: %v %v", b, err1, err2)
	}
	return utime + stime
}
