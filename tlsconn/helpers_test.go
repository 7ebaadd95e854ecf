package tlsconn

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"errors"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	logtest "github.com/sirupsen/logrus/hooks/test"
	"golang.org/x/sys/unix"
)

// wait bounds every blocking step of a test so a bug hangs nothing; it is
// never part of what a test asserts.
const wait = 10 * time.Second

// testCert is an ephemeral self-signed ECDSA P-256 certificate for
// "localhost", shared by the whole test binary.
var testCert = sync.OnceValues(func() (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "localhost"},
		DNSNames:              []string{"localhost"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	leaf, err := x509.ParseCertificate(der)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, err
})

// serverConfig mirrors the production config: TLS 1.0–1.3, no session
// tickets, ALPN http/1.1.
func serverConfig(t testing.TB) *tls.Config {
	t.Helper()
	cert, err := testCert()
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Config{
		Certificates:           []tls.Certificate{cert},
		MinVersion:             tls.VersionTLS10,
		SessionTicketsDisabled: true,
		NextProtos:             []string{"http/1.1"},
	}
}

// clientConfig trusts the test certificate and caps the version at maxVers.
func clientConfig(t testing.TB, maxVers uint16) *tls.Config {
	t.Helper()
	cert, err := testCert()
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert.Leaf)
	return &tls.Config{RootCAs: pool, ServerName: "localhost", MinVersion: tls.VersionTLS10, MaxVersion: maxVers,
		NextProtos: []string{"http/1.1"}}
}

// listener is a raw non-blocking listening socket, as the poller makes it.
// net.Listener is not used because reaching its fd through File() would turn
// the shared descriptor blocking.
type listener struct {
	fd   int
	addr string
}

func listen(t testing.TB) *listener {
	t.Helper()
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	if err := unix.Bind(fd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := unix.Listen(fd, 128); err != nil {
		t.Fatal(err)
	}
	sa, err := unix.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	return &listener{fd: fd, addr: netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, 0, 1}),
		uint16(sa.(*unix.SockaddrInet4).Port)).String()}
}

// pollIn waits until fd is readable; a test helper, so it fails the test on timeout.
func pollIn(t testing.TB, fd int) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for time.Now().Before(deadline) {
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		n, err := unix.Poll(fds, 100)
		if err != nil && !errors.Is(err, unix.EINTR) {
			t.Fatal(err)
		}
		if n > 0 {
			return
		}
	}
	t.Fatalf("fd %d not readable after %v", fd, wait)
}

// accept returns the next connection as a non-blocking, close-on-exec fd.
func (l *listener) accept(t testing.TB) (int, netip.AddrPort) {
	t.Helper()
	for {
		pollIn(t, l.fd)
		fd, sa, err := unix.Accept4(l.fd, unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC)
		if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR) || errors.Is(err, unix.ECONNABORTED) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		in4 := sa.(*unix.SockaddrInet4)
		return fd, netip.AddrPortFrom(netip.AddrFrom4(in4.Addr), uint16(in4.Port))
	}
}

// readN reads exactly n bytes from the non-blocking fd (fewer only at EOF),
// never more, so whatever the client sent after them stays in the socket.
func readN(t testing.TB, fd, n int) []byte {
	t.Helper()
	buf := make([]byte, 0, n)
	for len(buf) < n {
		pollIn(t, fd)
		m, err := unix.Read(fd, buf[len(buf):n])
		if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if m == 0 {
			break
		}
		buf = buf[:len(buf)+m]
	}
	return buf
}

// readHello reads one whole TLS record (a Go ClientHello fits in one) plus
// extra bytes after it.
func readHello(t testing.TB, fd, extra int) []byte {
	t.Helper()
	hdr := readN(t, fd, 5)
	if len(hdr) < 5 {
		t.Fatalf("short record header %x", hdr)
	}
	rest := readN(t, fd, int(binary.BigEndian.Uint16(hdr[3:]))+extra)
	return append(hdr, rest...)
}

// captureHello returns the first record a client with cfg sends: its ClientHello.
func captureHello(t testing.TB, cfg *tls.Config) []byte {
	t.Helper()
	c, s := net.Pipe()
	defer s.Close()
	go func() { tls.Client(c, cfg).Handshake(); c.Close() }()
	s.SetDeadline(time.Now().Add(wait))
	hdr := make([]byte, 5)
	if _, err := io.ReadFull(s, hdr); err != nil {
		t.Fatal(err)
	}
	body := make([]byte, binary.BigEndian.Uint16(hdr[3:]))
	if _, err := io.ReadFull(s, body); err != nil {
		t.Fatal(err)
	}
	return append(hdr, body...)
}

