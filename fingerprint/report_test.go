package fingerprint

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"golang.org/x/crypto/cryptobyte"
)

// namedHellos are one hello per client family from the shared vectors, used
// by the benchmarks and the allocation test.
var namedHellos = []struct{ name, pcap string }{
	{"chrome", "browsers-x509.pcapng"}, // Chrome/Edge 2023, stream 0
	{"firefox", "tls12.pcap"},          // Firefox, stream 0
	{"curl", "multiple_hellos.pcap"},   // OpenSSL 3 client (curl's cipher hash e8f1e7e78f70), stream 1
}

func namedHello(t testing.TB, name string) []byte {
	t.Helper()
	for _, n := range namedHellos {
		if n.name != name {
			continue
		}
		stream := 0
		if name == "curl" {
			stream = 1
		}
		for _, v := range loadVectors(t) {
			if v.Pcap == n.pcap && v.Stream == stream {
				msg, err := hex.DecodeString(v.HelloHex)
				if err != nil {
					t.Fatal(err)
				}
				return msg
			}
		}
	}
	t.Fatalf("no vector for %s", name)
	return nil
}

// TestFingerprintsAllocs pins the allocation count of Fingerprints, the
// per-connection cost. Counts are deterministic, unlike timings.
func TestFingerprintsAllocs(t *testing.T) {
	const limit = 8
	for _, n := range namedHellos {
		h, err := ParseMessage(namedHello(t, n.name))
		if err != nil {
			t.Fatal(err)
		}
		var fp Fingerprints
		allocs := testing.AllocsPerRun(200, func() { fp = h.Fingerprints() })
		if allocs > limit {
			t.Errorf("%s: Fingerprints makes %v allocations, limit %d", n.name, allocs, limit)
		}
		if fp.JA4 != h.JA4() {
			t.Errorf("%s: JA4 %q != %q", n.name, fp.JA4, h.JA4())
		}
	}
}

