package tlsconn

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"github.com/ja3sentry/ja3echo/fingerprint"
)

// h2Script is what the raw test client sends after the client magic.
type h2Script struct {
	settings     []http2.Setting
	windowUpdate uint32 // connection-level, 0 for none
	priorities   []fingerprint.HTTP2Priority
	headers      []hpack.HeaderField // pseudo-headers included, in this order
	headersPrio  *http2.PriorityParam
	// extra frames written instead of HEADERS when headers is nil
	extra func(fr *http2.Framer) error
	// onData runs after each DATA frame the client receives.
	onData func(fr *http2.Framer, n int) error
}

// h2Result is what the raw test client received.
type h2Result struct {
	serverSettings []http2.Setting
	settingsAcked  bool
	pingAcks       int
	status         string
	header         []hpack.HeaderField // the response's regular fields, in order
	headersEnd     bool                // END_STREAM on the HEADERS frame
	dataSizes      []int
	body           []byte
	endStream      bool // END_STREAM seen on the stream
	goAway         *http2.GoAwayFrame
	tail           error // the read after GOAWAY: io.EOF iff close_notify arrived
	err            error
}

// runH2 is a raw HTTP/2 client written frame by frame with the x/net
// Framer, so a test chooses every byte of the preface.
func runH2(raw net.Conn, cfg *tls.Config, sc h2Script) (r h2Result) {
	c := tls.Client(raw, cfg)
	defer c.Close()
	c.SetDeadline(time.Now().Add(wait))
	if r.err = c.Handshake(); r.err != nil {
		return r
	}
	if p := c.ConnectionState().NegotiatedProtocol; p != "h2" {
		r.err = errors.New("ALPN " + p + ", want h2")
		return r
	}
	var buf bytes.Buffer // the preface leaves in one write, like a browser's
	fr := http2.NewFramer(&buf, c)
	fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	buf.WriteString(http2.ClientPreface)
	fr.WriteSettings(sc.settings...)
	if sc.windowUpdate != 0 {
		fr.WriteWindowUpdate(0, sc.windowUpdate)
	}
	for _, p := range sc.priorities {
		fr.WritePriority(p.StreamID, http2.PriorityParam{StreamDep: p.DependsOn, Exclusive: p.Exclusive, Weight: p.Weight})
	}
	if sc.extra != nil {
		if r.err = sc.extra(fr); r.err != nil {
			return r
		}
	}
	if sc.headers != nil {
		var block bytes.Buffer
		enc := hpack.NewEncoder(&block)
		for _, hf := range sc.headers {
			enc.WriteField(hf)
		}
		hp := http2.HeadersFrameParam{StreamID: 1, BlockFragment: block.Bytes(), EndStream: true, EndHeaders: true}
		if sc.headersPrio != nil {
			hp.Priority = *sc.headersPrio
		}
		fr.WriteHeaders(hp)
	}
	if _, r.err = c.Write(buf.Bytes()); r.err != nil {
		return r
	}
	buf.Reset()
	send := func() error { _, err := c.Write(buf.Bytes()); buf.Reset(); return err }
	for r.goAway == nil {
		f, err := fr.ReadFrame()
		if err != nil {
			r.err = err
			return r
		}
		switch f := f.(type) {
		case *http2.SettingsFrame:
			if f.IsAck() {
				r.settingsAcked = true
				continue
			}
			f.ForeachSetting(func(s http2.Setting) error { r.serverSettings = append(r.serverSettings, s); return nil })
			fr.WriteSettingsAck()
			r.err = send()
		case *http2.PingFrame:
			if f.IsAck() {
				r.pingAcks++
			}
		case *http2.MetaHeadersFrame:
			r.status = f.PseudoValue("status")
			r.header = f.RegularFields()
			r.headersEnd = f.StreamEnded()
			r.endStream = r.endStream || f.StreamEnded()
		case *http2.DataFrame:
			r.dataSizes = append(r.dataSizes, len(f.Data()))
			r.body = append(r.body, f.Data()...)
			r.endStream = r.endStream || f.StreamEnded()
			if sc.onData != nil {
				if r.err = sc.onData(fr, len(f.Data())); r.err == nil {
					r.err = send()
				}
			}
		case *http2.GoAwayFrame:
			g := *f
			r.goAway = &g
		}
		if r.err != nil {
			return r
		}
	}
	_, r.tail = c.Read(make([]byte, 1))
	return r
}

