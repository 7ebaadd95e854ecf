package fingerprint

import "encoding/hex"

// Fingerprints holds every fingerprint of one hello. Its JSON keys are part
// of ja3echo's public output (/json, `ja3echo fingerprint`, the log file).
type Fingerprints struct {
	JA3      string `json:"ja3"`
	JA3Hash  string `json:"ja3_hash"`
	JA3N     string `json:"ja3n"`
	JA3NHash string `json:"ja3n_hash"`
}

// Fingerprints computes all fingerprints of h.
func (h *ClientHello) Fingerprints() Fingerprints {
	return Fingerprints{
		JA3:      h.JA3(),
		JA3Hash:  h.JA3Hash(),
		JA3N:     h.JA3N(),
		JA3NHash: h.JA3NHash(),
	}
}

// TLS is the ClientHello as echoed in the "tls" object of the JSON output:
// every list in wire order with GREASE values kept.
type TLS struct {
	RecordVersion       uint16   `json:"record_version"`
	ClientVersion       uint16   `json:"client_version"`
	CipherSuites        []uint16 `json:"cipher_suites"`
	Extensions          []uint16 `json:"extensions"`
	SupportedGroups     []uint16 `json:"supported_groups"`
	ECPointFormats      []uint16 `json:"ec_point_formats"`
	SignatureAlgorithms []uint16 `json:"signature_algorithms"`
	ALPN                []string `json:"alpn"`
	ServerName          string   `json:"server_name"`
	SupportedVersions   []uint16 `json:"supported_versions"`
	KeyShareGroups      []uint16 `json:"key_share_groups"`
	RawHex              string   `json:"raw_hex"`
}

// TLS returns the echo of h. Lists are never nil, so JSON shows [] rather
// than null for an absent extension.
func (h *ClientHello) TLS() TLS {
	t := TLS{
		RecordVersion:       h.RecordVersion,
		ClientVersion:       h.Version,
		CipherSuites:        nonNil(h.CipherSuites),
		Extensions:          make([]uint16, len(h.Extensions)),
		SupportedGroups:     nonNil(h.SupportedGroups),
		ECPointFormats:      make([]uint16, len(h.ECPointFormats)),
		SignatureAlgorithms: nonNil(h.SignatureAlgorithms),
		ALPN:                nonNil(h.ALPN),
		ServerName:          h.ServerName,
		SupportedVersions:   nonNil(h.SupportedVersions),
		KeyShareGroups:      make([]uint16, len(h.KeyShares)),
		RawHex:              hex.EncodeToString(h.Raw),
	}
	for i, e := range h.Extensions {
		t.Extensions[i] = e.Type
	}
	for i, f := range h.ECPointFormats {
		t.ECPointFormats[i] = uint16(f)
	}
	for i, k := range h.KeyShares {
		t.KeyShareGroups[i] = k.Group
	}
	return t
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
