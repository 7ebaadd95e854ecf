package tlsconn

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
)

const get = "GET /path HTTP/1.1\r\nHost: localhost\r\n\r\n"

// ccs is a TLS 1.3 compatibility ChangeCipherSpec record. A TLS 1.3 server
// ignores it anywhere before the client's Finished (RFC 8446, section 5), so
// a client can send it right behind its hello: bytes after the hello.
var ccs = []byte{0x14, 0x03, 0x03, 0x00, 0x01, 0x01}

// await returns the client's result, failing the test if it never comes.
func await(t *testing.T, ch <-chan result) result {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(wait):
		t.Fatal("client did not finish")
		return result{}
	}
}

func TestServe(t *testing.T) {
	versions := []struct {
		name string
		vers uint16
	}{{"TLS13", tls.VersionTLS13}, {"TLS12", tls.VersionTLS12}, {"TLS10", tls.VersionTLS10}}
	modes := []struct {
		name  string
		extra []byte // sent by the client right behind its hello
		read  func(t testing.TB, fd int) []byte
	}{
		{"no-prefix", nil, func(testing.TB, int) []byte { return nil }},
		{"3-bytes", nil, func(t testing.TB, fd int) []byte { return readN(t, fd, 3) }},
		{"hello", nil, func(t testing.TB, fd int) []byte { return readHello(t, fd, 0) }},
		{"hello+extra", ccs, func(t testing.TB, fd int) []byte { return readHello(t, fd, len(ccs)) }},
	}
	for _, v := range versions {
		for _, m := range modes {
			if m.extra != nil && v.vers != tls.VersionTLS13 {
				continue // a stray CCS is only legal in TLS 1.3
			}
			t.Run(v.name+"/"+m.name, func(t *testing.T) {
				var doneAt time.Time // written before Done hands the Info to the test
				h := newHarness(t, func(s *Server) {
					next := s.Done
					s.Done = func(info *Info) { doneAt = time.Now(); next(info) }
				})
				c := h.dial()
				c.extra = m.extra
				cfg := clientConfig(t, v.vers)
				res := make(chan result, 1)
				go func() { res <- do(c, cfg, get) }()

				fd, remote := h.ln.accept(t)
				prefix := m.read(t, fd)
				h.srv.Handoff(fd, prefix, remote)
				r := await(t, res)
				if r.err != nil {
					t.Fatalf("client: %v", r.err)
				}
				if r.resp.StatusCode != http.StatusOK || r.resp.Proto != "HTTP/1.1" {
					t.Errorf("status line = %s %q, want HTTP/1.1 200", r.resp.Proto, r.resp.Status)
				}
				if !r.resp.Close { // http.ReadResponse consumes the "Connection: close" header into Close
					t.Error("response without Connection: close")
				}
				if r.resp.ContentLength != int64(len(helloBody)) || string(r.body) != helloBody {
					t.Errorf("body = %q (Content-Length %d), want %q", r.body, r.resp.ContentLength, helloBody)
				}
				if got := r.resp.Header.Get("X-Test"); got != "yes" {
					t.Errorf("X-Test = %q, want yes", got)
				}
				if _, err := http.ParseTime(r.resp.Header.Get("Date")); err != nil {
					t.Errorf("Date: %v", err)
				}
				if r.tail != io.EOF {
					t.Errorf("read after body = %v, want io.EOF (close_notify)", r.tail)
				}

				info := h.info()
				if info.Err != nil || info.Status != http.StatusOK {
					t.Errorf("Info: Err %v, Status %d; want nil, 200", info.Err, info.Status)
				}
				if info.State == nil || info.State.Version != v.vers || info.State.NegotiatedProtocol != "http/1.1" {
					t.Errorf("Info.State = %+v, want version %x and ALPN http/1.1", info.State, v.vers)
				}
				if info.Request == nil || info.Request.URL.Path != "/path" {
					t.Errorf("Info.Request = %+v, want GET /path", info.Request)
				}
				// Ordering only (monotonic clock), never a duration.
				if hd := info.HandshakeDone; hd.IsZero() || hd.Before(info.Start) || hd.After(doneAt) {
					t.Errorf("Info.HandshakeDone = %v, want set, between Start %v and the Done call %v", hd, info.Start, doneAt)
				}
				if !bytes.Equal(info.Prefix, prefix) {
					t.Errorf("Info.Prefix = %x, want %x", info.Prefix, prefix)
				}
				if want := c.LocalAddr().(*net.TCPAddr).AddrPort(); info.Remote != want {
					t.Errorf("Info.Remote = %v, want %v", info.Remote, want)
				}
				if got := <-h.handled; got != info {
					t.Error("Handle and Done saw different Info values")
				}
				h.finish(0)
				if st := h.srv.Stats(); st.Served != 1 || st.HandshakeErrors != 0 || st.RequestErrors != 0 {
					t.Errorf("Stats = %+v", st)
				}
			})
		}
	}
}

