package bench

import (
	"crypto/tls"
	"errors"
	"testing"
	"time"
)

// BenchmarkHandshake measures one full handshake per key type and key
// exchange, server and client halves each on its own thread (see
// Handshaker). server-µs/op is the crypto ceiling of docs/performance.md §1:
//
//	go test -run '^$' -bench Handshake -count 6 ./bench | tee handshake.txt
func BenchmarkHandshake(b *testing.B) {
	for _, key := range KeyTypes {
		cert, err := NewCert(key)
		if err != nil {
			b.Fatal(err)
		}
		for _, kex := range KeyExchanges {
			b.Run(key+"/"+kex.Name, func(b *testing.B) {
				h := NewHandshaker(cert, kex)
				var srv, cli time.Duration
				for b.Loop() {
					s, c, err := h.Once()
					if err != nil {
						b.Fatal(err)
					}
					srv += s
					cli += c
				}
				b.ReportMetric(us(srv)/float64(b.N), "server-µs/op")
				b.ReportMetric(us(cli)/float64(b.N), "client-µs/op")
			})
		}
	}
}

// TestHandshakeNegotiates checks that each KeyExchange negotiates what its
// name says, so the ceiling is measured for the group the load uses.
func TestHandshakeNegotiates(t *testing.T) {
	cert, err := NewCert(KeyEd25519) // the cheapest to generate
	if err != nil {
		t.Fatal(err)
	}
	for _, kex := range KeyExchanges {
		h := NewHandshaker(cert, kex)
		srv, cli, err := h.Once()
		if err != nil {
			t.Fatalf("%s: %v", kex.Name, err)
		}
		if srv <= 0 || cli <= 0 {
			t.Errorf("%s: thread CPU server %v client %v, want both > 0", kex.Name, srv, cli)
		}
	}
}

func TestHandshakeRefusesWrongKex(t *testing.T) {
	cert, err := NewCert(KeyEd25519)
	if err != nil {
		t.Fatal(err)
	}
	h := NewHandshaker(cert, KexX25519)
	h.Kex = KexMLKEM.Name // the client only offers X25519
	if _, _, err := h.Once(); !errors.Is(err, ErrWrongKex) {
		t.Fatalf("Once() = %v, want ErrWrongKex", err)
	}
}

func TestClientKex(t *testing.T) {
	tests := []struct {
		tls, curves string
		name        string
		max         uint16
		groups      int
	}{
		{"1.3", "default", "X25519MLKEM768", tls.VersionTLS13, 0},
		{"1.3", "x25519", "X25519", tls.VersionTLS13, 1},
		{"1.2", "default", "TLS1.2 X25519", tls.VersionTLS12, 0},
		{"1.2", "x25519", "TLS1.2 X25519", tls.VersionTLS12, 1},
	}
	for _, tt := range tests {
		k, err := ClientKex(tt.tls, tt.curves)
		if err != nil || k.Name != tt.name || k.MaxVersion != tt.max || len(k.Curves) != tt.groups {
			t.Errorf("ClientKex(%q, %q) = %+v, %v", tt.tls, tt.curves, k, err)
		}
	}
	for _, bad := range [][2]string{{"1.1", "default"}, {"1.3", "p256"}} {
		if _, err := ClientKex(bad[0], bad[1]); err == nil {
			t.Errorf("ClientKex(%q, %q) accepted", bad[0], bad[1])
		}
	}
}
