// Package proxyhdr reads the PROXY protocol header (v1 text or v2 binary)
// that a load balancer such as HAProxy or an AWS NLB sends ahead of its
// client's bytes, from whatever part of them has arrived. Policy.Preface
// plugs it into poller.Config.Preface, so the header is read by the epoll
// loop without blocking and under the same deadline as the ClientHello.
//
// This package decides how long a header is and whether all of it has
// arrived; github.com/pires/go-proxyproto then parses the complete header.
// The library's Read is made for a blocking reader and cannot do the first
// part from a partial buffer: it reports a cut-short v2 signature as "no
// PROXY protocol", a v1 line cut short like a malformed one, and v2 TLVs yet
// to arrive as an invalid length. Framing by the lengths the spec fixes (a
// v1 line ends at its first LF, within 107 bytes; a v2 header is 16 bytes
// plus the length in bytes 15-16) makes "need more" exact, and any error
// from the library on a complete header then means "invalid".
package proxyhdr

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"sync/atomic"

	"github.com/pires/go-proxyproto"

	"github.com/ja3sentry/ja3echo/poller"
)

// Errors. Parse and Preface wrap exactly one of them, or poller.ErrNeedMore.
var (
	ErrMissing   = errors.New("proxyhdr: no PROXY header from a trusted proxy")
	ErrInvalid   = errors.New("proxyhdr: invalid PROXY header")
	ErrUntrusted = errors.New("proxyhdr: PROXY header from an untrusted address")
)

const (
	// MaxV1 is the longest v1 line, CRLF included (the spec's worst case).
	MaxV1 = 107
	// MaxV2Payload caps what follows a v2 header's fixed 16 bytes: the
	// address block (at most 216 bytes, for AF_UNIX) and TLVs. The spec
	// allows 65535; HAProxy's TLVs (ALPN, authority, CRC, unique ID, SSL
	// details) stay far below this, and a small cap bounds what a
	// connection can make the loop buffer before its ClientHello.
	MaxV2Payload = 2048
	v2Fixed      = 16
)

// Parse reads the PROXY header at the start of buf and returns its length
// and the client address it carries, IPv4-mapped addresses unmapped. The
// address is the zero AddrPort for a v2 LOCAL or v1 UNKNOWN header: a
// connection the proxy opened itself, such as a health check. Parse returns
// poller.ErrNeedMore while buf is a prefix of a header that may still turn
// out valid, ErrMissing if buf cannot start a header at all, and ErrInvalid
// otherwise. Only TCP over IPv4 or IPv6 is accepted for a proxied
// connection: a UDP or AF_UNIX source is no client address for a TCP server.
func Parse(buf []byte) (n int, src netip.AddrPort, err error) {
	if n, err = frame(buf); err != nil {
		return 0, netip.AddrPort{}, err
	}
	// The reader's buffer holds the whole header, as the library's v1
	// parser requires (it gives up when its buffer runs dry mid-line).
	r := bytes.NewReader(buf[:n])
	br := bufio.NewReaderSize(r, n)
	h, err := proxyproto.Read(br)
	switch {
	case err != nil:
		return 0, netip.AddrPort{}, fmt.Errorf("%w: %w", ErrInvalid, err)
	case r.Len() != 0 || br.Buffered() != 0: // framing and library disagree
		return 0, netip.AddrPort{}, fmt.Errorf("%w: %d of %d bytes parsed", ErrInvalid, n-r.Len()-br.Buffered(), n)
	case h.Command.IsLocal():
		return n, netip.AddrPort{}, nil
	}
	a, _, ok := h.TCPAddrs()
	if !ok {
		return 0, netip.AddrPort{}, fmt.Errorf("%w: transport %#02x is not TCP over IP", ErrInvalid, byte(h.TransportProtocol))
	}
	ap := a.AddrPort()
	return n, netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()), nil
}

// frame returns the length of the header at the start of buf.
func frame(buf []byte) (int, error) {
	switch {
	case startsLike(buf, proxyproto.SIGV1):
		if i := bytes.IndexByte(buf[:min(len(buf), MaxV1)], '\n'); i >= 0 {
			return i + 1, nil
		}
		if len(buf) >= MaxV1 {
			return 0, fmt.Errorf("%w: v1 line longer than %d bytes", ErrInvalid, MaxV1)
		}
	case startsLike(buf, proxyproto.SIGV2):
		if len(buf) < v2Fixed {
			break
		}
		payload := int(binary.BigEndian.Uint16(buf[14:16]))
		if payload > MaxV2Payload {
			return 0, fmt.Errorf("%w: v2 payload of %d bytes, over %d", ErrInvalid, payload, MaxV2Payload)
		}
		if len(buf) >= v2Fixed+payload {
			return v2Fixed + payload, nil
		}
	default:
		return 0, ErrMissing
	}
	return 0, poller.ErrNeedMore
}

// startsLike reports whether buf and sig agree on their common length: an
// empty or short buf may still become sig.
func startsLike(buf, sig []byte) bool {
	n := min(len(buf), len(sig))
	return bytes.Equal(buf[:n], sig[:n])
}

// Policy decides whom to believe, as go-proxyproto's REQUIRE and REJECT
// policies do: a peer in Trusted must send a header, whose client address
// then replaces the peer's; any other peer must not send one, and is served
// under its own address. Set Trusted before use and do not change it.
type Policy struct {
	Trusted []netip.Prefix

	proxied, local, untrusted, missing, invalid atomic.Uint64
}

// Stats counts what Preface decided, per connection.
type Stats struct {
	Proxied   uint64 // headers from trusted peers that named a client
	Local     uint64 // LOCAL or UNKNOWN headers: the peer's address is kept
	Untrusted uint64 // headers from untrusted peers, refused
	Missing   uint64 // trusted peers that sent no header, refused
	Invalid   uint64 // malformed or oversized headers from trusted peers, refused
}

// Stats returns the counters; each is read atomically.
func (p *Policy) Stats() Stats {
	return Stats{Proxied: p.proxied.Load(), Local: p.local.Load(), Untrusted: p.untrusted.Load(),
		Missing: p.missing.Load(), Invalid: p.invalid.Load()}
}

// Preface has the poller.Preface signature and never blocks.
func (p *Policy) Preface(buf []byte, peer netip.AddrPort) (int, netip.AddrPort, error) {
	if !p.trusts(peer.Addr()) {
		switch {
		case startsLike(buf, proxyproto.SIGV1) && len(buf) >= len(proxyproto.SIGV1),
			startsLike(buf, proxyproto.SIGV2) && len(buf) >= len(proxyproto.SIGV2):
			p.untrusted.Add(1)
			return 0, netip.AddrPort{}, ErrUntrusted
		case startsLike(buf, proxyproto.SIGV1), startsLike(buf, proxyproto.SIGV2):
			return 0, netip.AddrPort{}, poller.ErrNeedMore
		}
		return 0, peer, nil
	}
	n, src, err := Parse(buf)
	switch {
	case errors.Is(err, poller.ErrNeedMore):
	case errors.Is(err, ErrMissing):
		p.missing.Add(1)
	case err != nil:
		p.invalid.Add(1)
	case !src.IsValid():
		p.local.Add(1)
		src = peer
	default:
		p.proxied.Add(1)
	}
	return n, src, err
}

func (p *Policy) trusts(a netip.Addr) bool {
	a = a.Unmap().WithZone("") // Prefix.Contains is false for any zoned address
	for _, t := range p.Trusted {
		if t.Contains(a) {
			return true
		}
	}
	return false
}
