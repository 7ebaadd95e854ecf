package main

// Shared test machinery: an in-process server started through serve(), the
// binary built once for process-level tests, a recording TCP proxy that
// captures exactly what a client sent, and small TLS-record helpers written
// independently of package fingerprint.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// testTimeout bounds every network wait in the tests. It is a safety net
// against hangs, never part of what a test asserts.
const testTimeout = 20 * time.Second

// lockedBuffer is an io.Writer the server's logger and the test share.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// testServer is a ja3echo server running in-process through serve().
type testServer struct {
	addr    string // 127.0.0.1:port
	port    int
	logPath string
	out     *lockedBuffer // the stdout logger's output
	cancel  context.CancelFunc
	errc    chan error
	once    sync.Once
	err     error
}

// testConfig is the config the tests start from: port 0, a log file in a
// fresh temp dir, cert and key paths that do not exist (self-signed).
func testConfig(t *testing.T) *config {
	dir := t.TempDir()
	return &config{
		host:             "127.0.0.1",
		port:             0,
		certFile:         filepath.Join(dir, "absent-cert.pem"),
		keyFile:          filepath.Join(dir, "absent-key.pem"),
		logFile:          filepath.Join(dir, "logs", "ja3echo.log"),
		helloTimeout:     10 * time.Second,
		handshakeTimeout: 10 * time.Second,
		maxHandshakes:    4096,
		grace:            10 * time.Second,
		http2:            true, // the default, as parseFlags sets it
	}
}

// startServer runs serve(cfg) until the test ends (or stop is called) and
// waits for its listening address.
func startServer(t *testing.T, cfg *config) *testServer {
	t.Helper()
	if cfg == nil {
		cfg = testConfig(t)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &testServer{logPath: cfg.logFile, out: &lockedBuffer{}, cancel: cancel, errc: make(chan error, 1)}
	ready := make(chan net.Addr, 1)
	log := newLogger(s.out, true)
	go func() { s.errc <- serve(ctx, cfg, log, ready) }()
	select {
	case a := <-ready:
		ta, ok := a.(*net.TCPAddr)
		if !ok {
			cancel()
			t.Fatalf("serve reported address %v of type %T, want *net.TCPAddr", a, a)
		}
		s.addr, s.port = ta.String(), ta.Port
	case err := <-s.errc:
		cancel()
		t.Fatalf("serve failed before listening: %v\nlog:\n%s", err, s.out)
	case <-time.After(testTimeout):
		cancel()
		t.Fatal("serve did not report its address")
	}
	t.Cleanup(func() {
		if err := s.stop(); err != nil {
			t.Errorf("serve returned %v", err)
		}
	})
	return s
}

// stop cancels the server's context and waits for serve to return; after it
// the log file is flushed and closed. It is idempotent.
func (s *testServer) stop() error {
	s.once.Do(func() {
		s.cancel()
		select {
		case s.err = <-s.errc:
		case <-time.After(testTimeout):
			s.err = errors.New("serve did not return after cancel")
		}
	})
	return s.err
}

// logLine is one line of the log file, decoded with the public key names.
type logLine struct {
	Time           string   `json:"time"`
	RemoteAddr     string   `json:"remote_addr"`
	JA3            string   `json:"ja3"`
	JA3Hash        string   `json:"ja3_hash"`
	JA3N           string   `json:"ja3n"`
	JA3NHash       string   `json:"ja3n_hash"`
	SNI            string   `json:"sni"`
	ALPN           string   `json:"alpn"`
	TLSVersion     string   `json:"tls_version"`
	CipherSuite    string   `json:"cipher_suite"`
	Method         string   `json:"method"`
	Path           string   `json:"path"`
	Status         int      `json:"status"`
	UserAgent      string   `json:"user_agent"`
	Browser        string   `json:"browser"`
	BrowserVersion string   `json:"browser_version"`
	OS             string   `json:"os"`
	NewJA3         *bool    `json:"new_ja3"`
	NewClient      *bool    `json:"new_client"`
	DurationMS     *float64 `json:"duration_ms"`
	Error          string   `json:"error"`
}

// readLog decodes every line of a log file; each must be one JSON object.
func readLog(t *testing.T, path string) []logLine {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading log file: %v", err)
	}
	var lines []logLine
	for i, raw := range bytes.Split(b, []byte("\n")) {
		if len(raw) == 0 {
			continue
		}
		var l logLine
		if err := json.Unmarshal(raw, &l); err != nil {
			t.Fatalf("log line %d is not one JSON object: %v\n%s", i+1, err, raw)
		}
		if l.NewJA3 == nil || l.NewClient == nil || l.DurationMS == nil {
			t.Errorf("log line %d lacks new_ja3, new_client or duration_ms: %s", i+1, raw)
		}
		lines = append(lines, l)
	}
	return lines
}