// h2Harness is a harness whose server offers h2 first.
func h2Harness(t *testing.T, body []byte) *harness {
	h := newHarness(t, func(s *Server) {
		s.TLSConfig.NextProtos = []string{"h2", "http/1.1"}
		if body != nil {
			s.Handle = func(*Info) Response {
				return Response{Header: http.Header{"Content-Type": {"application/octet-stream"}}, Body: body}
			}
		}
	})
	return h
}

func h2ClientConfig(t *testing.T) *tls.Config {
	cfg := clientConfig(t, tls.VersionTLS13)
	cfg.NextProtos = []string{"h2"}
	return cfg
}

// serveH2Client runs sc against a fresh h2 harness conn and returns what
// the client got and the server's Info.
func serveH2Client(t *testing.T, h *harness, sc h2Script) (h2Result, *Info) {
	t.Helper()
	c := h.dial()
	res := make(chan h2Result, 1)
	cfg := h2ClientConfig(t)
	go func() { res <- runH2(c, cfg, sc) }()
	fd, remote := h.ln.accept(t)
	h.srv.Handoff(fd, nil, remote)
	var r h2Result
	select {
	case r = <-res:
	case <-time.After(wait):
		t.Fatal("client did not finish")
	}
	return r, h.info()
}

func field(name, value string) hpack.HeaderField { return hpack.HeaderField{Name: name, Value: value} }

