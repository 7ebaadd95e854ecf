package bench

import (
	"encoding/binary"
	"testing"
)

func TestClientHelloBytes(t *testing.T) {
	for _, kex := range []KeyExchange{KexMLKEM, KexX25519} {
		b, err := ClientHelloBytes(kex)
		if err != nil {
			t.Fatalf("%s: %v", kex.Name, err)
		}
		// One handshake record (type 22) carrying a ClientHello (type 1)
		// whose length fills the record.
		if len(b) < 9 || b[0] != 22 || b[5] != 1 || int(binary.BigEndian.Uint16(b[3:5])) != len(b)-5 {
			t.Errorf("%s: not one ClientHello record: % x...", kex.Name, b[:min(len(b), 9)])
		}
	}
	// The hybrid key share alone is 1,216 bytes: the Go-default hello must
	// be the larger of the two.
	big, _ := ClientHelloBytes(KexMLKEM)
	small, _ := ClientHelloBytes(KexX25519)
	if len(big) < len(small)+1000 {
		t.Errorf("hello sizes: default %d, x25519 %d; want the default over 1000 bytes larger", len(big), len(small))
	}
}

func TestListeningLine(t *testing.T) {
	for line, port := range map[string]string{
		`time="2026-01-01T00:00:00Z" level=info msg="ja3echo dev listening on https://localhost:41849/"`: "41849",
		"baseline listening on https://127.0.0.1:37161/":                                                 "37161",
	} {
		m := listening.FindStringSubmatch(line)
		if m == nil || m[1] != port {
			t.Errorf("listening on %q = %v, want port %s", line, m, port)
		}
	}
}
