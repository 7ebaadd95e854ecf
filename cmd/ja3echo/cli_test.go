package main

// The command line, run as a process: usage, flag errors (exit 2),
// certificate errors (exit 1), the self-signed fallback.

import (
	"crypto/tls"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestCLIUsage(t *testing.T) {
	for _, flag := range []string{"-h", "--help"} {
		out, code := runOnce(t, t.TempDir(), flag)
		if code != 0 {
			t.Errorf("%s: exit %d, want 0", flag, code)
		}
		for _, want := range []string{"Usage:", "-port", "-hello-timeout", "-log-file", "fingerprint FILE"} {
			if !strings.Contains(out, want) {
				t.Errorf("%s: usage lacks %q:\n%s", flag, want, out)
			}
		}
	}
}

func TestCLIBadFlags(t *testing.T) {
	tests := []struct {
		args []string
		want string // the message must name the problem
	}{
		{[]string{"--port", "70000"}, "70000"},
		{[]string{"--port", "-1"}, "--port -1"},
		{[]string{"--port", "https"}, "https"},
		{[]string{"--hello-timeout", "-1s"}, "hello-timeout"},
		{[]string{"--hello-timeout", "0"}, "hello-timeout"},
		{[]string{"--hello-timeout", "10"}, "hello-timeout"}, // a duration needs a unit
		{[]string{"--handshake-timeout", "-5s"}, "handshake-timeout"},
		{[]string{"--max-handshakes", "0"}, "max-handshakes"},
		{[]string{"--bogus"}, "bogus"},
		{[]string{"serve"}, `"serve"`}, // stray argument
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			dir := t.TempDir()
			out, code := runOnce(t, dir, tc.args...)
			if code != 2 {
				t.Errorf("exit %d, want 2; output:\n%s", code, out)
			}
			if !strings.Contains(out, tc.want) {
				t.Errorf("output does not mention %q:\n%s", tc.want, out)
			}
			if strings.Contains(out, "listening on") {
				t.Errorf("started serving:\n%s", out)
			}
			if _, err := os.Stat(filepath.Join(dir, "logs")); err == nil {
				t.Errorf("created the log directory despite the usage error")
			}
		})
	}
}

func TestCLICertificateErrors(t *testing.T) {
	good := newTestCert(t, "localhost")
	other := newTestCert(t, "localhost")
	tests := []struct {
		name  string
		setup func(t *testing.T, dir string) (cert, key string)
		want  func(cert, key string) string // what the error must name
	}{
		{"key missing", func(t *testing.T, dir string) (string, string) {
			cert, key := good.write(t, dir)
			os.Remove(key)
			return cert, key
		}, func(_, key string) string { return key }},
		{"cert missing", func(t *testing.T, dir string) (string, string) {
			cert, key := good.write(t, dir)
			os.Remove(cert)
			return cert, key
		}, func(cert, _ string) string { return cert }},
		{"key unreadable (a directory)", func(t *testing.T, dir string) (string, string) {
			cert, key := good.write(t, dir)
			os.Remove(key)
			if err := os.Mkdir(key, 0o755); err != nil {
				t.Fatal(err)
			}
			return cert, key
		}, func(_, key string) string { return key }},
		{"key not PEM", func(t *testing.T, dir string) (string, string) {
			cert, key := good.write(t, dir)
			if err := os.WriteFile(key, []byte("not a key\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			return cert, key
		}, func(_, key string) string { return key }},
		{"mismatched pair", func(t *testing.T, dir string) (string, string) {
			cert, key := good.write(t, dir)
			if err := os.WriteFile(key, other.keyPEM, 0o600); err != nil {
				t.Fatal(err)
			}
			return cert, key
		}, func(_, key string) string { return key }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			cert, key := tc.setup(t, dir)
			out, code := runOnce(t, dir, "--port", "0", "--cert", cert, "--key", key, "--log-file", filepath.Join(dir, "ja3echo.log"))
			if code != 1 {
				t.Errorf("exit %d, want 1; output:\n%s", code, out)
			}
			if !strings.Contains(out, tc.want(cert, key)) {
				t.Errorf("the error does not name %s:\n%s", tc.want(cert, key), out)
			}
			if strings.Contains(out, "listening on") || strings.Contains(out, "self-signed") {
				t.Errorf("served anyway:\n%s", out)
			}
		})
	}
}

// TestCLISelfSigned: with neither file, a warning and an ephemeral cert.
func TestCLISelfSigned(t *testing.T) {
	dir := t.TempDir()
	p, port := startProc(t, dir, "--port", "0", "--log-file", filepath.Join(dir, "ja3echo.log"))
	out := p.output()
	if !strings.Contains(out, "level=warning") || !strings.Contains(out, "self-signed") ||
		!strings.Contains(out, filepath.Join("certs", "fullchain.pem")) {
		t.Errorf("no self-signed warning naming the default cert path:\n%s", out)
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	c, err := tls.Dial("tcp", addr, clientTLS())
	if err != nil {
		t.Fatal(err)
	}
	leaf := c.ConnectionState().PeerCertificates[0]
	c.Close()
	if err := leaf.VerifyHostname("localhost"); err != nil {
		t.Errorf("the self-signed certificate is not for localhost: %v", err)
	}
	if err := leaf.VerifyHostname("127.0.0.1"); err != nil {
		t.Errorf("the self-signed certificate is not for 127.0.0.1: %v", err)
	}
	if resp, _ := tlsRequest(t, addr, http.MethodGet, getRequest("/json")); resp.StatusCode != http.StatusOK {
		t.Errorf("status %d", resp.StatusCode)
	}
	if code := p.stop(t); code != 0 {
		t.Errorf("exit %d after SIGTERM:\n%s", code, p.output())
	}
	if _, err := os.Stat(filepath.Join(dir, "certs")); err == nil {
		t.Error("the ephemeral certificate was written to disk")
	}
}
