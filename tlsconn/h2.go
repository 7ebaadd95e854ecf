package tlsconn

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"github.com/ja3sentry/ja3echo/fingerprint"
)

// HTTP/2 errors. Info.Err wraps one of them together with the stage:
// ErrRequest up to the request's HEADERS, ErrResponse while answering.
var (
	ErrH2Preface       = errors.New("tlsconn: HTTP/2 client preface missing or wrong")
	ErrH2Protocol      = errors.New("tlsconn: HTTP/2 protocol error")
	ErrH2TooManyFrames = errors.New("tlsconn: too many HTTP/2 frames")
	ErrH2Canceled      = errors.New("tlsconn: HTTP/2 stream canceled by the client")
)

const (
	// h2MaxFramesBeforeHeaders is how many frames may precede the first
	// request's HEADERS (browsers send three to eight); the next frame, if
	// it is not HEADERS, ends the connection.
	h2MaxFramesBeforeHeaders = 64
	// h2MaxFramesBlocked bounds the frames read while the response waits
	// for flow-control window, so PINGs cannot keep a conn busy.
	h2MaxFramesBlocked = 4096
	// h2MaxReadFrame is the largest frame read: we never advertise a
	// SETTINGS_MAX_FRAME_SIZE above the default.
	h2MaxReadFrame = 16384
	// h2MaxWindow is the largest legal flow-control window (RFC 9113 §6.9.1).
	h2MaxWindow = 1<<31 - 1
)

// h2Stripped are response headers an HTTP/2 message must not carry (RFC
// 9113 §8.2.2) or that the server writes itself.
var h2Stripped = map[string]bool{"Content-Length": true, "Connection": true, "Transfer-Encoding": true,
	"Keep-Alive": true, "Proxy-Connection": true, "Upgrade": true}

// h2conn is the server side of one HTTP/2 connection that serves exactly one
// stream: the client's first request.
type h2conn struct {
	r  io.Reader // tc, but for the fuzz test
	tc *tls.Conn
	bc *batchConn
	bw *bufio.Writer // between the framer and tc, flushed before every read that may block
	fr *http2.Framer

	obs          fingerprint.HTTP2
	settingsSeen bool

	// The client's settings and our send windows (RFC 9113 §6.9).
	maxFrame     uint32
	initWindow   int64
	connWindow   int64
	streamWindow int64
	streamID     uint32 // the request's stream, 0 until its HEADERS
}

// newH2Conn reads frames from r and writes them to w; serveH2 passes the
// tls.Conn as both and sets tc and bc.
func newH2Conn(r io.Reader, w io.Writer, maxHeaderBytes int) *h2conn {
	c := &h2conn{r: r, bw: bufio.NewWriterSize(w, 32<<10),
		maxFrame: 16384, initWindow: 65535, connWindow: 65535}
	c.fr = http2.NewFramer(c.bw, c.r)
	c.fr.SetMaxReadFrameSize(h2MaxReadFrame)
	c.fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	c.fr.MaxHeaderListSize = uint32(maxHeaderBytes)
	return c
}

// serveH2 answers the first request of an HTTP/2 connection, then sends
// GOAWAY: the conn stays one request, like HTTP/1.x with Connection: close.
//
// A client that negotiated h2 but then sends an HTTP/1.x request instead of
// the preface (HTTP/1-only stacks on top of uTLS browser parrots, whose ALPN
// offers h2) is not refused: serveH2 returns the bytes it read, non-nil,
// and serve reads the request as HTTP/1.x from them. The echo then shows
// ALPN h2 with an HTTP/1.1 request, which is itself worth seeing.
func (s *Server) serveH2(tc *tls.Conn, bc *batchConn, info *Info) (http1 []byte) {
	c := newH2Conn(tc, tc, positive(s.MaxHeaderBytes, DefaultMaxHeaderBytes))
	c.tc, c.bc = tc, bc
	deadline := info.Start.Add(positive(s.Timeout, DefaultTimeout))
	mh, err := c.readPreface()
	if m := (*errNotPreface)(nil); errors.As(err, &m) && m.http1() {
		return m.read
	}
	if err != nil {
		s.reqErrs.Add(1)
		info.Err = fmt.Errorf("%w: %w", ErrRequest, err)
		c.goAway(err)
		return
	}
	obs := c.obs
	info.HTTP2 = &obs
	req, raw, status, err := newH2Request(mh, info)
	info.Request, info.RawHeader = req, raw
	if err != nil {
		s.reqErrs.Add(1)
		info.Err = fmt.Errorf("%w: %w", ErrRequest, err)
		s.respondH2(c, info, Response{Status: status, Body: []byte(http.StatusText(status) + "\n")}, deadline)
		return
	}
	resp := Response{Status: http.StatusNotFound}
	if s.Handle != nil {
		resp = s.Handle(info)
	}
	s.respondH2(c, info, resp, deadline)
	return nil
}

