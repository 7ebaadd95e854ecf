package fingerprint

import (
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// goldenDir holds real captured hellos (raw TLS records as hex) and, for
// each X.hex, an X.golden.json written by an independent implementation
// (testdata/tools/ja4.py, JA3 from tshark).
const goldenDir = "../testdata/clienthellos"

// golden is the part of a *.golden.json file this package checks. The
// fingerprint keys are required; the others are checked when present.
type golden struct {
	JA3         *string         `json:"ja3"`
	JA3N        *string         `json:"ja3n"`
	JA4         *string         `json:"ja4"`
	JA4R        *string         `json:"ja4_r"`
	JA4O        *string         `json:"ja4_o"`
	JA4RO       *string         `json:"ja4_ro"`
	JA3Hash     *string         `json:"ja3_hash"`
	JA3NHash    *string         `json:"ja3n_hash"`
	SNI         json.RawMessage `json:"sni"` // absent, null or a string
	ALPN        []string        `json:"alpn"`
	TLSVersions []uint16        `json:"tls_versions"`
	HelloLen    *int            `json:"hello_len"`
}

// readHexFile decodes a whitespace-tolerant hex file; lines whose first
// non-blank character is '#' are comments.
func readHexFile(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var digits strings.Builder
	for line := range strings.Lines(string(data)) {
		if strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		for _, f := range strings.Fields(line) {
			digits.WriteString(f)
		}
	}
	return hex.DecodeString(digits.String())
}

// TestGoldenClientHellos checks every captured hello against its golden
// file. A .hex without a golden file, or a golden file without its .hex,
// fails; only an empty directory skips.
func TestGoldenClientHellos(t *testing.T) {
	hexes, err := filepath.Glob(filepath.Join(goldenDir, "*.hex"))
	if err != nil {
		t.Fatal(err)
	}
	goldens, err := filepath.Glob(filepath.Join(goldenDir, "*.golden.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(hexes) == 0 && len(goldens) == 0 {
		t.Skipf("no captured hellos in %s yet", goldenDir)
	}
	for _, g := range goldens {
		if !slices.Contains(hexes, strings.TrimSuffix(g, ".golden.json")+".hex") {
			t.Errorf("%s has no .hex beside it", g)
		}
	}
	for _, path := range hexes {
		name := strings.TrimSuffix(filepath.Base(path), ".hex")
		t.Run(name, func(t *testing.T) { checkGolden(t, path) })
	}
}

func checkGolden(t *testing.T, path string) {
	wire, err := readHexFile(path)
	if err != nil {
		t.Fatalf("reading hex: %v", err)
	}
	data, err := os.ReadFile(strings.TrimSuffix(path, ".hex") + ".golden.json")
	if err != nil {
		t.Fatalf("golden file: %v", err)
	}
	var want golden
	if err := json.Unmarshal(data, &want); err != nil {
		t.Fatalf("golden file: %v", err)
	}
	if ok, err := Frame(wire); !ok || err != nil {
		t.Fatalf("Frame = %v, %v; want complete", ok, err)
	}
	h, err := Parse(wire)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	fp := h.Fingerprints()
	required := []struct {
		key       string
		want      *string
		got, also string
	}{
		{"ja3", want.JA3, h.JA3(), fp.JA3},
		{"ja3n", want.JA3N, h.JA3N(), fp.JA3N},
		{"ja4", want.JA4, h.JA4(), fp.JA4},
		{"ja4_r", want.JA4R, h.JA4R(), fp.JA4R},
		{"ja4_o", want.JA4O, h.JA4O(), fp.JA4O},
		{"ja4_ro", want.JA4RO, h.JA4RO(), fp.JA4RO},
	}
	for _, c := range required {
		switch {
		case c.want == nil:
			t.Errorf("golden file lacks %q", c.key)
		case c.got != *c.want || c.also != *c.want:
			t.Errorf("%s = %q (Fingerprints %q), want %q", c.key, c.got, c.also, *c.want)
		}
	}
	optional := []struct {
		key       string
		want      *string
		got, also string
	}{
		{"ja3_hash", want.JA3Hash, h.JA3Hash(), fp.JA3Hash},
		{"ja3n_hash", want.JA3NHash, h.JA3NHash(), fp.JA3NHash},
	}
	for _, c := range optional {
		if c.want != nil && (c.got != *c.want || c.also != *c.want) {
			t.Errorf("%s = %q (Fingerprints %q), want %q", c.key, c.got, c.also, *c.want)
		}
	}
	if want.SNI != nil {
		var sni *string // null: no server_name host
		if err := json.Unmarshal(want.SNI, &sni); err != nil {
			t.Fatalf("golden sni: %v", err)
		}
		wantSNI := ""
		if sni != nil {
			wantSNI = *sni
		}
		if h.ServerName != wantSNI {
			t.Errorf("ServerName = %q, want %q", h.ServerName, wantSNI)
		}
	}
	if want.ALPN != nil && !slices.Equal(h.ALPN, want.ALPN) {
		t.Errorf("ALPN = %q, want %q", h.ALPN, want.ALPN)
	}
	if want.TLSVersions != nil && !slices.Equal(h.SupportedVersions, want.TLSVersions) {
		t.Errorf("SupportedVersions = %v, want %v", h.SupportedVersions, want.TLSVersions)
	}
	if want.HelloLen != nil && len(h.Raw) != *want.HelloLen {
		t.Errorf("hello is %d bytes, want %d", len(h.Raw), *want.HelloLen)
	}
	if fp.PeetPrint != h.PeetPrint() || fp.PeetPrintHash != h.PeetPrintHash() {
		t.Errorf("Fingerprints PeetPrint differs from PeetPrint()")
	}
	if _, err := json.Marshal(h.TLS()); err != nil {
		t.Errorf("TLS JSON: %v", err)
	}
}
