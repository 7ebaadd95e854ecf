package proxyhdr

import (
	"encoding/hex"
	"errors"
	"net"
	"net/netip"
	"strings"
	"testing"

	"github.com/pires/go-proxyproto"

	"github.com/ja3sentry/ja3echo/poller"
)

// encode builds a header with the library's own encoder.
func encode(t testing.TB, version byte, src, dst string, tlvs ...proxyproto.TLV) []byte {
	t.Helper()
	h := proxyproto.HeaderProxyFromAddrs(version, net.TCPAddrFromAddrPort(netip.MustParseAddrPort(src)),
		net.TCPAddrFromAddrPort(netip.MustParseAddrPort(dst)))
	if len(tlvs) > 0 {
		if err := h.SetTLVs(tlvs); err != nil {
			t.Fatal(err)
		}
	}
	b, err := h.Format()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// local is a v2 LOCAL header, as HAProxy sends on its health checks.
func local(t testing.TB) []byte {
	t.Helper()
	b, err := (&proxyproto.Header{Version: 2, Command: proxyproto.LOCAL, TransportProtocol: proxyproto.UNSPEC}).Format()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParse(t *testing.T) {
	tls := []byte{0x16, 3, 1, 0, 5}
	crc := proxyproto.TLV{Type: proxyproto.PP2_TYPE_CRC32C, Value: []byte{1, 2, 3, 4}}
	for _, tc := range []struct {
		name string
		in   []byte
		n    int    // header length; -1 for an error
		src  string // "" for none (LOCAL)
		err  error
	}{
		{"v1 tcp4", []byte("PROXY TCP4 192.0.2.7 198.51.100.1 51234 443\r\n"), 45, "192.0.2.7:51234", nil},
		{"v1 tcp6", []byte("PROXY TCP6 2001:db8::7 2001:db8::1 51234 443\r\n"), 46, "[2001:db8::7]:51234", nil},
		{"v1 tcp6 mapped", []byte("PROXY TCP6 ::ffff:192.0.2.7 ::ffff:198.51.100.1 1 2\r\n"), 53, "192.0.2.7:1", nil},
		{"v1 unknown", []byte("PROXY UNKNOWN\r\n"), 15, "", nil},
		{"v1 unknown with addresses", []byte("PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n"), 35, "", nil},
		{"v1 then tls", append([]byte("PROXY TCP4 192.0.2.7 198.51.100.1 1 2\r\n"), tls...), 39, "192.0.2.7:1", nil},
		{"v2 tcp4", encode(t, 2, "192.0.2.7:51234", "198.51.100.1:443"), 28, "192.0.2.7:51234", nil},
		{"v2 tcp6", encode(t, 2, "[2001:db8::7]:51234", "[2001:db8::1]:443"), 52, "[2001:db8::7]:51234", nil},
		{"v2 tcp4 with TLV", encode(t, 2, "192.0.2.7:1", "198.51.100.1:2", crc), 35, "192.0.2.7:1", nil},
		{"v2 local", local(t), 16, "", nil},
		// HAProxy 2.6's health-check header, captured from the wire.
		{"v2 local haproxy", unhex(t, "0d0a0d0a000d0a515549540a 20 00 0000"), 16, "", nil},
		// LOCAL with an address block: the block is skipped, the peer kept.
		{"v2 local tcp4", unhex(t, "0d0a0d0a000d0a515549540a 20 11 000c c0000207 c6336401 0001 0002"), 28, "", nil},
		{"v2 then tls", append(encode(t, 2, "192.0.2.7:1", "198.51.100.1:2"), tls...), 28, "192.0.2.7:1", nil},

		{"empty", nil, -1, "", poller.ErrNeedMore},
		{"v1 prefix", []byte("PRO"), -1, "", poller.ErrNeedMore},
		{"v1 no CRLF yet", []byte("PROXY TCP4 192.0.2.7 198.51.100.1 1 2\r"), -1, "", poller.ErrNeedMore},
		{"v2 signature prefix", unhex(t, "0d0a0d0a000d"), -1, "", poller.ErrNeedMore},
		{"v2 no length yet", unhex(t, "0d0a0d0a000d0a515549540a 21 11 00"), -1, "", poller.ErrNeedMore},
		{"v2 TLV not here yet", encode(t, 2, "192.0.2.7:1", "198.51.100.1:2", crc)[:30], -1, "", poller.ErrNeedMore},

		{"tls", tls, -1, "", ErrMissing},
		{"http", []byte("GET / HTTP/1.1\r\n"), -1, "", ErrMissing},
		{"v1 LF only", []byte("PROXY TCP4 192.0.2.7 198.51.100.1 1 2\n"), -1, "", ErrInvalid},
		{"v1 bad token", []byte("PROXYX TCP4 192.0.2.7 198.51.100.1 1 2\r\n"), -1, "", ErrInvalid},
		{"v1 bad address", []byte("PROXY TCP4 192.0.2.700 198.51.100.1 1 2\r\n"), -1, "", ErrInvalid},
		{"v1 ipv6 in tcp4", []byte("PROXY TCP4 2001:db8::7 198.51.100.1 1 2\r\n"), -1, "", ErrInvalid},
		{"v1 bad port", []byte("PROXY TCP4 192.0.2.7 198.51.100.1 65536 2\r\n"), -1, "", ErrInvalid},
		{"v1 too long", []byte("PROXY UNKNOWN " + strings.Repeat("f", 100)), -1, "", ErrInvalid},
		{"v2 version 1", unhex(t, "0d0a0d0a000d0a515549540a 11 11 000c c0000207 c6336401 0001 0002"), -1, "", ErrInvalid},
		{"v2 command 2", unhex(t, "0d0a0d0a000d0a515549540a 22 11 000c c0000207 c6336401 0001 0002"), -1, "", ErrInvalid},
		{"v2 short address block", unhex(t, "0d0a0d0a000d0a515549540a 21 11 0004 c0000207"), -1, "", ErrInvalid},
		{"v2 proxy unspec", unhex(t, "0d0a0d0a000d0a515549540a 21 00 0000"), -1, "", ErrInvalid},
		{"v2 udp4", unhex(t, "0d0a0d0a000d0a515549540a 21 12 000c c0000207 c6336401 0001 0002"), -1, "", ErrInvalid},
		{"v2 over the cap", unhex(t, "0d0a0d0a000d0a515549540a 21 11 0801"), -1, "", ErrInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n, src, err := Parse(tc.in)
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Errorf("Parse = %d, %v, %v; want error %v", n, src, err, tc.err)
				}
				return
			}
			var want netip.AddrPort
			if tc.src != "" {
				want = netip.MustParseAddrPort(tc.src)
			}
			if err != nil || n != tc.n || src != want {
				t.Errorf("Parse = %d, %v, %v; want %d, %v", n, src, err, tc.n, want)
			}
		})
	}
}

