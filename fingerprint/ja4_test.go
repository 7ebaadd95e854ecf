package fingerprint

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
)

func TestJA4Version(t *testing.T) {
	tests := []struct {
		name      string
		legacy    uint16
		supported []uint16
		want      string
	}{
		{"TLS 1.3 via supported_versions", 0x0303, []uint16{0x0304, 0x0303}, "13"},
		{"GREASE first is skipped", 0x0303, []uint16{0x2a2a, 0x0304}, "13"},
		{"highest, not first", 0x0303, []uint16{0x0302, 0x0304, 0x0303}, "13"},
		{"no extension: legacy 1.2", 0x0303, nil, "12"},
		{"legacy 1.1", 0x0302, nil, "11"},
		{"legacy 1.0", 0x0301, nil, "10"},
		{"SSL 3.0", 0x0300, nil, "s3"},
		{"SSL 2.0 is 0x0002", 0x0002, nil, "s2"},
		{"old SSL 2.0 code 0x0200 is unknown", 0x0200, nil, "00"},
		{"DTLS 1.0", 0xfeff, nil, "d1"},
		{"DTLS 1.2", 0xfefd, nil, "d2"},
		{"DTLS 1.3", 0x0303, []uint16{0xfefc}, "d3"},
		{"only GREASE: fall back to legacy", 0x0302, []uint16{0x6a6a}, "11"},
		{"empty list: fall back to legacy", 0x0301, []uint16{}, "10"},
		{"draft 28 is numerically highest", 0x0303, []uint16{0x0304, 0x7f1c}, "00"},
		{"unknown legacy", 0x0305, nil, "00"},
	}
	for _, tt := range tests {
		if got := ja4Version(tt.legacy, tt.supported); got != tt.want {
			t.Errorf("%s: ja4Version(%#04x, %x) = %q, want %q", tt.name, tt.legacy, tt.supported, got, tt.want)
		}
	}
}

// TestJA4ALPN covers every example of JA4.md and the s2n-tls alpns.pcap set.
func TestJA4ALPN(t *testing.T) {
	tests := []struct {
		alpn []string
		want string
	}{
		{nil, "00"},
		{[]string{}, "00"},
		{[]string{""}, "00"},
		{[]string{"", "zy"}, "00"},
		{[]string{"h2", "http/1.1"}, "h2"},
		{[]string{"http/1.1"}, "h1"},
		{[]string{"h"}, "hh"},
		{[]string{"z"}, "zz"},
		{[]string{"zyx", "abc"}, "zx"},
		{[]string{"\xab"}, "ab"},
		{[]string{"\xab\xcd"}, "ad"},
		{[]string{"\xba\xad"}, "bd"},
		{[]string{"z\xab"}, "7b"},
		{[]string{"\xabzy\xcd"}, "ad"},
		{[]string{"z\xab\xcdy"}, "zy"},
		{[]string{"0\xab"}, "3b"},
		{[]string{"-+"}, "2b"},
		{[]string{"_"}, "5f"},
		{[]string{" "}, "20"},
		{[]string{"a "}, "60"},
		{[]string{"é"}, "c9"}, // UTF-8 0xc3 0xa9, never decoded
		{[]string{"H2"}, "H2"},
	}
	for _, tt := range tests {
		got := ja4ALPN(tt.alpn)
		if string(got[:]) != tt.want {
			t.Errorf("ja4ALPN(%q) = %q, want %q", tt.alpn, got[:], tt.want)
		}
	}
}

func TestCount2(t *testing.T) {
	tests := []struct {
		n    int
		want string
	}{{0, "00"}, {5, "05"}, {10, "10"}, {99, "99"}, {100, "99"}, {4000, "99"}}
	for _, tt := range tests {
		if got := count2(tt.n); string(got[:]) != tt.want {
			t.Errorf("count2(%d) = %q, want %q", tt.n, got[:], tt.want)
		}
	}
}

// TestHash12 uses hashes taken from JA4.md and from sha256sum.
func TestHash12(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"", "000000000000"},
		{"002f,0035,009c,009d,1301,1302,1303,c013,c014,c02b,c02c,c02f,c030,cca8,cca9", "8daaf6152771"},
		{"0005,000a,000b,000d,0012,0015,0017,001b,0023,002b,002d,0033,4469,ff01_0403,0804,0401,0503,0805,0501,0806,0601", "e5627efa2ab1"},
		{"0004,0005", "6e254592683c"},
	}
	for _, tt := range tests {
		if got := hash12([]byte(tt.in)); string(got[:]) != tt.want {
			t.Errorf("hash12(%q) = %q, want %q", tt.in, got[:], tt.want)
		}
	}
	if got := hash12(nil); string(got[:]) != "000000000000" {
		t.Errorf("hash12(nil) = %q", got[:])
	}
}

// ja4Want is the four JA4 forms of one hello.
type ja4Want struct{ ja4, r, o, ro string }

func checkJA4(t *testing.T, name string, h *ClientHello, w ja4Want) {
	t.Helper()
	for _, c := range []struct{ what, got, want string }{
		{"JA4", h.JA4(), w.ja4}, {"JA4R", h.JA4R(), w.r}, {"JA4O", h.JA4O(), w.o}, {"JA4RO", h.JA4RO(), w.ro},
	} {
		if c.got != c.want {
			t.Errorf("%s: %s = %q, want %q", name, c.what, c.got, c.want)
		}
	}
	fp := h.Fingerprints()
	if fp.JA4 != w.ja4 || fp.JA4R != w.r || fp.JA4O != w.o || fp.JA4RO != w.ro {
		t.Errorf("%s: Fingerprints JA4 forms %q %q %q %q differ", name, fp.JA4, fp.JA4R, fp.JA4O, fp.JA4RO)
	}
}

