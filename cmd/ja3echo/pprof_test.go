package main

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

// TestPprof serves the profiling endpoints on their own loopback listener:
// the profile index and the expvar memory statistics the benchmarks read.
func TestPprof(t *testing.T) {
	cfg := testConfig(t)
	ready := make(chan net.Addr, 1)
	cfg.pprofAddr, cfg.pprofReady = "127.0.0.1:0", ready
	startServer(t, cfg)
	var addr string
	select {
	case a := <-ready:
		addr = a.String()
	case <-time.After(testTimeout):
		t.Fatal("the pprof listener did not start")
	}
	hc := &http.Client{Timeout: testTimeout}
	get := func(path string) []byte {
		t.Helper()
		resp, err := hc.Get("http://" + addr + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d, %v", path, resp.StatusCode, err)
		}
		return body
	}
	get("/debug/pprof/")
	get("/debug/pprof/heap?debug=1")
	var vars struct{ Memstats struct{ Mallocs uint64 } }
	if err := json.Unmarshal(get("/debug/vars"), &vars); err != nil {
		t.Fatalf("/debug/vars: %v", err)
	}
	if vars.Memstats.Mallocs == 0 {
		t.Error("/debug/vars has no memstats.Mallocs")
	}
}

func TestPprofAddrLoopbackOnly(t *testing.T) {
	for addr, ok := range map[string]bool{
		"127.0.0.1:6060": true, "[::1]:6060": true, "localhost:6060": true, "127.0.0.2:0": true,
		"0.0.0.0:6060": false, ":6060": false, "[::]:6060": false, "192.0.2.1:6060": false, "example.com:6060": false, "6060": false,
	} {
		_, err := parseFlags([]string{"--pprof-addr", addr}, io.Discard)
		if (err == nil) != ok {
			t.Errorf("--pprof-addr %s: err = %v, want accepted %v", addr, err, ok)
		}
	}
}
