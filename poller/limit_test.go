package poller

import (
	"net/netip"
	"testing"
	"time"
)

// TestMaxPerIP: silent conns fill one address's quota; another address is
// unaffected; a closed conn frees its slot; a handed-off conn keeps its slot
// until Release.
func TestMaxPerIP(t *testing.T) {
	// A long HelloTimeout: a conn that is not limited stays open past the
	// test's read deadline, so readToClose can only pass on a limit close.
	h := start(t, Config{MaxPerIP: 2, HelloTimeout: time.Minute})
	a1, a2 := dialFrom(t, h, "127.0.0.1"), dialFrom(t, h, "127.0.0.1")
	waitFor(t, "2 held", func() bool { return h.l.Stats().Held == 2 })
	readToClose(t, dialFrom(t, h, "127.0.0.1"))
	dialFrom(t, h, "127.0.0.2")
	waitFor(t, "3 held", func() bool { return h.l.Stats().Held == 3 })

	_ = a1.Close()
	waitFor(t, "a1's close", func() bool { return h.l.Stats().PeerClosed == 1 })
	dialFrom(t, h, "127.0.0.1")
	waitFor(t, "3 held again", func() bool { return h.l.Stats().Held == 3 })

	write(t, a2, hello(100, 16384))
	g := h.handoff(t)
	readToClose(t, dialFrom(t, h, "127.0.0.1")) // a2 is in flight, a4 held
	h.l.Release(g.remote)
	dialFrom(t, h, "127.0.0.1")
	waitFor(t, "3 held after Release", func() bool { return h.l.Stats().Held == 3 })

	if s := h.l.Stats(); s.PerIPLimited != 2 || s.RateLimited != 0 {
		t.Errorf("stats = %+v, want 2 per-IP limited, 0 rate limited", s)
	}
}

// TestRatePerIP: a burst from one address past its bucket is closed at once,
// while another address still gets in.
func TestRatePerIP(t *testing.T) {
	// One token per 1000 s: no refill can happen during the test.
	h := start(t, Config{RatePerIP: 0.001, BurstPerIP: 3, HelloTimeout: time.Minute})
	for range 3 {
		dialFrom(t, h, "127.0.0.1")
	}
	waitFor(t, "3 held", func() bool { return h.l.Stats().Held == 3 })
	for range 2 {
		readToClose(t, dialFrom(t, h, "127.0.0.1"))
	}
	c := dialFrom(t, h, "127.0.0.2")
	write(t, c, hello(100, 16384))
	if g := h.handoff(t); g.remote.Addr() != netip.MustParseAddr("127.0.0.2") {
		t.Errorf("handoff from %v, want 127.0.0.2", g.remote)
	}
	if s := h.l.Stats(); s.RateLimited != 2 || s.Held != 3 || s.Accepted != 6 {
		t.Errorf("stats = %+v, want 2 rate limited, 3 held, 6 accepted", s)
	}
}

// TestLimitsUsePrefaceRemote: with a Preface, the address it names is the
// one limited, not the peer's (a load balancer's, shared by all clients).
func TestLimitsUsePrefaceRemote(t *testing.T) {
	h := start(t, Config{Preface: toyPreface, MaxPerIP: 1, HelloTimeout: time.Minute})
	write(t, h.dial(t), []byte("@192.0.2.1:1\n"))
	waitFor(t, "1 held", func() bool { return h.l.Stats().Held == 1 })
	h.dial(t) // no preface yet: not counted against anyone
	c := h.dial(t)
	write(t, c, []byte("@192.0.2.1:2\n"))
	readToClose(t, c)
	write(t, h.dial(t), append([]byte("@192.0.2.2:1\n"), hello(50, 16384)...))
	if g := h.handoff(t); g.remote != netip.MustParseAddrPort("192.0.2.2:1") {
		t.Errorf("handoff from %v, want 192.0.2.2:1", g.remote)
	}
	if s := h.l.Stats(); s.PerIPLimited != 1 || s.Held != 2 {
		t.Errorf("stats = %+v, want 1 per-IP limited, 2 held", s)
	}
}

func TestLimitKey(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"192.0.2.1", "192.0.2.1"},
		{"::ffff:192.0.2.1", "192.0.2.1"},
		{"2001:db8:1:2:3:4:5:6", "2001:db8:1:2::"},
		{"2001:db8:1:2::ffff", "2001:db8:1:2::"},
		{"fe80::1%eth0", "fe80::"},
	} {
		if got := key(netip.MustParseAddr(tc.in)); got != netip.MustParseAddr(tc.want) {
			t.Errorf("key(%s) = %v, want %s", tc.in, got, tc.want)
		}
	}
}

func TestDefaultBurst(t *testing.T) {
	for _, tc := range []struct {
		rate        float64
		burst, want int
	}{
		{0.001, 0, 1}, {1, 0, 1}, {2.5, 0, 3}, {10, 0, 10}, {10, 4, 4},
	} {
		if got := newLimits(Config{RatePerIP: tc.rate, BurstPerIP: tc.burst}).burst; got != tc.want {
			t.Errorf("rate %v burst %d: burst = %d, want %d", tc.rate, tc.burst, got, tc.want)
		}
	}
}

// TestRateBucketsBounded: the LRU forgets the least recently seen address,
// which then starts over with a full bucket.
func TestRateBucketsBounded(t *testing.T) {
	m := newLimits(Config{RatePerIP: 0.001, BurstPerIP: 1})
	m.cap = 2
	a, b, c := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2"), netip.MustParseAddr("192.0.2.3")
	for i, step := range []struct {
		addr netip.Addr
		ok   bool
	}{
		{a, true}, {a, false}, {b, true}, {c, true}, // c evicts a
		{a, true}, // a starts over; b is evicted
		{c, false}, {a, false},
	} {
		if _, ok := m.admit(step.addr); ok != step.ok {
			t.Errorf("step %d: admit(%v) = %v, want %v", i, step.addr, ok, step.ok)
		}
		if m.lru.Len() > 2 || len(m.buckets) > 2 {
			t.Fatalf("step %d: %d buckets, %d in the map; cap is 2", i, m.lru.Len(), len(m.buckets))
		}
	}
}

// TestReleaseUnknown: a stray Release neither panics nor lends a slot.
func TestReleaseUnknown(t *testing.T) {
	m := newLimits(Config{MaxPerIP: 1})
	a := netip.MustParseAddr("192.0.2.1")
	m.release(a)
	if _, ok := m.admit(a); !ok {
		t.Fatal("first admit refused")
	}
	if why, ok := m.admit(a); ok || why != reasonPerIP {
		t.Errorf("second admit = %v, %v; want refused for the per-IP cap", why, ok)
	}
	m.release(a)
	m.release(a)
	if len(m.live) != 0 {
		t.Errorf("live = %v, want empty", m.live)
	}
}
