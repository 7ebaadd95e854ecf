package main

import (
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
)

// TestMetrics drives one connection of every kind the server counts and
// checks each counter against the number the test itself sent.
func TestMetrics(t *testing.T) {
	cfg := testConfig(t)
	cfg.helloTimeout = time.Second // for the silent client; the others send their hello at once
	ready := make(chan net.Addr, 1)
	cfg.metricsAddr, cfg.metricsReady = "127.0.0.1:0", ready
	s := startServer(t, cfg)
	var maddr string
	select {
	case a := <-ready:
		maddr = a.String()
	case <-time.After(testTimeout):
		t.Fatal("the metrics listener did not start")
	}

	fams := opsScrape(t, maddr)
	for _, name := range []string{"ja3echo_connections_accepted_total", "ja3echo_hellos_total", "ja3echo_connections_held",
		"ja3echo_connections_in_flight", "ja3echo_new_ja3_total", "ja3echo_new_akamai_total", "ja3echo_handshake_duration_seconds",
		"go_goroutines"} {
		if v, ok := opsMetricValue(fams, name); !ok || (strings.HasPrefix(name, "ja3echo_") && v != 0) {
			t.Errorf("fresh server: %s = %v (present %v), want a 0 series", name, v, ok)
		}
	}

	// A client that sends a whole hello and leaves: a failed handshake.
	raw := opsDialTCP(t, s.addr)
	if _, err := raw.Write(opsClientHello(t)); err != nil {
		t.Fatal(err)
	}
	raw.Close()

	// A client that completes the handshake and leaves without a request:
	// its handshake is timed although Handle never runs. It sends
	// close_notify and reads until the server's, so nothing is left unread
	// for a RST to throw away.
	hsOnly, _ := opsDial(t, s.addr, "localhost")
	if err := hsOnly.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	if b, err := io.ReadAll(hsOnly); err != nil || len(b) != 0 {
		t.Fatalf("handshake-only client read %q, %v; want nothing, then the server's close_notify", b, err)
	}
	hsOnly.Close()

	const good = 5
	for range good {
		c, _ := opsDial(t, s.addr, "localhost")
		if status, err := opsGet(c, "/json"); err != nil || status != http.StatusOK {
			t.Fatalf("GET /json: %d, %v", status, err)
		}
		c.Close()
	}

	rejected := []struct {
		name string
		send []byte
	}{
		{"plaintext_http", []byte("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")},
		{"not_tls", []byte("SSH-2.0-OpenSSH_9.6\r\n")},
		{"malformed", []byte{22, 3, 1, 0, 4, 2, 0, 0, 0}}, // a ServerHello where the ClientHello belongs
		{"too_large", []byte{22, 3, 1, 0, 4, 1, 1, 0, 1}}, // declares a 65,541-byte ClientHello
		{"timeout", nil}, // silent until --hello-timeout
		{"peer_closed", []byte{22, 3, 1, 0, 100, 1, 0, 0}}, // part of a hello, then gone
	}
	for _, r := range rejected {
		c := opsDialTCP(t, s.addr)
		if _, err := c.Write(r.send); err != nil {
			t.Fatalf("%s: %v", r.name, err)
		}
		if r.name == "peer_closed" {
			c.Close()
			continue
		}
		// The loop closes the others; it counts before it closes.
		b, err := io.ReadAll(c)
		c.Close()
		if err != nil {
			t.Fatalf("%s: reading until the server closed: %v", r.name, err)
		}
		if r.name == "plaintext_http" && !strings.HasPrefix(string(b), "HTTP/1.1 400 ") {
			t.Errorf("plaintext HTTP got %q, want a 400", b)
		}
	}

	accepted := float64(2 + good + len(rejected))
	fams = opsWaitMetric(t, maddr, "every connection accounted for", func(f map[string]*dto.MetricFamily) bool {
		acc, _ := opsMetricValue(f, "ja3echo_connections_accepted_total")
		hellos, _ := opsMetricValue(f, "ja3echo_hellos_total")
		held, _ := opsMetricValue(f, "ja3echo_connections_held")
		inFlight, _ := opsMetricValue(f, "ja3echo_connections_in_flight")
		errs := 0.0
		for _, m := range f["ja3echo_hello_errors_total"].GetMetric() {
			errs += m.GetCounter().GetValue()
		}
		return acc == accepted && hellos+errs == accepted && held == 0 && inFlight == 0
	})

	checks := []struct {
		name   string
		labels []string
		want   float64
	}{
		{"ja3echo_connections_accepted_total", nil, accepted},
		{"ja3echo_hellos_total", nil, 2 + good},
		{"ja3echo_handshakes_total", []string{"result", "ok"}, 1 + good},
		{"ja3echo_handshakes_total", []string{"result", "failed"}, 1},
		{"ja3echo_requests_total", []string{"status", "200"}, good},
		{"ja3echo_request_errors_total", nil, 1}, // the handshake-only client
		{"ja3echo_new_ja3_total", nil, 1},        // every Go client here sends the same hello
		{"ja3echo_new_clients_total", nil, 2},    // (JA3N, "") for the failed and handshake-only ones, (JA3N, "ops-test")
		{"ja3echo_new_ja4_total", nil, 1},
		{"ja3echo_new_akamai_total", nil, 0}, // every client here speaks HTTP/1.1
		{"ja3echo_connections_shed_total", []string{"stage", "accept"}, 0},
		{"ja3echo_connections_shed_total", []string{"stage", "handoff"}, 0},
		{"ja3echo_connections_limited_total", []string{"limit", "per_ip"}, 0},
		{"ja3echo_connections_limited_total", []string{"limit", "rate"}, 0},
		{"ja3echo_hello_errors_total", []string{"reason", "proxy_header"}, 0},
		{"ja3echo_connections_held", nil, 0},
		{"ja3echo_connections_in_flight", nil, 0},
		{"ja3echo_handshake_duration_seconds", nil, 1 + good},  // sample count: the completed handshakes, handshake-only included
		{"ja3echo_connection_duration_seconds", nil, 2 + good}, // sample count
	}
	for _, r := range rejected {
		checks = append(checks, struct {
			name   string
			labels []string
			want   float64
		}{"ja3echo_hello_errors_total", []string{"reason", r.name}, 1})
	}
	for _, c := range checks {
		if got := opsMetric(t, fams, c.name, c.labels...); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	if f := fams["ja3echo_handshake_errors_total"]; len(f.GetMetric()) != 1 || f.GetMetric()[0].GetCounter().GetValue() != 1 {
		t.Errorf("ja3echo_handshake_errors_total = %v, want one series at 1", f.GetMetric())
	}
	if got := opsMetric(t, fams, "ja3echo_build_info", "version", version); got != 1 {
		t.Errorf("ja3echo_build_info = %v, want 1", got)
	}

	if err := s.stop(); err != nil {
		t.Fatal(err)
	}
	if n := opsCountLines(t, cfg.logFile); n != 2+good {
		t.Errorf("log file has %d lines, want %d (the served connections)", n, 2+good)
	}
}

// TestMetricsNewAkamai records HTTP/1 and HTTP/2 entries through an event
// log, as app.done does, and checks that new_akamai is counted once per
// new Akamai hash and never for HTTP/1 lines.
func TestMetricsNewAkamai(t *testing.T) {
	e, err := openEventLog(filepath.Join(t.TempDir(), "events.log"), discardLog())
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	m := newMetrics()
	for _, l := range []*logEntry{
		h2(entry("j1", "n1", "a"), akamaiChrome), // new
		h2(entry("j2", "n2", "b"), akamaiChrome), // seen
		entry("j3", "n3", "c"),                   // HTTP/1: no flag
		h2(entry("j1", "n1", "a"), akamaiOther),  // new
	} {
		e.record(l)
		m.logged(l)
	}
	fams, err := m.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	byName := make(map[string]*dto.MetricFamily, len(fams))
	for _, f := range fams {
		byName[f.GetName()] = f
	}
	for _, c := range []struct {
		name string
		want float64
	}{
		{"ja3echo_new_akamai_total", 2},
		{"ja3echo_new_ja3_total", 3},
		{"ja3echo_new_clients_total", 3},
	} {
		if got := opsMetric(t, byName, c.name); got != c.want {
			t.Errorf("%s = %v, want %v", c.name, got, c.want)
		}
	}
}

func opsDialTCP(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, testTimeout)
	if err != nil {
		t.Fatal(err)
	}
	_ = c.SetDeadline(time.Now().Add(testTimeout))
	return c
}

// opsClientHello returns the ClientHello record crypto/tls sends with the
// config opsDial uses, captured over a pipe.
func opsClientHello(t *testing.T) []byte {
	t.Helper()
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	_ = b.SetDeadline(time.Now().Add(testTimeout))
	go func() { _ = tls.Client(a, opsClientTLS("localhost")).Handshake() }()
	hdr := make([]byte, 5)
	if _, err := io.ReadFull(b, hdr); err != nil {
		t.Fatal(err)
	}
	body := make([]byte, int(hdr[3])<<8|int(hdr[4]))
	if _, err := io.ReadFull(b, body); err != nil {
		t.Fatal(err)
	}
	return append(hdr, body...)
}