func TestH2Serve(t *testing.T) {
	h := h2Harness(t, nil)
	sc := h2Script{
		settings:     []http2.Setting{{ID: 1, Val: 65536}, {ID: 2, Val: 0}, {ID: 4, Val: 6291456}, {ID: 6, Val: 262144}, {ID: 0x7a7a, Val: 7}},
		windowUpdate: 15663105,
		priorities: []fingerprint.HTTP2Priority{
			{StreamID: 3, Exclusive: false, DependsOn: 0, Weight: 200},
			{StreamID: 5, Exclusive: true, DependsOn: 3, Weight: 255},
		},
		headers: []hpack.HeaderField{field(":method", "GET"), field(":authority", "localhost"), field(":scheme", "https"),
			field(":path", "/path?q=1"), field("user-agent", "h2-test/1.0"), field("accept", "*/*"), field("cookie", "a=1"), field("cookie", "b=2")},
		headersPrio: &http2.PriorityParam{StreamDep: 0, Exclusive: true, Weight: 255},
	}
	r, info := serveH2Client(t, h, sc)
	if r.err != nil {
		t.Fatalf("client: %v", r.err)
	}
	if r.status != "200" || string(r.body) != helloBody || !r.endStream {
		t.Errorf("got status %q body %q end_stream %v, want 200 %q true", r.status, r.body, r.endStream, helloBody)
	}
	var got []string
	for _, hf := range r.header {
		if hf.Name != "date" {
			got = append(got, hf.Name+": "+hf.Value)
		}
	}
	if want := []string{"x-test: yes", "content-length: 6"}; !reflect.DeepEqual(got, want) {
		t.Errorf("response fields %q, want %q", got, want)
	}
	if r.goAway == nil || r.goAway.LastStreamID != 1 || r.goAway.ErrCode != http2.ErrCodeNo {
		t.Errorf("GOAWAY = %+v, want last stream 1, NO_ERROR", r.goAway)
	}
	if r.tail != io.EOF {
		t.Errorf("read after GOAWAY: %v, want io.EOF (close_notify)", r.tail)
	}
	wantSettings := []http2.Setting{{ID: http2.SettingMaxConcurrentStreams, Val: 1}, {ID: http2.SettingMaxHeaderListSize, Val: DefaultMaxHeaderBytes}}
	if !reflect.DeepEqual(r.serverSettings, wantSettings) || !r.settingsAcked {
		t.Errorf("server SETTINGS %v (acked %v), want %v acked", r.serverSettings, r.settingsAcked, wantSettings)
	}

	if info.Err != nil || info.Status != http.StatusOK {
		t.Fatalf("Info: Err %v, Status %d", info.Err, info.Status)
	}
	wantObs := &fingerprint.HTTP2{
		Settings:     []fingerprint.HTTP2Setting{{ID: 1, Value: 65536}, {ID: 2, Value: 0}, {ID: 4, Value: 6291456}, {ID: 6, Value: 262144}, {ID: 0x7a7a, Value: 7}},
		WindowUpdate: 15663105,
		Priorities: []fingerprint.HTTP2Priority{
			{StreamID: 3, Exclusive: false, DependsOn: 0, Weight: 200},
			{StreamID: 5, Exclusive: true, DependsOn: 3, Weight: 255},
		},
		PseudoHeaders:   []string{":method", ":authority", ":scheme", ":path"},
		HeadersPriority: &fingerprint.HTTP2Priority{StreamID: 1, Exclusive: true, DependsOn: 0, Weight: 255},
	}
	if !reflect.DeepEqual(info.HTTP2, wantObs) {
		t.Errorf("Info.HTTP2 = %+v, want %+v", info.HTTP2, wantObs)
	}
	wantRaw := ":method: GET\r\n:authority: localhost\r\n:scheme: https\r\n:path: /path?q=1\r\nuser-agent: h2-test/1.0\r\naccept: */*\r\ncookie: a=1\r\ncookie: b=2\r\n"
	if string(info.RawHeader) != wantRaw {
		t.Errorf("RawHeader = %q, want %q", info.RawHeader, wantRaw)
	}
	req := info.Request
	if req.Method != "GET" || req.URL.Path != "/path" || req.URL.RawQuery != "q=1" || req.Host != "localhost" ||
		req.Proto != "HTTP/2.0" || req.ProtoMajor != 2 || req.UserAgent() != "h2-test/1.0" ||
		!reflect.DeepEqual(req.Header["Cookie"], []string{"a=1", "b=2"}) {
		t.Errorf("Request = %s %s host %q %s UA %q cookies %q", req.Method, req.URL, req.Host, req.Proto, req.UserAgent(), req.Header["Cookie"])
	}
	if info.State.NegotiatedProtocol != "h2" {
		t.Errorf("ALPN %q", info.State.NegotiatedProtocol)
	}
	h.finish(1)
}

func TestH2Head(t *testing.T) {
	h := h2Harness(t, nil)
	r, info := serveH2Client(t, h, h2Script{
		headers: []hpack.HeaderField{field(":method", "HEAD"), field(":scheme", "https"), field(":path", "/"), field(":authority", "localhost")},
	})
	if r.err != nil {
		t.Fatalf("client: %v", r.err)
	}
	if r.status != "200" || !r.headersEnd || len(r.dataSizes) != 0 {
		t.Errorf("status %q, END_STREAM on HEADERS %v, DATA frames %v; want 200, true, none", r.status, r.headersEnd, r.dataSizes)
	}
	// No WINDOW_UPDATE and no PRIORITY were sent.
	if info.HTTP2 == nil || info.HTTP2.WindowUpdate != 0 || info.HTTP2.Priorities != nil ||
		!reflect.DeepEqual(info.HTTP2.Settings, []fingerprint.HTTP2Setting{}) {
		t.Errorf("Info.HTTP2 = %+v", info.HTTP2)
	}
	h.finish(1)
}

