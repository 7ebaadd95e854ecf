package fingerprint

import (
	"encoding/hex"
	"slices"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/crypto/cryptobyte"
)

// Extension builders for hand-made hellos.

func extSNI(host string) Extension {
	var b cryptobyte.Builder
	b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
		b.AddUint8(0)
		b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes([]byte(host)) })
	})
	return Extension{Type: extServerName, Data: b.BytesOrPanic()}
}

// protoList is the body of ALPN and ALPS: u16 length, u8-prefixed names.
func protoList(protos ...string) []byte {
	var b cryptobyte.Builder
	b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
		for _, p := range protos {
			b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes([]byte(p)) })
		}
	})
	return b.BytesOrPanic()
}

// u8u16list is a u8-length-prefixed list of u16 (supported_versions,
// compress_certificate).
func u8u16list(vs ...uint16) []byte {
	out := []byte{byte(2 * len(vs))}
	for _, v := range vs {
		out = append(out, byte(v>>8), byte(v))
	}
	return out
}

// keyShares is a key_share body with keys of the given lengths.
func keyShares(groupsAndLens ...int) []byte {
	var b cryptobyte.Builder
	b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
		for i := 0; i+1 < len(groupsAndLens); i += 2 {
			b.AddUint16(uint16(groupsAndLens[i]))
			b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(make([]byte, groupsAndLens[i+1])) })
		}
	})
	return b.BytesOrPanic()
}

var (
	chromeSigAlgs = []uint16{0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601}
	chromeCiphers = []uint16{4865, 4866, 4867, 49195, 49199, 49196, 49200, 52393, 52392, 49171, 49172, 156, 157, 47, 53}
)

// echChrome123 is the body of the encrypted_client_hello extension that
// tls.peet.ws published for the Chrome 123 hello below.
const echChrome123 = "0000010001ce0020b32add585045418bb827b3035a2a138d98a041ca62b79ed382aa0f59fb75b24200b09fdf2a3aba7b09e6839fea7e7d6639bac6a03b525fc17b753b29d1a48b542fd3ee4ab9bc746b38855d97c9cc61da2e3a11c0a389c63706b22b31933cc2fc59a21707fb85dad0d7910c4d4a97ce4d98768555d5a0529d9b1184ae816f274810e79b1807ff2850f8b9181864ebf25380c25f446e4823282570416c77f972e313378018c6311e3df1070688b866cccf69fad5bfa327afc81a9623cfdd407f07fb8a7916806bfbdd799de2de9197b35ef923"

// published is a hello rebuilt, extension by extension in wire order, from
// a full tls.peet.ws /api/all answer quoted in public code, with the
// fingerprints that answer showed. Bodies the answer does not show (the
// GREASE extensions') do not enter any fingerprint.
type published struct {
	name                         string
	spec                         helloSpec
	ja3, ja3Hash, peet, peetHash string
	ja4ab                        string // JA4 parts a and b as published, where TrackMe got them right
}

