package fingerprint

import (
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"

	"github.com/ja3sentry/ja3echo/fingerprint/iana"
)

// Fingerprints holds every fingerprint of one hello. Its JSON keys are part
// of ja3echo's public output (/json, `ja3echo fingerprint`, the log file).
type Fingerprints struct {
	JA3           string `json:"ja3"`
	JA3Hash       string `json:"ja3_hash"`
	JA3N          string `json:"ja3n"`
	JA3NHash      string `json:"ja3n_hash"`
	JA4           string `json:"ja4"`
	JA4R          string `json:"ja4_r"`
	JA4O          string `json:"ja4_o"`
	JA4RO         string `json:"ja4_ro"`
	PeetPrint     string `json:"peetprint"`
	PeetPrintHash string `json:"peetprint_hash"`
}

// Fingerprints computes all fingerprints of h. It runs once per connection,
// so it is built for speed: every string is appended into one stack buffer,
// the hashed forms hash slices of the raw forms already in it, and a single
// string conversion backs all ten fields (they share its memory).
func (h *ClientHello) Fingerprints() Fingerprints {
	var buf [2048]byte
	b := buf[:0]
	b = h.appendJA3Head(b)
	head := len(b)
	b = h.appendJA3Tail(b, false)
	ja3 := len(b)
	b = append(b, b[:head]...) // JA3N starts like JA3
	b = h.appendJA3Tail(b, true)
	ja3n := len(b)
	b, r := h.appendJA4Raw(b, false)
	ja4r := len(b)
	b, ro := h.appendJA4Raw(b, true)
	ja4ro := len(b)
	b = h.appendPeetPrint(b)
	peet := len(b)
	b = appendMD5Hex(b, b[:ja3])
	ja3Hash := len(b)
	b = appendMD5Hex(b, b[ja3:ja3n])
	ja3nHash := len(b)
	b = appendJA4Hashed(b, b[:ja4r], r)
	ja4 := len(b)
	b = appendJA4Hashed(b, b[:ja4ro], ro)
	ja4o := len(b)
	b = appendMD5Hex(b, b[ja4ro:peet])

	s := string(b)
	return Fingerprints{
		JA3:           s[:ja3],
		JA3N:          s[ja3:ja3n],
		JA4R:          s[ja3n:ja4r],
		JA4RO:         s[ja4r:ja4ro],
		PeetPrint:     s[ja4ro:peet],
		JA3Hash:       s[peet:ja3Hash],
		JA3NHash:      s[ja3Hash:ja3nHash],
		JA4:           s[ja3nHash:ja4],
		JA4O:          s[ja4:ja4o],
		PeetPrintHash: s[ja4o:],
	}
}

// appendMD5Hex appends the lowercase hex MD5 of src. src may alias dst.
func appendMD5Hex(dst, src []byte) []byte {
	sum := md5.Sum(src)
	return hex.AppendEncode(dst, sum[:])
}

// TLS is the ClientHello as echoed in the "tls" object of the JSON output,
// every list in wire order with GREASE values kept and marked. Code points
// carry their registry name, "" when our tables do not know the value (the
// id is always there). Lists the client controls hold at most MaxEchoList
// entries; Truncated names the top-level ones that were cut, and nested
// lists carry their own "truncated" flag.
type TLS struct {
	RecordVersion       uint16          `json:"record_version"`
	ClientVersion       uint16          `json:"client_version"`
	CipherSuites        []CodePoint     `json:"cipher_suites"`
	Extensions          []ExtensionInfo `json:"extensions"`
	SupportedGroups     []CodePoint     `json:"supported_groups"`
	ECPointFormats      []uint16        `json:"ec_point_formats"`
	SignatureAlgorithms []CodePoint     `json:"signature_algorithms"`
	ALPN                []string        `json:"alpn"`
	ServerName          string          `json:"server_name"`
	SupportedVersions   []CodePoint     `json:"supported_versions"`
	KeyShareGroups      []uint16        `json:"key_share_groups"`
	Truncated           []string        `json:"truncated,omitempty"`
	RawHex              string          `json:"raw_hex"`
	RawB64              string          `json:"raw_b64"`
}

// TLS returns the echo of h. Lists are never nil, so JSON shows [] rather
// than null for an absent extension.
func (h *ClientHello) TLS() TLS {
	t := TLS{
		RecordVersion: h.RecordVersion,
		ClientVersion: h.Version,
		ServerName:    h.ServerName,
		RawHex:        hex.EncodeToString(h.Raw),
		RawB64:        base64.StdEncoding.EncodeToString(h.Raw),
	}
	// cut keeps the first MaxEchoList entries of a list and records its key.
	cut := func(key string, n int) int {
		if n > MaxEchoList {
			t.Truncated = append(t.Truncated, key)
			return MaxEchoList
		}
		return n
	}
	codes := func(key string, vs []uint16, name func(uint16) string) []CodePoint {
		out := make([]CodePoint, cut(key, len(vs)))
		for i := range out {
			out[i] = codePoint16(vs[i], name)
		}
		return out
	}
	t.CipherSuites = codes("cipher_suites", h.CipherSuites, iana.CipherSuiteName)
	t.Extensions = make([]ExtensionInfo, cut("extensions", len(h.Extensions)))
	for i := range t.Extensions {
		t.Extensions[i] = extensionInfo(h.Extensions[i])
	}
	t.SupportedGroups = codes("supported_groups", h.SupportedGroups, iana.GroupName)
	t.ECPointFormats = make([]uint16, cut("ec_point_formats", len(h.ECPointFormats)))
	for i := range t.ECPointFormats {
		t.ECPointFormats[i] = uint16(h.ECPointFormats[i])
	}
	t.SignatureAlgorithms = codes("signature_algorithms", h.SignatureAlgorithms, iana.SignatureSchemeName)
	t.ALPN = append([]string{}, h.ALPN[:cut("alpn", len(h.ALPN))]...)
	t.SupportedVersions = codes("supported_versions", h.SupportedVersions, iana.VersionName)
	t.KeyShareGroups = make([]uint16, cut("key_share_groups", len(h.KeyShares)))
	for i := range t.KeyShareGroups {
		t.KeyShareGroups[i] = h.KeyShares[i].Group
	}
	return t
}
