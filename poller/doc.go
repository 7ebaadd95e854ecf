// Package poller accepts TCP connections on one goroutine with epoll and
// buffers each connection's first bytes until a caller-supplied Framer says
// they form a complete message; then it hands the socket over and forgets it.
//
// The loop never parses, hashes, handshakes or blocks: everything costly
// happens after the handoff, on the new owner's goroutine. Pending
// connections cost a small struct and, once they have sent something, a
// buffer sized to what they sent, so a flood of silent clients is cheap until
// HelloTimeout closes them.
//
// A connection leaves the loop in exactly one of two ways: it is closed by the
// loop (timeout, size cap, Framer error, hang-up, shutdown), or it is removed
// from epoll and passed to Handoff, which owns the fd from then on.
//
//	l, err := poller.New(poller.Config{
//		Addr:    "127.0.0.1:8443",
//		Framer:  fingerprint.Frame,
//		Handoff: srv.Handoff,
//	})
//	if err != nil { ... }
//	go func() { <-ctx.Done(); l.Stop() }()
//	err = l.Run()
package poller

import (
	"net/netip"
	"time"

	"github.com/sirupsen/logrus"
)

// Framer reports whether buf, every byte a connection has sent so far, holds a
// complete message. A non-nil error rejects the connection. It runs on the
// loop goroutine, so it must be fast and must not keep buf.
type Framer func(buf []byte) (complete bool, err error)

// Handoff receives a connection whose message is complete. It runs on the loop
// goroutine and must not block. It owns fd and buffered from then on: the loop
// has already removed fd from epoll and will never touch either again.
// buffered holds every byte read, which may extend past the message.
type Handoff func(fd int, buffered []byte, remote netip.AddrPort)

// Config configures a Loop. Framer and Handoff are required.
type Config struct {
	// Addr is "host:port" with an IPv4 or IPv6 literal or a resolvable name;
	// port 0 picks a free port (see Loop.Addr). An empty host listens on all
	// addresses, dual-stack when IPv6 is available.
	Addr    string
	Framer  Framer
	Handoff Handoff
	// OnReject is called on the loop for every Framer error and must not
	// block. The returned bytes, if any, are written best-effort with one
	// non-blocking write before the close (e.g. an HTTP 400 for plaintext).
	OnReject func(err error, remote netip.AddrPort) []byte
	// HelloTimeout bounds the time from accept to a complete message
	// (slowloris). Zero or less means 10s.
	HelloTimeout time.Duration
	// MaxHelloBytes caps the bytes buffered per connection; reaching it with
	// an incomplete message closes the connection. Zero or less means
	// 64 KiB + 5 KiB, the largest handshake message crypto/tls accepts plus
	// room for record headers.
	MaxHelloBytes int
	// MaxConns caps the connections held by the loop; past it, new
	// connections are accepted and closed at once. Zero or less derives it
	// from RLIMIT_NOFILE (see New).
	MaxConns int
	// Log receives a Debug line per closed connection and rate-limited Warn
	// lines for accept failures. Nil discards.
	Log *logrus.Entry
}

// Stats is a snapshot of a Loop's counters. Each field is read atomically;
// the snapshot as a whole is not (counters move while it is taken).
type Stats struct {
	Accepted     uint64 // accept4 successes, including over-limit conns
	Handoffs     uint64 // conns passed to Handoff
	Rejected     uint64 // conns closed on a Framer error
	Timeouts     uint64 // conns closed at HelloTimeout
	TooLarge     uint64 // conns closed at MaxHelloBytes
	PeerClosed   uint64 // conns closed on EOF, read error or hang-up
	OverLimit    uint64 // conns closed at once because MaxConns were held
	AcceptErrors uint64 // accept4 or registration failures
	Held         int64  // conns currently held by the loop
}
