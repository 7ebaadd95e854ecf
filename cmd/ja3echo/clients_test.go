package main

// End-to-end tests with real TLS clients. Each client talks to the server
// through a recording proxy; the fingerprints the server answers are checked
// against fingerprint.Parse run on the recorded bytes (the server parses the
// bytes its poller buffered, a separate path), and the log file is checked
// against what the clients did.

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	utls "github.com/refraction-networking/utls"

	"github.com/ja3sentry/ja3echo/fingerprint"
)

// Real browser User-Agent strings the Go and uTLS clients send.
const (
	uaChrome131Linux = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
	uaChrome133Win   = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/133.0.0.0 Safari/537.36"
	uaFirefox120     = "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0"
)

// clientResult is what one client run produced, and what the test expects
// of the server's answer.
type clientResult struct {
	body        []byte // the /json body the client received
	ua          string // User-Agent the client sent ("" for none)
	browser     nv     // expected browser (name and version, or only the name if majorOnly is set)
	majorOnly   string // for browser UAs: the expected major version
	os          string // expected OS name, "" to skip
	tlsVersion  string // negotiated version the client saw or forced, "" if unknown
	cipherSuite string // negotiated suite the client saw, "" if unknown
	alpn        *string
	helloCheck  func(t *testing.T, h *fingerprint.ClientHello) // extra checks of the recorded hello
}

type realClient struct {
	name     string
	fragment int // recorder re-sends the hello in records of this size
	run      func(t *testing.T, rec *recorder) clientResult
}

var realClients = []realClient{
	{name: "curl", run: runCurl},
	{name: "openssl-tls1_2", run: func(t *testing.T, rec *recorder) clientResult {
		return runOpenSSL(t, rec.addr(), "TLS 1.2", "-tls1_2")
	}},
	{name: "openssl-tls1_3", run: func(t *testing.T, rec *recorder) clientResult {
		return runOpenSSL(t, rec.addr(), "TLS 1.3", "-tls1_3")
	}},
	{name: "openssl-tls1", run: runOpenSSLTLS10},
	{name: "python-ssl", run: runPython},
	{name: "go-crypto-tls", run: func(t *testing.T, rec *recorder) clientResult {
		r := runGo(t, rec.addr(), uaChrome131Linux)
		r.browser, r.majorOnly, r.os = nv{Name: "Chrome"}, "131", "Linux"
		return r
	}},
	{name: "go-crypto-tls-fragmented-hello", fragment: 7, run: func(t *testing.T, rec *recorder) clientResult {
		return runGo(t, rec.addr(), "ja3echo-test/1.0 (fragmented)")
	}},
	{name: "utls-chrome-auto", run: func(t *testing.T, rec *recorder) clientResult {
		r := runUTLS(t, rec.addr(), utls.HelloChrome_Auto, uaChrome133Win)
		r.browser, r.majorOnly, r.os = nv{Name: "Chrome"}, "133", "Windows"
		return r
	}},
	{name: "utls-firefox-auto", run: func(t *testing.T, rec *recorder) clientResult {
		r := runUTLS(t, rec.addr(), utls.HelloFirefox_Auto, uaFirefox120)
		r.browser, r.majorOnly, r.os = nv{Name: "Firefox"}, "120", "Linux"
		return r
	}},
}