func publishedHellos(t testing.TB) []published {
	ech, err := hex.DecodeString(echChrome123)
	if err != nil {
		t.Fatal(err)
	}
	return []published{
		{
			// Chrome 103 on Windows, from a requests_go example.
			name: "chrome103",
			spec: helloSpec{version: 0x0303, ciphers: append([]uint16{0x2a2a}, chromeCiphers...), exts: []Extension{
				{Type: 0xfafa},
				extSNI("tls.peet.ws"),
				{Type: 23},
				{Type: 65281, Data: []byte{0}},
				{Type: 10, Data: u16list(0xfafa, 29, 23, 24)},
				{Type: 11, Data: []byte{1, 0}},
				{Type: 35},
				{Type: 16, Data: protoList("h2", "http/1.1")},
				{Type: 5, Data: []byte{1, 0, 0, 0, 0}},
				{Type: 13, Data: u16list(chromeSigAlgs...)},
				{Type: 18},
				{Type: 51, Data: keyShares(0xfafa, 1, 29, 32)},
				{Type: 45, Data: []byte{1, 1}},
				{Type: 43, Data: u8u16list(0xfafa, 0x0304, 0x0303)},
				{Type: 27, Data: u8u16list(2)},
				{Type: 17513, Data: protoList("h2")},
				{Type: 0xdada, Data: []byte{0}},
				{Type: 21, Data: make([]byte, 408)},
			}},
			ja3:      "771,4865-4866-4867-49195-49199-49196-49200-52393-52392-49171-49172-156-157-47-53,0-23-65281-10-11-35-16-5-13-18-51-45-43-27-17513-21,29-23-24,0",
			ja3Hash:  "cd08e31494f9531f560d64c695473da9",
			peet:     "GREASE-772-771|2-1.1|GREASE-29-23-24|1027-2052-1025-1283-2053-1281-2054-1537|1|2|GREASE-4865-4866-4867-49195-49199-49196-49200-52393-52392-49171-49172-156-157-47-53|0-10-11-13-16-17513-18-21-23-27-35-43-45-5-51-65281-GREASE-GREASE",
			peetHash: "22a4f858cc83b9144c829ca411948a88",
		},
		{
			// Chrome 123 on Windows with ECH, from a ja3 config collection.
			// TrackMe published t13d1516h2_8daaf6152771_b1ff8ab2d16f; its part
			// c is not the spec's (peers.md §9: TrackMe's JA4_c deviates), so
			// only a and b are compared. Spec JA4 part c here is the SHA-256
			// of 0005,000a,000b,000d,0012,0017,001b,0023,002b,002d,0033,4469,
			// fe0d,ff01_0403,...,0601 = 02713d6af862 (sha256sum).
			name: "chrome123",
			spec: helloSpec{version: 0x0303, ciphers: append([]uint16{0xaaaa}, chromeCiphers...), exts: []Extension{
				{Type: 0x9a9a},
				{Type: 18},
				{Type: 65037, Data: ech},
				{Type: 27, Data: u8u16list(2)},
				{Type: 13, Data: u16list(chromeSigAlgs...)},
				{Type: 45, Data: []byte{1, 1}},
				{Type: 43, Data: u8u16list(0x3a3a, 0x0304, 0x0303)},
				extSNI("tls.peet.ws"),
				{Type: 10, Data: u16list(0xbaba, 29, 23, 24)},
				{Type: 35},
				{Type: 5, Data: []byte{1, 0, 0, 0, 0}},
				{Type: 23},
				{Type: 51, Data: keyShares(0xbaba, 1, 29, 32)},
				{Type: 65281, Data: []byte{0}},
				{Type: 17513, Data: protoList("h2")},
				{Type: 11, Data: []byte{1, 0}},
				{Type: 16, Data: protoList("h2", "http/1.1")},
				{Type: 0x0a0a, Data: []byte{0}},
			}},
			ja3:      "771,4865-4866-4867-49195-49199-49196-49200-52393-52392-49171-49172-156-157-47-53,18-65037-27-13-45-43-0-10-35-5-23-51-65281-17513-11-16,29-23-24,0",
			ja3Hash:  "b4fb3730a7bdf8223b41c5e8dd021404",
			peet:     "GREASE-772-771|2-1.1|GREASE-29-23-24|1027-2052-1025-1283-2053-1281-2054-1537|1|2|GREASE-4865-4866-4867-49195-49199-49196-49200-52393-52392-49171-49172-156-157-47-53|0-10-11-13-16-17513-18-23-27-35-43-45-5-51-65037-65281-GREASE-GREASE",
			peetHash: "8ad9325e12f531d2983b78860de7b0ec",
			ja4ab:    "t13d1516h2_8daaf6152771_",
		},
		{
			// An Android app (OkHttp/Conscrypt-like), TLS 1.2 only: no
			// supported_versions, psk modes or cert compression.
			name: "android-tls12",
			spec: helloSpec{version: 0x0303, ciphers: []uint16{49195, 49196, 52393, 49199, 49200, 52392, 49171, 49172, 156, 157, 47, 53}, exts: []Extension{
				{Type: 65281, Data: []byte{0}},
				extSNI("api.gotinder.com"),
				{Type: 23},
				{Type: 35},
				{Type: 13, Data: u16list(append(chromeSigAlgs, 0x0201)...)},
				{Type: 5, Data: []byte{1, 0, 0, 0, 0}},
				{Type: 16, Data: protoList("h2", "http/1.1")},
				{Type: 11, Data: []byte{1, 0}},
				{Type: 10, Data: u16list(29, 23, 24)},
			}},
			ja3:      "771,49195-49196-52393-49199-49200-52392-49171-49172-156-157-47-53,65281-0-23-35-13-5-16-11-10,29-23-24,0",
			ja3Hash:  "6f5e62edfa5933b1332ddf8b9fb3ef9d",
			peet:     "|2-1.1|29-23-24|1027-2052-1025-1283-2053-1281-2054-1537-513|0||49195-49196-52393-49199-49200-52392-49171-49172-156-157-47-53|0-10-11-13-16-23-35-5-65281",
			peetHash: "56b4a9c0c62272cd3a9257311697e41f",
		},
	}
}

// TestPeetPrintPublished checks PeetPrint against fingerprints published by
// tls.peet.ws itself. The JA3 of each rebuilt hello must match the published
// JA3 too, which shows the rebuild is faithful.
func TestPeetPrintPublished(t *testing.T) {
	for _, p := range publishedHellos(t) {
		h, err := Parse(records(p.spec.message(), 1<<14))
		if err != nil {
			t.Fatalf("%s: %v", p.name, err)
		}
		fp := h.Fingerprints()
		for _, c := range []struct{ what, got, alt, want string }{
			{"JA3", h.JA3(), fp.JA3, p.ja3},
			{"JA3Hash", h.JA3Hash(), fp.JA3Hash, p.ja3Hash},
			{"PeetPrint", h.PeetPrint(), fp.PeetPrint, p.peet},
			{"PeetPrintHash", h.PeetPrintHash(), fp.PeetPrintHash, p.peetHash},
		} {
			if c.got != c.want || c.alt != c.want {
				t.Errorf("%s: %s = %q (Fingerprints %q), want %q", p.name, c.what, c.got, c.alt, c.want)
			}
		}
		if p.ja4ab != "" && !strings.HasPrefix(h.JA4(), p.ja4ab) {
			t.Errorf("%s: JA4 = %q, want prefix %q", p.name, h.JA4(), p.ja4ab)
		}
		if p.name == "chrome123" && h.JA4() != "t13d1516h2_8daaf6152771_02713d6af862" {
			t.Errorf("%s: JA4 = %q", p.name, h.JA4())
		}
	}
}

