package main

import (
	"crypto/tls"
	"io"
	"net"
	"testing"
)

// TestKexPolicy checks which group each policy negotiates, seen from the
// client, for clients offering the hybrid and X25519 (Go's default, like
// browsers), the hybrid alone, and classical groups alone.
func TestKexPolicy(t *testing.T) {
	cases := []struct {
		policy string
		client []tls.CurveID // nil: Go's default (X25519MLKEM768 and X25519 key shares)
		want   tls.CurveID
	}{
		{kexPQ, nil, tls.X25519MLKEM768},
		{kexClassical, nil, tls.X25519},
		{kexClassical, []tls.CurveID{tls.X25519MLKEM768}, tls.X25519MLKEM768},
		{kexClassical, []tls.CurveID{tls.CurveP256}, tls.CurveP256},
		{kexPQ, []tls.CurveID{tls.X25519}, tls.X25519},
	}
	servers := map[string]*testServer{}
	for _, policy := range []string{kexPQ, kexClassical} {
		cfg := testConfig(t)
		cfg.kex = policy
		servers[policy] = startServer(t, cfg)
	}
	for _, c := range cases {
		t.Run(c.policy+"/"+curvesName(c.client), func(t *testing.T) {
			cc := clientTLS()
			cc.CurvePreferences = c.client
			conn, err := tls.DialWithDialer(&net.Dialer{Timeout: testTimeout}, "tcp", servers[c.policy].addr, cc)
			if err != nil {
				t.Fatalf("dial: %v", err)
			}
			defer conn.Close()
			if got := conn.ConnectionState().CurveID; got != c.want {
				t.Errorf("negotiated %v, want %v", got, c.want)
			}
			resp, _ := roundTrip(t, conn, "GET", getRequest("/robots.txt"))
			if resp.StatusCode != 200 {
				t.Errorf("status %d", resp.StatusCode)
			}
		})
	}
}

func curvesName(cs []tls.CurveID) string {
	if cs == nil {
		return "default"
	}
	s := ""
	for _, c := range cs {
		s += c.String() + "+"
	}
	return s[:len(s)-1]
}

func TestKexFlag(t *testing.T) {
	for _, v := range []string{"pq", "classical"} {
		cfg, err := parseFlags([]string{"--kex", v}, io.Discard)
		if err != nil {
			t.Fatalf("--kex %s: %v", v, err)
		}
		if cfg.kex != v {
			t.Errorf("--kex %s: cfg.kex = %q", v, cfg.kex)
		}
	}
	cfg, err := parseFlags(nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.kex != "pq" {
		t.Errorf("default --kex = %q, want pq", cfg.kex)
	}
	if _, err := parseFlags([]string{"--kex", "x25519"}, io.Discard); err == nil {
		t.Error("--kex x25519 accepted")
	}
}
