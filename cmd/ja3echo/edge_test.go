package main

import (
	"crypto/tls"
	"io"
	"net"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/pires/go-proxyproto"

	"github.com/ja3sentry/ja3echo/fingerprint"
	"github.com/ja3sentry/ja3echo/poller/proxyhdr"
)

// proxyHeader encodes a PROXY header for client src with the library's
// encoder (version 1 or 2).
func proxyHeader(t *testing.T, version byte, src string) []byte {
	t.Helper()
	h := proxyproto.HeaderProxyFromAddrs(version, net.TCPAddrFromAddrPort(netip.MustParseAddrPort(src)),
		&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 4443})
	b, err := h.Format()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// localHeader is the v2 LOCAL header HAProxy sends on health checks.
func localHeader(t *testing.T) []byte {
	t.Helper()
	b, err := (&proxyproto.Header{Version: 2, Command: proxyproto.LOCAL, TransportProtocol: proxyproto.UNSPEC}).Format()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// dialEdge connects to addr from the loopback address from, sends hdr (if
// any) and does a TLS handshake; err is the handshake's.
func dialEdge(t *testing.T, addr, from string, hdr []byte) (*tls.Conn, error) {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: testTimeout}
	raw, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("dial from %s: %v", from, err)
	}
	t.Cleanup(func() { raw.Close() })
	_ = raw.SetDeadline(time.Now().Add(testTimeout))
	if _, err := raw.Write(hdr); err != nil {
		t.Fatalf("writing the PROXY header: %v", err)
	}
	c := tls.Client(raw, clientTLS())
	return c, c.Handshake()
}

// echoThrough does one /json request on a handshaken conn.
func echoThrough(t *testing.T, c *tls.Conn, ua string) *echoDoc {
	t.Helper()
	resp, body := roundTrip(t, c, "GET", getRequest("/json", "User-Agent: "+ua))
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	return decodeEcho(t, body)
}

// waitLog waits until a line of the server's stdout log holds every part.
// Lines are the only per-connection trace of a conn the loop closed.
func waitLog(t *testing.T, s *testServer, parts ...string) {
	t.Helper()
	for end := time.Now().Add(testTimeout); ; time.Sleep(5 * time.Millisecond) {
		for line := range strings.SplitSeq(s.out.String(), "\n") {
			ok := true
			for _, p := range parts {
				ok = ok && strings.Contains(line, p)
			}
			if ok {
				return
			}
		}
		if time.Now().After(end) {
			t.Fatalf("no log line with %q; log:\n%s", parts, s.out)
		}
	}
}

func proxyConfig(t *testing.T) *config {
	cfg := testConfig(t)
	cfg.proxyProtocol = true
	cfg.trusted = prefixList{netip.MustParsePrefix("127.0.0.1/32")}
	// Conns that are not refused stay open past every read deadline here,
	// so a conn that does end was closed on purpose.
	cfg.helloTimeout = time.Minute
	return cfg
}

// TestProxyProtocolPolicy: a trusted peer's header names the client; LOCAL
// keeps the peer; an untrusted peer's header, or a trusted peer's missing
// one, closes the conn; an untrusted peer without header is served as is.
func TestProxyProtocolPolicy(t *testing.T) {
	s := startServer(t, proxyConfig(t))

	for _, v := range []byte{1, 2} {
		c, err := dialEdge(t, s.addr, "127.0.0.1", proxyHeader(t, v, "192.0.2.7:4321"))
		if err != nil {
			t.Fatalf("v%d: handshake: %v", v, err)
		}
		if e := echoThrough(t, c, "edge-test"); e.RemoteAddr != "192.0.2.7:4321" {
			t.Errorf("v%d: remote_addr = %q, want 192.0.2.7:4321", v, e.RemoteAddr)
		}
	}

	c, err := dialEdge(t, s.addr, "127.0.0.1", localHeader(t))
	if err != nil {
		t.Fatalf("LOCAL: handshake: %v", err)
	}
	if e := echoThrough(t, c, "edge-test"); e.RemoteAddr != c.LocalAddr().String() {
		t.Errorf("LOCAL: remote_addr = %q, want the peer %s", e.RemoteAddr, c.LocalAddr())
	}

	c, err = dialEdge(t, s.addr, "127.0.0.8", nil)
	if err != nil {
		t.Fatalf("untrusted without header: handshake: %v", err)
	}
	if e := echoThrough(t, c, "edge-test"); e.RemoteAddr != c.LocalAddr().String() {
		t.Errorf("untrusted without header: remote_addr = %q, want %s", e.RemoteAddr, c.LocalAddr())
	}

	if _, err := dialEdge(t, s.addr, "127.0.0.8", proxyHeader(t, 2, "192.0.2.66:1")); err == nil {
		t.Error("untrusted peer with a header: handshake succeeded")
	}
	waitLog(t, s, `reason=preface`, proxyhdr.ErrUntrusted.Error())
	if _, err := dialEdge(t, s.addr, "127.0.0.1", nil); err == nil {
		t.Error("trusted peer without a header: handshake succeeded")
	}
	waitLog(t, s, `reason=preface`, proxyhdr.ErrMissing.Error())
}

