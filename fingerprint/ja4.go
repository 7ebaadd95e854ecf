package fingerprint

import (
	"crypto/sha256"
	"slices"
)

// JA4 (FoxIO, BSD-3-Clause) as written in JA4.md, including the rules where
// FoxIO's own tools differ from the text (see fingerprint-spec.md): the
// ALPN hex rule, "hh" for a one-byte ALPN, 000000000000 for empty lists,
// GREASE removed from the signature algorithms.
//
// Every form shares the 10-character prefix a; the raw forms (JA4_r,
// JA4_ro) are built first and the hashed forms hash slices of them, so each
// list is rendered once.

const hexDigits = "0123456789abcdef"

// JA4 returns the JA4 fingerprint: a_b_c with b and c the truncated
// SHA-256 of the sorted cipher suites and of the sorted extensions plus
// signature algorithms, e.g. "t13d1516h2_8daaf6152771_d8a2da3f94cd".
func (h *ClientHello) JA4() string { return h.ja4String(false, false) }

// JA4R returns JA4_r: JA4 with the sorted lists in clear instead of hashed.
func (h *ClientHello) JA4R() string { return h.ja4String(false, true) }

// JA4O returns JA4_o: JA4 over the lists in wire order, with SNI and ALPN
// kept in the extension list.
func (h *ClientHello) JA4O() string { return h.ja4String(true, false) }

// JA4RO returns JA4_ro: JA4_o with the lists in clear.
func (h *ClientHello) JA4RO() string { return h.ja4String(true, true) }

func (h *ClientHello) ja4String(original, raw bool) string {
	var rawBuf [512]byte
	b, r := h.appendJA4Raw(rawBuf[:0], original)
	if raw {
		return string(b)
	}
	var out [ja4HashedLen]byte
	return string(appendJA4Hashed(out[:0], b, r))
}

// ja4HashedLen is the length of every hashed form: a(10) _ b(12) _ c(12).
const ja4HashedLen = 10 + 1 + 12 + 1 + 12

// ja4Raw locates the parts of a raw form that appendJA4Raw appended at
// offset start: relative to start, a is [0:10], b is [11:bEnd] and c is
// [bEnd+1:]. The flags say that a list itself was empty, so that its hash is
// 000000000000 even when c still carries "_sigalgs".
type ja4Raw struct {
	start, bEnd       int
	noCiphers, noExts bool
}

// appendJA4Raw appends the raw form (JA4_r, or JA4_ro when original is set)
// and returns where its parts are.
func (h *ClientHello) appendJA4Raw(b []byte, original bool) ([]byte, ja4Raw) {
	r := ja4Raw{start: len(b)}
	b = h.appendJA4A(b)

	b = append(b, '_')
	var cbuf [128]uint16
	ciphers := cbuf[:0]
	for _, c := range h.CipherSuites {
		if !IsGREASE(c) {
			ciphers = append(ciphers, c)
		}
	}
	if !original {
		slices.Sort(ciphers)
	}
	b = appendHexList(b, ciphers)
	r.noCiphers = len(ciphers) == 0
	r.bEnd = len(b) - r.start

	b = append(b, '_')
	var ebuf [64]uint16
	exts := ebuf[:0]
	for _, e := range h.Extensions {
		switch {
		case IsGREASE(e.Type):
		case !original && (e.Type == extServerName || e.Type == extALPN):
		default:
			exts = append(exts, e.Type)
		}
	}
	if !original {
		slices.Sort(exts)
	}
	b = appendHexList(b, exts)
	r.noExts = len(exts) == 0

	// Signature algorithms in wire order, GREASE removed; no "_" at all
	// when none are left.
	first := true
	for _, s := range h.SignatureAlgorithms {
		if IsGREASE(s) {
			continue
		}
		if first {
			b = append(b, '_')
			first = false
		} else {
			b = append(b, ',')
		}
		b = appendHex4(b, s)
	}
	return b, r
}

