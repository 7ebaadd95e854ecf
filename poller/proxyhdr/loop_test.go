package proxyhdr

import (
	"bytes"
	"errors"
	"io"
	"net"
	"net/netip"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ja3sentry/ja3echo/poller"
)

const wait = 10 * time.Second // hang guard, never asserted on

type handed struct {
	buf    []byte
	remote netip.AddrPort
}

// TestThroughLoop runs Policy.Preface in a real poller loop: headers are
// stripped and their address adopted, and refused conns are closed and
// counted by both the loop and the policy.
func TestThroughLoop(t *testing.T) {
	pol := &Policy{Trusted: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}}
	got := make(chan handed, 16)
	l, err := poller.New(poller.Config{
		Addr:    "127.0.0.1:0",
		Preface: pol.Preface,
		// A one-byte "message" stands in for a ClientHello.
		Framer: func(buf []byte) (bool, error) {
			if buf[0] != 0x16 {
				return false, errors.New("not TLS")
			}
			return true, nil
		},
		Handoff: func(fd int, buf []byte, remote netip.AddrPort) {
			_ = unix.Close(fd)
			got <- handed{buf, remote}
		},
		HelloTimeout: time.Minute, // conns that are not refused outlive the test's reads
	})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- l.Run() }()
	t.Cleanup(func() {
		_ = l.Stop()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	dial := func(from string, b []byte) net.Conn {
		t.Helper()
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: wait}
		c, err := d.Dial("tcp", l.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Close() })
		if _, err := c.Write(b); err != nil {
			t.Fatal(err)
		}
		return c
	}
	handoff := func() handed {
		t.Helper()
		select {
		case h := <-got:
			return h
		case <-time.After(wait):
			t.Fatalf("no handoff; loop %+v, policy %+v", l.Stats(), pol.Stats())
			return handed{}
		}
	}
	closed := func(c net.Conn) {
		t.Helper()
		_ = c.SetReadDeadline(time.Now().Add(wait))
		if b, err := io.ReadAll(c); len(b) != 0 || (err != nil && !errors.Is(err, syscall.ECONNRESET)) {
			t.Fatalf("want a close, got %q, %v", b, err)
		}
	}
	tls := []byte{0x16, 3, 1, 0, 1, 1}
	v2 := encode(t, 2, "192.0.2.7:51234", "127.0.0.1:443")

	dial("127.0.0.1", append(v2, tls...))
	if h := handoff(); h.remote != netip.MustParseAddrPort("192.0.2.7:51234") || !bytes.Equal(h.buf, tls) {
		t.Errorf("proxied: handoff %x from %v, want %x from 192.0.2.7:51234", h.buf, h.remote, tls)
	}
	c := dial("127.0.0.1", append(local(t), tls...))
	if h := handoff(); h.remote != c.LocalAddr().(*net.TCPAddr).AddrPort() || !bytes.Equal(h.buf, tls) {
		t.Errorf("LOCAL: handoff %x from %v, want %x from %v", h.buf, h.remote, tls, c.LocalAddr())
	}
	c = dial("127.0.0.2", tls)
	if h := handoff(); h.remote != c.LocalAddr().(*net.TCPAddr).AddrPort() {
		t.Errorf("untrusted without header: handoff from %v, want %v", h.remote, c.LocalAddr())
	}
	closed(dial("127.0.0.2", append(v2, tls...)))
	closed(dial("127.0.0.1", tls))
	closed(dial("127.0.0.1", []byte("PROXY TCP4 1.2.3.4\r\n")))

	if s := l.Stats(); s.PrefaceErrors != 3 || s.Handoffs != 3 || s.Rejected != 0 {
		t.Errorf("loop stats = %+v, want 3 preface errors, 3 handoffs, 0 rejected", s)
	}
	if s, want := pol.Stats(), (Stats{Proxied: 1, Local: 1, Untrusted: 1, Missing: 1, Invalid: 1}); s != want {
		t.Errorf("policy stats = %+v, want %+v", s, want)
	}
}
