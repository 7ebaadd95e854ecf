package main

import (
	"crypto/tls"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// goConn makes one GET /json with crypto/tls and returns the local address
// of the connection, which the server logs as remote_addr.
func goConn(t *testing.T, addr, ua string, maxVersion uint16) string {
	t.Helper()
	cfg := clientTLS()
	cfg.MaxVersion = maxVersion
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: testTimeout}, "tcp", addr, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if resp, body := roundTrip(t, c, http.MethodGet, getRequest("/json", "User-Agent: "+ua)); resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	return c.LocalAddr().String()
}

// TestLogFileAcrossRestart: new_ja3 and new_client in the log file of a
// real server, and a restart on the same file announces nothing it knows.
func TestLogFileAcrossRestart(t *testing.T) {
	cfg := testConfig(t)
	type conn struct {
		ua                string
		max               uint16 // TLS 1.2 max: another JA3 (ciphers, extensions) from the same stack
		newJA3, newClient bool
	}
	run := func(conns []conn) {
		srv := startServer(t, cfg)
		before := 0
		if lines := readLogIfExists(t, cfg.logFile); lines != nil {
			before = len(lines)
		}
		addrs := make([]string, len(conns))
		for i, c := range conns {
			addrs[i] = goConn(t, srv.addr, c.ua, c.max)
			srv.awaitDone(addrs[i])
		}
		if err := srv.stop(); err != nil {
			t.Fatal(err)
		}
		lines := readLog(t, cfg.logFile)
		if len(lines) != before+len(conns) {
			t.Fatalf("%d new log lines for %d connections", len(lines)-before, len(conns))
		}
		byAddr := make(map[string]logLine)
		for _, l := range lines[before:] {
			byAddr[l.RemoteAddr] = l
		}
		for i, c := range conns {
			l, ok := byAddr[addrs[i]]
			switch {
			case !ok:
				t.Errorf("conn %d (%s): no log line for %s", i, c.ua, addrs[i])
			case l.UserAgent != c.ua:
				t.Errorf("conn %d: user_agent %q, want %q", i, l.UserAgent, c.ua)
			case *l.NewJA3 != c.newJA3 || *l.NewClient != c.newClient:
				t.Errorf("conn %d (%s, max %#x): new_ja3, new_client = %v, %v; want %v, %v",
					i, c.ua, c.max, *l.NewJA3, *l.NewClient, c.newJA3, c.newClient)
			}
		}
	}

	// Sequential connections, so "first" is well defined.
	run([]conn{
		{ua: "ua-1", newJA3: true, newClient: true},
		{ua: "ua-1", newJA3: false, newClient: false},
		{ua: "ua-2", newJA3: false, newClient: true},
		{ua: "ua-1", max: tls.VersionTLS12, newJA3: true, newClient: true},
		{ua: "ua-1", max: tls.VersionTLS12, newJA3: false, newClient: false},
	})
	// Restart on the same file: known hashes and clients stay known.
	run([]conn{
		{ua: "ua-1", newJA3: false, newClient: false},
		{ua: "ua-2", max: tls.VersionTLS12, newJA3: false, newClient: true},
		{ua: "ua-3", newJA3: false, newClient: true},
		{ua: "ua-2", newJA3: false, newClient: false},
	})
}

func readLogIfExists(t *testing.T, path string) []logLine {
	t.Helper()
	if logLineCount(path) == 0 {
		return nil
	}
	return readLog(t, path)
}

// awaitDone waits (boundedly, without failing) until the server's stdout
// log mentions remote, i.e. its Done ran and the log entry was recorded:
// the client has its response slightly before that, and the next
// connection must not overtake it to keep "first seen" well defined.
func (s *testServer) awaitDone(remote string) {
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if strings.Contains(s.out.String(), remote) {
			return
		}
	}
}
