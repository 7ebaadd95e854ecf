package main

// Per-client limits (--max-per-ip, --rate-per-ip, --burst-per-ip), plugged
// into the loop as its Admit and Release hooks: the loop only asks.

import (
	"container/list"
	"errors"
	"math"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// Why a limiter refused a conn; the loop logs it on the close.
var (
	errPerIP = errors.New("per-IP limit")
	errRate  = errors.New("rate limit")
)

// maxBuckets bounds the rate limiter's memory: a flood from more addresses
// than this evicts the least recently seen, which then start over with a full
// bucket. At about 200 bytes per address that is some 13 MB at worst.
const maxBuckets = 64 << 10

// limiter enforces --max-per-ip and --rate-per-ip. Only the loop admits;
// release comes from the loop (conns it closed) and from the goroutines
// serving handed-off conns, hence the mutex on live.
type limiter struct {
	max  int
	mu   sync.Mutex
	live map[netip.Addr]int // per key: conns admitted and not yet released

	rate    rate.Limit
	burst   int
	cap     int                          // maxBuckets; tests lower it
	lru     list.List                    // of *bucket, most recent first; loop only
	buckets map[netip.Addr]*list.Element // loop only

	// Refusals, for the metrics: written on the loop, read at scrape time.
	perIPLimited, rateLimited atomic.Uint64
}

type bucket struct {
	key netip.Addr
	tb  *rate.Limiter
}

// newLimiter takes the flag values; zero or less turns a limit off, and a
// burst of zero or less means max(1, ⌈ratePerIP⌉).
func newLimiter(maxPerIP int, ratePerIP float64, burstPerIP int) *limiter {
	m := &limiter{max: max(maxPerIP, 0), burst: burstPerIP, cap: maxBuckets,
		live: make(map[netip.Addr]int), buckets: make(map[netip.Addr]*list.Element)}
	if ratePerIP > 0 { // false for NaN too
		m.rate = rate.Limit(ratePerIP)
	}
	if m.burst <= 0 {
		m.burst = int(min(max(1, math.Ceil(float64(m.rate))), 1<<30))
	}
	return m
}

// limitKey groups addresses the way one client holds them: an IPv4 address,
// or an IPv6 /64, the smallest block a provider hands one subscriber (a
// client could otherwise rotate through 2^64 addresses).
func limitKey(a netip.Addr) netip.Addr {
	a = a.Unmap().WithZone("")
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.Addr()
	}
	return a
}

// admit is the loop's Admit hook. The rate is checked first, so that every
// attempt spends a token, then the concurrency cap; on success the conn
// holds a slot until release.
func (m *limiter) admit(remote netip.AddrPort) error {
	if m.rate == 0 && m.max == 0 {
		return nil
	}
	k := limitKey(remote.Addr())
	if m.rate > 0 && !m.take(k) {
		m.rateLimited.Add(1)
		return errRate
	}
	if m.max == 0 {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.live[k] >= m.max {
		m.perIPLimited.Add(1)
		return errPerIP
	}
	m.live[k]++
	return nil
}

// release returns the slot admit gave a conn from remote. The loop calls it
// for the conns it closes, the Handoff side for the others (edge.go).
func (m *limiter) release(remote netip.AddrPort) {
	if m.max == 0 {
		return
	}
	k := limitKey(remote.Addr())
	m.mu.Lock()
	defer m.mu.Unlock()
	switch n := m.live[k]; {
	case n > 1:
		m.live[k] = n - 1
	case n == 1:
		delete(m.live, k) // the map only holds addresses with live conns
	}
}

// take spends one token of k's bucket, creating or refreshing it in the LRU.
func (m *limiter) take(k netip.Addr) bool {
	e := m.buckets[k]
	switch {
	case e != nil:
		m.lru.MoveToFront(e)
	case m.lru.Len() >= m.cap:
		e = m.lru.Back() // evict the least recently seen, reusing its element
		b := e.Value.(*bucket)
		delete(m.buckets, b.key)
		b.key, b.tb = k, rate.NewLimiter(m.rate, m.burst)
		m.lru.MoveToFront(e)
		m.buckets[k] = e
	default:
		e = m.lru.PushFront(&bucket{key: k, tb: rate.NewLimiter(m.rate, m.burst)})
		m.buckets[k] = e
	}
	return e.Value.(*bucket).tb.AllowN(time.Now(), 1)
}