func TestHead(t *testing.T) {
	h := newHarness(t, nil)
	c := h.dial()
	cfg := clientConfig(t, 0)
	res := make(chan result, 1)
	go func() { res <- do(c, cfg, "HEAD / HTTP/1.1\r\nHost: localhost\r\n\r\n") }()
	fd, remote := h.ln.accept(t)
	h.srv.Handoff(fd, readHello(t, fd, 0), remote)
	r := await(t, res)
	if r.err != nil {
		t.Fatalf("client: %v", r.err)
	}
	// do reads the next byte after the head; a body sent by mistake shows up here.
	if r.resp.StatusCode != http.StatusOK || r.resp.ContentLength != int64(len(helloBody)) || r.tail != io.EOF {
		t.Errorf("HEAD: status %d, Content-Length %d, next read %v; want 200, %d, io.EOF",
			r.resp.StatusCode, r.resp.ContentLength, r.tail, len(helloBody))
	}
	<-h.handled
	if info := h.info(); info.Status != http.StatusOK {
		t.Errorf("Info.Status = %d, want 200", info.Status)
	}
	h.finish(0)
}

func TestHandshakeFailure(t *testing.T) {
	hello := captureHello(t, clientConfig(t, 0))
	recLen := len(hello) - 5
	tests := []struct {
		name    string
		timeout time.Duration
		// client plays the client on c; it returns the bytes the test then
		// reads as the prefix, before handing the fd off.
		client func(t *testing.T, c *clientConn) int
		after  func(t *testing.T, c *clientConn)
		reason string // "" means any Expected reason
		level  logrus.Level
	}{{
		name:   "peer-closes-after-hello",
		client: func(t *testing.T, c *clientConn) int { write(t, c, hello); c.Close(); return len(hello) },
		level:  logrus.DebugLevel,
	}, {
		name:   "garbage-after-partial-hello",
		client: func(t *testing.T, c *clientConn) int { write(t, c, hello[:3]); return 3 },
		after: func(t *testing.T, c *clientConn) {
			write(t, c, append(append([]byte(nil), hello[3:5]...), bytes.Repeat([]byte{0xff}, recLen)...))
		},
		reason: "handshake",
		level:  logrus.WarnLevel,
	}, {
		name:    "silent-mid-hello",
		timeout: 300 * time.Millisecond,
		client:  func(t *testing.T, c *clientConn) int { write(t, c, hello[:3]); return 3 },
		reason:  "timeout",
		level:   logrus.DebugLevel,
	}, {
		name: "client-rejects-certificate",
		client: func(t *testing.T, c *clientConn) int {
			cfg := clientConfig(t, 0)
			cfg.RootCAs = x509.NewCertPool()
			go tls.Client(c, cfg).Handshake()
			return 0
		},
		reason: "tls_alert",
		level:  logrus.WarnLevel,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, func(s *Server) { s.Timeout = cmp.Or(tt.timeout, wait) })
			c := h.dial()
			n := tt.client(t, c)
			fd, remote := h.ln.accept(t)
			h.srv.Handoff(fd, readN(t, fd, n), remote)
			if tt.after != nil {
				tt.after(t, c)
			}
			info := h.info()
			if !errors.Is(info.Err, ErrHandshake) {
				t.Errorf("Info.Err = %v, want ErrHandshake", info.Err)
			}
			reason := Reason(info.Err)
			if tt.reason == "" && !Expected(info.Err) || tt.reason != "" && reason != tt.reason {
				t.Errorf("Reason = %q (err %v), want %q", reason, info.Err, cmp.Or(tt.reason, "an expected reason"))
			}
			if !info.HandshakeDone.IsZero() || info.State != nil || info.Request != nil || info.Status != 0 {
				t.Errorf("Info = %+v, want no handshake time, state, request or status", info)
			}
			if lvl, ok := h.levelOf(reason); !ok || lvl != tt.level {
				t.Errorf("logged reason %q at %v (found %v), want %v", reason, lvl, ok, tt.level)
			}
			h.finish(0)
			if st := h.srv.Stats(); st.HandshakeErrors != 1 || st.Served != 0 {
				t.Errorf("Stats = %+v, want 1 handshake error, 0 served", st)
			}
		})
	}
}