// readPreface reads the client's connection preface and frames up to its
// first complete request header block, recording what the fingerprint needs
// and answering SETTINGS and PING on the way.
func (c *h2conn) readPreface() (*http2.MetaHeadersFrame, error) {
	if err := readClientMagic(c.r); err != nil {
		return nil, err
	}
	// Our SETTINGS open the server's side of the connection (RFC 9113 §3.4).
	// One stream is all we serve. ENABLE_PUSH is left out: a server that
	// never pushes needs not say so.
	if err := c.fr.WriteSettings(
		http2.Setting{ID: http2.SettingMaxConcurrentStreams, Val: 1},
		http2.Setting{ID: http2.SettingMaxHeaderListSize, Val: c.fr.MaxHeaderListSize},
	); err != nil {
		return nil, err
	}
	if err := c.bw.Flush(); err != nil {
		return nil, err
	}
	for n := 0; ; n++ {
		f, err := c.fr.ReadFrame()
		if err != nil {
			return nil, h2ReadError(err)
		}
		if _, ok := f.(*http2.MetaHeadersFrame); !ok && n == h2MaxFramesBeforeHeaders {
			// Refused without reading on, so nothing is left unread.
			return nil, fmt.Errorf("%w: %d before the first HEADERS", ErrH2TooManyFrames, n+1)
		}
		if sf, ok := f.(*http2.SettingsFrame); n == 0 && (!ok || sf.IsAck()) {
			return nil, fmt.Errorf("%w: first frame is %v, not SETTINGS", ErrH2Protocol, f.Header().Type)
		}
		switch f := f.(type) {
		case *http2.MetaHeadersFrame:
			if f.StreamID%2 == 0 {
				return nil, fmt.Errorf("%w: HEADERS on even stream %d", ErrH2Protocol, f.StreamID)
			}
			c.streamID = f.StreamID
			c.streamWindow = c.initWindow
			for _, hf := range f.Fields {
				if hf.IsPseudo() {
					c.obs.PseudoHeaders = append(c.obs.PseudoHeaders, hf.Name)
				}
			}
			if f.HasPriority() {
				p := f.Priority
				c.obs.HeadersPriority = &fingerprint.HTTP2Priority{StreamID: f.StreamID, Exclusive: p.Exclusive,
					DependsOn: p.StreamDep, Weight: p.Weight}
			}
			return f, nil
		case *http2.WindowUpdateFrame:
			if f.StreamID == 0 {
				if c.obs.WindowUpdate == 0 {
					c.obs.WindowUpdate = f.Increment
				}
				if err := c.grow(&c.connWindow, f.Increment); err != nil {
					return nil, err
				}
			}
			// A stream WINDOW_UPDATE before its HEADERS names an idle stream:
			// nothing to apply it to.
		case *http2.PriorityFrame:
			c.obs.Priorities = append(c.obs.Priorities, fingerprint.HTTP2Priority{StreamID: f.StreamID,
				Exclusive: f.Exclusive, DependsOn: f.StreamDep, Weight: f.Weight})
		case *http2.DataFrame:
			return nil, fmt.Errorf("%w: DATA before HEADERS", ErrH2Protocol)
		case *http2.GoAwayFrame:
			return nil, fmt.Errorf("%w: GOAWAY before a request", ErrH2Canceled)
		default:
			if err := c.control(f); err != nil {
				return nil, err
			}
		}
	}
}