// TestFingerprintsMatchMethods checks that the one-buffer builder gives the
// same ten strings as the single-form methods, for a hello whose strings
// overflow the stack buffer.
func TestFingerprintsMatchMethods(t *testing.T) {
	spec := helloSpec{version: 0x0303}
	for i := range 400 {
		spec.ciphers = append(spec.ciphers, uint16(0xc000+i))
	}
	for i := range 80 {
		spec.exts = append(spec.exts, Extension{Type: uint16(60000 + i)})
	}
	h, err := ParseMessage(spec.message())
	if err != nil {
		t.Fatal(err)
	}
	fp := h.Fingerprints()
	want := Fingerprints{
		JA3: h.JA3(), JA3Hash: h.JA3Hash(), JA3N: h.JA3N(), JA3NHash: h.JA3NHash(),
		JA4: h.JA4(), JA4R: h.JA4R(), JA4O: h.JA4O(), JA4RO: h.JA4RO(),
		PeetPrint: h.PeetPrint(), PeetPrintHash: h.PeetPrintHash(),
	}
	if fp != want {
		t.Errorf("Fingerprints = %+v\nwant %+v", fp, want)
	}
	if len(fp.JA3)+len(fp.JA4R)+len(fp.PeetPrint) < 2048 {
		t.Errorf("hello too small to overflow the stack buffer")
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestTLSEchoShape pins the JSON shape of the echo on the rebuilt Chrome 123
// hello; the expected JSON is written by hand.
func TestTLSEchoShape(t *testing.T) {
	var spec helloSpec
	for _, p := range publishedHellos(t) {
		if p.name == "chrome123" {
			spec = p.spec
		}
	}
	msg := spec.message()
	h, err := Parse(records(msg, 1<<14))
	if err != nil {
		t.Fatal(err)
	}
	tls := h.TLS()
	if got, want := mustJSON(t, tls.CipherSuites[:2]),
		`[{"id":43690,"name":"GREASE","grease":true},{"id":4865,"name":"TLS_AES_128_GCM_SHA256"}]`; got != want {
		t.Errorf("cipher_suites = %s\nwant %s", got, want)
	}
	want := map[uint16]string{
		0x9a9a: `{"id":39578,"name":"GREASE","grease":true,"length":0}`,
		0x0a0a: `{"id":2570,"name":"GREASE","grease":true,"length":1,"data_hex":"00"}`,
		18:     `{"id":18,"name":"signed_certificate_timestamp","length":0,"data":{}}`,
		65037: `{"id":65037,"name":"encrypted_client_hello","length":218,"data":{"type":0,"type_name":"outer",` +
			`"kdf":{"id":1,"name":"HKDF-SHA256"},"aead":{"id":1,"name":"AES-128-GCM"},"config_id":206,"enc_length":32,"payload_length":176}}`,
		51: `{"id":51,"name":"key_share","length":43,"data":{"entries":[` +
			`{"group":{"id":47802,"name":"GREASE","grease":true},"key_length":1},{"group":{"id":29,"name":"x25519"},"key_length":32}]}}`,
		0: `{"id":0,"name":"server_name","length":16,"data":{"names":[{"type":0,"name":"tls.peet.ws"}]}}`,
		43: `{"id":43,"name":"supported_versions","length":7,"data":{"versions":[` +
			`{"id":14906,"name":"GREASE","grease":true},{"id":772,"name":"TLS 1.3"},{"id":771,"name":"TLS 1.2"}]}}`,
		45:    `{"id":45,"name":"psk_key_exchange_modes","length":2,"data":{"modes":[{"id":1,"name":"psk_dhe_ke"}]}}`,
		27:    `{"id":27,"name":"compress_certificate","length":3,"data":{"algorithms":[{"id":2,"name":"brotli"}]}}`,
		5:     `{"id":5,"name":"status_request","length":5,"data":{"status_type":{"id":1,"name":"ocsp"},"responder_id_list_length":0,"request_extensions_length":0}}`,
		35:    `{"id":35,"name":"session_ticket","length":0,"data":{"length":0}}`,
		65281: `{"id":65281,"name":"renegotiation_info","length":1,"data":{"length":0}}`,
		17513: `{"id":17513,"name":"application_settings_old","length":5,"data":{"protocols":["h2"]}}`,
		11:    `{"id":11,"name":"ec_point_formats","length":2,"data":{"formats":[{"id":0,"name":"uncompressed"}]}}`,
		23:    `{"id":23,"name":"extended_master_secret","length":0,"data":{}}`,
	}
	if len(tls.Extensions) != len(h.Extensions) {
		t.Fatalf("%d extensions echoed, hello has %d", len(tls.Extensions), len(h.Extensions))
	}
	for i, e := range tls.Extensions {
		if e.ID != h.Extensions[i].Type {
			t.Errorf("extension %d id %d, want wire order %d", i, e.ID, h.Extensions[i].Type)
		}
		if w, ok := want[e.ID]; ok {
			if got := mustJSON(t, e); got != w {
				t.Errorf("extension %d:\n got %s\nwant %s", e.ID, got, w)
			}
		}
	}
	if got := mustJSON(t, tls.SupportedGroups); got != `[{"id":47802,"name":"GREASE","grease":true},{"id":29,"name":"x25519"},{"id":23,"name":"secp256r1"},{"id":24,"name":"secp384r1"}]` {
		t.Errorf("supported_groups = %s", got)
	}
	if tls.SignatureAlgorithms[0] != (CodePoint{ID: 0x0403, Name: "ecdsa_secp256r1_sha256"}) {
		t.Errorf("signature_algorithms[0] = %+v", tls.SignatureAlgorithms[0])
	}
	raw, err := base64.StdEncoding.DecodeString(tls.RawB64)
	if err != nil || !bytes.Equal(raw, msg) || tls.RawHex != hex.EncodeToString(msg) {
		t.Errorf("raw_b64/raw_hex do not round-trip (%v)", err)
	}
	if tls.Truncated != nil {
		t.Errorf("truncated = %v for a normal hello", tls.Truncated)
	}
	full := mustJSON(t, tls)
	for _, key := range []string{`"record_version":769`, `"client_version":771`, `"ec_point_formats":[0]`,
		`"alpn":["h2","http/1.1"]`, `"server_name":"tls.peet.ws"`, `"key_share_groups":[47802,29]`} {
		if !strings.Contains(full, key) {
			t.Errorf("TLS JSON lacks %s", key)
		}
	}
	if strings.Contains(full, `"truncated"`) {
		t.Errorf("TLS JSON has a truncated key for a normal hello")
	}
}

// TestExtensionData decodes one body of every structured extension type.
func TestExtensionData(t *testing.T) {
	build := func(f func(b *cryptobyte.Builder)) []byte {
		var b cryptobyte.Builder
		f(&b)
		return b.BytesOrPanic()
	}
	psk := build(func(b *cryptobyte.Builder) {
		b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
			for range 2 {
				b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes([]byte("ticket")) })
				b.AddUint32(7)
			}
		})
		b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
			for range 2 {
				b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(make([]byte, 32)) })
			}
		})
	})
	tests := []struct {
		typ  uint16
		body []byte
		want string
	}{
		{0, nil, `{"names":[]}`},
		{16, protoList("h2", "http/1.1"), `{"protocols":["h2","http/1.1"]}`},
		{16, protoList(), `{"protocols":[]}`},
		{17613, protoList("h2"), `{"protocols":["h2"]}`},
		{10, u16list(0x11ec, 0x6399, 0x639a, 0x3a3a), `{"groups":[{"id":4588,"name":"X25519MLKEM768"},{"id":25497,"name":"X25519Kyber768Draft00"},{"id":25498,"name":"SecP256r1Kyber768Draft00"},{"id":14906,"name":"GREASE","grease":true}]}`},
		{11, []byte{2, 0, 9}, `{"formats":[{"id":0,"name":"uncompressed"},{"id":9,"name":""}]}`},
		{13, u16list(0x0807), `{"algorithms":[{"id":2055,"name":"ed25519"}]}`},
		{50, u16list(0x0804), `{"algorithms":[{"id":2052,"name":"rsa_pss_rsae_sha256"}]}`},
		{34, u16list(0x0403), `{"algorithms":[{"id":1027,"name":"ecdsa_secp256r1_sha256"}]}`},
		{43, u8u16list(0x0304), `{"versions":[{"id":772,"name":"TLS 1.3"}]}`},
		{45, []byte{2, 0x0b, 1}, `{"modes":[{"id":11,"name":"GREASE","grease":true},{"id":1,"name":"psk_dhe_ke"}]}`},
		{51, keyShares(0x11ec, 1216), `{"entries":[{"group":{"id":4588,"name":"X25519MLKEM768"},"key_length":1216}]}`},
		{27, u8u16list(1, 3), `{"algorithms":[{"id":1,"name":"zlib"},{"id":3,"name":"zstd"}]}`},
		{28, []byte{0x40, 0x01}, `{"limit":16385}`},
		{5, []byte{1, 0, 0, 0, 0}, `{"status_type":{"id":1,"name":"ocsp"},"responder_id_list_length":0,"request_extensions_length":0}`},
		{35, make([]byte, 192), `{"length":192}`},
		{41, psk, `{"identities":2,"binders":2}`},
		{42, nil, `{}`},
		{21, make([]byte, 7), `{"length":7}`},
		{0xfe0d, []byte{1}, `{"type":1,"type_name":"inner"}`},
		{0xfe0d, []byte{7, 1, 2}, `{"type":7,"type_name":""}`},
		{0xff01, []byte{2, 9, 9}, `{"length":2}`},
		{23, nil, `{}`},
		{57, []byte{1, 2, 3}, `{}`},
	}
	for _, tt := range tests {
		data, err := decodeExtensionData(tt.typ, tt.body)
		if err != nil {
			t.Errorf("type %d body %x: %v", tt.typ, tt.body, err)
			continue
		}
		if got := mustJSON(t, data); got != tt.want {
			t.Errorf("type %d body %x:\n got %s\nwant %s", tt.typ, tt.body, got, tt.want)
		}
	}
	if data, err := decodeExtensionData(0x1234, []byte{1}); data != nil || err != nil {
		t.Errorf("unknown type decoded to %v, %v", data, err)
	}
}

