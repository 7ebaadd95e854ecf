package poller

import (
	"bytes"
	"errors"
	"net"
	"net/netip"
	"testing"
	"time"
)

var errToy = errors.New("test: bad toy preface")

// toyPreface reads "@addr:port\n" (the client's address) or "@\n" (keep the
// peer's), a stand-in for a PROXY header that keeps these tests independent
// of any real preface format.
func toyPreface(buf []byte, _ netip.AddrPort) (int, netip.AddrPort, error) {
	switch i := bytes.IndexByte(buf, '\n'); {
	case len(buf) == 0:
		return 0, netip.AddrPort{}, ErrNeedMore
	case buf[0] != '@':
		return 0, netip.AddrPort{}, errToy
	case i < 0:
		return 0, netip.AddrPort{}, ErrNeedMore
	case i == 1:
		return 2, netip.AddrPort{}, nil
	default:
		ap, err := netip.ParseAddrPort(string(buf[1:i]))
		if err != nil {
			return 0, netip.AddrPort{}, errToy
		}
		return i + 1, ap, nil
	}
}

// dialFrom connects from a given loopback address, so tests can act as
// several clients.
func dialFrom(t testing.TB, h *harness, ip string) *net.TCPConn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: wait}
	c, err := d.Dial("tcp", h.l.Addr().String())
	if err != nil {
		t.Fatalf("dial from %s: %v", ip, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c.(*net.TCPConn)
}

func TestPrefaceStrippedAndRemoteAdopted(t *testing.T) {
	h := start(t, Config{Preface: toyPreface})
	msg := hello(300, 16384)
	want := netip.MustParseAddrPort("192.0.2.1:1234")

	// Preface and message in one write, as a load balancer usually sends.
	write(t, h.dial(t), append([]byte("@192.0.2.1:1234\n"), msg...))
	if g := h.handoff(t); !bytes.Equal(g.buf, msg) || g.remote != want {
		t.Errorf("handoff = %x from %v, want %x from %v", g.buf, g.remote, msg, want)
	}

	// One byte at a time: the preface and the message each need many reads.
	c := h.dial(t)
	for _, b := range append([]byte("@192.0.2.1:1234\n"), msg[:40]...) {
		write(t, c, []byte{b})
		time.Sleep(time.Millisecond)
	}
	write(t, c, msg[40:])
	if g := h.handoff(t); !bytes.Equal(g.buf, msg) || g.remote != want {
		t.Errorf("handoff = %x from %v, want %x from %v", g.buf, g.remote, msg, want)
	}
}

// TestPrefaceKeepsPeer: a preface that names no address (like PROXY's LOCAL)
// leaves the peer's.
func TestPrefaceKeepsPeer(t *testing.T) {
	h := start(t, Config{Preface: toyPreface})
	c := h.dial(t)
	msg := hello(100, 16384)
	write(t, c, append([]byte("@\n"), msg...))
	g := h.handoff(t)
	if want := c.LocalAddr().(*net.TCPAddr).AddrPort(); g.remote != want || !bytes.Equal(g.buf, msg) {
		t.Errorf("handoff = %x from %v, want %x from %v", g.buf, g.remote, msg, want)
	}
}

func TestPrefaceErrorCloses(t *testing.T) {
	h := start(t, Config{Preface: toyPreface, Framer: func([]byte) (bool, error) {
		t.Error("Framer called after a Preface error")
		return false, nil
	}})
	c := h.dial(t)
	write(t, c, []byte("x"))
	if b := readToClose(t, c); len(b) != 0 {
		t.Errorf("server sent %q", b)
	}
	if s := h.l.Stats(); s.PrefaceErrors != 1 || s.Rejected != 0 || s.Held != 0 {
		t.Errorf("stats = %+v, want 1 preface error, 0 rejected, 0 held", s)
	}
}

// TestPrefaceCapped: a preface that never ends is bounded by MaxHelloBytes.
func TestPrefaceCapped(t *testing.T) {
	h := start(t, Config{Preface: toyPreface, MaxHelloBytes: 64, HelloTimeout: time.Minute})
	c := h.dial(t)
	_, _ = c.Write(append([]byte("@"), bytes.Repeat([]byte("a"), 200)...)) // may fail once reset
	readToClose(t, c)
	if s := h.l.Stats(); s.TooLarge != 1 || s.Held != 0 {
		t.Errorf("stats = %+v, want 1 too large, 0 held", s)
	}
}

// TestPrefaceClaimingTooMuch: a buggy Preface cannot make the loop slice
// past its buffer.
func TestPrefaceClaimingTooMuch(t *testing.T) {
	h := start(t, Config{Preface: func(buf []byte, _ netip.AddrPort) (int, netip.AddrPort, error) {
		return len(buf) + 1, netip.AddrPort{}, nil
	}})
	c := h.dial(t)
	write(t, c, []byte("abc"))
	readToClose(t, c)
	if s := h.l.Stats(); s.Handoffs != 0 || s.Held != 0 {
		t.Errorf("stats = %+v, want 0 handoffs, 0 held", s)
	}
}