// TestPlaintextHTTP covers net/http's courtesy: an HTTP request sent to the
// TLS port gets a readable 400 instead of a TLS alert.
func TestPlaintextHTTP(t *testing.T) {
	h := newHarness(t, nil)
	c := h.dial()
	const req = "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"
	write(t, c, []byte(req))
	fd, remote := h.ln.accept(t)
	h.srv.Handoff(fd, readN(t, fd, len(req)), remote)
	c.SetDeadline(time.Now().Add(wait))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "HTTPS") {
		t.Errorf("got %d %q, want 400 mentioning HTTPS", resp.StatusCode, body)
	}
	info := h.info()
	if Reason(info.Err) != "not_tls" || !errors.Is(info.Err, ErrHandshake) || info.Status != http.StatusBadRequest {
		t.Errorf("Info: Err %v (reason %q), Status %d; want not_tls, 400", info.Err, Reason(info.Err), info.Status)
	}
	h.finish(0)
}

func TestRequestErrors(t *testing.T) {
	big := "GET / HTTP/1.1\r\nHost: localhost\r\nX-Big: " + strings.Repeat("a", 20<<10) + "\r\n\r\n"
	tests := []struct {
		name        string
		configure   func(*Server)
		request     string // "" means: close right after the handshake
		silent      bool   // handshake, then send nothing and wait
		status      int    // 0: no response expected
		reason      string
		wantRequest bool // Info.Request expected
	}{
		{name: "headers-over-default-cap", request: big, status: 431, reason: "headers_too_large"},
		{name: "headers-over-custom-cap", configure: func(s *Server) { s.MaxHeaderBytes = 64 },
			request: "GET / HTTP/1.1\r\nHost: localhost\r\nUser-Agent: " + strings.Repeat("b", 64) + "\r\n\r\n",
			status:  431, reason: "headers_too_large"},
		{name: "malformed", request: "BOGUS\r\n\r\n", status: 400, reason: "bad_request"},
		{name: "http2", request: "GET / HTTP/2.0\r\nHost: localhost\r\n\r\n", status: 505, reason: "bad_request", wantRequest: true},
		{name: "closed-without-request", reason: "eof"},
		{name: "silent-after-handshake", configure: func(s *Server) { s.Timeout = 300 * time.Millisecond },
			silent: true, reason: "timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, tt.configure)
			c := h.dial()
			cfg := clientConfig(t, 0)
			res := make(chan result, 1)
			go func() {
				switch {
				case tt.request != "":
					res <- do(c, cfg, tt.request)
				case tt.silent:
					tc := tls.Client(c, cfg)
					tc.SetDeadline(time.Now().Add(wait))
					err := tc.Handshake()
					if err == nil {
						_, err = tc.Read(make([]byte, 1))
					}
					res <- result{err: err}
				default:
					tc := tls.Client(c, cfg)
					tc.SetDeadline(time.Now().Add(wait))
					err := tc.Handshake()
					tc.Close()
					res <- result{err: err}
				}
			}()
			fd, remote := h.ln.accept(t)
			h.srv.Handoff(fd, readHello(t, fd, 0), remote)
			r := await(t, res)
			if tt.status != 0 {
				if r.err != nil {
					t.Fatalf("client: %v", r.err)
				}
				if r.resp.StatusCode != tt.status || r.tail != io.EOF {
					t.Errorf("got %d, next read %v; want %d, io.EOF", r.resp.StatusCode, r.tail, tt.status)
				}
			}
			info := h.info()
			if !errors.Is(info.Err, ErrRequest) || Reason(info.Err) != tt.reason {
				t.Errorf("Info.Err = %v (reason %q), want ErrRequest, %q", info.Err, Reason(info.Err), tt.reason)
			}
			if info.Status != tt.status || info.State == nil || (info.Request != nil) != tt.wantRequest {
				t.Errorf("Info: Status %d, State %v, Request %v; want %d, set, request %v",
					info.Status, info.State != nil, info.Request, tt.status, tt.wantRequest)
			}
			// The handshake completed even though the request failed.
			if hd := info.HandshakeDone; hd.IsZero() || hd.Before(info.Start) {
				t.Errorf("Info.HandshakeDone = %v, want set and not before Start %v", hd, info.Start)
			}
			h.finish(0)
			if st := h.srv.Stats(); st.RequestErrors != 1 || st.Served != uint64(min(tt.status, 1)) {
				t.Errorf("Stats = %+v", st)
			}
		})
	}
}

