package proxyhdr

import (
	"errors"
	"net"
	"net/netip"
	"testing"

	"github.com/pires/go-proxyproto"

	"github.com/ja3sentry/ja3echo/poller"
)

// FuzzParse checks, for any input: no panic; every error is one of the
// package's kinds; a header that parses is not reported invalid in any of
// its prefixes (they all need more) and parses the same whatever follows it;
// and "need more" is never reported for an input one of whose prefixes was
// already refused.
func FuzzParse(f *testing.F) {
	crc := proxyproto.TLV{Type: proxyproto.PP2_TYPE_CRC32C, Value: []byte{1, 2, 3, 4}}
	for _, seed := range [][]byte{
		encode(f, 1, "192.0.2.7:51234", "198.51.100.1:443"),
		encode(f, 1, "[2001:db8::7]:51234", "[2001:db8::1]:443"),
		encode(f, 2, "192.0.2.7:51234", "198.51.100.1:443"),
		encode(f, 2, "[2001:db8::7]:51234", "[2001:db8::1]:443", crc),
		local(f),
		[]byte("PROXY UNKNOWN\r\n"),
		[]byte("PROXY TCP4 192.0.2.7 198.51.100.1 1 2\r\n\x16\x03\x01"),
		unhex(f, "0d0a0d0a000d0a515549540a 20 11 000c c0000207 c6336401 0001 0002"),
		unhex(f, "0d0a0d0a000d0a515549540a 21 31 00d8"),
		{0x16, 3, 1, 0, 5},
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		n, src, err := Parse(data)
		switch {
		case err == nil:
			if n <= 0 || n > len(data) {
				t.Fatalf("Parse claimed %d of %d bytes", n, len(data))
			}
		case errors.Is(err, poller.ErrNeedMore):
			for k := range len(data) {
				if _, _, err := Parse(data[:k]); !errors.Is(err, poller.ErrNeedMore) {
					t.Fatalf("prefix of %d bytes: %v, but %d bytes need more", k, err, len(data))
				}
			}
			return
		case errors.Is(err, ErrInvalid), errors.Is(err, ErrMissing):
			return
		default:
			t.Fatalf("error of no known kind: %v", err)
		}
		for k := range n {
			if _, _, err := Parse(data[:k]); !errors.Is(err, poller.ErrNeedMore) {
				t.Fatalf("prefix of %d bytes of a %d-byte header: %v, want need more", k, n, err)
			}
		}
		for _, tail := range [][]byte{nil, {0x16, 3, 1}, []byte("\r\n")} {
			n2, src2, err := Parse(append(data[:n:n], tail...))
			if err != nil || n2 != n || src2 != src {
				t.Fatalf("with tail %q: %d, %v, %v; alone: %d, %v", tail, n2, src2, err, n, src)
			}
		}
	})
}

// FuzzEncoded checks that any TCP header the library's encoder produces
// parses back to the source address it was given, whole, and needs more in
// every prefix.
func FuzzEncoded(f *testing.F) {
	f.Add(byte(1), []byte{192, 0, 2, 7}, uint16(51234), []byte{198, 51, 100, 1}, []byte(nil))
	f.Add(byte(2), []byte{192, 0, 2, 7}, uint16(0), []byte{198, 51, 100, 1}, []byte{3, 0, 4, 1, 2, 3, 4})
	f.Add(byte(2), netip.MustParseAddr("2001:db8::7").AsSlice(), uint16(443), netip.MustParseAddr("2001:db8::1").AsSlice(), []byte(nil))
	f.Add(byte(1), netip.MustParseAddr("::ffff:192.0.2.7").AsSlice(), uint16(1), []byte{198, 51, 100, 1}, []byte(nil))
	f.Fuzz(func(t *testing.T, version byte, srcIP []byte, port uint16, dstIP []byte, tlvs []byte) {
		ip, ok := netip.AddrFromSlice(srcIP)
		if !ok || (len(dstIP) != 4 && len(dstIP) != 16) || version < 1 || version > 2 {
			return
		}
		h := proxyproto.HeaderProxyFromAddrs(version, &net.TCPAddr{IP: srcIP, Port: int(port)}, &net.TCPAddr{IP: dstIP, Port: 443})
		if version == 2 && len(tlvs) > 0 {
			parsed, err := proxyproto.SplitTLVs(tlvs)
			if err != nil || h.SetTLVs(parsed) != nil {
				return
			}
		}
		b, err := h.Format()
		if err != nil {
			return
		}
		want := netip.AddrPortFrom(ip.Unmap(), port)
		n, src, err := Parse(b)
		if len(b) > v2Fixed+MaxV2Payload && b[0] == '\r' {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("%d-byte v2 header: %v, want invalid (over the cap)", len(b), err)
			}
			return
		}
		if err != nil || n != len(b) || src != want {
			t.Fatalf("Parse(%q) = %d, %v, %v; want %d, %v", b, n, src, err, len(b), want)
		}
		for k := range len(b) {
			if _, _, err := Parse(b[:k]); !errors.Is(err, poller.ErrNeedMore) {
				t.Fatalf("prefix of %d bytes of %q: %v, want need more", k, b, err)
			}
		}
	})
}
