package poller

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestHandoffWholeHello(t *testing.T) {
	h := start(t, Config{})
	c := h.dial(t)
	msg := hello(300, 16384)
	write(t, c, msg)
	g := h.handoff(t)
	if !bytes.Equal(g.buf, msg) {
		t.Errorf("buffered = %x, want %x", g.buf, msg)
	}
	if want := c.LocalAddr().(*net.TCPAddr).AddrPort(); g.remote != want {
		t.Errorf("remote = %v, want %v", g.remote, want)
	}
	if s := h.l.Stats(); s.Accepted != 1 || s.Handoffs != 1 || s.Held != 0 {
		t.Errorf("stats = %+v, want 1 accepted, 1 handoff, 0 held", s)
	}
}

// TestOneByteWrites delivers a hello one TCP segment per byte.
func TestOneByteWrites(t *testing.T) {
	h := start(t, Config{})
	c := h.dial(t) // Go sets TCP_NODELAY, so each write is its own segment
	msg := hello(40, 16384)
	for i := range msg {
		write(t, c, msg[i:i+1])
		time.Sleep(time.Millisecond)
	}
	if g := h.handoff(t); !bytes.Equal(g.buf, msg) {
		t.Errorf("buffered = %x, want %x", g.buf, msg)
	}
}

// TestOneByteRecords spreads the handshake message over one record per byte.
func TestOneByteRecords(t *testing.T) {
	h := start(t, Config{})
	c := h.dial(t)
	msg := hello(100, 1)
	if len(msg) != 104*6 {
		t.Fatalf("test hello is %d bytes, want %d", len(msg), 104*6)
	}
	for len(msg) > 0 { // several writes so records straddle reads
		k := min(97, len(msg))
		write(t, c, msg[:k])
		msg = msg[k:]
		time.Sleep(time.Millisecond)
	}
	if g := h.handoff(t); len(g.buf) != 104*6 {
		t.Errorf("buffered %d bytes, want %d", len(g.buf), 104*6)
	}
}

func TestRecordHeaderThenRest(t *testing.T) {
	h := start(t, Config{})
	c := h.dial(t)
	msg := hello(500, 16384)
	write(t, c, msg[:5])
	time.Sleep(20 * time.Millisecond)
	write(t, c, msg[5:])
	if g := h.handoff(t); !bytes.Equal(g.buf, msg) {
		t.Errorf("buffered = %x, want %x", g.buf, msg)
	}
}

// TestBytesAfterMessageKept: data sent right behind the hello (like 0-RTT or
// a pipelined record) must reach the new owner, not be dropped.
func TestBytesAfterMessageKept(t *testing.T) {
	h := start(t, Config{})
	c := h.dial(t)
	msg := append(hello(200, 16384), 0x17, 3, 3, 0, 2, 'h', 'i')
	write(t, c, msg)
	if g := h.handoff(t); !bytes.Equal(g.buf, msg) {
		t.Errorf("buffered = %x, want %x", g.buf, msg)
	}
}

func TestSilentClientTimesOut(t *testing.T) {
	h := start(t, Config{HelloTimeout: 200 * time.Millisecond})
	c := h.dial(t)
	if b := readToClose(t, c); len(b) != 0 {
		t.Errorf("server sent %q", b)
	}
	if s := h.l.Stats(); s.Timeouts != 1 || s.Held != 0 {
		t.Errorf("stats = %+v, want 1 timeout, 0 held", s)
	}
}

