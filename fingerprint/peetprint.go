package fingerprint

import (
	"encoding/binary"
	"math/bits"
	"slices"
	"strings"
)

// PeetPrint is the TLS fingerprint of tls.peet.ws (pagpeter/TrackMe). It has
// no formal specification; the grammar below was taken from TrackMe's README
// ("Custom Fingerpint (PeetPrint)") and from the fingerprints tls.peet.ws
// publishes, and checked against how TrackMe (GPL-3.0, read, not copied)
// renders each field at commit 8fd76ea (pkg/tls/fingerprint_tls.go and
// parse_client_hello.go):
//
//	peetprint = versions "|" protocols "|" groups "|" sigalgs "|" psk-mode "|"
//	            cert-compression "|" ciphers "|" sorted-extensions
//
//   - Lists are decimal values joined by "-"; every 16-bit GREASE value is
//     written as the token "GREASE" (not removed). An absent extension gives
//     an empty field.
//   - versions: supported_versions (43) in wire order.
//   - protocols: ALPN (16) in wire order, but only the HTTP names, mapped
//     h2 -> "2", http/1.1 -> "1.1", http/1.0 -> "1.0" (ASCII case-insensitive);
//     other names (h3, acme-tls/1, ...) are dropped.
//   - groups: supported_groups (10); sigalgs: signature_algorithms (13), both
//     in wire order.
//   - psk-mode: the first value of psk_key_exchange_modes (45) in decimal, and
//     "0" when the extension is absent or its list is empty or malformed
//     (TrackMe reads a zero-initialised integer in that case).
//   - cert-compression: compress_certificate (27) algorithms in wire order;
//     empty when absent or malformed.
//   - ciphers: cipher suites in wire order.
//   - sorted-extensions: every extension type, GREASE as "GREASE", sorted as
//     strings (bytewise), not as numbers: "0-10-11-13-16-17513-18-...-45-5-51-
//     65281-GREASE-GREASE". 'G' sorts after the digits, so GREASE comes last.
//
// The hash is the lowercase hex MD5 of the string.
//
// Published example (tls.peet.ws /api/all for Chrome 103, quoted in a public
// requests_go example; the hello is rebuilt in peetprint_test.go):
//
//	GREASE-772-771|2-1.1|GREASE-29-23-24|1027-2052-1025-1283-2053-1281-2054-1537|1|2|GREASE-4865-4866-4867-49195-49199-49196-49200-52393-52392-49171-49172-156-157-47-53|0-10-11-13-16-17513-18-21-23-27-35-43-45-5-51-65281-GREASE-GREASE
//	peetprint_hash 22a4f858cc83b9144c829ca411948a88
//
// Two TrackMe quirks are not copied: it also reads a supported group 6969 as
// "GREASE", and it feeds extension 53 (0x0035, which it mistakes for
// signature_algorithms_cert) into the sigalgs field. Neither occurs in real
// hellos. TrackMe prints compress_certificate values without the GREASE
// token; the README's "all GREASE values" rule is applied here instead (no
// client GREASEs that list).

// Extension types read only for PeetPrint.
const (
	extCompressCertificate = 27
	extPSKKeyExchangeModes = 45
)

// PeetPrint returns the tls.peet.ws fingerprint string.
func (h *ClientHello) PeetPrint() string {
	var buf [1024]byte
	return string(h.appendPeetPrint(buf[:0]))
}

// PeetPrintHash returns the lowercase hex MD5 of PeetPrint.
func (h *ClientHello) PeetPrintHash() string {
	var buf [1024]byte
	return md5Hex(h.appendPeetPrint(buf[:0]))
}

func (h *ClientHello) appendPeetPrint(b []byte) []byte {
	b = appendPeetList(b, h.SupportedVersions)
	b = append(b, '|')
	first := true
	for _, p := range h.ALPN {
		var tok string
		switch {
		case strings.EqualFold(p, "h2"):
			tok = "2"
		case strings.EqualFold(p, "http/1.1"):
			tok = "1.1"
		case strings.EqualFold(p, "http/1.0"):
			tok = "1.0"
		default:
			continue
		}
		if !first {
			b = append(b, '-')
		}
		first = false
		b = append(b, tok...)
	}
	b = append(b, '|')
	b = appendPeetList(b, h.SupportedGroups)
	b = append(b, '|')
	b = appendPeetList(b, h.SignatureAlgorithms)
	b = append(b, '|')
	b = appendUint16(b, uint16(h.firstPSKMode()))
	b = append(b, '|')
	b = h.appendCertCompression(b)
	b = append(b, '|')
	b = appendPeetList(b, h.CipherSuites)
	b = append(b, '|')

	var kbuf [64]uint64
	keys := kbuf[:0]
	for _, e := range h.Extensions {
		keys = append(keys, peetSortKey(e.Type))
	}
	slices.Sort(keys)
	for i, k := range keys {
		if i > 0 {
			b = append(b, '-')
		}
		// The token's length is six minus its zero padding bytes; bit 48 is
		// set only so that the count stops there (a token is never empty).
		var tok [8]byte
		binary.BigEndian.PutUint64(tok[:], k)
		pad := bits.TrailingZeros64(k>>16|1<<48) / 8
		b = append(b, tok[:6-pad]...)
	}
	return b
}

// peetSortKey packs an extension type's PeetPrint token, at most six ASCII
// bytes ("65281", "GREASE"), left-aligned and zero-padded into the top six
// bytes of a uint64, with the type itself in the low two. Comparing two keys
// as numbers then compares the tokens as strings, a shorter token first when
// it is a prefix ("5" < "51" < "6"), and GREASE after every number ('G' >
// '9'); the token is read back from the key, not rendered twice.
func peetSortKey(v uint16) uint64 {
	var tok [8]byte
	appendPeetToken(tok[:0], v)
	tok[6], tok[7] = byte(v>>8), byte(v)
	return binary.BigEndian.Uint64(tok[:])
}

// appendPeetList appends vs in decimal joined by '-', GREASE as "GREASE".
func appendPeetList(b []byte, vs []uint16) []byte {
	for i, v := range vs {
		if i > 0 {
			b = append(b, '-')
		}
		b = appendPeetToken(b, v)
	}
	return b
}

func appendPeetToken(b []byte, v uint16) []byte {
	if IsGREASE(v) {
		return append(b, "GREASE"...)
	}
	return appendUint16(b, v)
}

// extensionData returns the body of the first extension of type t.
func (h *ClientHello) extensionData(t uint16) (data []byte, ok bool) {
	for _, e := range h.Extensions {
		if e.Type == t {
			return e.Data, true
		}
	}
	return nil, false
}

// firstPSKMode returns the first psk_key_exchange_modes value, or 0 when the
// extension is absent or its body is not a non-empty u8 list.
func (h *ClientHello) firstPSKMode() uint8 {
	d, _ := h.extensionData(extPSKKeyExchangeModes)
	if len(d) < 2 || int(d[0]) != len(d)-1 {
		return 0
	}
	return d[1]
}

// appendCertCompression appends the compress_certificate algorithms, or
// nothing when the extension is absent or its body is not a u8-length list
// of u16 values.
func (h *ClientHello) appendCertCompression(b []byte) []byte {
	d, _ := h.extensionData(extCompressCertificate)
	if len(d) < 1 || int(d[0]) != len(d)-1 || d[0]%2 != 0 {
		return b
	}
	for i := 1; i+1 < len(d); i += 2 {
		if i > 1 {
			b = append(b, '-')
		}
		b = appendPeetToken(b, uint16(d[i])<<8|uint16(d[i+1]))
	}
	return b
}
