package main

// What the server answers to everything that is not a plain GET /json:
// non-TLS bytes, silent clients, other paths and methods, hostile headers.

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// readAllRaw reads a plain TCP conn until the server closes it. A reset
// counts as a close: a server that closes with unread input sends RST.
func readAllRaw(t *testing.T, c net.Conn) []byte {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(testTimeout))
	b, err := io.ReadAll(c)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("the server did not close the connection (read %d bytes)", len(b))
	}
	return b
}

func dialRaw(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, testTimeout)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestNonTLSClients(t *testing.T) {
	cfg := testConfig(t)
	cfg.helloTimeout = 300 * time.Millisecond
	srv := startServer(t, cfg)

	t.Run("plaintext HTTP gets 400 pointing to https", func(t *testing.T) {
		c := dialRaw(t, srv.addr)
		if _, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		resp, body := readResponse(t, readAllRaw(t, c))
		if resp.StatusCode != http.StatusBadRequest || resp.Proto != "HTTP/1.1" {
			t.Errorf("status line = %s %s, want HTTP/1.1 400", resp.Proto, resp.Status)
		}
		want := "https://localhost:" + strconv.Itoa(srv.port) + "/"
		if !bytes.Contains(body, []byte(want)) {
			t.Errorf("body %q does not name %s", body, want)
		}
	})
	t.Run("garbage is closed without a response", func(t *testing.T) {
		c := dialRaw(t, srv.addr)
		if _, err := c.Write([]byte("\x00\x01\x02garbage that is not TLS\r\n\r\n")); err != nil {
			t.Fatal(err)
		}
		if b := readAllRaw(t, c); len(b) != 0 {
			t.Errorf("server answered garbage with %q", b)
		}
	})
	t.Run("SSLv2 hello is closed without a response", func(t *testing.T) {
		c := dialRaw(t, srv.addr)
		// An SSLv2-format CLIENT-HELLO header: 2-byte length with the high
		// bit, message type 1, version 3.1, then cipher specs.
		if _, err := c.Write([]byte{0x80, 0x2e, 0x01, 0x03, 0x01, 0x00, 0x15, 0x00, 0x00, 0x00, 0x10}); err != nil {
			t.Fatal(err)
		}
		if b := readAllRaw(t, c); len(b) != 0 {
			t.Errorf("server answered an SSLv2 hello with %q", b)
		}
	})
	t.Run("silent client is closed at hello-timeout", func(t *testing.T) {
		c := dialRaw(t, srv.addr)
		if b := readAllRaw(t, c); len(b) != 0 {
			t.Errorf("server sent %q to a silent client", b)
		}
	})
	t.Run("half a ClientHello is closed at hello-timeout", func(t *testing.T) {
		c := dialRaw(t, srv.addr)
		// A record header announcing 512 bytes and the start of a hello.
		if _, err := c.Write([]byte{22, 3, 1, 2, 0, 1, 0, 1, 0xfc, 3, 3}); err != nil {
			t.Fatal(err)
		}
		if b := readAllRaw(t, c); len(b) != 0 {
			t.Errorf("server sent %q to a client that stalled mid-hello", b)
		}
	})
	t.Run("the server still serves after all that", func(t *testing.T) {
		resp, _ := tlsRequest(t, srv.addr, http.MethodGet, getRequest("/json"))
		if resp.StatusCode != http.StatusOK {
			t.Errorf("status %d", resp.StatusCode)
		}
	})
}

func TestRoutes(t *testing.T) {
	srv := startServer(t, nil)
	tests := []struct {
		name        string
		method      string
		req         string
		status      int
		contentType string // prefix
		header      [2]string
		bodyHas     string
		emptyBody   bool
	}{
		{name: "json", method: "GET", req: getRequest("/json"), status: 200, contentType: "application/json", bodyHas: `"ja3_hash"`},
		{name: "html page", method: "GET", req: getRequest("/"), status: 200, contentType: "text/html", bodyHas: "<!DOCTYPE html>"},
		{name: "Accept json on /", method: "GET", req: getRequest("/", "Accept: application/json"), status: 200, contentType: "application/json", bodyHas: `"ja3n_hash"`},
		{name: "browser Accept on /", method: "GET", req: getRequest("/", "Accept: text/html,application/xhtml+xml,application/json;q=0.9"), status: 200, contentType: "text/html"},
		{name: "HEAD json", method: "HEAD", req: "HEAD /json HTTP/1.1\r\nHost: x\r\n\r\n", status: 200, contentType: "application/json", emptyBody: true},
		{name: "favicon", method: "GET", req: getRequest("/favicon.ico"), status: 204, emptyBody: true},
		{name: "robots", method: "GET", req: getRequest("/robots.txt"), status: 200, contentType: "text/plain", bodyHas: "User-agent: *"},
		{name: "unknown path", method: "GET", req: getRequest("/nope"), status: 404, contentType: "text/plain"},
		{name: "query on unknown path", method: "GET", req: getRequest("/json/x?y=1"), status: 404},
		{name: "POST", method: "POST", req: "POST /json HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", status: 405, header: [2]string{"Allow", "GET, HEAD"}},
		{name: "DELETE", method: "DELETE", req: "DELETE / HTTP/1.1\r\nHost: x\r\n\r\n", status: 405, header: [2]string{"Allow", "GET, HEAD"}},
		{name: "HTTP/2 preface", method: "PRI", req: "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", status: 505},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			resp, body := tlsRequest(t, srv.addr, tc.method, tc.req)
			if resp.StatusCode != tc.status {
				t.Fatalf("status = %d, want %d; body %q", resp.StatusCode, tc.status, body)
			}
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, tc.contentType) {
				t.Errorf("Content-Type = %q, want %q", ct, tc.contentType)
			}
			if tc.header[0] != "" && resp.Header.Get(tc.header[0]) != tc.header[1] {
				t.Errorf("%s = %q, want %q", tc.header[0], resp.Header.Get(tc.header[0]), tc.header[1])
			}
			if !bytes.Contains(body, []byte(tc.bodyHas)) {
				t.Errorf("body does not contain %q:\n%s", tc.bodyHas, body)
			}
			if tc.emptyBody && len(body) != 0 {
				t.Errorf("body = %q, want none", body)
			}
			if strings.HasPrefix(tc.contentType, "application/json") && !tc.emptyBody && !json.Valid(body) {
				t.Errorf("invalid JSON: %s", body)
			}
		})
	}
}