// errNotPreface is ErrH2Preface with every byte read so far and the index
// of the first one that differs from the preface.
type errNotPreface struct {
	read []byte
	at   int
}

func (e *errNotPreface) Error() string { return ErrH2Preface.Error() }
func (e *errNotPreface) Unwrap() error { return ErrH2Preface }

// http1 reports whether the client never started the preface's "PRI": an
// HTTP/1.x request line (or something else), not a broken HTTP/2 client.
func (e *errNotPreface) http1() bool {
	return e.at < len("PRI") && e.read[0] >= 'A' && e.read[0] <= 'Z'
}

// readClientMagic reads the 24-byte client preface, failing at the first
// byte that differs (an HTTP/1 client that negotiated h2 by mistake is not
// kept waiting for bytes it will never send) with an *errNotPreface.
func readClientMagic(r io.Reader) error {
	var buf [len(http2.ClientPreface)]byte
	for n := 0; n < len(buf); {
		m, err := r.Read(buf[n:])
		if i := mismatch(buf[n:n+m], http2.ClientPreface[n:n+m]); i >= 0 {
			return &errNotPreface{read: bytes.Clone(buf[:n+m]), at: n + i}
		}
		n += m
		if err != nil && n < len(buf) {
			return err
		}
	}
	return nil
}

// mismatch is the index of the first byte where b and s differ, or -1.
func mismatch(b []byte, s string) int {
	for i := range b {
		if b[i] != s[i] {
			return i
		}
	}
	return -1
}

// control handles the frames that need an answer or change our sending
// state at any point: SETTINGS (applied and acknowledged) and PING
// (acknowledged). Others are ignored.
func (c *h2conn) control(f http2.Frame) error {
	switch f := f.(type) {
	case *http2.SettingsFrame:
		if f.IsAck() {
			return nil
		}
		record := !c.settingsSeen // the fingerprint is the first SETTINGS only
		if record {
			c.settingsSeen = true
			c.obs.Settings = make([]fingerprint.HTTP2Setting, 0, f.NumSettings())
		}
		err := f.ForeachSetting(func(s http2.Setting) error {
			if record {
				c.obs.Settings = append(c.obs.Settings, fingerprint.HTTP2Setting{ID: uint16(s.ID), Value: s.Val})
			}
			switch s.ID {
			case http2.SettingInitialWindowSize:
				// A change applies to the open stream too (§6.9.2).
				if c.streamID != 0 {
					c.streamWindow += int64(s.Val) - c.initWindow
				}
				c.initWindow = int64(s.Val)
			case http2.SettingMaxFrameSize:
				c.maxFrame = s.Val
			}
			return nil
		})
		if err == nil && c.streamWindow > h2MaxWindow {
			err = fmt.Errorf("%w: INITIAL_WINDOW_SIZE overflows the stream window", ErrH2Protocol)
		}
		if err != nil {
			return err
		}
		if err := c.fr.WriteSettingsAck(); err != nil {
			return err
		}
		return c.bw.Flush()
	case *http2.PingFrame:
		if f.IsAck() {
			return nil
		}
		if err := c.fr.WritePing(true, f.Data); err != nil {
			return err
		}
		return c.bw.Flush()
	}
	return nil
}

// grow adds a WINDOW_UPDATE increment to a send window.
func (c *h2conn) grow(w *int64, incr uint32) error {
	if *w += int64(incr); *w > h2MaxWindow {
		return fmt.Errorf("%w: flow-control window above 2^31-1", ErrH2Protocol)
	}
	return nil
}

// h2ReadError classifies a framer read error: the framer's own protocol
// errors become ErrH2Protocol; I/O errors (EOF, timeout) stay as they are
// so that Reason reports them.
func h2ReadError(err error) error {
	var ce http2.ConnectionError
	var se http2.StreamError
	if errors.As(err, &ce) || errors.As(err, &se) || errors.Is(err, http2.ErrFrameTooLarge) {
		return fmt.Errorf("%w: %w", ErrH2Protocol, err)
	}
	return err
}