func TestPolicy(t *testing.T) {
	trusted := netip.MustParseAddrPort("10.0.0.5:40000")
	stranger := netip.MustParseAddrPort("203.0.113.9:50000")
	v1 := []byte("PROXY TCP4 192.0.2.7 198.51.100.1 51234 443\r\n")
	tls := []byte{0x16, 3, 1}
	for _, tc := range []struct {
		name   string
		buf    []byte
		peer   netip.AddrPort
		n      int
		remote netip.AddrPort
		err    error
		stats  Stats
	}{
		{"trusted with header", v1, trusted, len(v1), netip.MustParseAddrPort("192.0.2.7:51234"), nil, Stats{Proxied: 1}},
		{"trusted LOCAL", local(t), trusted, 16, trusted, nil, Stats{Local: 1}},
		{"trusted partial", v1[:10], trusted, 0, netip.AddrPort{}, poller.ErrNeedMore, Stats{}},
		{"trusted without header", tls, trusted, 0, netip.AddrPort{}, ErrMissing, Stats{Missing: 1}},
		{"trusted bad header", []byte("PROXY TCP9 x\r\n"), trusted, 0, netip.AddrPort{}, ErrInvalid, Stats{Invalid: 1}},
		{"trusted mapped peer", v1, netip.MustParseAddrPort("[::ffff:10.0.0.5]:1"), len(v1), netip.MustParseAddrPort("192.0.2.7:51234"), nil, Stats{Proxied: 1}},
		{"untrusted with v1", v1, stranger, 0, netip.AddrPort{}, ErrUntrusted, Stats{Untrusted: 1}},
		{"untrusted with v2", local(t), stranger, 0, netip.AddrPort{}, ErrUntrusted, Stats{Untrusted: 1}},
		{"untrusted signature prefix", []byte("PROX"), stranger, 0, netip.AddrPort{}, poller.ErrNeedMore, Stats{}},
		{"untrusted nothing yet", nil, stranger, 0, netip.AddrPort{}, poller.ErrNeedMore, Stats{}},
		{"untrusted plain TLS", tls, stranger, 0, stranger, nil, Stats{}},
		{"untrusted HTTP", []byte("POST"), stranger, 0, stranger, nil, Stats{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := &Policy{Trusted: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("2001:db8::/32")}}
			n, remote, err := p.Preface(tc.buf, tc.peer)
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Errorf("Preface = %d, %v, %v; want error %v", n, remote, err, tc.err)
				}
			} else if err != nil || n != tc.n || remote != tc.remote {
				t.Errorf("Preface = %d, %v, %v; want %d, %v", n, remote, err, tc.n, tc.remote)
			}
			if s := p.Stats(); s != tc.stats {
				t.Errorf("stats = %+v, want %+v", s, tc.stats)
			}
		})
	}
}