// TestRealClients fingerprints every real client through the live server
// and then checks the log file those connections produced.
func TestRealClients(t *testing.T) {
	srv := startServer(t, nil)
	type seen struct {
		name     string
		upstream string
		hello    *fingerprint.ClientHello
		ua       string
	}
	var (
		mu    sync.Mutex
		conns []seen
	)
	t.Run("clients", func(t *testing.T) {
		for _, c := range realClients {
			t.Run(c.name, func(t *testing.T) {
				t.Parallel()
				rec := newFragmentingRecorder(t, srv.addr, c.fragment)
				res := c.run(t, rec)
				got := rec.next(t)
				hello, err := fingerprint.Parse(got.sent)
				if err != nil {
					t.Fatalf("fingerprint.Parse(recorded client bytes): %v", err)
				}
				if c.fragment > 0 {
					if n := countRecords(got.sent, len(hello.Raw)); n < 10 {
						t.Fatalf("the proxy sent the hello in %d records, want many", n)
					}
				}
				checkEcho(t, decodeEcho(t, res.body), got.sent, hello, got.upstream, res)
				if res.helloCheck != nil {
					res.helloCheck(t, hello)
				}
				mu.Lock()
				conns = append(conns, seen{c.name, got.upstream, hello, res.ua})
				mu.Unlock()
			})
		}
	})
	if err := srv.stop(); err != nil {
		t.Fatalf("serve: %v", err)
	}

	// One log line per connection, found by the address the server saw.
	lines := readLog(t, srv.logPath)
	byAddr := make(map[string]logLine)
	for _, l := range lines {
		byAddr[l.RemoteAddr] = l
	}
	if len(lines) != len(conns) {
		t.Errorf("log file has %d lines for %d connections", len(lines), len(conns))
	}
	for _, c := range conns {
		l, ok := byAddr[c.upstream]
		if !ok {
			t.Errorf("%s: no log line with remote_addr %s", c.name, c.upstream)
			continue
		}
		if l.JA3Hash != c.hello.JA3Hash() || l.JA3NHash != c.hello.JA3NHash() || l.JA3 != c.hello.JA3() {
			t.Errorf("%s: log ja3_hash, ja3n_hash = %s, %s; want %s, %s", c.name, l.JA3Hash, l.JA3NHash, c.hello.JA3Hash(), c.hello.JA3NHash())
		}
		if l.UserAgent != c.ua {
			t.Errorf("%s: log user_agent = %q, want %q", c.name, l.UserAgent, c.ua)
		}
		if l.Status != http.StatusOK || l.Method != http.MethodGet || l.Path != "/json" {
			t.Errorf("%s: log status, method, path = %d %s %s; want 200 GET /json", c.name, l.Status, l.Method, l.Path)
		}
		if l.DurationMS != nil && *l.DurationMS < 0 {
			t.Errorf("%s: duration_ms = %v", c.name, *l.DurationMS)
		}
	}
	checkFirstSeen(t, lines)
}

// checkFirstSeen checks new_ja3 and new_client on the lines of a fresh log:
// exactly one line per JA3 hash has new_ja3, exactly one per (JA3N hash,
// User-Agent) pair has new_client. Order is not checked: concurrent
// connections finish in any order.
func checkFirstSeen(t *testing.T, lines []logLine) {
	t.Helper()
	newJA3 := make(map[string]int)
	newClient := make(map[string]int)
	for _, l := range lines {
		newJA3[l.JA3Hash] += 0
		newClient[l.JA3NHash+"|"+l.UserAgent] += 0
		if l.NewJA3 != nil && *l.NewJA3 {
			newJA3[l.JA3Hash]++
		}
		if l.NewClient != nil && *l.NewClient {
			newClient[l.JA3NHash+"|"+l.UserAgent]++
		}
	}
	for k, n := range newJA3 {
		if n != 1 {
			t.Errorf("JA3 %s: %d lines with new_ja3 true, want 1", k, n)
		}
	}
	for k, n := range newClient {
		if n != 1 {
			t.Errorf("client %q: %d lines with new_client true, want 1", k, n)
		}
	}
}