// echoDoc is the /json document, decoded with its public key names.
type echoDoc struct {
	JA3        string `json:"ja3"`
	JA3Hash    string `json:"ja3_hash"`
	JA3N       string `json:"ja3n"`
	JA3NHash   string `json:"ja3n_hash"`
	UserAgent  string `json:"user_agent"`
	Browser    nv     `json:"browser"`
	OS         nv     `json:"os"`
	RemoteAddr string `json:"remote_addr"`
	TLS        *struct {
		// Only the members the tests read: the object grows richer over
		// time (names next to code points, more fingerprints).
		ALPN       []string `json:"alpn"`
		ServerName string   `json:"server_name"`
		RawHex     string   `json:"raw_hex"`
	} `json:"tls"`
	Negotiated struct {
		Version     string `json:"version"`
		CipherSuite string `json:"cipher_suite"`
		ALPN        string `json:"alpn"`
	} `json:"negotiated"`
	Error string `json:"error"`
}

// nv is a {"name", "version"} object of the JSON output.
type nv struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

func decodeEcho(t *testing.T, body []byte) *echoDoc {
	t.Helper()
	var e echoDoc
	if err := json.Unmarshal(body, &e); err != nil {
		t.Fatalf("response is not the /json document: %v\n%s", err, body)
	}
	return &e
}

// clientTLS is the crypto/tls client config of the Go clients: the server's
// certificate is self-signed and only the ClientHello matters.
func clientTLS() *tls.Config {
	return &tls.Config{InsecureSkipVerify: true, ServerName: "localhost", NextProtos: []string{"http/1.1"}} //nolint:gosec // test client
}

// roundTrip sends one raw HTTP/1.1 request over c and reads the response.
// req is sent verbatim, so tests control every header byte.
func roundTrip(t *testing.T, c net.Conn, method, req string) (*http.Response, []byte) {
	t.Helper()
	_ = c.SetDeadline(time.Now().Add(testTimeout))
	if _, err := io.WriteString(c, req); err != nil {
		t.Fatalf("writing request: %v", err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), &http.Request{Method: method})
	if err != nil {
		t.Fatalf("reading response: %v", err)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading body: %v", err)
	}
	return resp, body
}

// tlsRequest dials addr with crypto/tls and does one raw request.
func tlsRequest(t *testing.T, addr, method, req string) (*http.Response, []byte) {
	t.Helper()
	d := &net.Dialer{Timeout: testTimeout}
	c, err := tls.DialWithDialer(d, "tcp", addr, clientTLS())
	if err != nil {
		t.Fatalf("TLS dial %s: %v", addr, err)
	}
	defer c.Close()
	return roundTrip(t, c, method, req)
}

// readResponse parses a whole HTTP/1.1 response from b.
func readResponse(t *testing.T, b []byte) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(b)), nil)
	if err != nil {
		t.Fatalf("parsing HTTP response: %v\n%q", err, b)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading HTTP body: %v", err)
	}
	return resp, body
}

func getRequest(path string, headers ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "GET %s HTTP/1.1\r\nHost: localhost\r\n", path)
	for _, h := range headers {
		b.WriteString(h + "\r\n")
	}
	b.WriteString("Connection: close\r\n\r\n")
	return b.String()
}

// --- recording proxy ---

// recorder is a TCP proxy on 127.0.0.1:0 that forwards each connection to a
// target and records the bytes the client sent, so a test knows exactly
// which ClientHello reached the server.
type recorder struct {
	ln       net.Listener
	target   string
	fragment int // >0: re-send the ClientHello in records of this many payload bytes
	done     chan recording
	wg       sync.WaitGroup
}

// recording is one proxied connection.
type recording struct {
	sent     []byte // client→server bytes, as forwarded to the target
	upstream string // the proxy's address on its connection to the target: the server's remote_addr
	err      error
}

func newRecorder(t *testing.T, target string) *recorder {
	t.Helper()
	return newFragmentingRecorder(t, target, 0)
}

// newFragmentingRecorder is a recorder that re-sends each ClientHello in
// records of at most size payload bytes (0: as the client sent it).
func newFragmentingRecorder(t *testing.T, target string, size int) *recorder {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &recorder{ln: ln, target: target, fragment: size, done: make(chan recording, 64)}
	r.wg.Add(1)
	go r.accept()
	t.Cleanup(func() { ln.Close(); r.wg.Wait() })
	return r
}

func (r *recorder) addr() string { return r.ln.Addr().String() }

func (r *recorder) accept() {
	defer r.wg.Done()
	for {
		c, err := r.ln.Accept()
		if err != nil {
			return
		}
		r.wg.Add(1)
		go func() { defer r.wg.Done(); r.done <- r.proxy(c) }()
	}
}