// TestProxyHeaderWithoutFlag: without --proxy-protocol a header is bad
// input, rejected by the TLS framer as not TLS.
func TestProxyHeaderWithoutFlag(t *testing.T) {
	s := startServer(t, nil)
	for _, v := range []byte{1, 2} {
		c := dialRaw(t, s.addr)
		if _, err := c.Write(proxyHeader(t, v, "192.0.2.7:4321")); err != nil {
			t.Fatal(err)
		}
		_ = c.SetReadDeadline(time.Now().Add(testTimeout))
		if b, _ := io.ReadAll(c); len(b) != 0 {
			t.Errorf("v%d: server answered %q", v, b)
		}
	}
	waitLog(t, s, `reason=rejected`, fingerprint.ErrNotHandshake.Error(), "0x50") // P
	waitLog(t, s, `reason=rejected`, fingerprint.ErrNotHandshake.Error(), "0x0d") // CR
}

// TestMaxPerIPBehindProxy: the limit applies to the client named in the
// header; a conn counts from accept until tlsconn is done with it, whether
// it is served (released in Done) or shed at handoff (released at once).
func TestMaxPerIPBehindProxy(t *testing.T) {
	cfg := proxyConfig(t)
	cfg.maxPerIP, cfg.maxHandshakes = 1, 1
	s := startServer(t, cfg)
	hdr := func(src string) []byte { return proxyHeader(t, 2, src) }

	a, err := dialEdge(t, s.addr, "127.0.0.1", hdr("192.0.2.1:1001"))
	if err != nil {
		t.Fatalf("A: %v", err)
	}
	// A is in flight (handshake done, no request yet) and holds both
	// 192.0.2.1's only slot and the only handshake slot.
	if _, err := dialEdge(t, s.addr, "127.0.0.1", hdr("192.0.2.1:1002")); err == nil {
		t.Error("second conn from 192.0.2.1 was served")
	}
	waitLog(t, s, `reason=refused`, errPerIP.Error(), `remote="192.0.2.1:1002"`)
	if _, err := dialEdge(t, s.addr, "127.0.0.1", hdr("192.0.2.2:2001")); err == nil {
		t.Error("conn over --max-handshakes was served")
	}

	echoThrough(t, a, "edge-test")
	waitLog(t, s, `remote="192.0.2.1:1001"`) // app.done's line: after the release
	c, err := dialEdge(t, s.addr, "127.0.0.1", hdr("192.0.2.2:2002"))
	if err != nil {
		t.Fatalf("192.0.2.2 after its shed conn: %v", err)
	}
	if e := echoThrough(t, c, "edge-test"); e.RemoteAddr != "192.0.2.2:2002" {
		t.Errorf("remote_addr = %q, want 192.0.2.2:2002", e.RemoteAddr)
	}
	waitLog(t, s, `remote="192.0.2.2:2002"`)
	c, err = dialEdge(t, s.addr, "127.0.0.1", hdr("192.0.2.1:1003"))
	if err != nil {
		t.Fatalf("192.0.2.1 after its served conn: %v", err)
	}
	echoThrough(t, c, "edge-test")
}

