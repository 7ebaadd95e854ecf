package iana

import "strconv"

// CipherSuiteName returns the IANA name of a cipher suite, e.g.
// "TLS_AES_128_GCM_SHA256" for 0x1301, or "" if it is not assigned.
func CipherSuiteName(id uint16) string { return cipherSuites[id] }

// ExtensionName returns the name of a TLS extension type, e.g. "key_share"
// for 51, or "" if unknown.
func ExtensionName(id uint16) string { return extensions[id] }

// GroupName returns the name of a supported group (named curve, finite
// field group or hybrid KEM), e.g. "X25519MLKEM768" for 0x11ec, or "".
func GroupName(id uint16) string { return groups[id] }

// SignatureSchemeName returns the name of a signature scheme, e.g.
// "ecdsa_secp256r1_sha256" for 0x0403, or "".
func SignatureSchemeName(id uint16) string { return signatureSchemes[id] }

// VersionName returns a protocol version's name, e.g. "TLS 1.3" for 0x0304
// and "TLS 1.3 (draft 23)" for 0x7f17, or "".
func VersionName(id uint16) string {
	if id>>8 == 0x7f && id&0xff != 0 {
		// Draft versions of TLS 1.3 (RFC 8446 §4.2.1's 0x7f00 | draft).
		// Only old clients send these, so formatting on demand is fine.
		return "TLS 1.3 (draft " + strconv.Itoa(int(id&0xff)) + ")"
	}
	return versions[id]
}

// PSKModeName returns the name of a psk_key_exchange_modes value, or "".
func PSKModeName(id uint8) string {
	switch id {
	case 0:
		return "psk_ke"
	case 1:
		return "psk_dhe_ke"
	}
	return ""
}

// CertCompressionName returns the name of a compress_certificate algorithm
// (RFC 8879), or "".
func CertCompressionName(id uint16) string {
	switch id {
	case 1:
		return "zlib"
	case 2:
		return "brotli"
	case 3:
		return "zstd"
	}
	return ""
}

// ECPointFormatName returns the name of an ec_point_formats value, or "".
func ECPointFormatName(id uint8) string {
	switch id {
	case 0:
		return "uncompressed"
	case 1:
		return "ansiX962_compressed_prime"
	case 2:
		return "ansiX962_compressed_char2"
	}
	return ""
}

// HPKEKDFName returns the name of an HPKE KDF identifier (RFC 9180), as
// used in an ECH cipher suite, or "".
func HPKEKDFName(id uint16) string {
	switch id {
	case 1:
		return "HKDF-SHA256"
	case 2:
		return "HKDF-SHA384"
	case 3:
		return "HKDF-SHA512"
	}
	return ""
}

// HPKEAEADName returns the name of an HPKE AEAD identifier (RFC 9180), or "".
func HPKEAEADName(id uint16) string {
	switch id {
	case 1:
		return "AES-128-GCM"
	case 2:
		return "AES-256-GCM"
	case 3:
		return "ChaCha20Poly1305"
	case 0xffff:
		return "Export-only"
	}
	return ""
}

// CertificateStatusTypeName returns the name of a status_request type
// (RFC 6066 §8, RFC 6961), or "".
func CertificateStatusTypeName(id uint8) string {
	switch id {
	case 1:
		return "ocsp"
	case 2:
		return "ocsp_multi"
	}
	return ""
}