// checkEcho compares a /json answer with the hello the client sent.
func checkEcho(t *testing.T, e *echoDoc, sent []byte, hello *fingerprint.ClientHello, upstream string, want clientResult) {
	t.Helper()
	msg, _, ok := reassemble(sent)
	if !ok {
		t.Fatalf("no whole ClientHello in the recorded bytes")
	}
	if e.Error != "" {
		t.Errorf("/json error = %q", e.Error)
	}
	if e.JA3 != hello.JA3() {
		t.Errorf("ja3 = %q, want %q", e.JA3, hello.JA3())
	}
	if e.JA3Hash != hello.JA3Hash() || e.JA3NHash != hello.JA3NHash() {
		t.Errorf("ja3_hash, ja3n_hash = %s, %s; want %s, %s", e.JA3Hash, e.JA3NHash, hello.JA3Hash(), hello.JA3NHash())
	}
	if e.RemoteAddr != upstream {
		t.Errorf("remote_addr = %s, want %s", e.RemoteAddr, upstream)
	}
	if e.UserAgent != want.ua {
		t.Errorf("user_agent = %q, want %q", e.UserAgent, want.ua)
	}
	if want.majorOnly != "" {
		major, _, _ := strings.Cut(e.Browser.Version, ".")
		if e.Browser.Name != want.browser.Name || major != want.majorOnly {
			t.Errorf("browser = %+v, want name %q, major version %s", e.Browser, want.browser.Name, want.majorOnly)
		}
	} else if e.Browser != want.browser {
		t.Errorf("browser = %+v, want %+v", e.Browser, want.browser)
	}
	if want.os != "" && e.OS.Name != want.os {
		t.Errorf("os = %+v, want name %q", e.OS, want.os)
	}
	if want.tlsVersion != "" && e.Negotiated.Version != want.tlsVersion {
		t.Errorf("negotiated.version = %q, want %q", e.Negotiated.Version, want.tlsVersion)
	}
	if want.cipherSuite != "" && e.Negotiated.CipherSuite != want.cipherSuite {
		t.Errorf("negotiated.cipher_suite = %q, want %q", e.Negotiated.CipherSuite, want.cipherSuite)
	}
	if want.alpn != nil && e.Negotiated.ALPN != *want.alpn {
		t.Errorf("negotiated.alpn = %q, want %q", e.Negotiated.ALPN, *want.alpn)
	}
	if e.TLS == nil {
		t.Fatal("/json has no tls object")
	}
	if e.TLS.ServerName != hello.ServerName {
		t.Errorf("tls.server_name = %q, want %q", e.TLS.ServerName, hello.ServerName)
	}
	if e.TLS.RawHex != hex.EncodeToString(msg.msg) {
		t.Errorf("tls.raw_hex is not the handshake message the client sent:\n got %s\nwant %x", e.TLS.RawHex, msg.msg)
	}
}

// countRecords counts the records that carry a handshake message of
// msgLen bytes at the start of buf.
func countRecords(buf []byte, msgLen int) int {
	n := 0
	for off, got := 0, 0; got < msgLen && off+5 <= len(buf); n++ {
		l := int(buf[off+3])<<8 | int(buf[off+4])
		got += l
		off += 5 + l
	}
	return n
}

// command runs an external client with a deadline and returns its stdout.
func command(t *testing.T, stdin string, name string, args ...string) ([]byte, []byte, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdin = strings.NewReader(stdin)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return stdout.Bytes(), stderr.Bytes(), err
}

func runCurl(t *testing.T, rec *recorder) clientResult {
	addr := rec.addr()
	curl := needTool(t, "curl")
	v, _, err := command(t, "", curl, "--version")
	if err != nil {
		t.Fatalf("curl --version: %v", err)
	}
	fields := strings.Fields(string(v)) // "curl 7.88.1 (x86_64-pc-linux-gnu) ..."
	if len(fields) < 2 {
		t.Fatalf("curl --version printed %q", v)
	}
	out, stderr, err := command(t, "", curl, "-sk", "--max-time", "20", "https://"+addr+"/json")
	if err != nil {
		t.Fatalf("curl: %v\n%s", err, stderr)
	}
	return clientResult{body: out, ua: "curl/" + fields[1], browser: nv{Name: "curl", Version: fields[1]}}
}

// openSSLRequest runs s_client with a GET /json on stdin and returns the
// response body, or the error and stderr.
func openSSLRequest(t *testing.T, addr string, args ...string) ([]byte, error) {
	openssl := needTool(t, "openssl")
	args = append([]string{"s_client", "-quiet", "-connect", addr}, args...)
	out, stderr, err := command(t, "GET /json HTTP/1.1\r\nHost: x\r\n\r\n", openssl, args...)
	if err != nil {
		return nil, fmt.Errorf("openssl %s: %w\n%s", strings.Join(args, " "), err, stderr)
	}
	i := bytes.Index(out, []byte("HTTP/1.1 "))
	if i < 0 {
		return nil, fmt.Errorf("openssl %s printed no HTTP response:\n%s\n%s", strings.Join(args, " "), out, stderr)
	}
	resp, body := readResponse(t, out[i:])
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("status %d", resp.StatusCode)
	}
	return body, nil
}

