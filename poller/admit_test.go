package poller

import (
	"errors"
	"net"
	"net/netip"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	logtest "github.com/sirupsen/logrus/hooks/test"
)

var errDenied = errors.New("test: denied")

// gate is an Admit/Release pair that records every call and refuses the
// addresses in deny. The loop calls it while the test reads it, hence mu.
type gate struct {
	deny map[netip.Addr]bool

	mu             sync.Mutex
	asked, release []netip.AddrPort
}

func (g *gate) with(cfg Config) Config {
	cfg.Admit = func(remote netip.AddrPort) error {
		g.mu.Lock()
		defer g.mu.Unlock()
		g.asked = append(g.asked, remote)
		if g.deny[remote.Addr()] {
			return errDenied
		}
		return nil
	}
	cfg.Release = func(remote netip.AddrPort) {
		g.mu.Lock()
		defer g.mu.Unlock()
		g.release = append(g.release, remote)
	}
	return cfg
}

// check compares the calls so far with the wanted ones, in order.
func (g *gate) check(t *testing.T, asked, released []netip.AddrPort) {
	t.Helper()
	g.mu.Lock()
	defer g.mu.Unlock()
	if !slices.Equal(g.asked, asked) {
		t.Errorf("Admit called with %v, want %v", g.asked, asked)
	}
	if !slices.Equal(g.release, released) {
		t.Errorf("Release called with %v, want %v", g.release, released)
	}
}

func local(c net.Conn) netip.AddrPort { return c.LocalAddr().(*net.TCPAddr).AddrPort() }

// TestAdmitRefuses: a refused conn is closed at once, counted, logged with
// Admit's error and never released; an admitted one is held and released
// when Run closes it at shutdown.
func TestAdmitRefuses(t *testing.T) {
	lg, hook := logtest.NewNullLogger()
	lg.SetLevel(logrus.DebugLevel)
	g := &gate{deny: map[netip.Addr]bool{netip.MustParseAddr("127.0.0.2"): true}}
	// A long HelloTimeout: only a refusal can close a conn within the test.
	h := start(t, g.with(Config{HelloTimeout: time.Minute, Log: logrus.NewEntry(lg)}))

	refused := dialFrom(t, h, "127.0.0.2")
	readToClose(t, refused)
	held := dialFrom(t, h, "127.0.0.1")
	waitFor(t, "1 held", func() bool { return h.l.Stats().Held == 1 })
	if s := h.l.Stats(); s.Refused != 1 || s.Accepted != 2 {
		t.Errorf("stats = %+v, want 1 refused, 2 accepted", s)
	}
	h.stop(t)
	g.check(t, []netip.AddrPort{local(refused), local(held)}, []netip.AddrPort{local(held)})

	var logged bool
	for _, e := range hook.AllEntries() {
		err, _ := e.Data[logrus.ErrorKey].(error)
		if e.Data["reason"] == "refused" && e.Data["remote"] == local(refused).String() && errors.Is(err, errDenied) {
			logged = true
		}
	}
	if !logged {
		t.Errorf("no Debug line for the refused conn with Admit's error; got %d entries", len(hook.AllEntries()))
	}
}

// TestReleaseOncePerClose: every way the loop closes an admitted conn
// releases it exactly once; a handoff does not.
func TestReleaseOncePerClose(t *testing.T) {
	for _, tc := range []struct {
		name    string
		cfg     Config
		act     func(t *testing.T, h *harness, c *net.TCPConn)
		release bool
	}{
		{"timeout", Config{HelloTimeout: 100 * time.Millisecond}, func(t *testing.T, _ *harness, c *net.TCPConn) {
			readToClose(t, c)
		}, true},
		{"peer closed", Config{}, func(t *testing.T, _ *harness, c *net.TCPConn) {
			write(t, c, hello(100, 16384)[:20])
			_ = c.CloseWrite()
			readToClose(t, c)
		}, true},
		{"rejected", Config{}, func(t *testing.T, _ *harness, c *net.TCPConn) {
			write(t, c, []byte("GET / HTTP/1.1\r\n"))
			readToClose(t, c)
		}, true},
		{"too large", Config{MaxHelloBytes: 1024}, func(t *testing.T, _ *harness, c *net.TCPConn) {
			_, _ = c.Write(hello(4000, 500)) // may fail once the server resets
			readToClose(t, c)
		}, true},
		{"shutdown", Config{}, func(t *testing.T, h *harness, _ *net.TCPConn) {
			waitFor(t, "1 held", func() bool { return h.l.Stats().Held == 1 })
		}, true},
		{"handoff", Config{}, func(t *testing.T, h *harness, c *net.TCPConn) {
			write(t, c, hello(100, 16384))
			h.handoff(t)
		}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := &gate{}
			h := start(t, g.with(tc.cfg))
			c := h.dial(t)
			tc.act(t, h, c)
			h.stop(t) // Run's return orders every call before the check
			var released []netip.AddrPort
			if tc.release {
				released = []netip.AddrPort{local(c)}
			}
			g.check(t, []netip.AddrPort{local(c)}, released)
		})
	}
}

// TestAdmitAfterPreface: with a Preface, Admit sees the address it names,
// once it is done; a conn that leaves before is neither admitted nor
// released.
func TestAdmitAfterPreface(t *testing.T) {
	g := &gate{deny: map[netip.Addr]bool{netip.MustParseAddr("192.0.2.66"): true}}
	h := start(t, g.with(Config{Preface: toyPreface, HelloTimeout: time.Minute}))
	a, denied, b := netip.MustParseAddrPort("192.0.2.1:1"), netip.MustParseAddrPort("192.0.2.66:1"),
		netip.MustParseAddrPort("192.0.2.1:2")

	write(t, h.dial(t), append([]byte("@192.0.2.1:1\n"), hello(50, 16384)...))
	if got := h.handoff(t); got.remote != a {
		t.Errorf("handoff from %v, want %v", got.remote, a)
	}
	c := h.dial(t)
	write(t, c, []byte("@192.0.2.66:1\n"))
	readToClose(t, c)
	c = h.dial(t)
	write(t, c, append([]byte("@192.0.2.1:2\n"), hello(50, 16384)[:9]...))
	_ = c.CloseWrite()
	readToClose(t, c)
	c = h.dial(t)
	write(t, c, []byte("@192.0."))
	_ = c.CloseWrite()
	readToClose(t, c)

	h.stop(t)
	g.check(t, []netip.AddrPort{a, denied, b}, []netip.AddrPort{b})
	want := Stats{Accepted: 4, Handoffs: 1, Refused: 1, PeerClosed: 2}
	if s := h.l.Stats(); !reflect.DeepEqual(s, want) {
		t.Errorf("stats = %+v, want %+v", s, want)
	}
}
