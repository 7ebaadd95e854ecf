package poller

import (
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// wait bounds every blocking step of a test; it is a hang guard, not a
// timing assertion.
const wait = 10 * time.Second

var (
	errHTTP    = errors.New("test: plaintext HTTP")
	errGarbage = errors.New("test: not a handshake record")
)

// frame mimics TLS framing: records with a 5-byte header (type 0x16, version,
// uint16 length) whose payloads concatenate into one handshake message with
// a 4-byte header (type, uint24 length). Bytes after the message are ignored.
func frame(buf []byte) (bool, error) {
	var msg []byte
	for len(buf) > 0 {
		switch {
		case msg == nil && buf[0] >= 'A' && buf[0] <= 'Z':
			return false, errHTTP
		case buf[0] != 0x16:
			return false, errGarbage
		case len(buf) < 5:
			return false, nil
		}
		n := int(buf[3])<<8 | int(buf[4])
		msg = append(msg, buf[5:min(len(buf), 5+n)]...)
		if len(msg) >= 4 && len(msg)-4 >= int(msg[1])<<16|int(msg[2])<<8|int(msg[3]) {
			return true, nil
		}
		if len(buf) < 5+n {
			return false, nil
		}
		buf = buf[5+n:]
	}
	return false, nil
}

// hello returns a handshake message with a body of n bytes, framed in records
// carrying at most per bytes of it each.
func hello(n, per int) []byte {
	msg := []byte{1, byte(n >> 16), byte(n >> 8), byte(n)}
	for i := range n {
		msg = append(msg, byte(i))
	}
	var out []byte
	for len(msg) > 0 {
		k := min(per, len(msg))
		out = append(out, 0x16, 3, 1, byte(k>>8), byte(k))
		out = append(out, msg[:k]...)
		msg = msg[k:]
	}
	return out
}

type handed struct {
	fd     int
	buf    []byte
	remote netip.AddrPort
}

type harness struct {
	l    *Loop
	got  chan handed
	done chan error
	once sync.Once
	err  error
}

// start runs a Loop on 127.0.0.1:0 with frame and a Handoff that closes the
// fd and records the rest, unless cfg sets its own.
func start(t testing.TB, cfg Config) *harness {
	t.Helper()
	h := &harness{got: make(chan handed, 1024), done: make(chan error, 1)}
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	if cfg.Framer == nil {
		cfg.Framer = frame
	}
	if cfg.Handoff == nil {
		cfg.Handoff = func(fd int, buf []byte, remote netip.AddrPort) {
			_ = unix.Close(fd)
			h.got <- handed{fd, buf, remote}
		}
	}
	l, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	h.l = l
	go func() { h.done <- l.Run() }()
	t.Cleanup(func() { h.stop(t) })
	return h
}

// stop stops the loop and waits for Run; safe to call more than once.
func (h *harness) stop(t testing.TB) {
	t.Helper()
	h.once.Do(func() {
		if err := h.l.Stop(); err != nil {
			t.Errorf("Stop: %v", err)
		}
		select {
		case h.err = <-h.done:
		case <-time.After(wait):
			t.Fatal("Run did not return after Stop")
		}
		if h.err != nil {
			t.Errorf("Run: %v", h.err)
		}
	})
}

func (h *harness) handoff(t testing.TB) handed {
	t.Helper()
	select {
	case g := <-h.got:
		return g
	case <-time.After(wait):
		t.Fatalf("no handoff; stats %+v", h.l.Stats())
		return handed{}
	}
}

func (h *harness) dial(t testing.TB) *net.TCPConn {
	t.Helper()
	c, err := net.DialTCP("tcp", nil, h.l.Addr())
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// readToClose reads until the server closes c and returns what it sent; a
// reset counts as a close, since the loop may close with unread input.
func readToClose(t testing.TB, c net.Conn) []byte {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(wait))
	b, err := io.ReadAll(c)
	if err != nil && !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("want close, got %v", err)
	}
	return b
}

func write(t testing.TB, c net.Conn, b []byte) {
	t.Helper()
	if _, err := c.Write(b); err != nil {
		t.Fatalf("write: %v", err)
	}
}

// waitFor polls cond; the loop updates Held asynchronously to a client's dial.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(wait); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// rawDial connects with plain syscalls, so the test's own heap stays out of
// memory measurements and benchmarks.
func rawDial(t testing.TB, addr *net.TCPAddr) int {
	t.Helper()
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatalf("socket: %v", err)
	}
	sa := &unix.SockaddrInet4{Port: addr.Port}
	copy(sa.Addr[:], addr.IP.To4())
	if err := unix.Connect(fd, sa); err != nil {
		_ = unix.Close(fd)
		t.Fatalf("connect: %v", err)
	}
	return fd
}

// openFDs counts this process's descriptors; the ReadDir's own fd is in
// every count, so differences are exact.
func openFDs(t testing.TB) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatalf("read /proc/self/fd: %v", err)
	}
	return len(ents)
}
