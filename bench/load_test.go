package bench

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"net/netip"
	"testing"
	"time"
)

// testServer serves status on 127.0.0.1:0 over TLS with tickets as given and
// returns its address.
func testServer(t *testing.T, status int, tickets bool) string {
	t.Helper()
	cert, err := NewCert(KeyEd25519)
	if err != nil {
		t.Fatal(err)
	}
	cfg := ServerConfig(cert)
	cfg.SessionTicketsDisabled = !tickets
	ln, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(status)
		_, _ = w.Write([]byte("ok\n"))
	}), ReadTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

func TestLoadCountsFullHandshakes(t *testing.T) {
	// Tickets on at the server: the client has no session cache, so every
	// handshake must still be full.
	addr := testServer(t, http.StatusOK, true)
	r, err := Load(context.Background(), LoadConfig{Target: addr, Concurrency: 2, Count: 6, Kex: KexX25519,
		Sources: []netip.Addr{netip.MustParseAddr("127.0.0.1")}})
	if err != nil {
		t.Fatal(err)
	}
	if r.Conns != 6 || r.Errors != 0 || r.Full != 6 || r.Resumed != 0 || r.Negotiated["X25519"] != 6 {
		t.Errorf("Load = %+v; want 6 conns, 0 errors, 6 full X25519 handshakes", r)
	}
	if r.P50MS <= 0 || r.MaxMS < r.P50MS {
		t.Errorf("latency p50 %v max %v, want 0 < p50 <= max", r.P50MS, r.MaxMS)
	}
}

func TestLoadCountsBadStatus(t *testing.T) {
	addr := testServer(t, http.StatusInternalServerError, false)
	r, err := Load(context.Background(), LoadConfig{Target: addr, Concurrency: 1, Count: 2, Kex: KexX25519})
	if err != nil {
		t.Fatal(err)
	}
	if r.Conns != 0 || r.Errors != 2 || r.ErrorKinds["response: bad status"] != 2 {
		t.Errorf("Load = %+v; want 2 errors of kind %q", r, "response: bad status")
	}
}

func TestLoadCountsRefused(t *testing.T) {
	// A port that was just free: nothing listens there.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	r, err := Load(context.Background(), LoadConfig{Target: addr, Concurrency: 1, Count: 1, Kex: KexX25519})
	if err != nil {
		t.Fatal(err)
	}
	if r.Errors != 1 || r.ErrorKinds["dial: refused"] != 1 {
		t.Errorf("Load = %+v; want one %q", r, "dial: refused")
	}
}

func TestLoadConfigBounds(t *testing.T) {
	for _, cfg := range []LoadConfig{
		{Target: "192.0.2.1:443", Concurrency: 1, Count: 1},
		{Target: "127.0.0.1:1", Concurrency: 0, Count: 1},
		{Target: "127.0.0.1:1", Concurrency: 1},
		{Target: "127.0.0.1:1", Concurrency: 1, Duration: time.Hour},
	} {
		if _, err := Load(context.Background(), cfg); err == nil {
			t.Errorf("Load(%+v) accepted", cfg)
		}
	}
}
