package poller

import (
	"container/list"
	"math"
	"net/netip"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// maxBuckets bounds the rate limiter's memory: a flood from more addresses
// than this evicts the least recently seen, which then start over with a full
// bucket. At about 200 bytes per address that is some 13 MB at worst.
const maxBuckets = 64 << 10

// limits enforces MaxPerIP and RatePerIP. Only the loop admits; Release comes
// from the goroutines serving handed-off conns, hence the mutex on live.
type limits struct {
	max  int
	mu   sync.Mutex
	live map[netip.Addr]int // per key: conns admitted and not yet released

	rate    rate.Limit
	burst   int
	cap     int                          // maxBuckets; tests lower it
	lru     list.List                    // of *bucket, most recent first; loop only
	buckets map[netip.Addr]*list.Element // loop only
}

type bucket struct {
	key netip.Addr
	tb  *rate.Limiter
}

func newLimits(cfg Config) *limits {
	m := &limits{max: max(cfg.MaxPerIP, 0), burst: cfg.BurstPerIP, cap: maxBuckets,
		live: make(map[netip.Addr]int), buckets: make(map[netip.Addr]*list.Element)}
	if cfg.RatePerIP > 0 { // false for NaN too
		m.rate = rate.Limit(cfg.RatePerIP)
	}
	if m.burst <= 0 {
		m.burst = int(min(max(1, math.Ceil(float64(m.rate))), 1<<30))
	}
	return m
}

// key groups addresses the way one client holds them: an IPv4 address, or an
// IPv6 /64, the smallest block a provider hands one subscriber (a client
// could otherwise rotate through 2^64 addresses).
func key(a netip.Addr) netip.Addr {
	a = a.Unmap().WithZone("")
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.Addr()
	}
	return a
}

// admit decides on a new conn from a. The rate is checked first, so that
// every attempt spends a token, then the concurrency cap; on success the
// conn holds a slot until release.
func (m *limits) admit(a netip.Addr) (reason, bool) {
	if m.rate == 0 && m.max == 0 {
		return 0, true
	}
	k := key(a)
	if m.rate > 0 && !m.take(k) {
		return reasonRate, false
	}
	if m.max == 0 {
		return 0, true
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.live[k] >= m.max {
		return reasonPerIP, false
	}
	m.live[k]++
	return 0, true
}

// release returns the slot admit gave a conn from a.
func (m *limits) release(a netip.Addr) {
	if m.max == 0 {
		return
	}
	k := key(a)
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
func (m *limits) take(k netip.Addr) bool {
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