// TestExtensionDataMalformed: a body that does not decode shows as data_hex
// with an error on that extension only; the hello still parses.
func TestExtensionDataMalformed(t *testing.T) {
	bad := []Extension{
		{Type: 5, Data: []byte{1, 0}},                     // status_request cut short
		{Type: 28, Data: []byte{0x40, 0x01, 0}},           // record_size_limit too long
		{Type: 45, Data: []byte{3, 1}},                    // psk modes length mismatch
		{Type: 27, Data: []byte{3, 0, 1, 0}},              // odd compress_certificate list
		{Type: 41, Data: []byte{0, 3, 0, 1, 'x'}},         // psk identity without age
		{Type: 0xfe0d, Data: []byte{0, 0, 1, 0, 1, 5, 0}}, // ECH outer cut short
		{Type: 23, Data: []byte{0}},                       // EMS with a body
		{Type: 50, Data: []byte{0, 3, 4, 3, 1}},           // odd signature_algorithms_cert
		{Type: 17613, Data: []byte{0, 4, 5, 'h', '2'}},    // ALPS inner overflow
		{Type: 0xff01, Data: []byte{}},                    // renegotiation_info without its length byte
		{Type: 34, Data: []byte{0, 2, 4}},                 // delegated_credentials cut short
	}
	spec := helloSpec{version: 0x0303, ciphers: []uint16{0x1301}, exts: append([]Extension{
		{Type: 0x1234, Data: []byte("abc")},
		{Type: 43, Data: u8u16list(0x0304)},
	}, bad...)}
	h, err := ParseMessage(spec.message())
	if err != nil {
		t.Fatalf("lenient extensions failed the hello: %v", err)
	}
	tls := h.TLS()
	if got := mustJSON(t, tls.Extensions[0]); got != `{"id":4660,"name":"","length":3,"data_hex":"616263"}` {
		t.Errorf("unknown extension = %s", got)
	}
	if tls.Extensions[1].Data == nil || tls.Extensions[1].Error != "" {
		t.Errorf("good extension after an unknown one = %+v", tls.Extensions[1])
	}
	for i, e := range tls.Extensions[2:] {
		if e.Data != nil || e.Error == "" || e.DataHex != hex.EncodeToString(bad[i].Data) {
			t.Errorf("malformed extension %d = %+v", e.ID, e)
		}
	}
	if _, err := json.Marshal(tls); err != nil {
		t.Fatal(err)
	}
}