// TestSlowClientTimesOut: the deadline covers the whole hello, so trickling
// bytes does not extend it (slowloris).
func TestSlowClientTimesOut(t *testing.T) {
	h := start(t, Config{HelloTimeout: 200 * time.Millisecond})
	c := h.dial(t)
	msg := hello(1000, 16384)
	go func() {
		for i := range msg {
			if _, err := c.Write(msg[i : i+1]); err != nil {
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	readToClose(t, c)
	if s := h.l.Stats(); s.Timeouts != 1 || s.Handoffs != 0 {
		t.Errorf("stats = %+v, want 1 timeout, 0 handoffs", s)
	}
}

func TestTooLarge(t *testing.T) {
	h := start(t, Config{MaxHelloBytes: 1024})
	c := h.dial(t)
	_, _ = c.Write(hello(4000, 500)) // may fail once the server resets
	readToClose(t, c)
	if s := h.l.Stats(); s.TooLarge != 1 || s.Handoffs != 0 {
		t.Errorf("stats = %+v, want 1 too large, 0 handoffs", s)
	}
}

// TestExactlyMaxHelloBytes: a message that ends exactly at the cap is fine.
func TestExactlyMaxHelloBytes(t *testing.T) {
	msg := hello(1000, 16384)
	h := start(t, Config{MaxHelloBytes: len(msg)})
	write(t, h.dial(t), msg)
	if g := h.handoff(t); !bytes.Equal(g.buf, msg) {
		t.Errorf("buffered %d bytes, want %d", len(g.buf), len(msg))
	}
}

func TestRejectWritesAnswer(t *testing.T) {
	answer := []byte("HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n")
	var gotErr error
	var gotRemote netip.AddrPort
	h := start(t, Config{OnReject: func(err error, remote netip.AddrPort) []byte {
		gotErr, gotRemote = err, remote // read after Stop: Run's return orders it
		if errors.Is(err, errHTTP) {
			return answer
		}
		return nil
	}})
	c := h.dial(t)
	write(t, c, []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
	if b := readToClose(t, c); !bytes.Equal(b, answer) {
		t.Errorf("client read %q, want %q", b, answer)
	}
	h.stop(t)
	if !errors.Is(gotErr, errHTTP) {
		t.Errorf("OnReject err = %v, want %v", gotErr, errHTTP)
	}
	if want := c.LocalAddr().(*net.TCPAddr).AddrPort(); gotRemote != want {
		t.Errorf("OnReject remote = %v, want %v", gotRemote, want)
	}
	if s := h.l.Stats(); s.Rejected != 1 {
		t.Errorf("stats = %+v, want 1 rejected", s)
	}
}

func TestGarbageClosed(t *testing.T) {
	h := start(t, Config{OnReject: func(error, netip.AddrPort) []byte { return nil }})
	c := h.dial(t)
	write(t, c, []byte{0x00, 0x01, 0x02, 0x03, 0x04, 0x05})
	if b := readToClose(t, c); len(b) != 0 {
		t.Errorf("server sent %q", b)
	}
	if s := h.l.Stats(); s.Rejected != 1 || s.Handoffs != 0 {
		t.Errorf("stats = %+v, want 1 rejected", s)
	}
}

func TestPeerClosesEarly(t *testing.T) {
	h := start(t, Config{})
	c := h.dial(t)
	write(t, c, hello(100, 16384)[:20])
	if err := c.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	readToClose(t, c)
	if s := h.l.Stats(); s.PeerClosed != 1 || s.Held != 0 {
		t.Errorf("stats = %+v, want 1 peer closed, 0 held", s)
	}
}

// TestHelloThenHalfClose: data before hang-up, so the FIN behind a complete
// hello must not lose it.
func TestHelloThenHalfClose(t *testing.T) {
	h := start(t, Config{})
	c := h.dial(t)
	msg := hello(100, 16384)
	write(t, c, msg)
	if err := c.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	if g := h.handoff(t); !bytes.Equal(g.buf, msg) {
		t.Errorf("buffered = %x, want %x", g.buf, msg)
	}
}

func TestManyConcurrent(t *testing.T) {
	const n = 500
	var rl unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &rl); err != nil || rl.Cur < 3*n {
		t.Skipf("RLIMIT_NOFILE %d too low for %d conns", rl.Cur, n)
	}
	h := start(t, Config{})
	msg := hello(600, 200)
	conns := make([]*net.TCPConn, n)
	for i := range conns {
		conns[i] = h.dial(t)
	}
	var wg sync.WaitGroup
	for _, c := range conns {
		wg.Go(func() {
			for i := 0; i < len(msg); i += 300 {
				if _, err := c.Write(msg[i:min(i+300, len(msg))]); err != nil {
					t.Errorf("write: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	seen := map[netip.AddrPort]bool{}
	for range n {
		g := h.handoff(t)
		if !bytes.Equal(g.buf, msg) {
			t.Errorf("conn %v buffered %d bytes, want %d", g.remote, len(g.buf), len(msg))
		}
		seen[g.remote] = true
	}
	if len(seen) != n {
		t.Errorf("%d distinct remotes, want %d", len(seen), n)
	}
	if s := h.l.Stats(); s.Handoffs != n || s.Held != 0 {
		t.Errorf("stats = %+v, want %d handoffs, 0 held", s, n)
	}
}

func TestMaxConns(t *testing.T) {
	h := start(t, Config{MaxConns: 2})
	a := h.dial(t)
	h.dial(t)
	waitFor(t, "2 held", func() bool { return h.l.Stats().Held == 2 })
	over := h.dial(t)
	readToClose(t, over)
	if s := h.l.Stats(); s.OverLimit != 1 || s.Held != 2 {
		t.Fatalf("stats = %+v, want 1 over limit, 2 held", s)
	}
	msg := hello(50, 16384)
	write(t, a, msg) // frees a slot
	h.handoff(t)
	c := h.dial(t)
	write(t, c, msg)
	if g := h.handoff(t); g.remote != c.LocalAddr().(*net.TCPAddr).AddrPort() {
		t.Errorf("handoff of %v, want %v", g.remote, c.LocalAddr())
	}
	if s := h.l.Stats(); s.OverLimit != 1 || s.Held != 1 {
		t.Errorf("stats = %+v, want 1 over limit, 1 held", s)
	}
}

func TestIPv6(t *testing.T) {
	probe, err := net.Listen("tcp6", "[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	}
	probe.Close()
	h := start(t, Config{Addr: "[::1]:0"})
	if got := h.l.Addr(); !got.IP.Equal(net.IPv6loopback) || got.Port == 0 {
		t.Fatalf("Addr = %v, want [::1]:<port>", got)
	}
	c := h.dial(t)
	msg := hello(100, 16384)
	write(t, c, msg)
	g := h.handoff(t)
	if want := c.LocalAddr().(*net.TCPAddr).AddrPort(); g.remote != want || !bytes.Equal(g.buf, msg) {
		t.Errorf("handoff from %v with %d bytes, want %v with %d", g.remote, len(g.buf), want, len(msg))
	}
}

func TestStopUnblocksRun(t *testing.T) {
	h := start(t, Config{})
	held := h.dial(t) // a held conn must be closed by Run on the way out
	waitFor(t, "1 held", func() bool { return h.l.Stats().Held == 1 })
	h.stop(t)
	readToClose(t, held)
	if _, err := net.DialTimeout("tcp", h.l.Addr().String(), wait); err == nil {
		t.Error("dial succeeded after Run returned; listener still open")
	}
}

func TestStopIdempotent(t *testing.T) {
	h := start(t, Config{})
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if err := h.l.Stop(); err != nil {
				t.Errorf("Stop: %v", err)
			}
		})
	}
	wg.Wait()
	h.stop(t)
	if err := h.l.Stop(); err != nil {
		t.Errorf("Stop after Run returned: %v", err)
	}
	if err := h.l.Run(); err == nil {
		t.Error("second Run returned nil, want an error")
	}
}

func TestStopBeforeRun(t *testing.T) {
	l, err := New(Config{Addr: "127.0.0.1:0", Framer: frame, Handoff: func(int, []byte, netip.AddrPort) {}})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if err := l.Run(); err != nil {
		t.Errorf("Run after Stop = %v, want nil", err)
	}
	if err := l.Stop(); err != nil {
		t.Errorf("second Stop: %v", err)
	}
}

func TestNewErrors(t *testing.T) {
	noop := func(int, []byte, netip.AddrPort) {}
	if _, err := New(Config{Addr: "127.0.0.1:0", Handoff: noop}); err == nil {
		t.Error("New without Framer succeeded")
	}
	if _, err := New(Config{Addr: "127.0.0.1:99999", Framer: frame, Handoff: noop}); err == nil {
		t.Error("New with port 99999 succeeded")
	}
	h := start(t, Config{})
	_, err := New(Config{Addr: h.l.Addr().String(), Framer: frame, Handoff: noop})
	if !errors.Is(err, unix.EADDRINUSE) {
		t.Errorf("New on a port in use: err = %v, want EADDRINUSE", err)
	}
}

func TestDefaultMaxConns(t *testing.T) {
	var rl unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &rl); err != nil {
		t.Fatal(err)
	}
	h := start(t, Config{})
	if n := h.l.cfg.MaxConns; n <= 0 || uint64(n) >= rl.Cur {
		t.Errorf("default MaxConns = %d, want within (0, %d)", n, rl.Cur)
	}
}

// TestNoFDLeak runs every exit path and checks the process's descriptor
// count returns to where it was.
func TestNoFDLeak(t *testing.T) {
	exercise := func() {
		h := start(t, Config{HelloTimeout: 100 * time.Millisecond, MaxHelloBytes: 2000,
			MaxConns: 20, OnReject: func(error, netip.AddrPort) []byte { return []byte("no\n") }})
		for i := range 10 {
			c := h.dial(t)
			switch i % 5 {
			case 0:
				write(t, c, hello(100, 7))
				h.handoff(t)
			case 1:
				write(t, c, []byte("GET /"))
			case 2:
				_, _ = c.Write(hello(3000, 16384))
			case 3:
				write(t, c, hello(100, 16384)[:9])
				_ = c.CloseWrite()
			}
			if i%5 != 0 {
				readToClose(t, c)
			}
			_ = c.Close()
		}
		held := h.dial(t) // still held at Stop
		waitFor(t, "1 held", func() bool { return h.l.Stats().Held == 1 })
		h.stop(t)
		readToClose(t, held)
		_ = held.Close()
	}
	exercise() // warm-up: the runtime's netpoller opens its own fds once
	before := openFDs(t)
	exercise()
	if after := openFDs(t); after != before {
		t.Errorf("open fds: %d before, %d after", before, after)
	}
}

// TestIdleMemoryPerConn: a silent pending conn must stay cheap, since a
// flood of them is the cheapest attack.
func TestIdleMemoryPerConn(t *testing.T) {
	const n = 1000
	var rl unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &rl); err != nil || rl.Cur < 3*n {
		t.Skipf("RLIMIT_NOFILE %d too low for %d conns", rl.Cur, n)
	}
	h := start(t, Config{})
	fds := make([]int, 0, n)
	t.Cleanup(func() {
		for _, fd := range fds {
			_ = unix.Close(fd)
		}
	})
	before := heapAfterGC()
	for range n {
		fds = append(fds, rawDial(t, h.l.Addr()))
	}
	waitFor(t, "all held", func() bool { return h.l.Stats().Held == n })
	per := (int64(heapAfterGC()) - int64(before)) / n
	t.Logf("%d bytes of heap per pending conn", per)
	if per >= 1024 {
		t.Errorf("%d bytes of heap per pending conn, want < 1024", per)
	}
}

func heapAfterGC() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// TestHandoffAfterEpollDel: once handed off, the fd is out of the loop's
// epoll set, even while the new owner keeps it open with unread input.
func TestHandoffAfterEpollDel(t *testing.T) {
	kept := make(chan int, 1)
	h := start(t, Config{Handoff: func(fd int, _ []byte, _ netip.AddrPort) { kept <- fd }})
	epfd := h.l.epfd
	c := h.dial(t)
	write(t, c, hello(100, 16384))
	var fd int
	select {
	case fd = <-kept:
	case <-time.After(wait):
		t.Fatal("no handoff")
	}
	defer unix.Close(fd)
	before := h.l.Stats()
	write(t, c, []byte("unread bytes that keep the fd readable"))
	time.Sleep(100 * time.Millisecond) // give a stale registration time to fire

	watched := epollTargets(t, epfd)
	if watched[fd] {
		t.Errorf("handed-off fd %d still in the loop's epoll set %v", fd, watched)
	}
	if !watched[h.l.lfd] {
		t.Errorf("listener fd %d missing from epoll set %v; fdinfo format changed?", h.l.lfd, watched)
	}
	if after := h.l.Stats(); after != before {
		t.Errorf("stats moved after handoff: %+v -> %+v", before, after)
	}
	h.stop(t)
	if h.l.stale != 0 {
		t.Errorf("loop saw %d events for fds it does not hold", h.l.stale)
	}
}

// epollTargets lists the fds registered in epfd, from the kernel's view.
func epollTargets(t *testing.T, epfd int) map[int]bool {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/self/fdinfo/%d", epfd))
	if err != nil {
		t.Fatal(err)
	}
	fds := map[int]bool{}
	for _, line := range strings.Split(string(b), "\n") {
		var fd int
		if _, err := fmt.Sscanf(line, "tfd: %d", &fd); err == nil {
			fds[fd] = true
		}
	}
	return fds
}

// TestKernelKeepsRegistrationOfDupedFD pins the kernel behaviour behind the
// DEL-before-handoff rule: close(2) drops an epoll registration only when no
// other descriptor shares the socket, and net.FileConn makes such a dup.
// Afterwards the stale registration reports the closed number and can no
// longer be deleted through it.
func TestKernelKeepsRegistrationOfDupedFD(t *testing.T) {
	ep, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(ep)
	sp, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(sp[1])
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(sp[0])}
	if err := unix.EpollCtl(ep, unix.EPOLL_CTL_ADD, sp[0], &ev); err != nil {
		t.Fatal(err)
	}
	dup, err := unix.FcntlInt(uintptr(sp[0]), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(dup)
	closed := sp[0]
	if err := unix.Close(closed); err != nil {
		t.Fatal(err)
	}
	if _, err := unix.Write(sp[1], []byte("x")); err != nil {
		t.Fatal(err)
	}
	evs := make([]unix.EpollEvent, 4)
	n, err := unix.EpollWait(ep, evs, int(wait/time.Millisecond))
	if err != nil || n != 1 || int(evs[0].Fd) != closed {
		t.Fatalf("epoll_wait = %d events %v, %v; want 1 event for closed fd %d", n, evs[:max(n, 0)], err, closed)
	}
	if err := unix.EpollCtl(ep, unix.EPOLL_CTL_DEL, closed, nil); !errors.Is(err, unix.EBADF) {
		t.Errorf("DEL through the closed number: err = %v, want EBADF", err)
	}
}
