package main

import (
	"errors"
	"net/netip"
	"runtime"
	"sync"
	"testing"
)

func mustAP(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }

// TestLimiterMaxPerIP: conns fill one client's quota (an IPv4 address or an
// IPv6 /64); another client is unaffected; a release frees a slot.
func TestLimiterMaxPerIP(t *testing.T) {
	m := newLimiter(2, 0, 0)
	for i, step := range []struct {
		remote string
		want   error
	}{
		{"192.0.2.1:1", nil},
		{"192.0.2.1:2", nil},
		{"192.0.2.1:3", errPerIP},
		{"192.0.2.2:1", nil},
		{"[2001:db8:1:2::1]:1", nil},
		{"[2001:db8:1:2::2]:1", nil},
		{"[2001:db8:1:2:ffff::3]:1", errPerIP}, // same /64
		{"[2001:db8:1:3::1]:1", nil},
	} {
		if err := m.admit(mustAP(step.remote)); !errors.Is(err, step.want) || (err == nil) != (step.want == nil) {
			t.Errorf("step %d: admit(%s) = %v, want %v", i, step.remote, err, step.want)
		}
	}
	m.release(mustAP("192.0.2.1:1"))
	if err := m.admit(mustAP("192.0.2.1:4")); err != nil {
		t.Errorf("admit after a release = %v, want nil", err)
	}
	if p, r := m.perIPLimited.Load(), m.rateLimited.Load(); p != 2 || r != 0 {
		t.Errorf("counted %d per-IP and %d rate refusals, want 2 and 0", p, r)
	}
}

// TestLimiterRate: a burst from one address past its bucket is refused,
// another address still gets in; without --max-per-ip nothing is held.
func TestLimiterRate(t *testing.T) {
	m := newLimiter(0, 0.001, 3) // one token per 1000 s: no refill during the test
	for i := range 5 {
		err := m.admit(mustAP("192.0.2.1:1"))
		if want := i >= 3; want != errors.Is(err, errRate) || (!want && err != nil) {
			t.Errorf("conn %d: admit = %v, want refused: %v", i, err, want)
		}
	}
	if err := m.admit(mustAP("192.0.2.2:1")); err != nil {
		t.Errorf("another address: admit = %v", err)
	}
	if p, r := m.perIPLimited.Load(), m.rateLimited.Load(); p != 0 || r != 2 {
		t.Errorf("counted %d per-IP and %d rate refusals, want 0 and 2", p, r)
	}
	if len(m.live) != 0 {
		t.Errorf("live = %v without --max-per-ip, want empty", m.live)
	}
}

// TestLimiterRateFirst: every attempt spends a token, even one the per-IP
// cap then refuses, so a client hammering at its cap also runs out of rate.
func TestLimiterRateFirst(t *testing.T) {
	m := newLimiter(1, 0.001, 2)
	a := mustAP("192.0.2.1:1")
	for i, want := range []error{nil, errPerIP, errRate} {
		if err := m.admit(a); !errors.Is(err, want) || (err == nil) != (want == nil) {
			t.Errorf("step %d: admit = %v, want %v", i, err, want)
		}
	}
}

// TestLimiterOff: with no limit, every conn is admitted and nothing is kept.
func TestLimiterOff(t *testing.T) {
	m := newLimiter(0, 0, 0)
	for range 3 {
		if err := m.admit(mustAP("192.0.2.1:1")); err != nil {
			t.Fatalf("admit = %v", err)
		}
	}
	m.release(mustAP("192.0.2.1:1"))
	if len(m.live) != 0 || m.lru.Len() != 0 {
		t.Errorf("%d live, %d buckets; want none", len(m.live), m.lru.Len())
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
		if got := limitKey(netip.MustParseAddr(tc.in)); got != netip.MustParseAddr(tc.want) {
			t.Errorf("limitKey(%s) = %v, want %s", tc.in, got, tc.want)
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
		if got := newLimiter(0, tc.rate, tc.burst).burst; got != tc.want {
			t.Errorf("rate %v burst %d: burst = %d, want %d", tc.rate, tc.burst, got, tc.want)
		}
	}
}

// TestRateBucketsBounded: the LRU forgets the least recently seen address,
// which then starts over with a full bucket.
func TestRateBucketsBounded(t *testing.T) {
	m := newLimiter(0, 0.001, 1)
	m.cap = 2
	a, b, c := mustAP("192.0.2.1:1"), mustAP("192.0.2.2:1"), mustAP("192.0.2.3:1")
	for i, step := range []struct {
		remote netip.AddrPort
		ok     bool
	}{
		{a, true}, {a, false}, {b, true}, {c, true}, // c evicts a
		{a, true}, // a starts over; b is evicted
		{c, false}, {a, false},
	} {
		if err := m.admit(step.remote); (err == nil) != step.ok {
			t.Errorf("step %d: admit(%v) = %v, want ok %v", i, step.remote, err, step.ok)
		}
		if m.lru.Len() > 2 || len(m.buckets) > 2 {
			t.Fatalf("step %d: %d buckets, %d in the map; cap is 2", i, m.lru.Len(), len(m.buckets))
		}
	}
}

// TestReleaseUnknown: a stray release neither panics nor lends a slot.
func TestReleaseUnknown(t *testing.T) {
	m := newLimiter(1, 0, 0)
	a := mustAP("192.0.2.1:1")
	m.release(a)
	if err := m.admit(a); err != nil {
		t.Fatalf("first admit = %v", err)
	}
	if err := m.admit(a); !errors.Is(err, errPerIP) {
		t.Errorf("second admit = %v; want %v", err, errPerIP)
	}
	m.release(a)
	m.release(a)
	if len(m.live) != 0 {
		t.Errorf("live = %v, want empty", m.live)
	}
}

// TestLimiterConcurrentRelease: one goroutine admits, as the loop does,
// while the goroutines serving admitted conns release them; every slot comes
// back. It is meant for -race.
func TestLimiterConcurrentRelease(t *testing.T) {
	const conns, perIP = 200, 4
	m := newLimiter(perIP, 0, 0)
	var wg sync.WaitGroup
	refused := 0
	for i := 0; i < conns; {
		remote := netip.AddrPortFrom(netip.AddrFrom4([4]byte{192, 0, 2, byte(i % 2)}), uint16(i))
		switch err := m.admit(remote); {
		case errors.Is(err, errPerIP):
			refused++
			runtime.Gosched() // let a release happen
			continue
		case err != nil:
			t.Fatalf("admit = %v", err)
		}
		wg.Go(func() { m.release(remote) })
		i++
	}
	wg.Wait()
	if len(m.live) != 0 {
		t.Errorf("live = %v after every release, want empty", m.live)
	}
	if got := m.perIPLimited.Load(); got != uint64(refused) {
		t.Errorf("counted %d per-IP refusals, saw %d", got, refused)
	}
}