// TestTLSEchoBounds: client-controlled lists are cut at MaxEchoList and say
// so; big unknown bodies are cut at MaxEchoHexBytes.
func TestTLSEchoBounds(t *testing.T) {
	spec := helloSpec{version: 0x0303}
	for i := range 300 {
		spec.ciphers = append(spec.ciphers, uint16(0xc000+i))
	}
	var protos []string
	for range 300 {
		protos = append(protos, "h2")
	}
	spec.exts = []Extension{
		{Type: 16, Data: protoList(protos...)},
		{Type: 0x1234, Data: bytes.Repeat([]byte{0xab}, 3000)},
	}
	h, err := ParseMessage(spec.message())
	if err != nil {
		t.Fatal(err)
	}
	tls := h.TLS()
	if len(tls.CipherSuites) != MaxEchoList || len(tls.ALPN) != MaxEchoList {
		t.Errorf("cipher_suites %d, alpn %d entries; want %d", len(tls.CipherSuites), len(tls.ALPN), MaxEchoList)
	}
	if !slices.Equal(tls.Truncated, []string{"cipher_suites", "alpn"}) {
		t.Errorf("truncated = %q", tls.Truncated)
	}
	alpn := tls.Extensions[0].Data.(*ProtocolsData)
	if len(alpn.Protocols) != MaxEchoList || !alpn.Truncated {
		t.Errorf("ALPN data: %d protocols, truncated %v", len(alpn.Protocols), alpn.Truncated)
	}
	unknown := tls.Extensions[1]
	if len(unknown.DataHex) != 2*MaxEchoHexBytes || !unknown.Truncated || unknown.Length != 3000 {
		t.Errorf("unknown: %d hex chars, truncated %v, length %d", len(unknown.DataHex), unknown.Truncated, unknown.Length)
	}
}

// TestFingerprintsJSONKeys pins the public JSON keys of Fingerprints.
func TestFingerprintsJSONKeys(t *testing.T) {
	fp := Fingerprints{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"}
	want := `{"ja3":"a","ja3_hash":"b","ja3n":"c","ja3n_hash":"d","ja4":"e","ja4_r":"f","ja4_o":"g","ja4_ro":"h","peetprint":"i","peetprint_hash":"j"}`
	if got := mustJSON(t, fp); got != want {
		t.Errorf("JSON = %s\nwant %s", got, want)
	}
}