func (r *recorder) proxy(client net.Conn) recording {
	defer client.Close()
	_ = client.SetDeadline(time.Now().Add(testTimeout))
	server, err := net.DialTimeout("tcp", r.target, testTimeout)
	if err != nil {
		return recording{err: err}
	}
	defer server.Close()
	_ = server.SetDeadline(time.Now().Add(testTimeout))
	rec := recording{upstream: server.LocalAddr().String()}
	var sent bytes.Buffer
	if r.fragment > 0 {
		hello, rest, err := readHello(client)
		if err != nil {
			return recording{err: err}
		}
		first := append(fragmentRecords(hello.msg, hello.version, r.fragment), rest...)
		sent.Write(first)
		if _, err := server.Write(first); err != nil {
			return recording{err: err}
		}
	}
	back := make(chan struct{})
	go func() {
		// Server to client; when the server is done, so is the client.
		_, _ = io.Copy(client, server)
		client.Close()
		close(back)
	}()
	_, _ = io.Copy(io.MultiWriter(server, &sent), client)
	if tc, ok := server.(*net.TCPConn); ok {
		_ = tc.CloseWrite()
	}
	<-back
	rec.sent = sent.Bytes()
	return rec
}

// wait returns the next finished connection, if one finishes within d.
func (r *recorder) wait(d time.Duration) (recording, bool) {
	select {
	case rec := <-r.done:
		return rec, rec.err == nil
	case <-time.After(d):
		return recording{}, false
	}
}

// next waits for the next finished connection through the proxy.
func (r *recorder) next(t *testing.T) recording {
	t.Helper()
	select {
	case rec := <-r.done:
		if rec.err != nil {
			t.Fatalf("recording proxy: %v", rec.err)
		}
		if len(rec.sent) == 0 {
			t.Fatal("recording proxy: the client sent nothing")
		}
		return rec
	case <-time.After(testTimeout):
		t.Fatal("recording proxy: no connection finished")
	}
	return recording{}
}

// --- TLS records, written independently of package fingerprint ---

// handshakeMsg is a ClientHello handshake message and the version of the
// record that carried its first byte.
type handshakeMsg struct {
	msg     []byte
	version uint16
}

// reassemble collects the first handshake message from the records at the
// start of buf. used is how many bytes of buf the records took; ok is false
// while buf is incomplete.
func reassemble(buf []byte) (h handshakeMsg, used int, ok bool) {
	for off := 0; off+5 <= len(buf); {
		n := int(binary.BigEndian.Uint16(buf[off+3:]))
		if buf[off] != 22 || off+5+n > len(buf) {
			return h, 0, false
		}
		if off == 0 {
			h.version = binary.BigEndian.Uint16(buf[1:])
		}
		h.msg = append(h.msg, buf[off+5:off+5+n]...)
		off += 5 + n
		if len(h.msg) >= 4 {
			want := 4 + (int(h.msg[1])<<16 | int(h.msg[2])<<8 | int(h.msg[3]))
			if len(h.msg) >= want {
				h.msg = h.msg[:want]
				return h, off, true
			}
		}
	}
	return h, 0, false
}

// readHello reads from c until a whole ClientHello has arrived and returns
// it with any bytes that came after its records.
func readHello(c net.Conn) (handshakeMsg, []byte, error) {
	var buf []byte
	tmp := make([]byte, 4096)
	for {
		n, err := c.Read(tmp)
		buf = append(buf, tmp[:n]...)
		if h, used, ok := reassemble(buf); ok {
			return h, buf[used:], nil
		}
		if err != nil {
			return handshakeMsg{}, nil, fmt.Errorf("reading the ClientHello: %w", err)
		}
	}
}

// fragmentRecords wraps msg in handshake records of at most size payload
// bytes each, as a client may legally send it.
func fragmentRecords(msg []byte, version uint16, size int) []byte {
	var out []byte
	for len(msg) > 0 {
		n := min(size, len(msg))
		out = append(out, 22, byte(version>>8), byte(version), byte(n>>8), byte(n))
		out = append(out, msg[:n]...)
		msg = msg[n:]
	}
	return out
}

// --- the binary, for process-level tests ---

var (
	binOnce sync.Once
	binPath string
	binErr  error
	binDir  string
)

// TestMain removes the binary's directory after all tests.
func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// buildBinary builds ./ (this command) once per test run, with -race when
// the tests run with it.
func buildBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		binDir, binErr = os.MkdirTemp("", "ja3echo-test-")
		if binErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "ja3echo")
		args := []string{"build", "-o", binPath}
		if raceEnabled {
			args = append(args, "-race")
		}
		cmd := exec.Command("go", append(args, ".")...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// binaryCommand is exec.Command for the built binary. A -race binary
// sleeps a second before exiting by default (GORACE atexit_sleep_ms); the
// tests wait for many exits, so that is turned off, keeping any other
// GORACE options.
func binaryCommand(ctx context.Context, t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.CommandContext(ctx, buildBinary(t), args...)
	cmd.Env = append(os.Environ(), "GORACE=atexit_sleep_ms=0 "+os.Getenv("GORACE"))
	return cmd
}

// needTool skips the test when an external client is not installed.
func needTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("%s is not installed (.ci/run installs it): %v", name, err)
	}
	return p
}

// logLineCount counts the lines of a file; a missing file has none.
func logLineCount(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	return bytes.Count(b, []byte("\n"))
}
