package fingerprint

import (
	"crypto/md5"
	"encoding/hex"
	"slices"
	"strconv"
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
	b = strconv.AppendUint(b, uint64(h.Version), 10)
	b = append(b, ',')
	b = appendDecimals(b, h.CipherSuites)
	b = append(b, ',')
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
		b = strconv.AppendUint(b, uint64(f), 10)
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
		b = strconv.AppendUint(b, uint64(v), 10)
	}
	return b
}

func md5Hex(b []byte) string {
	sum := md5.Sum(b)
	return hex.EncodeToString(sum[:])
}