func TestHostileUserAgents(t *testing.T) {
	srv := startServer(t, nil)

	t.Run("script UA is escaped in the page", func(t *testing.T) {
		const ua = "<script>alert(1)</script>"
		resp, body := tlsRequest(t, srv.addr, http.MethodGet, getRequest("/", "User-Agent: "+ua))
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
			t.Fatalf("status %d, Content-Type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		// The page has scripts of its own; the UA's must only appear as text.
		escaped := bytes.Count(body, []byte("&lt;script&gt;alert(1)&lt;/script&gt;"))
		if bytes.Contains(body, []byte(ua)) || bytes.Count(body, []byte("alert(1)")) != escaped {
			t.Errorf("the page contains the UA unescaped:\n%s", body)
		}
		if escaped == 0 {
			t.Errorf("the page does not show the escaped UA:\n%s", body)
		}
	})
	t.Run("script UA is intact in JSON", func(t *testing.T) {
		const ua = "<script>alert(1)</script>"
		_, body := tlsRequest(t, srv.addr, http.MethodGet, getRequest("/json", "User-Agent: "+ua))
		if e := decodeEcho(t, body); e.UserAgent != ua {
			t.Errorf("user_agent = %q, want %q", e.UserAgent, ua)
		}
	})
	t.Run("non-UTF-8 UA gives valid JSON", func(t *testing.T) {
		ua := "Mozilla/5.0 \xff\xfe\xc3(bad utf-8)\x80"
		resp, body := tlsRequest(t, srv.addr, http.MethodGet, getRequest("/json", "User-Agent: "+ua))
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d: %s", resp.StatusCode, body)
		}
		if !json.Valid(body) || !utf8.Valid(body) {
			t.Fatalf("not valid UTF-8 JSON: %q", body)
		}
		e := decodeEcho(t, body)
		if !strings.HasPrefix(e.UserAgent, "Mozilla/5.0 ") || !strings.Contains(e.UserAgent, "(bad utf-8)") ||
			!strings.ContainsRune(e.UserAgent, utf8.RuneError) {
			t.Errorf("user_agent = %q, want the UA with invalid bytes replaced", e.UserAgent)
		}
	})
	t.Run("non-UTF-8 UA page renders", func(t *testing.T) {
		resp, body := tlsRequest(t, srv.addr, http.MethodGet, getRequest("/", "User-Agent: \xff<b>\xfe"))
		if resp.StatusCode != http.StatusOK || bytes.Contains(body, []byte("<b>")) {
			t.Errorf("status %d, body:\n%s", resp.StatusCode, body)
		}
	})
	t.Run("log file stays valid JSON lines", func(t *testing.T) {
		if err := srv.stop(); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(srv.logPath)
		if err != nil {
			t.Fatal(err)
		}
		if !utf8.Valid(b) {
			t.Errorf("log file is not valid UTF-8")
		}
		lines := readLog(t, srv.logPath)
		if len(lines) != 4 {
			t.Errorf("%d log lines for 4 connections", len(lines))
		}
	})
}

// TestServedCertificate checks that --cert and --key are what clients get.
func TestServedCertificate(t *testing.T) {
	cert := newTestCert(t, "ja3echo.test")
	cfg := testConfig(t)
	cfg.certFile, cfg.keyFile = cert.write(t, t.TempDir())
	srv := startServer(t, cfg)
	if strings.Contains(srv.out.String(), "self-signed") {
		t.Errorf("warned about a self-signed certificate although --cert and --key exist:\n%s", srv.out)
	}
	c, err := tls.Dial("tcp", srv.addr, clientTLS())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	peer := c.ConnectionState().PeerCertificates
	if len(peer) == 0 || !bytes.Equal(peer[0].Raw, cert.tls.Certificate[0]) {
		t.Errorf("the server presented another certificate than --cert")
	}
}