// TestPeetPrintRules covers the grammar's edge cases with strings written by
// hand from the grammar in peetprint.go.
func TestPeetPrintRules(t *testing.T) {
	tests := []struct {
		name string
		spec helloSpec
		want string
	}{
		{
			"no extensions at all",
			helloSpec{version: 0x0301, ciphers: []uint16{4, 5}, noExtBlock: true},
			"||||0||4-5|",
		},
		{
			"ALPN keeps only HTTP names, any case, in wire order",
			helloSpec{version: 0x0303, ciphers: []uint16{0x1301}, exts: []Extension{
				{Type: 16, Data: protoList("h3", "HTTP/1.1", "spdy/3.1", "H2", "http/1.0", "acme-tls/1")},
			}},
			"|1.1-2-1.0|||0||4865|16",
		},
		{
			"extensions sort as strings, GREASE tokens last",
			helloSpec{version: 0x0303, ciphers: []uint16{0x0a0a, 0x1301}, exts: []Extension{
				{Type: 0x1a1a}, {Type: 65281, Data: []byte{0}}, {Type: 5, Data: []byte{1, 0, 0, 0, 0}},
				{Type: 51, Data: keyShares(29, 32)}, {Type: 45, Data: []byte{1, 0}}, {Type: 100},
				{Type: 1000}, {Type: 17513, Data: protoList()}, {Type: 18}, {Type: 0x2a2a, Data: []byte{0}},
			}},
			"||||0||GREASE-4865|100-1000-17513-18-45-5-51-65281-GREASE-GREASE",
		},
		{
			"psk: first mode; cert compression list; GREASE in every list",
			helloSpec{version: 0x0303, ciphers: []uint16{0x1301}, exts: []Extension{
				{Type: 43, Data: u8u16list(0x4a4a, 0x0304)},
				{Type: 10, Data: u16list(0x11ec, 0x5a5a, 29)},
				{Type: 13, Data: u16list(0x6a6a, 0x0403)},
				{Type: 45, Data: []byte{2, 0, 1}},
				{Type: 27, Data: u8u16list(2, 1, 0x7a7a)},
			}},
			"GREASE-772||4588-GREASE-29|GREASE-1027|0|2-1-GREASE|4865|10-13-27-43-45",
		},
		{
			"malformed psk modes and cert compression count as absent",
			helloSpec{version: 0x0303, ciphers: []uint16{0x1301}, exts: []Extension{
				{Type: 45, Data: []byte{3, 1}},
				{Type: 27, Data: []byte{3, 0, 2, 0}},
			}},
			"||||0||4865|27-45",
		},
		{
			"empty psk list",
			helloSpec{version: 0x0303, ciphers: []uint16{0x1301}, exts: []Extension{{Type: 45, Data: []byte{0}}}},
			"||||0||4865|45",
		},
	}
	for _, tt := range tests {
		h, err := ParseMessage(tt.spec.message())
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if got := h.PeetPrint(); got != tt.want {
			t.Errorf("%s: PeetPrint = %q, want %q", tt.name, got, tt.want)
		}
		if got := h.Fingerprints().PeetPrint; got != tt.want {
			t.Errorf("%s: Fingerprints().PeetPrint = %q, want %q", tt.name, got, tt.want)
		}
	}
}

// TestPeetSortKeyOrdersLikeStrings compares, for every 16-bit value, the
// order of peetSortKey with the plain string order of the tokens.
func TestPeetSortKeyOrdersLikeStrings(t *testing.T) {
	vals := make([]uint16, 0, 1<<16)
	for v := range 1 << 16 {
		vals = append(vals, uint16(v))
	}
	token := func(v uint16) string {
		if IsGREASE(v) {
			return "GREASE"
		}
		return strconv.Itoa(int(v))
	}
	byKey := slices.Clone(vals)
	slices.SortFunc(byKey, func(a, b uint16) int { return cmpU64(peetSortKey(a), peetSortKey(b)) })
	byString := slices.Clone(vals)
	slices.SortStableFunc(byString, func(a, b uint16) int { return strings.Compare(token(a), token(b)) })
	for i := range byKey {
		if token(byKey[i]) != token(byString[i]) {
			t.Fatalf("position %d: key order gives %q, string order %q", i, token(byKey[i]), token(byString[i]))
		}
	}
}

func cmpU64(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