// A 1-byte initial stream window and a body larger than the default
// connection window: the server must send within both windows, across many
// DATA frames, and answer a PING while it waits.
func TestH2FlowControl(t *testing.T) {
	body := bytes.Repeat([]byte("0123456789abcdef"), 100000/16)
	h := h2Harness(t, body)
	streamWin, connWin := int64(1), int64(65535)
	var violated bool
	pinged := false
	r, info := serveH2Client(t, h, h2Script{
		settings: []http2.Setting{{ID: http2.SettingInitialWindowSize, Val: 1}},
		headers:  []hpack.HeaderField{field(":method", "GET"), field(":scheme", "https"), field(":authority", "localhost"), field(":path", "/big")},
		onData: func(fr *http2.Framer, n int) error {
			streamWin -= int64(n)
			connWin -= int64(n)
			violated = violated || streamWin < 0 || connWin < 0
			if !pinged {
				pinged = true
				if err := fr.WritePing(false, [8]byte{1, 2, 3}); err != nil {
					return err
				}
			}
			streamWin += 16384
			connWin += int64(n)
			if err := fr.WriteWindowUpdate(1, 16384); err != nil {
				return err
			}
			return fr.WriteWindowUpdate(0, uint32(n))
		},
	})
	if r.err != nil {
		t.Fatalf("client: %v", r.err)
	}
	if !bytes.Equal(r.body, body) || !r.endStream {
		t.Errorf("got %d bytes (end_stream %v), want the %d-byte body", len(r.body), r.endStream, len(body))
	}
	if violated {
		t.Errorf("server exceeded a flow-control window; DATA sizes %v", r.dataSizes)
	}
	if len(r.dataSizes) < 2 || r.dataSizes[0] != 1 {
		t.Errorf("DATA sizes %v, want a 1-byte first frame and more after it", r.dataSizes)
	}
	for _, n := range r.dataSizes {
		if n > 16384 {
			t.Errorf("DATA frame of %d bytes exceeds the default MAX_FRAME_SIZE", n)
		}
	}
	if r.pingAcks != 1 {
		t.Errorf("%d PING ACKs, want 1", r.pingAcks)
	}
	if info.Err != nil || info.Status != http.StatusOK {
		t.Errorf("Info: Err %v, Status %d", info.Err, info.Status)
	}
	h.finish(0)
}