func TestRequestArrivesClosed(t *testing.T) {
	// The client's close_notify is the first thing after the handshake:
	// http.ReadRequest sees a clean io.EOF, which must be recorded, not answered.
	h := newHarness(t, nil)
	c := h.dial()
	cfg := clientConfig(t, tls.VersionTLS12)
	done := make(chan error, 1)
	go func() {
		tc := tls.Client(c, cfg)
		tc.SetDeadline(time.Now().Add(wait))
		err := tc.Handshake()
		tc.Close()
		done <- err
	}()
	fd, remote := h.ln.accept(t)
	h.srv.Handoff(fd, readHello(t, fd, 0), remote)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	info := h.info()
	if !errors.Is(info.Err, io.EOF) || !errors.Is(info.Err, ErrRequest) || info.Status != 0 {
		t.Errorf("Info: Err %v, Status %d; want ErrRequest wrapping io.EOF, 0", info.Err, info.Status)
	}
	h.finish(0)
}

func TestShed(t *testing.T) {
	release, entered := make(chan struct{}), make(chan struct{}, 1)
	h := newHarness(t, func(s *Server) {
		s.MaxConns = 1
		s.Inspect = func(*Info) { entered <- struct{}{}; <-release }
	})
	a := h.dial()
	fd, remote := h.ln.accept(t)
	h.srv.Handoff(fd, nil, remote)
	<-entered

	b := h.dial()
	fd, remote = h.ln.accept(t)
	h.srv.Handoff(fd, nil, remote)
	b.SetReadDeadline(time.Now().Add(wait))
	if _, err := b.Read(make([]byte, 1)); !errors.Is(err, errBareEOF) {
		t.Errorf("shed client read: %v, want EOF", err)
	}
	if st := h.srv.Stats(); st.Shed != 1 || st.InFlight != 1 {
		t.Errorf("Stats = %+v, want Shed 1, InFlight 1", st)
	}

	close(release)
	a.Close()
	if info := h.info(); !errors.Is(info.Err, ErrHandshake) {
		t.Errorf("held conn: Err %v, want ErrHandshake", info.Err)
	}
	h.finish(0)
}

func TestShutdown(t *testing.T) {
	release, entered := make(chan struct{}), make(chan struct{}, 1)
	h := newHarness(t, func(s *Server) { s.Inspect = func(*Info) { entered <- struct{}{}; <-release } })
	a := h.dial()
	fd, remote := h.ln.accept(t)
	h.srv.Handoff(fd, nil, remote)
	<-entered

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := h.srv.Shutdown(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Shutdown with a conn held = %v, want context.Canceled", err)
	}

	b := h.dial()
	fd, remote = h.ln.accept(t)
	h.srv.Handoff(fd, nil, remote)
	b.SetReadDeadline(time.Now().Add(wait))
	if _, err := b.Read(make([]byte, 1)); !errors.Is(err, errBareEOF) {
		t.Errorf("client after Shutdown read: %v, want EOF", err)
	}
	if st := h.srv.Stats(); st.Shed != 1 {
		t.Errorf("Shed = %d, want 1", st.Shed)
	}

	errc := make(chan error, 1)
	go func() { errc <- h.srv.Shutdown(context.Background()) }()
	close(release)
	a.Close()
	if err := <-errc; err != nil {
		t.Fatalf("Shutdown = %v", err)
	}
	// Shutdown returned, so the held conn must be completely done.
	if len(h.done) != 1 {
		t.Errorf("Done calls when Shutdown returned = %d, want 1", len(h.done))
	}
	<-h.done
	h.finish(0)
}