// TestMaxPerIPReleasedByLoop: a conn the loop closes before its hello is
// complete gives its slot back, and refusals show in the metrics.
func TestMaxPerIPReleasedByLoop(t *testing.T) {
	cfg := testConfig(t)
	cfg.maxPerIP, cfg.helloTimeout = 1, time.Minute
	maddr := withMetrics(t, cfg)
	s := startServer(t, cfg)

	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.5")}, Timeout: testTimeout}
	held, err := d.Dial("tcp", s.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	if _, err := held.Write([]byte{22, 3, 1, 0, 100, 1}); err != nil { // part of a hello
		t.Fatal(err)
	}
	// Accepted after held, so refused: held has the only slot.
	if _, err := dialEdge(t, s.addr, "127.0.0.5", nil); err == nil {
		t.Error("second conn from 127.0.0.5 was served")
	}
	waitLog(t, s, `reason=refused`, errPerIP.Error())
	// The loop releases before it closes: once held reads EOF, the slot is free.
	_ = held.(*net.TCPConn).CloseWrite()
	_ = held.SetReadDeadline(time.Now().Add(testTimeout))
	if _, err := io.ReadAll(held); err != nil {
		t.Fatalf("waiting for the loop to close the partial hello: %v", err)
	}
	c, err := dialEdge(t, s.addr, "127.0.0.5", nil)
	if err != nil {
		t.Fatalf("127.0.0.5 after its closed conn: %v", err)
	}
	echoThrough(t, c, "edge-test")

	fams := opsScrape(t, maddr())
	if got := opsMetric(t, fams, "ja3echo_connections_limited_total", "limit", "per_ip"); got != 1 {
		t.Errorf("connections_limited_total{per_ip} = %v, want 1", got)
	}
	if got := opsMetric(t, fams, "ja3echo_connections_limited_total", "limit", "rate"); got != 0 {
		t.Errorf("connections_limited_total{rate} = %v, want 0", got)
	}
}

// withMetrics turns on cfg's metrics listener; the returned func waits for
// its address once the server has started.
func withMetrics(t *testing.T, cfg *config) func() string {
	ready := make(chan net.Addr, 1)
	cfg.metricsAddr, cfg.metricsReady = "127.0.0.1:0", ready
	return func() string {
		t.Helper()
		select {
		case a := <-ready:
			return a.String()
		case <-time.After(testTimeout):
			t.Fatal("the metrics listener did not start")
			return ""
		}
	}
}

// TestRatePerIP: a burst from one address past --burst-per-ip is refused,
// another address is not.
func TestRatePerIP(t *testing.T) {
	cfg := testConfig(t)
	cfg.ratePerIP, cfg.burstPerIP = 0.001, 2 // no refill during the test
	maddr := withMetrics(t, cfg)
	s := startServer(t, cfg)
	for i := range 2 {
		c, err := dialEdge(t, s.addr, "127.0.0.3", nil)
		if err != nil {
			t.Fatalf("conn %d within the burst: %v", i, err)
		}
		echoThrough(t, c, "edge-test")
	}
	if _, err := dialEdge(t, s.addr, "127.0.0.3", nil); err == nil {
		t.Error("conn past the burst was served")
	}
	c, err := dialEdge(t, s.addr, "127.0.0.4", nil)
	if err != nil {
		t.Fatalf("another address: %v", err)
	}
	if e := echoThrough(t, c, "edge-test"); !strings.HasPrefix(e.RemoteAddr, "127.0.0.4:") {
		t.Errorf("remote_addr = %q, want 127.0.0.4:*", e.RemoteAddr)
	}
	waitLog(t, s, `reason=refused`, errRate.Error())
	fams := opsScrape(t, maddr())
	if got := opsMetric(t, fams, "ja3echo_connections_limited_total", "limit", "rate"); got != 1 {
		t.Errorf("connections_limited_total{rate} = %v, want 1", got)
	}
	if got := opsMetric(t, fams, "ja3echo_connections_limited_total", "limit", "per_ip"); got != 0 {
		t.Errorf("connections_limited_total{per_ip} = %v, want 0", got)
	}
}

func TestEdgeFlags(t *testing.T) {
	for _, tc := range []struct {
		args    []string
		want    edgeConfig
		wantErr bool
	}{
		{args: nil, want: edgeConfig{}},
		{args: []string{"--proxy-protocol", "--trusted-proxies", "10.0.0.0/8, 192.0.2.1", "--trusted-proxies", "2001:db8::/32,::ffff:172.16.0.0/108"},
			want: edgeConfig{proxyProtocol: true, trusted: prefixList{
				netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.0.2.1/32"),
				netip.MustParsePrefix("2001:db8::/32"), netip.MustParsePrefix("172.16.0.0/12")}}},
		{args: []string{"--proxy-protocol", "--trusted-proxies", "10.1.2.3/8"},
			want: edgeConfig{proxyProtocol: true, trusted: prefixList{netip.MustParsePrefix("10.0.0.0/8")}}},
		{args: []string{"--max-per-ip", "20", "--rate-per-ip", "2.5", "--burst-per-ip", "10"},
			want: edgeConfig{maxPerIP: 20, ratePerIP: 2.5, burstPerIP: 10}},
		{args: []string{"--proxy-protocol"}, wantErr: true},
		{args: []string{"--trusted-proxies", "10.0.0.0/8"}, wantErr: true},
		{args: []string{"--proxy-protocol", "--trusted-proxies", "10.0.0.0/33"}, wantErr: true},
		{args: []string{"--proxy-protocol", "--trusted-proxies", "lb.example"}, wantErr: true},
		{args: []string{"--max-per-ip", "-1"}, wantErr: true},
		{args: []string{"--rate-per-ip", "-1"}, wantErr: true},
		{args: []string{"--rate-per-ip", "NaN"}, wantErr: true},
		{args: []string{"--burst-per-ip", "3"}, wantErr: true},
	} {
		cfg, err := parseFlags(tc.args, io.Discard)
		switch {
		case tc.wantErr && err == nil:
			t.Errorf("%q: no error", tc.args)
		case tc.wantErr:
		case err != nil:
			t.Errorf("%q: %v", tc.args, err)
		case !reflect.DeepEqual(cfg.edgeConfig, tc.want):
			t.Errorf("%q: got %+v, want %+v", tc.args, cfg.edgeConfig, tc.want)
		}
	}
}
