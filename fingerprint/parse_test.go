package fingerprint

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/crypto/cryptobyte"
)

// helloSpec describes a ClientHello to build on the wire for tests.
type helloSpec struct {
	version    uint16
	ciphers    []uint16
	exts       []Extension // raw bodies; nil exts and noExts => no block at all
	noExtBlock bool
}

func u16list(vs ...uint16) []byte {
	var b cryptobyte.Builder
	b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
		for _, v := range vs {
			b.AddUint16(v)
		}
	})
	return b.BytesOrPanic()
}

func (s helloSpec) message() []byte {
	var b cryptobyte.Builder
	b.AddUint8(typeClientHello)
	b.AddUint24LengthPrefixed(func(b *cryptobyte.Builder) {
		b.AddUint16(s.version)
		b.AddBytes(make([]byte, 32))
		b.AddUint8LengthPrefixed(func(*cryptobyte.Builder) {})
		b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
			for _, c := range s.ciphers {
				b.AddUint16(c)
			}
		})
		b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddUint8(0) })
		if s.noExtBlock {
			return
		}
		b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
			for _, e := range s.exts {
				b.AddUint16(e.Type)
				b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(e.Data) })
			}
		})
	})
	return b.BytesOrPanic()
}

// records splits msg into TLS handshake records of at most size bytes each.
func records(msg []byte, size int) []byte {
	var out []byte
	for len(msg) > 0 {
		n := min(size, len(msg))
		out = append(out, typeHandshake, 3, 1, byte(n>>8), byte(n))
		out = append(out, msg[:n]...)
		msg = msg[n:]
	}
	return out
}

func parseDecimals(t *testing.T, field string) []uint16 {
	t.Helper()
	if field == "" {
		return nil
	}
	var vs []uint16
	for _, f := range strings.Split(field, "-") {
		v, err := strconv.ParseUint(f, 10, 16)
		if err != nil {
			t.Fatal(err)
		}
		vs = append(vs, uint16(v))
	}
	return vs
}

// TestSalesforceREADMEExamples rebuilds the two worked examples of the
// salesforce/ja3 README as real hellos and checks string and published MD5.
func TestSalesforceREADMEExamples(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(sharedTestdata, "ja3/readme-examples.json"))
	if err != nil {
		t.Fatal(err)
	}
	var examples []struct {
		JA3Full string `json:"ja3_full"`
		JA3Hash string `json:"ja3_hash"`
	}
	if err := json.Unmarshal(data, &examples); err != nil {
		t.Fatal(err)
	}
	if len(examples) != 2 {
		t.Fatalf("%d examples, want 2", len(examples))
	}
	for _, ex := range examples {
		fields := strings.Split(ex.JA3Full, ",")
		if len(fields) != 5 {
			t.Fatalf("bad example %q", ex.JA3Full)
		}
		vers := parseDecimals(t, fields[0])[0]
		s := helloSpec{version: vers, ciphers: parseDecimals(t, fields[1]), noExtBlock: fields[2] == ""}
		for _, typ := range parseDecimals(t, fields[2]) {
			var body []byte
			switch typ {
			case extSupportedGroups:
				body = u16list(parseDecimals(t, fields[3])...)
			case extECPointFormats:
				pf := parseDecimals(t, fields[4])
				body = []byte{byte(len(pf))}
				for _, f := range pf {
					body = append(body, byte(f))
				}
			}
			s.exts = append(s.exts, Extension{Type: typ, Data: body})
		}
		h, err := Parse(records(s.message(), 1<<14))
		if err != nil {
			t.Fatalf("%q: %v", ex.JA3Full, err)
		}
		if got := h.JA3(); got != ex.JA3Full {
			t.Errorf("JA3 = %q, want %q", got, ex.JA3Full)
		}
		if got := h.JA3Hash(); got != ex.JA3Hash {
			t.Errorf("JA3Hash = %s, want %s", got, ex.JA3Hash)
		}
	}
}

func TestIsGREASE(t *testing.T) {
	n := 0
	for v := 0; v <= 0xffff; v++ {
		if IsGREASE(uint16(v)) {
			n++
			hi, lo := v>>8, v&0xff
			if hi != lo || lo&0x0f != 0x0a {
				t.Errorf("IsGREASE(%#04x) = true", v)
			}
		}
	}
	if n != 16 {
		t.Errorf("%d GREASE values, want 16", n)
	}
	for _, v := range []uint16{0x0a0a, 0x1a1a, 0x2a2a, 0xfafa} {
		if !IsGREASE(v) {
			t.Errorf("IsGREASE(%#04x) = false", v)
		}
	}
}