// goAway tells a client that broke the protocol why it is being closed,
// best effort. A wrong preface gets nothing: it may not speak HTTP/2 at all.
func (c *h2conn) goAway(cause error) {
	code := http2.ErrCodeProtocol
	switch {
	case errors.Is(cause, ErrH2Preface), !errors.Is(cause, ErrH2Protocol) && !errors.Is(cause, ErrH2TooManyFrames):
		return // wrong preface, or the peer left or stalled: nobody to tell
	case errors.Is(cause, ErrH2TooManyFrames):
		code = http2.ErrCodeEnhanceYourCalm
	}
	if c.fr.WriteGoAway(0, code, nil) == nil {
		c.bw.Flush()
	}
}

// newH2Request builds the request Handle sees from a header block, and the
// block as "name: value" lines in received order, pseudo-headers included.
// On failure it returns the status to answer with.
func newH2Request(mh *http2.MetaHeadersFrame, info *Info) (*http.Request, []byte, int, error) {
	var raw bytes.Buffer
	for _, hf := range mh.Fields {
		raw.WriteString(hf.Name)
		raw.WriteString(": ")
		raw.WriteString(hf.Value)
		raw.WriteString("\r\n")
	}
	if mh.Truncated {
		return nil, raw.Bytes(), http.StatusRequestHeaderFieldsTooLarge, ErrHeadersTooLarge
	}
	method, path := mh.PseudoValue("method"), mh.PseudoValue("path")
	if method == "" || path == "" {
		return nil, raw.Bytes(), http.StatusBadRequest, fmt.Errorf("%w: missing :method or :path", ErrH2Protocol)
	}
	u, err := url.ParseRequestURI(path)
	if err != nil {
		return nil, raw.Bytes(), http.StatusBadRequest, fmt.Errorf("%w: :path: %w", ErrH2Protocol, err)
	}
	header := make(http.Header, len(mh.Fields))
	for _, hf := range mh.RegularFields() {
		header.Add(hf.Name, hf.Value) // Add canonicalizes
	}
	host := mh.PseudoValue("authority")
	if host == "" {
		host = header.Get("Host")
	}
	req := &http.Request{
		Method: method, URL: u, Proto: "HTTP/2.0", ProtoMajor: 2, Header: header, Host: host,
		RequestURI: path, RemoteAddr: info.Remote.String(), Body: http.NoBody,
	}
	if info.State != nil {
		req.TLS = info.State
	}
	return req, raw.Bytes(), 0, nil
}

// respondH2 writes r on the request's stream: HEADERS (and CONTINUATION if
// the block exceeds the client's frame size), then DATA frames within the
// client's flow-control windows, END_STREAM on the last frame, then GOAWAY,
// close_notify and a wait for the client to close. A HEAD request, or an
// empty body, gets END_STREAM on the HEADERS.
func (s *Server) respondH2(c *h2conn, info *Info, r Response, deadline time.Time) {
	if r.Done != nil {
		defer r.Done() // the framer has copied the body out by then
	}
	status := statusOf(r.Status)
	body := r.Body
	if info.Request != nil && info.Request.Method == http.MethodHead {
		body = nil
	}
	c.bc.hold() // the whole answer in one write(2) unless flow control stops it
	err := c.writeHeaders(status, r, len(body) == 0)
	for len(body) > 0 && err == nil {
		n := min(int64(len(body)), int64(c.maxFrame), c.connWindow, c.streamWindow)
		if n <= 0 {
			err = c.awaitWindow()
			continue
		}
		err = c.fr.WriteData(c.streamID, int(n) == len(body), body[:n])
		body = body[n:]
		c.connWindow -= n
		c.streamWindow -= n
	}
	if err == nil {
		err = c.finish(deadline)
	} else if c.bc.holding {
		c.bc.flush()
	}
	s.responded(info, status, err)
}