func TestPanic(t *testing.T) {
	t.Run("Handle", func(t *testing.T) {
		h := newHarness(t, nil)
		ok := h.srv.Handle
		h.srv.Handle = func(info *Info) Response {
			if info.Request.URL.Path == "/panic" {
				panic("boom")
			}
			return ok(info)
		}
		cfg := clientConfig(t, 0)
		for _, path := range []string{"/panic", "/"} {
			c := h.dial()
			res := make(chan result, 1)
			go func() { res <- do(c, cfg, "GET "+path+" HTTP/1.1\r\nHost: localhost\r\n\r\n") }()
			fd, remote := h.ln.accept(t)
			h.srv.Handoff(fd, readHello(t, fd, 0), remote)
			r := await(t, res)
			info := h.info()
			if path == "/panic" {
				if r.err == nil || !errors.Is(info.Err, ErrPanic) || Reason(info.Err) != "panic" || info.Status != 0 {
					t.Errorf("panicking Handle: client err %v, Info.Err %v, Status %d", r.err, info.Err, info.Status)
				}
				if e := h.hook.LastEntry(); e == nil || e.Level != logrus.ErrorLevel || e.Data["panic"] != "boom" {
					t.Errorf("panic not logged at error level with its value: %+v", e)
				}
				continue
			}
			if r.err != nil || r.resp.StatusCode != http.StatusOK {
				t.Errorf("after a panic: %v, %+v; want 200", r.err, r.resp)
			}
		}
		h.finish(1)
	})
	t.Run("Inspect", func(t *testing.T) {
		h := newHarness(t, func(s *Server) { s.Inspect = func(*Info) { panic("boom") } })
		c := h.dial()
		fd, remote := h.ln.accept(t)
		h.srv.Handoff(fd, nil, remote)
		c.SetReadDeadline(time.Now().Add(wait))
		if _, err := c.Read(make([]byte, 1)); !errors.Is(err, errBareEOF) {
			t.Errorf("client read: %v, want EOF (fd closed)", err)
		}
		if info := h.info(); !errors.Is(info.Err, ErrPanic) {
			t.Errorf("Info.Err = %v, want ErrPanic", info.Err)
		}
		h.finish(0)
	})
	t.Run("Done", func(t *testing.T) {
		h := newHarness(t, nil)
		h.srv.Done = func(info *Info) { h.done <- info; panic("boom") }
		c := h.dial()
		res := make(chan result, 1)
		cfg := clientConfig(t, 0)
		go func() { res <- do(c, cfg, get) }()
		fd, remote := h.ln.accept(t)
		h.srv.Handoff(fd, readHello(t, fd, 0), remote)
		if r := await(t, res); r.err != nil {
			t.Fatal(r.err)
		}
		h.info()
		h.finish(1)
		if e := h.hook.LastEntry(); e == nil || e.Level != logrus.ErrorLevel {
			t.Errorf("panic in Done not logged at error level: %+v", e)
		}
	})
}

func TestNoFDLeak(t *testing.T) {
	h := newHarness(t, nil)
	hello := captureHello(t, clientConfig(t, 0))
	cfg := clientConfig(t, 0)
	round := func() {
		// One served conn and one whose client leaves mid-handshake.
		c := h.dial()
		res := make(chan result, 1)
		go func() { res <- do(c, cfg, get) }()
		fd, remote := h.ln.accept(t)
		h.srv.Handoff(fd, readHello(t, fd, 0), remote)
		if r := await(t, res); r.err != nil {
			t.Fatal(r.err)
		}
		<-h.handled
		h.info()
		c.Close()

		g := h.dial()
		write(t, g, hello)
		g.Close()
		fd, remote = h.ln.accept(t)
		h.srv.Handoff(fd, readHello(t, fd, 0), remote)
		h.info()
	}
	round() // warm-up: the runtime poller opens its own fds once
	before := countFDs(t)
	for range 5 {
		round()
	}
	if after := countFDs(t); after != before {
		t.Errorf("open fds: %d before, %d after", before, after)
	}
	h.finish(0)
}

