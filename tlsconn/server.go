package tlsconn

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"github.com/ja3sentry/ja3echo/fingerprint"
)

// Defaults for the Server fields left at zero (or negative).
const (
	DefaultTimeout        = 10 * time.Second
	DefaultMaxConns       = 4096
	DefaultMaxHeaderBytes = 16 << 10
)

// Info describes one served connection. The serving goroutine fills it in;
// Inspect, Handle and Done see it on that goroutine only.
type Info struct {
	Remote netip.AddrPort
	Prefix []byte    // every byte read by the poller
	Start  time.Time // handoff time; the deadline counts from here
	// HandshakeDone is when the TLS handshake completed, zero if it did not.
	// Handle runs only after the request head is read too, so this is the
	// one place the handshake alone can be timed (HandshakeDone.Sub(Start)).
	HandshakeDone time.Time
	State         *tls.ConnectionState // nil unless the handshake completed
	Request       *http.Request        // nil unless a request head was read; the body is never read
	// RawHeader is the request head as received (request line and header
	// lines in their order and case, up to the blank line); net/http's
	// Header map keeps neither, and fingerprint users compare both.
	RawHeader []byte
	// HTTP2 is the client's HTTP/2 connection preface up to its first
	// request's HEADERS, nil unless h2 was negotiated and those HEADERS
	// arrived. RawHeader then holds the header block as "name: value"
	// lines, pseudo-headers included, in the order received.
	HTTP2  *fingerprint.HTTP2
	Status int   // status written, 0 if none
	Err    error // first failure (wrapped; classify with errors.Is/As or Reason)
	Data   any   // free for Inspect and Handle
}

// Response is what Handle answers. Status 0 means 200; a status outside
// 100–999 is sent as 500. Content-Length, Connection and Transfer-Encoding in
// Header are ignored (the server writes its own); Date is added unless Header
// has one.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
	// Done, if set, is called once the server no longer uses Body (it is
	// copied out before the write), so Handle may lend a pooled buffer.
	Done func()
}

// Stats is a snapshot of a Server's counters.
type Stats struct {
	Served          uint64 // responses written, error responses included
	HandshakeErrors uint64
	RequestErrors   uint64
	Shed            uint64 // handoffs closed at once: over MaxConns or after Shutdown
	InFlight        int64  // connections being served
}

// Server serves one request per handed-off connection. Set the fields before
// the first Handoff and do not change them afterwards.
type Server struct {
	TLSConfig      *tls.Config
	Timeout        time.Duration             // one absolute deadline for handshake, request and response
	MaxConns       int                       // concurrently served conns; past it Handoff sheds
	MaxHeaderBytes int                       // cap on the request head; past it the answer is 431
	Inspect        func(info *Info)          // optional; first thing in the conn goroutine
	Handle         func(info *Info) Response // answers the one request; nil means 404
	Done           func(info *Info)          // optional; exactly once per served conn, after close
	Log            *logrus.Entry             // nil discards

	mu       sync.Mutex // orders Handoff's wg.Add against Shutdown's Wait
	closing  bool
	sem      chan struct{}
	wg       sync.WaitGroup
	served   atomic.Uint64
	hsErrs   atomic.Uint64
	reqErrs  atomic.Uint64
	shed     atomic.Uint64
	inFlight atomic.Int64
}

// Handoff takes ownership of fd and prefix (see the package doc) and serves the
// connection on a new goroutine. It has the poller's Handoff signature and
// never blocks: past MaxConns, or after Shutdown, it closes fd at once and
// counts it as shed. Inspect, Handle and Done are not called for shed conns.
func (s *Server) Handoff(fd int, prefix []byte, remote netip.AddrPort) {
	info := &Info{Remote: remote, Prefix: prefix, Start: time.Now()}
	s.mu.Lock()
	if s.sem == nil {
		s.sem = make(chan struct{}, positive(s.MaxConns, DefaultMaxConns))
	}
	ok := false
	if !s.closing {
		select {
		case s.sem <- struct{}{}:
			ok = true
			s.wg.Add(1)
			s.inFlight.Add(1)
		default:
		}
	}
	s.mu.Unlock()
	if !ok {
		unix.Close(fd) // nothing wraps the number yet, so this is its only close
		s.shed.Add(1)
		return
	}
	go s.serve(fd, info)
}

// Shutdown makes every later Handoff shed, then waits for the connections in
// flight to finish (each is bounded by Timeout). It returns ctx.Err() if ctx
// ends first; the connections keep running to their own deadlines.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closing = true
	s.mu.Unlock()
	idle := make(chan struct{})
	go func() { s.wg.Wait(); close(idle) }()
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Stats returns a snapshot of the counters.
func (s *Server) Stats() Stats {
	return Stats{Served: s.served.Load(), HandshakeErrors: s.hsErrs.Load(), RequestErrors: s.reqErrs.Load(),
		Shed: s.shed.Load(), InFlight: s.inFlight.Load()}
}