// appendJA4Hashed appends the hashed form of the raw form raw (the bytes
// that appendJA4Raw appended, described by r).
func appendJA4Hashed(dst, raw []byte, r ja4Raw) []byte {
	raw = raw[r.start:]
	var bIn, cIn []byte
	if !r.noCiphers {
		bIn = raw[11:r.bEnd]
	}
	if !r.noExts {
		cIn = raw[r.bEnd+1:]
	}
	bHash, cHash := hash12(bIn), hash12(cIn)
	dst = append(dst, raw[:10]...)
	dst = append(dst, '_')
	dst = append(dst, bHash[:]...)
	dst = append(dst, '_')
	return append(dst, cHash[:]...)
}

// appendJA4A appends part a: protocol, version, SNI flag, the two counts
// and the ALPN characters.
func (h *ClientHello) appendJA4A(b []byte) []byte {
	// A TCP listener only ever sees TLS over TCP, so the protocol is "t".
	b = append(b, 't')
	b = append(b, ja4Version(h.Version, h.SupportedVersions)...)
	if h.HasExtension(extServerName) {
		b = append(b, 'd')
	} else {
		b = append(b, 'i')
	}
	ciphers, exts := 0, 0
	for _, c := range h.CipherSuites {
		if !IsGREASE(c) {
			ciphers++
		}
	}
	for _, e := range h.Extensions {
		if !IsGREASE(e.Type) {
			exts++
		}
	}
	c2, e2, alpn := count2(ciphers), count2(exts), ja4ALPN(h.ALPN)
	return append(b, c2[0], c2[1], e2[0], e2[1], alpn[0], alpn[1])
}

// ja4Version returns the two version characters: the highest non-GREASE
// supported_versions value if there is one, else the legacy version.
// "Highest" is numeric, so a TLS 1.3 draft code (0x7fxx) wins and maps to
// "00", as in FoxIO's tools.
func ja4Version(legacy uint16, supported []uint16) string {
	v, found := legacy, false
	for _, s := range supported {
		if !IsGREASE(s) && (!found || s > v) {
			v, found = s, true
		}
	}
	switch v {
	case 0x0304:
		return "13"
	case 0x0303:
		return "12"
	case 0x0302:
		return "11"
	case 0x0301:
		return "10"
	case 0x0300:
		return "s3"
	case 0x0002:
		return "s2"
	case 0xfeff:
		return "d1"
	case 0xfefd:
		return "d2"
	case 0xfefc:
		return "d3"
	}
	return "00"
}

// ja4ALPN returns the two ALPN characters for the protocol list alpn: "00"
// for no list or an empty first name; the first and last byte when both are
// ASCII letters or digits (one byte is used twice); otherwise the first and
// last hex digit of the whole name, which are the high nibble of its first
// byte and the low nibble of its last. Bytes are never decoded as UTF-8.
func ja4ALPN(alpn []string) [2]byte {
	if len(alpn) == 0 || alpn[0] == "" {
		return [2]byte{'0', '0'}
	}
	p := alpn[0]
	first, last := p[0], p[len(p)-1]
	if isAlnum(first) && isAlnum(last) {
		return [2]byte{first, last}
	}
	return [2]byte{hexDigits[first>>4], hexDigits[last&0x0f]}
}

func isAlnum(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

// count2 renders n as two decimal digits, capped at 99.
func count2(n int) [2]byte {
	n = min(max(n, 0), 99)
	return [2]byte{byte('0' + n/10), byte('0' + n%10)}
}

// hash12 returns the first 12 lowercase hex digits of the SHA-256 of in, or
// twelve zeros when in is empty: JA4 marks an empty list that way rather
// than with the hash of the empty string (e3b0c44298fc).
func hash12(in []byte) [12]byte {
	var out [12]byte
	if len(in) == 0 {
		for i := range out {
			out[i] = '0'
		}
		return out
	}
	sum := sha256.Sum256(in)
	for i := range 6 {
		out[2*i] = hexDigits[sum[i]>>4]
		out[2*i+1] = hexDigits[sum[i]&0x0f]
	}
	return out
}

// appendHexList appends vs as 4-digit lowercase hex joined by ','.
func appendHexList(b []byte, vs []uint16) []byte {
	for i, v := range vs {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendHex4(b, v)
	}
	return b
}

func appendHex4(b []byte, v uint16) []byte {
	return append(b, hexDigits[v>>12], hexDigits[v>>8&0x0f], hexDigits[v>>4&0x0f], hexDigits[v&0x0f])
}