// TestJA3EmptyAndGREASE checks the rules for empty fields and GREASE in JA3,
// with expected strings written out by hand from the spec.
func TestJA3EmptyAndGREASE(t *testing.T) {
	tests := []struct {
		name  string
		spec  helloSpec
		want  string
		wantN string
	}{
		{"no extension block", helloSpec{version: 0x0301, ciphers: []uint16{4, 5}, noExtBlock: true}, "769,4-5,,,", "769,4-5,,,"},
		{"empty extension block", helloSpec{version: 0x0301, ciphers: []uint16{4, 5}}, "769,4-5,,,", "769,4-5,,,"},
		{"only GREASE ciphers", helloSpec{version: 0x0303, ciphers: []uint16{0x0a0a}}, "771,,,,", "771,,,,"},
		{
			"GREASE everywhere, sorted N",
			helloSpec{version: 0x0303, ciphers: []uint16{0x1a1a, 4865, 255}, exts: []Extension{
				{Type: 0x2a2a}, {Type: 43, Data: []byte{4, 0x3a, 0x3a, 3, 4}},
				{Type: extSupportedGroups, Data: u16list(0x4a4a, 29, 23)}, {Type: 0},
				{Type: extECPointFormats, Data: []byte{2, 0, 1}},
			}},
			"771,4865-255,43-10-0-11,29-23,0-1",
			"771,4865-255,0-10-11-43,29-23,0-1",
		},
	}
	for _, tt := range tests {
		h, err := ParseMessage(tt.spec.message())
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if got := h.JA3(); got != tt.want {
			t.Errorf("%s: JA3 = %q, want %q", tt.name, got, tt.want)
		}
		if got := h.JA3N(); got != tt.wantN {
			t.Errorf("%s: JA3N = %q, want %q", tt.name, got, tt.wantN)
		}
	}
}

// realHello returns the first FoxIO vector's message, a real browser hello.
func realHello(t testing.TB) []byte {
	v := loadVectors(t)[0]
	msg, err := hex.DecodeString(v.HelloHex)
	if err != nil {
		t.Fatal(err)
	}
	return msg
}

func TestTruncationAtEveryByte(t *testing.T) {
	msg := realHello(t)
	for i := range len(msg) {
		if _, err := ParseMessage(msg[:i]); !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrNotClientHello) {
			t.Fatalf("ParseMessage(prefix %d of %d) error = %v, want ErrMalformed", i, len(msg), err)
		}
	}
	wire := records(msg, 1<<14)
	for i := range len(wire) {
		if ok, err := Frame(wire[:i]); ok || err != nil {
			t.Fatalf("Frame(prefix %d) = %v, %v; want incomplete", i, ok, err)
		}
		if _, err := Parse(wire[:i]); !errors.Is(err, ErrTruncated) {
			t.Fatalf("Parse(prefix %d) error = %v, want ErrTruncated", i, err)
		}
	}
}

func TestMalformed(t *testing.T) {
	good := helloSpec{version: 0x0303, ciphers: []uint16{4865}, exts: []Extension{{Type: 0, Data: nil}}}.message()
	if _, err := ParseMessage(good); err != nil {
		t.Fatalf("baseline: %v", err)
	}
	withExts := func(exts ...Extension) []byte {
		return helloSpec{version: 0x0303, ciphers: []uint16{4865}, exts: exts}.message()
	}
	tests := []struct {
		name string
		msg  []byte
	}{
		{"empty", nil},
		{"trailing bytes after message", append(append([]byte{}, good...), 0)},
		{"trailing bytes inside body", func() []byte {
			m := append(append([]byte{}, good...), 0)
			m[3]++ // body length now covers the extra byte
			return m
		}()},
		{"duplicate extension", withExts(Extension{Type: 5}, Extension{Type: 5})},
		{"odd cipher length", func() []byte {
			m := append([]byte{}, good...)
			// version(2) random(32) sid len(1) -> cipher length at 4+35
			m[4+35+1] = 3
			return m
		}()},
		{"empty cipher list", helloSpec{version: 0x0303}.message()},
		{"extension length overflow", func() []byte {
			m := withExts(Extension{Type: 5, Data: []byte{1, 2}})
			m[len(m)-3] = 9 // the extension's length now runs past the block
			return m
		}()},
		{"ALPN inner overflow", withExts(Extension{Type: extALPN, Data: []byte{0, 3, 5, 'h', '2'}})},
		{"SNI inner overflow", withExts(Extension{Type: extServerName, Data: []byte{0, 4, 0, 0, 9, 'a'}})},
		{"odd supported_groups", withExts(Extension{Type: extSupportedGroups, Data: []byte{0, 3, 0, 29, 0}})},
		{"supported_versions trailing", withExts(Extension{Type: extSupportedVersions, Data: []byte{2, 3, 4, 0}})},
		{"key_share overflow", withExts(Extension{Type: extKeyShare, Data: []byte{0, 6, 0, 29, 0, 32, 1, 2}})},
		{"session id too long", func() []byte {
			var b cryptobyte.Builder
			b.AddUint8(1)
			b.AddUint24LengthPrefixed(func(b *cryptobyte.Builder) {
				b.AddUint16(0x0303)
				b.AddBytes(make([]byte, 32))
				b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(make([]byte, 33)) })
				b.AddBytes(u16list(4865))
				b.AddBytes([]byte{1, 0})
			})
			return b.BytesOrPanic()
		}()},
	}
	for _, tt := range tests {
		_, err := ParseMessage(tt.msg)
		if !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: error = %v, want ErrMalformed", tt.name, err)
		}
	}
}