// writeHeaders writes the response's header block.
func (c *h2conn) writeHeaders(status int, r Response, endStream bool) error {
	var block bytes.Buffer
	enc := hpack.NewEncoder(&block)
	// No dynamic table: one block is all we send, and size 0 is valid
	// whatever SETTINGS_HEADER_TABLE_SIZE the client chose.
	enc.SetMaxDynamicTableSize(0)
	enc.WriteField(hpack.HeaderField{Name: ":status", Value: strconv.Itoa(status)})
	keys := make([]string, 0, len(r.Header))
	for k := range r.Header {
		if !h2Stripped[http.CanonicalHeaderKey(k)] {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		name := strings.ToLower(k)
		for _, v := range r.Header[k] {
			enc.WriteField(hpack.HeaderField{Name: name, Value: v})
		}
	}
	if r.Header.Get("Date") == "" {
		enc.WriteField(hpack.HeaderField{Name: "date", Value: time.Now().UTC().Format(http.TimeFormat)})
	}
	if status != http.StatusNoContent && status != http.StatusNotModified && status >= 200 {
		enc.WriteField(hpack.HeaderField{Name: "content-length", Value: strconv.Itoa(len(r.Body))})
	}
	frag := block.Bytes()
	first := frag[:min(len(frag), int(c.maxFrame))]
	frag = frag[len(first):]
	err := c.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: c.streamID, BlockFragment: first,
		EndStream: endStream, EndHeaders: len(frag) == 0})
	for len(frag) > 0 && err == nil {
		next := frag[:min(len(frag), int(c.maxFrame))]
		frag = frag[len(next):]
		err = c.fr.WriteContinuation(c.streamID, len(frag) == 0, next)
	}
	return err
}

// awaitWindow sends what is written so far and reads frames until the
// client grants more window: WINDOW_UPDATE, SETTINGS changing the initial
// window, PING (answered), all under the connection's deadline.
func (c *h2conn) awaitWindow() error {
	if err := c.bw.Flush(); err != nil {
		return err
	}
	if c.bc.holding {
		if err := c.bc.flush(); err != nil {
			return err
		}
	}
	for n := 0; ; n++ {
		if n == h2MaxFramesBlocked {
			return fmt.Errorf("%w: %d while waiting for window", ErrH2TooManyFrames, n)
		}
		f, err := c.fr.ReadFrame()
		if err != nil {
			return h2ReadError(err)
		}
		switch f := f.(type) {
		case *http2.WindowUpdateFrame:
			switch f.StreamID {
			case 0:
				err = c.grow(&c.connWindow, f.Increment)
			case c.streamID:
				err = c.grow(&c.streamWindow, f.Increment)
			}
		case *http2.RSTStreamFrame:
			if f.StreamID == c.streamID {
				return fmt.Errorf("%w: RST_STREAM %v", ErrH2Canceled, f.ErrCode)
			}
		case *http2.GoAwayFrame:
			return fmt.Errorf("%w: GOAWAY %v", ErrH2Canceled, f.ErrCode)
		case *http2.MetaHeadersFrame:
			// A second request, past our MAX_CONCURRENT_STREAMS of 1.
			if err = c.fr.WriteRSTStream(f.StreamID, http2.ErrCodeRefusedStream); err == nil {
				err = c.bw.Flush()
			}
		default:
			err = c.control(f)
		}
		if err != nil {
			return err
		}
		if c.connWindow > 0 && c.streamWindow > 0 {
			return nil
		}
	}
}

// finish ends the connection after a complete response: GOAWAY naming the
// one stream served, close_notify, then linger: the client's late frames
// (a SETTINGS ACK, WINDOW_UPDATEs) must not be left unread at close.
func (c *h2conn) finish(deadline time.Time) error {
	err := c.fr.WriteGoAway(c.streamID, http2.ErrCodeNo, nil)
	if err == nil {
		err = c.bw.Flush()
	}
	if err == nil {
		err = c.tc.CloseWrite()
	}
	if c.bc.holding {
		if ferr := c.bc.flush(); err == nil {
			err = ferr
		}
	}
	if err != nil {
		return err
	}
	linger(c.bc.Conn, deadline)
	return nil
}