// net/http's HTTP/2 client (the maintained successor of x/net/http2's
// Transport), a real client, gets a multi-frame body.
func TestH2Transport(t *testing.T) {
	body := bytes.Repeat([]byte("x"), 70000)
	h := h2Harness(t, body)
	tr := &http.Transport{TLSClientConfig: h2ClientConfig(t), ForceAttemptHTTP2: true}
	defer tr.CloseIdleConnections()
	type out struct {
		body []byte
		resp *http.Response
		err  error
	}
	res := make(chan out, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "https://"+h.ln.addr+"/x", nil)
		req.Host = "localhost"
		resp, err := tr.RoundTrip(req)
		if err != nil {
			res <- out{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		res <- out{body: b, resp: resp, err: err}
	}()
	fd, remote := h.ln.accept(t)
	h.srv.Handoff(fd, nil, remote)
	o := <-res
	if o.err != nil {
		t.Fatalf("RoundTrip: %v", o.err)
	}
	if o.resp.StatusCode != 200 || o.resp.ProtoMajor != 2 || !bytes.Equal(o.body, body) {
		t.Errorf("got %s %d and %d bytes, want HTTP/2.0 200 and %d", o.resp.Proto, o.resp.StatusCode, len(o.body), len(body))
	}
	if ct := o.resp.Header.Get("Content-Type"); ct != "application/octet-stream" {
		t.Errorf("Content-Type %q", ct)
	}
	info := h.info()
	if info.Err != nil || info.HTTP2 == nil {
		t.Fatalf("Info: Err %v, HTTP2 %v", info.Err, info.HTTP2)
	}
	// Go's HTTP/2 client writes :authority, :method, :path, :scheme (its
	// encodeHeaders) and no PRIORITY frames.
	if want := []string{":authority", ":method", ":path", ":scheme"}; !reflect.DeepEqual(info.HTTP2.PseudoHeaders, want) {
		t.Errorf("pseudo-headers %v, want %v", info.HTTP2.PseudoHeaders, want)
	}
	t.Logf("net/http HTTP/2 client: %s", info.HTTP2.Akamai())
	h.finish(0)
}

// TestH2BadPreface: after negotiating h2, a client that sends an HTTP/1.x
// request instead of the preface (an HTTP/1-only stack on a uTLS browser
// parrot) is answered over HTTP/1.1; one that starts the preface wrongly,
// or sends bytes that are no request, is closed with ErrH2Preface and no
// answer.
func TestH2BadPreface(t *testing.T) {
	for _, tc := range []struct {
		name, sent string
		http1      bool // answered as HTTP/1.1
	}{
		{"GET", "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n", true},
		{"POST", "POST /p HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\n\r\n", true},
		{"broken PRI", "PRI * HTTP/2.0\r\n\r\nXY\r\n\r\n", false},
		{"binary", "\x00\x01\x02\x03 not a request\r\n\r\n", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := h2Harness(t, nil)
			c := h.dial()
			type out struct {
				got []byte
				err error
			}
			res := make(chan out, 1)
			cfg := h2ClientConfig(t)
			go func() {
				tc2 := tls.Client(c, cfg)
				defer tc2.Close()
				tc2.SetDeadline(time.Now().Add(wait))
				if _, err := io.WriteString(tc2, tc.sent); err != nil {
					res <- out{err: err}
					return
				}
				got, err := io.ReadAll(tc2) // nil at close_notify
				res <- out{got, err}
			}()
			fd, remote := h.ln.accept(t)
			h.srv.Handoff(fd, nil, remote)
			o := <-res
			info := h.info()
			if o.err != nil {
				t.Fatalf("client: %v", o.err)
			}
			if info.State == nil || info.State.NegotiatedProtocol != "h2" {
				t.Fatalf("negotiated %+v, want h2", info.State)
			}
			if tc.http1 {
				if !bytes.HasPrefix(o.got, []byte("HTTP/1.1 200 OK\r\n")) || !bytes.HasSuffix(o.got, []byte("\r\n\r\n"+helloBody)) {
					t.Errorf("client read %q, want an HTTP/1.1 200 with the body", o.got)
				}
				if info.Err != nil || info.Request == nil || info.Request.ProtoMajor != 1 || info.HTTP2 != nil {
					t.Errorf("Err %v, Request %+v, HTTP2 %v: want an HTTP/1.1 request and no HTTP2", info.Err, info.Request, info.HTTP2)
				}
				if got := <-h.handled; got != info {
					t.Error("Handle saw another Info")
				}
				h.finish(0)
				return
			}
			if len(o.got) != 0 {
				t.Errorf("client read %q, want nothing before close_notify", o.got)
			}
			if !errors.Is(info.Err, ErrRequest) || !errors.Is(info.Err, ErrH2Preface) || Reason(info.Err) != "bad_request" {
				t.Errorf("Err = %v (reason %q), want ErrRequest and ErrH2Preface", info.Err, Reason(info.Err))
			}
			if info.HTTP2 != nil || info.Request != nil {
				t.Errorf("HTTP2 %v, Request %v: want nil", info.HTTP2, info.Request)
			}
			if s := h.srv.Stats(); s.RequestErrors != 1 {
				t.Errorf("RequestErrors = %d, want 1", s.RequestErrors)
			}
			h.finish(0)
		})
	}
}

