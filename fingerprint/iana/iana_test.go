package iana

import (
	"crypto/tls"
	"testing"
)

// TestCipherSuitesMatchCryptoTLS checks every suite crypto/tls knows against
// its own name, an independent source for the common part of the table.
func TestCipherSuitesMatchCryptoTLS(t *testing.T) {
	n := 0
	for _, list := range [][]*tls.CipherSuite{tls.CipherSuites(), tls.InsecureCipherSuites()} {
		for _, cs := range list {
			n++
			if got, want := CipherSuiteName(cs.ID), tls.CipherSuiteName(cs.ID); got != want {
				t.Errorf("CipherSuiteName(%#04x) = %q, crypto/tls says %q", cs.ID, got, want)
			}
		}
	}
	if n < 20 {
		t.Fatalf("crypto/tls listed only %d suites", n)
	}
}

func TestCipherSuiteSpotChecks(t *testing.T) {
	tests := []struct {
		id   uint16
		want string
	}{
		{0x0000, "TLS_NULL_WITH_NULL_NULL"},
		{0x000a, "TLS_RSA_WITH_3DES_EDE_CBC_SHA"},
		{0x0039, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA"},
		{0x00ff, "TLS_EMPTY_RENEGOTIATION_INFO_SCSV"},
		{0x1301, "TLS_AES_128_GCM_SHA256"},
		{0x1304, "TLS_AES_128_CCM_SHA256"},
		{0x5600, "TLS_FALLBACK_SCSV"},
		{0xc0ad, "TLS_ECDHE_ECDSA_WITH_AES_256_CCM"},
		{0xccaa, "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256"},
		{0xd001, "TLS_ECDHE_PSK_WITH_AES_128_GCM_SHA256"},
		{0x0a0a, ""}, // GREASE is not a registry entry
		{0x00c8, ""}, // unassigned
		{0xffff, ""},
	}
	for _, tt := range tests {
		if got := CipherSuiteName(tt.id); got != tt.want {
			t.Errorf("CipherSuiteName(%#04x) = %q, want %q", tt.id, got, tt.want)
		}
	}
}

func TestExtensionNames(t *testing.T) {
	tests := []struct {
		id   uint16
		want string
	}{
		{0, "server_name"},
		{10, "supported_groups"},
		{16, "application_layer_protocol_negotiation"},
		{21, "padding"},
		{27, "compress_certificate"},
		{41, "pre_shared_key"},
		{51, "key_share"},
		{57, "quic_transport_parameters"},
		{17513, "application_settings_old"},
		{17613, "application_settings"},
		{65037, "encrypted_client_hello"},
		{65281, "renegotiation_info"},
		{40, ""},
		{0x1a1a, ""},
	}
	for _, tt := range tests {
		if got := ExtensionName(tt.id); got != tt.want {
			t.Errorf("ExtensionName(%d) = %q, want %q", tt.id, got, tt.want)
		}
	}
}

func TestGroupNames(t *testing.T) {
	tests := []struct {
		id   uint16
		want string
	}{
		{23, "secp256r1"},
		{29, "x25519"},
		{256, "ffdhe2048"},
		{0x11eb, "SecP256r1MLKEM768"},
		{0x11ec, "X25519MLKEM768"},
		{0x11ed, "SecP384r1MLKEM1024"},
		{0x6399, "X25519Kyber768Draft00"},
		{0x639a, "SecP256r1Kyber768Draft00"},
		{0xfe30, "X25519Kyber512Draft00"},
		{0xfe31, "X25519Kyber768Draft00Old"},
		{0xfe32, "P256Kyber768Draft00"},
		{0x2a2a, ""},
		{0, ""},
	}
	for _, tt := range tests {
		if got := GroupName(tt.id); got != tt.want {
			t.Errorf("GroupName(%#04x) = %q, want %q", tt.id, got, tt.want)
		}
	}
}

// TestGroupNamesMatchCryptoTLS checks the groups crypto/tls implements; its
// CurveID.String gives the IANA spelling for the hybrids and Go's own
// (CurveP256, X25519) for the classic curves, so those are mapped here.
func TestGroupNamesMatchCryptoTLS(t *testing.T) {
	want := map[tls.CurveID]string{
		tls.CurveP256: "secp256r1", tls.CurveP384: "secp384r1", tls.CurveP521: "secp521r1",
		tls.X25519: "x25519", tls.X25519MLKEM768: "X25519MLKEM768",
	}
	for id, name := range want {
		if got := GroupName(uint16(id)); got != name {
			t.Errorf("GroupName(%v) = %q, want %q", id, got, name)
		}
	}
	if got, want := GroupName(uint16(tls.X25519MLKEM768)), tls.X25519MLKEM768.String(); got != want {
		t.Errorf("GroupName(X25519MLKEM768) = %q, crypto/tls says %q", got, want)
	}
}

func TestSignatureSchemeNames(t *testing.T) {
	tests := []struct {
		id   uint16
		want string
	}{
		{0x0403, "ecdsa_secp256r1_sha256"},
		{0x0804, "rsa_pss_rsae_sha256"},
		{0x0807, "ed25519"},
		{0x0201, "rsa_pkcs1_sha1"},
		{0x0303, "ecdsa_sha224"},
		{0x0905, "mldsa65"},
		{0xeded, ""},
	}
	for _, tt := range tests {
		if got := SignatureSchemeName(tt.id); got != tt.want {
			t.Errorf("SignatureSchemeName(%#04x) = %q, want %q", tt.id, got, tt.want)
		}
	}
}

func TestVersionNames(t *testing.T) {
	tests := []struct {
		id   uint16
		want string
	}{
		{0x0300, "SSL 3.0"},
		{0x0301, "TLS 1.0"},
		{0x0303, "TLS 1.2"},
		{0x0304, "TLS 1.3"},
		{0xfefd, "DTLS 1.2"},
		{0x7f17, "TLS 1.3 (draft 23)"},
		{0x7f00, ""},
		{0x0305, ""},
	}
	for _, tt := range tests {
		if got := VersionName(tt.id); got != tt.want {
			t.Errorf("VersionName(%#04x) = %q, want %q", tt.id, got, tt.want)
		}
	}
}

func TestSmallTables(t *testing.T) {
	checks := []struct{ got, want string }{
		{PSKModeName(0), "psk_ke"},
		{PSKModeName(1), "psk_dhe_ke"},
		{PSKModeName(0x0b), ""},
		{CertCompressionName(1), "zlib"},
		{CertCompressionName(2), "brotli"},
		{CertCompressionName(3), "zstd"},
		{CertCompressionName(4), ""},
		{ECPointFormatName(0), "uncompressed"},
		{ECPointFormatName(2), "ansiX962_compressed_char2"},
		{ECPointFormatName(3), ""},
		{HPKEKDFName(1), "HKDF-SHA256"},
		{HPKEKDFName(0), ""},
		{HPKEAEADName(1), "AES-128-GCM"},
		{HPKEAEADName(3), "ChaCha20Poly1305"},
		{HPKEAEADName(4), ""},
		{CertificateStatusTypeName(1), "ocsp"},
		{CertificateStatusTypeName(0), ""},
	}
	for i, c := range checks {
		if c.got != c.want {
			t.Errorf("check %d: got %q, want %q", i, c.got, c.want)
		}
	}
}

// TestLookupsDoNotAllocate pins the property the echo relies on: naming a
// hello's values costs no garbage.
func TestLookupsDoNotAllocate(t *testing.T) {
	total := 0
	n := testing.AllocsPerRun(100, func() {
		total += len(CipherSuiteName(0x1301)) + len(ExtensionName(51)) + len(GroupName(0x11ec)) +
			len(SignatureSchemeName(0x0403)) + len(VersionName(0x0304))
	})
	if total == 0 || n != 0 {
		t.Errorf("lookups allocate %v times", n)
	}
}