func TestFrameErrors(t *testing.T) {
	hello := records(helloSpec{version: 0x0303, ciphers: []uint16{4865}}.message(), 1<<14)
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"plaintext GET", []byte("GET / HTTP/1.1\r\n"), ErrPlaintextHTTP},
		{"plaintext POST", []byte("POST /x HTTP/1.1\r\n"), ErrPlaintextHTTP},
		{"garbage letter", []byte("GXT / HTTP/1.1"), ErrNotHandshake},
		{"garbage binary", []byte{0, 1, 2, 3, 4, 5}, ErrNotHandshake},
		{"SSH banner", []byte("SSH-2.0-OpenSSH_9.2\r\n"), ErrNotHandshake},
		{"SSLv2 hello", []byte{0x80, 0x2e, 0x01, 0x03, 0x01, 0x00, 0x15}, ErrSSLv2},
		{"application data record", []byte{23, 3, 3, 0, 1, 0}, ErrNotHandshake},
		{"alert record first", []byte{21, 3, 3, 0, 2, 2, 40}, ErrNotHandshake},
		{"bad record version", []byte{22, 2, 0, 0, 1, 1}, ErrRecord},
		{"empty record", []byte{22, 3, 1, 0, 0}, ErrRecord},
		{"record too long", []byte{22, 3, 1, 0x40, 0x01}, ErrRecord},
		{"server hello", []byte{22, 3, 3, 0, 4, 2, 0, 0, 0}, ErrNotClientHello},
		{"too large", []byte{22, 3, 1, 0, 4, 1, 1, 0, 1}, ErrTooLarge},
		{"CCS between records", append(append([]byte{22, 3, 1, 0, 1, 1}, 20, 3, 3, 0, 1, 1), hello[6:]...), ErrRecord},
	}
	for _, tt := range tests {
		ok, err := Frame(tt.in)
		if ok || !errors.Is(err, tt.want) {
			t.Errorf("%s: Frame = %v, %v; want error %v", tt.name, ok, err, tt.want)
		}
	}
	// Prefixes of a method or SSLv2 header wait for more bytes.
	for _, in := range []string{"G", "GE", "GET", "OPTIO", "\x80", "\x80\x2e"} {
		if ok, err := Frame([]byte(in)); ok || err != nil {
			t.Errorf("Frame(%q) = %v, %v; want waiting", in, ok, err)
		}
	}
}

// TestFrameSplits checks that every way of cutting a real hello into records
// and reads gives the same message: 1-byte records, a header alone, trailing
// early data.
func TestFrameSplits(t *testing.T) {
	msg := realHello(t)
	for _, size := range []int{1, 2, 3, 4, 5, 7, 100, 1 << 14} {
		wire := records(msg, size)
		wire = append(wire, 23, 3, 3, 0, 3, 'e', 'd', '!') // 0-RTT data behind it
		for cut := 0; cut < len(wire); cut++ {
			ok, err := Frame(wire[:cut])
			if err != nil {
				t.Fatalf("size %d cut %d: %v", size, cut, err)
			}
			if ok != (cut >= len(wire)-8) {
				t.Fatalf("size %d cut %d of %d: complete = %v", size, cut, len(wire), ok)
			}
		}
		h, err := Parse(wire)
		if err != nil {
			t.Fatalf("size %d: %v", size, err)
		}
		if string(h.Raw) != string(msg) {
			t.Fatalf("size %d: reassembled message differs", size)
		}
		if h.RecordVersion != 0x0301 {
			t.Fatalf("RecordVersion = %#x", h.RecordVersion)
		}
	}
}