// TestJA4EdgeRules builds hellos for the rules of fingerprint-spec.md; the
// expected raw strings are written out by hand, their hashes come from
// sha256sum.
func TestJA4EdgeRules(t *testing.T) {
	sni := func(host string) Extension {
		var body []byte
		if host != "" {
			n := len(host)
			body = append([]byte{0, byte(n + 3), 0, 0, byte(n)}, host...)
		}
		return Extension{Type: extServerName, Data: body}
	}
	alpn := func(protos ...string) Extension {
		var list []byte
		for _, p := range protos {
			list = append(append(list, byte(len(p))), p...)
		}
		return Extension{Type: extALPN, Data: append([]byte{0, byte(len(list))}, list...)}
	}
	versions := func(vs ...uint16) Extension {
		body := []byte{byte(2 * len(vs))}
		for _, v := range vs {
			body = append(body, byte(v>>8), byte(v))
		}
		return Extension{Type: extSupportedVersions, Data: body}
	}
	sigalgs := func(vs ...uint16) Extension {
		return Extension{Type: extSignatureAlgorithms, Data: u16list(vs...)}
	}
	tests := []struct {
		name string
		spec helloSpec
		want ja4Want
	}{
		{
			"no extension block",
			helloSpec{version: 0x0301, ciphers: []uint16{4, 5}, noExtBlock: true},
			ja4Want{
				"t10i020000_6e254592683c_000000000000", "t10i020000_0004,0005_",
				"t10i020000_6e254592683c_000000000000", "t10i020000_0004,0005_",
			},
		},
		{
			"only GREASE ciphers, only SNI and ALPN extensions, SNI body empty",
			helloSpec{version: 0x0303, ciphers: []uint16{0x0a0a}, exts: []Extension{sni(""), alpn("h2")}},
			ja4Want{
				"t12d0002h2_000000000000_000000000000", "t12d0002h2__",
				"t12d0002h2_000000000000_a2cf1a00988d", "t12d0002h2__0000,0010",
			},
		},
		{
			"GREASE everywhere, one-letter ALPN",
			helloSpec{version: 0x0303, ciphers: []uint16{0x1a1a, 0x1301, 0x00ff}, exts: []Extension{
				{Type: 0x2a2a}, versions(0x3a3a, 0x0304, 0x0303), sigalgs(0x4a4a, 0x0403, 0x0804), sni("a.b"), alpn("h"),
			}},
			ja4Want{
				"t13d0204hh_ec078ce24869_ef5f37ab036a", "t13d0204hh_00ff,1301_000d,002b_0403,0804",
				"t13d0204hh_1ad9bbeaf745_736e6f1caba0", "t13d0204hh_1301,00ff_002b,000d,0000,0010_0403,0804",
			},
		},
		{
			"draft version wins, only GREASE signature algorithms: no trailing _",
			helloSpec{version: 0x0303, ciphers: []uint16{0x1301}, exts: []Extension{versions(0x7f1c, 0x0304), sigalgs(0x5a5a)}},
			ja4Want{
				"t00i010200_0f2cb44170f4_90f4629a5905", "t00i010200_1301_000d,002b",
				"t00i010200_0f2cb44170f4_5da87fa578ac", "t00i010200_1301_002b,000d",
			},
		},
		{
			"supported_versions with only GREASE falls back to legacy",
			helloSpec{version: 0x0302, ciphers: []uint16{0x002f}, exts: []Extension{versions(0x6a6a)}},
			ja4Want{
				"t11i010100_ba72b8082249_b9a491fefe05", "t11i010100_002f_002b",
				"t11i010100_ba72b8082249_b9a491fefe05", "t11i010100_002f_002b",
			},
		},
	}
	for _, tt := range tests {
		h, err := ParseMessage(tt.spec.message())
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		checkJA4(t, tt.name, h, tt.want)
	}
}

// TestJA4Caps checks that counts stop at 99 while the hashes cover every
// value, with a hello larger than the fixed sort buffers.
func TestJA4Caps(t *testing.T) {
	spec := helloSpec{version: 0x0303}
	var ciphers, exts []string
	for i := range 150 {
		spec.ciphers = append(spec.ciphers, uint16(0x1000+i))
		ciphers = append(ciphers, fmt.Sprintf("%04x", 0x1000+i))
	}
	for i := range 120 {
		typ := uint16(0x3000 + 120 - i) // descending: sorting matters
		spec.exts = append(spec.exts, Extension{Type: typ})
		exts = append([]string{fmt.Sprintf("%04x", typ)}, exts...)
	}
	h, err := ParseMessage(spec.message())
	if err != nil {
		t.Fatal(err)
	}
	b, c := strings.Join(ciphers, ","), strings.Join(exts, ",")
	wantR := "t12i999900_" + b + "_" + c
	if got := h.JA4R(); got != wantR {
		t.Errorf("JA4R = %q, want %q", got, wantR)
	}
	sum := func(s string) string {
		h := sha256.Sum256([]byte(s))
		return hex.EncodeToString(h[:])[:12]
	}
	wantJA4 := "t12i999900_" + sum(b) + "_" + sum(c)
	if got := h.JA4(); got != wantJA4 {
		t.Errorf("JA4 = %q, want %q", got, wantJA4)
	}
	if fp := h.Fingerprints(); fp.JA4 != wantJA4 || fp.JA4R != wantR {
		t.Errorf("Fingerprints JA4 = %q", fp.JA4)
	}
}

func TestAppendUint16(t *testing.T) {
	for v := range 1 << 16 {
		if got, want := string(appendUint16(nil, uint16(v))), fmt.Sprint(v); got != want {
			t.Fatalf("appendUint16(%d) = %q", v, got)
		}
	}
}