// errBareEOF replaces io.EOF from the client's socket, so that the client's
// tls.Conn returns io.EOF only when the server really sent close_notify
// (crypto/tls otherwise accepts a bare FIN at a record boundary as io.EOF).
var errBareEOF = errors.New("test: TCP EOF without close_notify")

// clientConn wraps the client's TCP conn: it reports a bare EOF as errBareEOF
// and can append extra bytes to the first write (the ClientHello).
type clientConn struct {
	net.Conn
	extra []byte
}

func (c *clientConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if err == io.EOF {
		err = errBareEOF
	}
	return n, err
}

func (c *clientConn) Write(p []byte) (int, error) {
	if c.extra == nil {
		return c.Conn.Write(p)
	}
	buf := append(append([]byte(nil), p...), c.extra...)
	c.extra = nil
	n, err := c.Conn.Write(buf)
	return min(n, len(p)), err
}

// result is what a test client saw.
type result struct {
	resp *http.Response
	body []byte
	tail error // the read after the body: io.EOF iff close_notify arrived
	err  error
}

// do runs one request over a new TLS client on raw; it is meant to run on
// its own goroutine while the test plays the poller.
func do(raw net.Conn, cfg *tls.Config, request string) (r result) {
	c := tls.Client(raw, cfg)
	defer c.Close()
	c.SetDeadline(time.Now().Add(wait))
	if _, r.err = io.WriteString(c, request); r.err != nil {
		return r
	}
	br := bufio.NewReader(c)
	// The method tells ReadResponse whether a body follows (not after HEAD).
	method, _, _ := strings.Cut(request, " ")
	if r.resp, r.err = http.ReadResponse(br, &http.Request{Method: method}); r.err != nil {
		return r
	}
	if r.body, r.err = io.ReadAll(r.resp.Body); r.err != nil {
		return r
	}
	_, r.tail = br.ReadByte()
	return r
}

// harness is one Server plus the test's stand-in for the poller.
type harness struct {
	t       *testing.T
	ln      *listener
	srv     *Server
	done    chan *Info
	handled chan *Info
	hook    *logtest.Hook
}

const helloBody = "hello\n"

func newHarness(t *testing.T, configure func(*Server)) *harness {
	t.Helper()
	logger, hook := logtest.NewNullLogger()
	logger.SetLevel(logrus.DebugLevel)
	h := &harness{t: t, ln: listen(t), done: make(chan *Info, 64), handled: make(chan *Info, 64), hook: hook}
	h.srv = &Server{
		TLSConfig: serverConfig(t),
		Timeout:   wait,
		Handle: func(info *Info) Response {
			h.handled <- info
			return Response{Header: http.Header{"X-Test": {"yes"}}, Body: []byte(helloBody)}
		},
		Done: func(info *Info) { h.done <- info },
		Log:  logrus.NewEntry(logger),
	}
	if configure != nil {
		configure(h.srv)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		if err := h.srv.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown at cleanup: %v", err)
		}
	})
	return h
}

// dial connects a client. The kernel completes the connection from the listen
// backlog, so the client can start its handshake before the test accepts.
func (h *harness) dial() *clientConn {
	h.t.Helper()
	c, err := net.DialTimeout("tcp", h.ln.addr, wait)
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { c.Close() })
	return &clientConn{Conn: c}
}

// info waits for the next Done call and checks it was the only one pending.
func (h *harness) info() *Info {
	h.t.Helper()
	select {
	case info := <-h.done:
		return info
	case <-time.After(wait):
		h.t.Fatal("Done was not called")
		return nil
	}
}

// finish shuts the server down and checks that Done ran once per conn and
// Handle ran handled times in total.
func (h *harness) finish(handled int) {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if err := h.srv.Shutdown(ctx); err != nil {
		h.t.Fatalf("Shutdown: %v", err)
	}
	if n := len(h.done); n != 0 {
		h.t.Errorf("%d extra Done calls", n)
	}
	if n := len(h.handled); n != handled {
		h.t.Errorf("Handle called %d times, want %d", n, handled)
	}
	if n := h.srv.Stats().InFlight; n != 0 {
		h.t.Errorf("InFlight = %d after Shutdown, want 0", n)
	}
}

// levelOf returns the level of the last log entry with reason, or false.
func (h *harness) levelOf(reason string) (logrus.Level, bool) {
	entries := h.hook.AllEntries()
	for i := len(entries) - 1; i >= 0; i-- {
		if entries[i].Data["reason"] == reason {
			return entries[i].Level, true
		}
	}
	return 0, false
}

// countFDs counts this process's open descriptors.
func countFDs(t testing.TB) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("cannot count fds: %v", err)
	}
	return len(ents)
}
