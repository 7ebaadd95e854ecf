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
// A connection leaves the loop in exactly one of two ways: closeConn (timeout,
// size cap, Framer or Preface error, refused by Admit, hang-up, shutdown),
// or handoff: it is removed from epoll and passed to Handoff, which owns the
// fd from then on.
//
// Two hooks guard the edge. A Preface, such as a load balancer's PROXY
// protocol header, is read and stripped before the Framer sees a byte, and
// may name the client's real address. Admit decides on each connection by
// that address, at accept or once the Preface has named it, and Release
// tells its owner when an admitted connection is closed: policy such as
// per-IP limits lives with the caller, and the loop keeps no per-client
// state.
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
	"errors"
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

// Preface reads what a peer sends before the message, such as the PROXY
// protocol header of a load balancer. It runs on the loop with every byte
// received so far, each time more arrive, until it returns something other
// than ErrNeedMore; it must be fast and must not keep buf. On success, the
// first n bytes are stripped (the Framer and Handoff never see them) and
// remote, if valid, replaces peer as the conn's address from then on: in
// Admit, Release, OnReject, Handoff and logs. Any other error closes the conn.
type Preface func(buf []byte, peer netip.AddrPort) (n int, remote netip.AddrPort, err error)

// ErrNeedMore is what a Preface returns, possibly wrapped, while buf may
// still become a valid preface.
var ErrNeedMore = errors.New("poller: preface incomplete")

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
	// Preface, if set, runs before the Framer (see Preface). The hello
	// deadline and MaxHelloBytes cover it too.
	Preface Preface
	// Admit, if set, decides once on each conn: at accept (after the
	// MaxConns check) before the loop holds it, or with a Preface, once the
	// Preface is done, with the remote it named. A non-nil error closes the
	// conn at once (Stats.Refused; the error goes to the Debug line). It
	// runs on the loop and must not block.
	Admit func(remote netip.AddrPort) error
	// Release, if set, is called by closeConn, on the loop, exactly once for
	// every admitted conn the loop closes (Admit unset counts as admitting),
	// with the remote Admit saw. It is never called for a conn that was not
	// admitted, nor for a handed-off one: Handoff's side releases those
	// itself. It must not block.
	Release func(remote netip.AddrPort)
	// Log receives a Debug line per closed connection and rate-limited Warn
	// lines for accept failures. Nil discards.
	Log *logrus.Entry
}

// Stats is a snapshot of a Loop's counters. Each field is read atomically;
// the snapshot as a whole is not (counters move while it is taken).
type Stats struct {
	Accepted      uint64 // accept4 successes, including over-limit and refused conns
	Handoffs      uint64 // conns passed to Handoff
	Rejected      uint64 // conns closed on a Framer error
	Timeouts      uint64 // conns closed at HelloTimeout
	TooLarge      uint64 // conns closed at MaxHelloBytes
	PeerClosed    uint64 // conns closed on EOF, read error or hang-up
	OverLimit     uint64 // conns closed at once because MaxConns were held
	AcceptErrors  uint64 // accept4 or registration failures
	PrefaceErrors uint64 // conns closed on a Preface error
	Refused       uint64 // conns closed at once because Admit said no
	Held          int64  // conns currently held by the loop
}