func (s *Server) serve(fd int, info *Info) {
	var (
		conn net.Conn  // non-nil once New succeeded
		tc   *tls.Conn // non-nil once the handshake started
	)
	// The one exit path (net/http's conn.serve): recover, close, report, release.
	defer func() {
		if r := recover(); r != nil {
			info.Err = fmt.Errorf("%w: %v", ErrPanic, r)
			s.logger().WithFields(logrus.Fields{"remote": info.Remote.String(), "panic": r,
				"stack": string(debug.Stack())}).Error("tlsconn: panic serving connection")
		}
		switch {
		case fd >= 0: // Inspect panicked before New took the fd
			unix.Close(fd)
		case tc != nil && info.State != nil && Reason(info.Err) != "timeout":
			tc.Close() // sends close_notify; skipped for a stalled peer, it would get 5 s more
		case conn != nil:
			conn.Close()
		}
		s.logResult(info)
		s.done(info)
		<-s.sem
		s.inFlight.Add(-1)
		s.wg.Done()
	}()

	if s.Inspect != nil {
		s.Inspect(info)
	}
	c, err := New(fd, info.Prefix)
	fd = -1 // New owns it now, even on error
	if err != nil {
		info.Err = err
		return
	}
	conn = c
	if err := conn.SetDeadline(info.Start.Add(positive(s.Timeout, DefaultTimeout))); err != nil {
		info.Err = err
		return
	}
	bc := &batchConn{Conn: conn}
	tc = tls.Server(bc, s.TLSConfig)
	// No context deadline: the conn deadline already bounds the handshake, and
	// a cancellable ctx makes crypto/tls start a watcher goroutine per conn.
	if err := tc.HandshakeContext(context.Background()); err != nil {
		s.hsErrs.Add(1)
		info.Err = fmt.Errorf("%w: %w", ErrHandshake, err)
		var re tls.RecordHeaderError
		if errors.As(err, &re) && re.Conn != nil && looksLikeHTTP(re.RecordHeader) {
			s.respond(re.Conn, nil, info, Response{Status: http.StatusBadRequest, Body: []byte("Client sent an HTTP request to an HTTPS server.\n")})
		}
		return
	}
	info.HandshakeDone = time.Now()
	state := tc.ConnectionState()
	info.State = &state
	var in io.Reader = tc
	if state.NegotiatedProtocol == "h2" {
		http1 := s.serveH2(tc, bc, info) // h2.go
		if http1 == nil {
			return
		}
		in = io.MultiReader(bytes.NewReader(http1), tc) // h2 negotiated, HTTP/1.x spoken
	}

	req, raw, status, err := s.readRequest(in)
	info.Request, info.RawHeader = req, raw
	if err != nil {
		s.reqErrs.Add(1)
		info.Err = err
		if status != 0 {
			// The client may still be sending (the rest of a header block
			// over the cap, a body): answer, then drain before closing.
			s.respond(tc, bc, info, Response{Status: status, Body: []byte(http.StatusText(status) + "\n")})
			linger(bc.Conn, info.Start.Add(positive(s.Timeout, DefaultTimeout)))
		}
		return
	}
	resp := Response{Status: http.StatusNotFound}
	if s.Handle != nil {
		resp = s.Handle(info)
	}
	s.respond(tc, bc, info, resp)
}

// readRequest reads one request head through the header cap. On failure it
// returns the status of the error response to send, or 0 when the peer left or
// stalled and gets nothing.
func (s *Server) readRequest(r io.Reader) (*http.Request, []byte, int, error) {
	lr := &io.LimitedReader{R: r, N: int64(positive(s.MaxHeaderBytes, DefaultMaxHeaderBytes))}
	var raw bytes.Buffer // everything bufio pulls in: the head, maybe more
	req, err := http.ReadRequest(bufio.NewReader(io.TeeReader(lr, &raw)))
	switch {
	case err == nil && req.ProtoMajor != 1:
		return req, headOf(raw.Bytes()), http.StatusHTTPVersionNotSupported, fmt.Errorf("%w: protocol %q", ErrRequest, req.Proto)
	case err == nil:
		return req, headOf(raw.Bytes()), 0, nil
	case lr.N <= 0: // the head did not end within the cap (net/http's hitReadLimit)
		return nil, nil, http.StatusRequestHeaderFieldsTooLarge, fmt.Errorf("%w: %w", ErrRequest, ErrHeadersTooLarge)
	case Expected(err) || errors.As(err, new(net.Error)) || errors.As(err, new(tls.RecordHeaderError)):
		// The peer left, stalled or broke the TLS layer: nobody to answer.
		return nil, nil, 0, fmt.Errorf("%w: %w", ErrRequest, err)
	}
	return nil, nil, http.StatusBadRequest, fmt.Errorf("%w: %w", ErrRequest, err)
}