func TestH2TooManyFrames(t *testing.T) {
	h := h2Harness(t, nil)
	r, info := serveH2Client(t, h, h2Script{
		// SETTINGS, then 64 PRIORITY frames: the 65th frame is not HEADERS.
		extra: func(fr *http2.Framer) error {
			for i := range h2MaxFramesBeforeHeaders {
				if err := fr.WritePriority(uint32(2*i+3), http2.PriorityParam{Weight: 15}); err != nil {
					return err
				}
			}
			return nil
		},
	})
	if r.err != nil {
		t.Fatalf("client: %v", r.err)
	}
	if r.goAway == nil || r.goAway.ErrCode != http2.ErrCodeEnhanceYourCalm {
		t.Errorf("GOAWAY = %+v, want ENHANCE_YOUR_CALM", r.goAway)
	}
	if !errors.Is(info.Err, ErrRequest) || !errors.Is(info.Err, ErrH2TooManyFrames) {
		t.Errorf("Err = %v, want ErrRequest and ErrH2TooManyFrames", info.Err)
	}
	h.finish(0)
}

func TestH2BadRequest(t *testing.T) {
	for _, tc := range []struct {
		name    string
		headers []hpack.HeaderField
		status  string
	}{
		{"no-path", []hpack.HeaderField{field(":method", "GET"), field(":scheme", "https"), field(":authority", "localhost")}, "400"},
		{"headers-too-large", []hpack.HeaderField{field(":method", "GET"), field(":scheme", "https"), field(":path", "/"),
			field("x-big", strings.Repeat("a", DefaultMaxHeaderBytes))}, "431"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := h2Harness(t, nil)
			r, info := serveH2Client(t, h, h2Script{headers: tc.headers})
			if r.err != nil {
				t.Fatalf("client: %v", r.err)
			}
			if r.status != tc.status {
				t.Errorf("status %q, want %s", r.status, tc.status)
			}
			if !errors.Is(info.Err, ErrRequest) || info.Request != nil {
				t.Errorf("Err = %v, Request %v: want ErrRequest and no request", info.Err, info.Request)
			}
			h.finish(0)
		})
	}
}

// FuzzH2Preface feeds arbitrary client bytes to the preface reader: it
// must not panic, must stop within its frame budget, and a success must
// carry a complete observation.
func FuzzH2Preface(f *testing.F) {
	var buf bytes.Buffer
	fr := http2.NewFramer(&buf, nil)
	buf.WriteString(http2.ClientPreface)
	fr.WriteSettings(http2.Setting{ID: 1, Val: 65536}, http2.Setting{ID: 4, Val: 6291456})
	fr.WriteWindowUpdate(0, 15663105)
	fr.WritePriority(3, http2.PriorityParam{Weight: 200})
	var block bytes.Buffer
	enc := hpack.NewEncoder(&block)
	for _, hf := range []hpack.HeaderField{field(":method", "GET"), field(":path", "/"), field("a", "b")} {
		enc.WriteField(hf)
	}
	fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: block.Bytes(), EndHeaders: true, EndStream: true})
	f.Add(buf.Bytes())
	f.Add([]byte(http2.ClientPreface))
	f.Add([]byte("GET / HTTP/1.1\r\n\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c := newH2Conn(bytes.NewReader(data), io.Discard, DefaultMaxHeaderBytes)
		mh, err := c.readPreface()
		if err != nil {
			return
		}
		if mh == nil || c.obs.Settings == nil || c.streamID%2 != 1 || len(c.obs.Priorities) > h2MaxFramesBeforeHeaders {
			t.Fatalf("success with mh %v, observation %+v, stream %d", mh, c.obs, c.streamID)
		}
		if _, _, status, err := newH2Request(mh, &Info{}); (err == nil) != (status == 0) {
			t.Fatalf("newH2Request: status %d with err %v", status, err)
		}
	})
}
