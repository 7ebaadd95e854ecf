package fingerprint

import (
	"crypto/md5"
	"encoding/hex"
	"slices"
)

// IsGREASE reports whether v is one of the 16 GREASE values of RFC 8701
// (0x0a0a, 0x1a1a, …, 0xfafa): both bytes equal, low nibble 0xa.
func IsGREASE(v uint16) bool {
	return v&0x0f0f == 0x0a0a && v>>8 == v&0xff
}

// JA3 returns the salesforce JA3 string: legacy version, cipher suites,
// extension types, supported groups and point formats, in decimal, GREASE
// removed, wire order. Empty fields keep their commas.
func (h *ClientHello) JA3() string { return string(h.appendJA3(nil, false)) }

// JA3Hash returns the lowercase hex MD5 of JA3.
func (h *ClientHello) JA3Hash() string { return md5Hex(h.appendJA3(make([]byte, 0, 256), false)) }

// JA3N returns the normalised JA3 string published by fingerprint echo
// services: JA3 with the extension types sorted ascending, so that clients
// that permute their extensions (Chrome since 2023) keep one value.
func (h *ClientHello) JA3N() string { return string(h.appendJA3(nil, true)) }

// JA3NHash returns the lowercase hex MD5 of JA3N.
func (h *ClientHello) JA3NHash() string { return md5Hex(h.appendJA3(make([]byte, 0, 256), true)) }

func (h *ClientHello) appendJA3(b []byte, sorted bool) []byte {
	return h.appendJA3Tail(h.appendJA3Head(b), sorted)
}

// appendJA3Head appends the version and cipher fields and their commas,
// the part JA3 and JA3N share.
func (h *ClientHello) appendJA3Head(b []byte) []byte {
	b = appendUint16(b, h.Version)
	b = append(b, ',')
	b = appendDecimals(b, h.CipherSuites)
	return append(b, ',')
}

// appendJA3Tail appends the extension, group and point format fields.
func (h *ClientHello) appendJA3Tail(b []byte, sorted bool) []byte {
	var buf [64]uint16
	types := buf[:0]
	for _, e := range h.Extensions {
		types = append(types, e.Type)
	}
	if sorted {
		slices.Sort(types)
	}
	b = appendDecimals(b, types)
	b = append(b, ',')
	b = appendDecimals(b, h.SupportedGroups)
	b = append(b, ',')
	for i, f := range h.ECPointFormats {
		if i > 0 {
			b = append(b, '-')
		}
		b = appendUint16(b, uint16(f))
	}
	return b
}

// appendDecimals appends the non-GREASE values of vs in decimal, joined by '-'.
func appendDecimals(b []byte, vs []uint16) []byte {
	first := true
	for _, v := range vs {
		if IsGREASE(v) {
			continue
		}
		if !first {
			b = append(b, '-')
		}
		first = false
		b = appendUint16(b, v)
	}
	return b
}

// digitPairs holds "00" to "99" for appendUint16.
const digitPairs = "00010203040506070809101112131415161718192021222324252627282930313233343536373839" +
	"40414243444546474849505152535455565758596061626364656667686970717273747576777879" +
	"8081828384858687888990919293949596979899"

// appendUint16 appends v in decimal. It replaces strconv.AppendUint on the
// fingerprint path, where it runs for every value of every list: two digits
// per table lookup and one append per number.
func appendUint16(b []byte, v uint16) []byte {
	switch {
	case v < 10:
		return append(b, byte('0'+v))
	case v < 100:
		return append(b, digitPairs[2*v], digitPairs[2*v+1])
	case v < 1000:
		q, r := v/100, v%100
		return append(b, byte('0'+q), digitPairs[2*r], digitPairs[2*r+1])
	case v < 10000:
		q, r := v/100, v%100
		return append(b, digitPairs[2*q], digitPairs[2*q+1], digitPairs[2*r], digitPairs[2*r+1])
	}
	q, r := v/10000, v%10000
	hi, lo := r/100, r%100
	return append(b, byte('0'+q), digitPairs[2*hi], digitPairs[2*hi+1], digitPairs[2*lo], digitPairs[2*lo+1])
}

func md5Hex(b []byte) string {
	sum := md5.Sum(b)
	return hex.EncodeToString(sum[:])
}
