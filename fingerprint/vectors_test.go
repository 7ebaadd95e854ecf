package fingerprint

import (
	"bufio"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// sharedTestdata is the read-only reference data that sits beside the
// checkout (../shared from the repository root), on developer machines and CI.
const sharedTestdata = "../../shared/testdata"

// vector is one line of the shared expected-*.jsonl files: JA3 from tshark
// (Wireshark's own implementation) and JA3N/JA4 from an independent
// implementation of the spec, with the reassembled handshake message.
type vector struct {
	Pcap     string   `json:"pcap"`
	Stream   int      `json:"tcp_stream"`
	HelloHex string   `json:"clienthello_hex"`
	JA3      string   `json:"ja3_full"`
	JA3Hash  string   `json:"ja3_hash"`
	JA3N     string   `json:"ja3n_full"`
	JA3NHash string   `json:"ja3n_hash"`
	JA4      string   `json:"ja4"`
	JA4R     string   `json:"ja4_r"`
	JA4O     string   `json:"ja4_o"`
	JA4RO    string   `json:"ja4_ro"`
	SNI      string   `json:"sni_tshark"`
	ALPN     []string `json:"alpn_tshark"`
}

func loadVectors(t testing.TB) []vector {
	t.Helper()
	files := []string{
		filepath.Join(sharedTestdata, "ja4/foxio/expected-own-tshark.jsonl"),
		filepath.Join(sharedTestdata, "ja3/s2n-tls/expected.jsonl"),
	}
	var vs []vector
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			t.Fatalf("shared test vectors missing (expected ../shared beside the checkout): %v", err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var v vector
			if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if v.HelloHex != "" {
				vs = append(vs, v)
			}
		}
		f.Close()
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
	}
	if len(vs) < 150 {
		t.Fatalf("only %d vectors with clienthello_hex loaded", len(vs))
	}
	return vs
}

// TestSharedVectorsJA3 checks JA3 (against tshark) and JA3N of every
// ClientHello in ../shared/testdata.
func TestSharedVectorsJA3(t *testing.T) {
	for _, v := range loadVectors(t) {
		name := v.Pcap + "/" + itoa(v.Stream)
		msg, err := hex.DecodeString(v.HelloHex)
		if err != nil {
			t.Fatalf("%s: bad hex: %v", name, err)
		}
		h, err := ParseMessage(msg)
		if err != nil {
			t.Errorf("%s: ParseMessage: %v", name, err)
			continue
		}
		if got := h.JA3(); got != v.JA3 {
			t.Errorf("%s: JA3 = %q, want %q", name, got, v.JA3)
		}
		if got := h.JA3Hash(); got != v.JA3Hash {
			t.Errorf("%s: JA3Hash = %s, want %s", name, got, v.JA3Hash)
		}
		if got := h.JA3N(); got != v.JA3N {
			t.Errorf("%s: JA3N = %q, want %q", name, got, v.JA3N)
		}
		if got := h.JA3NHash(); got != v.JA3NHash {
			t.Errorf("%s: JA3NHash = %s, want %s", name, got, v.JA3NHash)
		}
		if v.SNI != "" && h.ServerName != v.SNI {
			t.Errorf("%s: ServerName = %q, want %q", name, h.ServerName, v.SNI)
		}
	}
}

// TestSharedVectorsJA4 checks the four JA4 forms of every shared hello
// against the values computed from the spec text (expected-own-tshark.jsonl
// and s2n-tls/expected.jsonl; not FoxIO's tool outputs, which diverge from
// the text on ALPN and empty lists), both through the single-form methods
// and through Fingerprints, and that the JSON echo of each hello marshals.
func TestSharedVectorsJA4(t *testing.T) {
	n := 0
	for _, v := range loadVectors(t) {
		name := v.Pcap + "/" + itoa(v.Stream)
		if v.JA4 == "" {
			t.Errorf("%s: vector has no ja4", name)
			continue
		}
		msg, err := hex.DecodeString(v.HelloHex)
		if err != nil {
			t.Fatalf("%s: bad hex: %v", name, err)
		}
		h, err := ParseMessage(msg)
		if err != nil {
			t.Errorf("%s: ParseMessage: %v", name, err)
			continue
		}
		n++
		fp := h.Fingerprints()
		checks := []struct {
			what, got, alt, want string
		}{
			{"JA4", h.JA4(), fp.JA4, v.JA4},
			{"JA4R", h.JA4R(), fp.JA4R, v.JA4R},
			{"JA4O", h.JA4O(), fp.JA4O, v.JA4O},
			{"JA4RO", h.JA4RO(), fp.JA4RO, v.JA4RO},
			{"JA3", h.JA3(), fp.JA3, v.JA3},
			{"JA3N", h.JA3N(), fp.JA3N, v.JA3N},
			{"JA3NHash", h.JA3NHash(), fp.JA3NHash, v.JA3NHash},
		}
		for _, c := range checks {
			if c.got != c.want {
				t.Errorf("%s: %s = %q, want %q", name, c.what, c.got, c.want)
			}
			if c.alt != c.want {
				t.Errorf("%s: Fingerprints().%s = %q, want %q", name, c.what, c.alt, c.want)
			}
		}
		if fp.PeetPrint != h.PeetPrint() || fp.PeetPrintHash != h.PeetPrintHash() {
			t.Errorf("%s: Fingerprints PeetPrint %q/%s differs from PeetPrint %q/%s",
				name, fp.PeetPrint, fp.PeetPrintHash, h.PeetPrint(), h.PeetPrintHash())
		}
		if fp.JA3Hash != h.JA3Hash() {
			t.Errorf("%s: Fingerprints JA3Hash %s, JA3Hash %s", name, fp.JA3Hash, h.JA3Hash())
		}
		if _, err := json.Marshal(h.TLS()); err != nil {
			t.Errorf("%s: TLS JSON: %v", name, err)
		}
	}
	if n < 150 {
		t.Fatalf("only %d vectors checked", n)
	}
}

func itoa(i int) string {
	b, _ := json.Marshal(i)
	return string(b)
}