// headOf cuts b after the blank line that ends an HTTP head (CRLF or bare LF,
// both of which net/http accepts).
func headOf(b []byte) []byte {
	for i := 0; i < len(b); i++ {
		if b[i] != '\n' {
			continue
		}
		if rest := b[i+1:]; bytes.HasPrefix(rest, []byte("\r\n")) {
			return b[:i+3]
		} else if bytes.HasPrefix(rest, []byte("\n")) {
			return b[:i+2]
		}
	}
	return b
}

// ownHeaders are written by respond itself, whatever Handle put in Header.
var ownHeaders = map[string]bool{"Content-Length": true, "Connection": true, "Transfer-Encoding": true}

// respond writes r as one HTTP/1.1 message in a single Write and records the
// status. A HEAD request gets the headers only. With bc (under w's TLS) the
// message's records and the close_notify leave in one write(2).
func (s *Server) respond(w io.Writer, bc *batchConn, info *Info, r Response) {
	status := statusOf(r.Status)
	msg := getBuf()
	defer putBuf(msg)
	b := bytes.NewBuffer(*msg)
	fmt.Fprintf(b, "HTTP/1.1 %d %s\r\n", status, http.StatusText(status))
	r.Header.WriteSubset(b, ownHeaders)
	if r.Header.Get("Date") == "" {
		fmt.Fprintf(b, "Date: %s\r\n", time.Now().UTC().Format(http.TimeFormat))
	}
	fmt.Fprintf(b, "Content-Length: %d\r\nConnection: close\r\n\r\n", len(r.Body))
	if info.Request == nil || info.Request.Method != http.MethodHead {
		b.Write(r.Body)
	}
	*msg = b.Bytes() // the grown buffer goes back to the pool
	if r.Done != nil {
		r.Done()
	}

	var err error
	if bc != nil {
		bc.hold()
		_, err = w.Write(*msg)
		if cw, ok := w.(interface{ CloseWrite() error }); ok && err == nil {
			// Nothing follows the response: its close_notify leaves in the
			// same write(2), and the Close in serve only closes.
			err = cw.CloseWrite()
		}
		if ferr := bc.flush(); err == nil {
			err = ferr
		}
	} else {
		_, err = w.Write(*msg)
	}
	s.responded(info, status, err)
}

// statusOf is the status sent for Response.Status: 0 means 200, and one
// outside 100–999 is sent as 500.
func statusOf(s int) int {
	switch {
	case s == 0:
		return http.StatusOK
	case s < 100 || s > 999:
		return http.StatusInternalServerError
	}
	return s
}

// responded records how writing a response (HTTP/1.x or HTTP/2) ended.
func (s *Server) responded(info *Info, status int, err error) {
	if err != nil {
		if info.Err == nil {
			info.Err = fmt.Errorf("%w: %w", ErrResponse, err)
		}
		return
	}
	info.Status = status
	s.served.Add(1)
}

// logResult logs a failed conn: routine endings at Debug, the rest at Warn.
// Panics were already logged with their stack.
func (s *Server) logResult(info *Info) {
	reason := Reason(info.Err)
	if reason == "" || reason == "panic" {
		return
	}
	log, expected := s.logger(), Expected(info.Err)
	if expected && !log.Logger.IsLevelEnabled(logrus.DebugLevel) {
		return // the fields allocate; scanners end many connections early
	}
	e := log.WithFields(logrus.Fields{"remote": info.Remote.String(), "reason": reason, "error": info.Err})
	if expected {
		e.Debug("tlsconn: connection ended early")
	} else {
		e.Warn("tlsconn: connection failed")
	}
}

// done calls Done behind its own recover: it runs in the deferred exit path,
// where a panic would otherwise take the whole process down.
func (s *Server) done(info *Info) {
	if s.Done == nil {
		return
	}
	defer func() {
		if r := recover(); r != nil {
			s.logger().WithFields(logrus.Fields{"remote": info.Remote.String(), "panic": r}).Error("tlsconn: panic in Done")
		}
	}()
	s.Done(info)
}

var discard = func() *logrus.Entry {
	l := logrus.New()
	l.Out, l.Level = io.Discard, logrus.PanicLevel
	return logrus.NewEntry(l)
}()

func (s *Server) logger() *logrus.Entry {
	if s.Log != nil {
		return s.Log
	}
	return discard
}

func positive[T int | time.Duration](v, def T) T {
	if v > 0 {
		return v
	}
	return def
}