func runOpenSSL(t *testing.T, addr, version string, args ...string) clientResult {
	body, err := openSSLRequest(t, addr, args...)
	if err != nil {
		t.Fatal(err)
	}
	return clientResult{body: body, tlsVersion: version}
}

// runOpenSSLTLS10 proves TLS 1.0 clients are answered. OpenSSL builds that
// cannot speak TLS 1.0 at all (no protocol, option refused) skip.
func runOpenSSLTLS10(t *testing.T, rec *recorder) clientResult {
	body, err := openSSLRequest(t, rec.addr(), "-tls1", "-cipher", "DEFAULT@SECLEVEL=0")
	if err != nil {
		// The client has exited, so a connection it made is finishing in the
		// proxy now; no connection at all means it gave up before sending.
		if got, ok := rec.wait(2 * time.Second); !ok || len(got.sent) == 0 {
			t.Skipf("the local OpenSSL cannot do TLS 1.0 (it sent no ClientHello): %v", err)
		}
		t.Fatal(err)
	}
	return clientResult{body: body, tlsVersion: "TLS 1.0", helloCheck: func(t *testing.T, h *fingerprint.ClientHello) {
		// A TLS 1.0-only hello: legacy_version 3.1 and no supported_versions.
		if h.Version != 0x0301 || h.HasExtension(43) {
			t.Errorf("openssl -tls1 offered version %#04x, supported_versions present: %v", h.Version, h.HasExtension(43))
		}
	}}
}

func runPython(t *testing.T, rec *recorder) clientResult {
	addr := rec.addr()
	python := needTool(t, "python3")
	v, stderr, err := command(t, "", python, "-c", `import sys; print("%d.%d" % sys.version_info[:2])`)
	if err != nil {
		t.Fatalf("python3: %v\n%s", err, stderr)
	}
	pyVersion := strings.TrimSpace(string(v))
	const script = `
import ssl, sys, urllib.request
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
sys.stdout.write(urllib.request.urlopen(sys.argv[1], context=ctx, timeout=20).read().decode())
`
	out, stderr, err := command(t, "", python, "-c", script, "https://"+addr+"/json")
	if err != nil {
		t.Fatalf("python3 urllib: %v\n%s", err, stderr)
	}
	return clientResult{body: out, ua: "Python-urllib/" + pyVersion, browser: nv{Name: "python-urllib", Version: pyVersion}}
}

func runGo(t *testing.T, addr, ua string) clientResult {
	cfg := clientTLS()
	cfg.NextProtos = []string{"h2", "http/1.1"} // like net/http; the server only speaks http/1.1
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: testTimeout}, "tcp", addr, cfg)
	if err != nil {
		t.Fatalf("tls.Dial: %v", err)
	}
	defer c.Close()
	st := c.ConnectionState()
	resp, body := roundTrip(t, c, http.MethodGet, getRequest("/json", "User-Agent: "+ua))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	return clientResult{body: body, ua: ua, tlsVersion: tls.VersionName(st.Version),
		cipherSuite: tls.CipherSuiteName(st.CipherSuite), alpn: &st.NegotiatedProtocol}
}

// runUTLS does the handshake with a uTLS parrot and the HTTP/1.1 request by
// hand. Parrots offer h2 too; the server only offers http/1.1, so that is
// what gets negotiated.
func runUTLS(t *testing.T, addr string, id utls.ClientHelloID, ua string) clientResult {
	raw, err := net.DialTimeout("tcp", addr, testTimeout)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	_ = raw.SetDeadline(time.Now().Add(testTimeout))
	uc := utls.UClient(raw, &utls.Config{ServerName: "localhost", InsecureSkipVerify: true}, id) //nolint:gosec // test client
	if err := uc.Handshake(); err != nil {
		t.Fatalf("uTLS %s handshake: %v", id.Str(), err)
	}
	st := uc.ConnectionState()
	resp, body := roundTrip(t, uc, http.MethodGet, getRequest("/json", "User-Agent: "+ua))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	return clientResult{body: body, ua: ua, tlsVersion: tls.VersionName(st.Version),
		cipherSuite: tls.CipherSuiteName(st.CipherSuite), alpn: &st.NegotiatedProtocol}
}