func write(t *testing.T, c net.Conn, b []byte) {
	t.Helper()
	c.SetWriteDeadline(time.Now().Add(wait))
	if _, err := c.Write(b); err != nil {
		t.Fatal(err)
	}
}

// TestResponseDone: Done runs exactly once per response, GET or HEAD, and
// only once the body was copied out: a Handle that scribbles over its
// buffer in Done (as reusing a pooled buffer would) must not change what
// the client reads.
func TestResponseDone(t *testing.T) {
	for _, method := range []string{"GET", "HEAD"} {
		t.Run(method, func(t *testing.T) {
			calls := make(chan int, 4)
			n := 0
			h := newHarness(t, func(s *Server) {
				s.Handle = func(*Info) Response {
					body := []byte(helloBody)
					return Response{Body: body, Done: func() {
						n++
						calls <- n
						copy(body, strings.Repeat("X", len(body)))
					}}
				}
			})
			c := h.dial()
			res := make(chan result, 1)
			go func() { res <- do(c, clientConfig(t, 0), method+" / HTTP/1.1\r\nHost: localhost\r\n\r\n") }()
			fd, remote := h.ln.accept(t)
			h.srv.Handoff(fd, readHello(t, fd, 0), remote)
			r := await(t, res)
			if r.err != nil {
				t.Fatalf("client: %v", r.err)
			}
			want := helloBody
			if method == "HEAD" {
				want = ""
			}
			if string(r.body) != want || r.resp.ContentLength != int64(len(helloBody)) {
				t.Errorf("body %q, Content-Length %d; want %q, %d", r.body, r.resp.ContentLength, want, len(helloBody))
			}
			h.info()
			h.finish(0)
			if got := <-calls; got != 1 || len(calls) != 0 {
				t.Errorf("Done called %d times, want once", got+len(calls))
			}
		})
	}
}

// TestErrorResponseLingers: a client still sending when the server answers
// 431 must get that answer and then a clean end (close_notify, FIN), never a
// reset. Closing with unread bytes in the socket makes the kernel send RST,
// which on a real network can destroy the 431 before the client reads it;
// the server half-closes and drains instead. The client reads the 431
// first and only then sends more, so the order of events is fixed.
func TestErrorResponseLingers(t *testing.T) {
	h := newHarness(t, func(s *Server) { s.MaxHeaderBytes = 4 << 10 })
	c := h.dial()
	type out struct {
		got               []byte
		readErr, writeErr error
		tailErr           error
	}
	res := make(chan out, 1)
	cfg := clientConfig(t, 0)
	go func() {
		var o out
		defer func() { res <- o }()
		tc := tls.Client(c, cfg)
		tc.SetDeadline(time.Now().Add(wait))
		head := "GET / HTTP/1.1\r\nHost: localhost\r\n" + strings.Repeat("X-Pad: "+strings.Repeat("a", 1000)+"\r\n", 16)
		if _, o.writeErr = io.WriteString(tc, head); o.writeErr != nil { // 16 KB, 4 times the cap
			return
		}
		if o.got, o.readErr = io.ReadAll(tc); o.readErr != nil { // nil at close_notify
			return
		}
		raw := c.Conn.(*net.TCPConn)
		if _, o.writeErr = raw.Write(make([]byte, 64<<10)); o.writeErr == nil { // still sending
			o.writeErr = raw.CloseWrite()
		}
		var b [1]byte
		_, o.tailErr = raw.Read(b[:]) // io.EOF: the server's FIN, not a reset
	}()
	fd, remote := h.ln.accept(t)
	h.srv.Handoff(fd, readHello(t, fd, 0), remote)
	o := <-res
	if !bytes.HasPrefix(o.got, []byte("HTTP/1.1 431 ")) || o.readErr != nil {
		t.Errorf("client read %q, %v; want a 431", o.got, o.readErr)
	}
	if o.writeErr != nil || o.tailErr != io.EOF {
		t.Errorf("then: write error %v, last read %v; want nil and EOF, not a reset", o.writeErr, o.tailErr)
	}
	if info := h.info(); !errors.Is(info.Err, ErrHeadersTooLarge) {
		t.Errorf("Err = %v, want ErrHeadersTooLarge", info.Err)
	}
	h.finish(0)
}
