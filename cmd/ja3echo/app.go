package main

import (
	"crypto/tls"
	"net/http"
	"strings"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/ja3sentry/ja3echo/fingerprint"
	"github.com/ja3sentry/ja3echo/tlsconn"
)

// app is what ja3echo does with each connection the loop hands off: parse
// the hello, answer the request, log the result.
type app struct {
	log      *logrus.Logger
	events   *eventLog
	metrics  *metrics
	httpsURL string
}

// hello is the parsed ClientHello of one connection (tlsconn.Info.Data),
// and its User-Agent's parse once done: both the answer and the log line
// need it, and uasurfer takes a few µs.
type hello struct {
	ch  *fingerprint.ClientHello
	fp  fingerprint.Fingerprints
	err error

	uaDone      bool
	browser, os nameVersion
}

// client is parseUA(ua), computed once per connection.
func (h *hello) client(ua string) (browser, os nameVersion) {
	if !h.uaDone {
		h.browser, h.os = parseUA(ua)
		h.uaDone = true
	}
	return h.browser, h.os
}

// inspect parses the hello in the connection's goroutine, off the loop.
func (a *app) inspect(info *tlsconn.Info) {
	h := &hello{}
	h.ch, h.err = fingerprint.Parse(info.Prefix)
	if h.err == nil {
		h.fp = h.ch.Fingerprints()
	}
	info.Data = h
}

func helloOf(info *tlsconn.Info) *hello {
	if h, ok := info.Data.(*hello); ok {
		return h
	}
	return &hello{err: fingerprint.ErrTruncated}
}

// echo is the JSON document of /json. Top-level keys are a public API.
type echo struct {
	fingerprint.Fingerprints
	UserAgent  string           `json:"user_agent"`
	Browser    nameVersion      `json:"browser"`
	OS         nameVersion      `json:"os"`
	RemoteAddr string           `json:"remote_addr"`
	TLS        *fingerprint.TLS `json:"tls"`
	Negotiated negotiated       `json:"negotiated"`
	HTTP       httpEcho         `json:"http"`
	HTTP2      *http2Echo       `json:"http2,omitempty"` // only for a request over HTTP/2
	Error      string           `json:"error,omitempty"`
}

// negotiated is what the server chose. Resumed is always false while
// session tickets are off; it is there so that tooling can check.
type negotiated struct {
	Version     string `json:"version"`
	CipherSuite string `json:"cipher_suite"`
	ALPN        string `json:"alpn"`
	Curve       string `json:"curve"`
	Resumed     bool   `json:"resumed"`
}

func newEcho(info *tlsconn.Info) *echo {
	h := helloOf(info)
	e := &echo{Fingerprints: h.fp, RemoteAddr: info.Remote.String()}
	if h.err != nil {
		e.Error = h.err.Error()
	} else {
		t := h.ch.TLS()
		e.TLS = &t
	}
	if info.Request != nil {
		e.UserAgent = info.Request.UserAgent()
		e.Browser, e.OS = h.client(e.UserAgent)
		e.HTTP = newHTTPEcho(info)
		e.HTTP2 = newHTTP2Echo(info)
	}
	if s := info.State; s != nil {
		e.Negotiated = negotiated{
			Version:     tls.VersionName(s.Version),
			CipherSuite: tls.CipherSuiteName(s.CipherSuite),
			ALPN:        s.NegotiatedProtocol,
			Curve:       curveName(s.CurveID),
			Resumed:     s.DidResume,
		}
	}
	return e
}

// handle answers the one request of a connection.
func (a *app) handle(info *tlsconn.Info) tlsconn.Response {
	req := info.Request
	if req.Method != http.MethodGet && req.Method != http.MethodHead {
		r := text(http.StatusMethodNotAllowed, "405 method not allowed: use GET\n")
		r.Header.Set("Allow", "GET, HEAD")
		return r
	}
	switch req.URL.Path {
	case "/":
		if wantsJSON(req) {
			return jsonResponse(newEcho(info))
		}
		return a.page(newEcho(info))
	case "/json":
		return jsonResponse(newEcho(info))
	case "/api/all", "/api/tls", "/api/clean", "/api/raw":
		return jsonResponse(apiDocument(req.URL.Path, info))
	case "/favicon.ico":
		return tlsconn.Response{Status: http.StatusNoContent, Header: http.Header{"Cache-Control": {"max-age=86400"}}}
	case "/robots.txt":
		return text(http.StatusOK, "User-agent: *\nAllow: /\n")
	}
	return text(http.StatusNotFound, "404 not found: try /, /json or /api/all\n")
}

// wantsJSON reports whether the Accept header prefers JSON over HTML, so
// `curl -H 'Accept: application/json' https://host/` gets JSON.
func wantsJSON(req *http.Request) bool {
	accept := req.Header.Get("Accept")
	return strings.Contains(accept, "application/json") && !strings.Contains(accept, "text/html")
}

func text(status int, body string) tlsconn.Response {
	return tlsconn.Response{
		Status: status,
		Header: http.Header{"Content-Type": {"text/plain; charset=utf-8"}},
		Body:   []byte(body),
	}
}

func jsonResponse(v any) tlsconn.Response {
	// json.MarshalIndent(v, "", "  ") + "\n", faster: jsonout.go
	body, done, err := pooledJSON(v)
	if err != nil {
		return text(http.StatusInternalServerError, "500 cannot encode JSON\n")
	}
	return tlsconn.Response{
		Status: http.StatusOK,
		Header: http.Header{"Content-Type": {"application/json"}, "Access-Control-Allow-Origin": {"*"}},
		Body:   body,
		Done:   done, // tlsconn has copied the body out
	}
}

// done logs one finished connection: a JSON line in the log file, an info
// line on stdout for a new JA3, JA4, client or HTTP/2 (Akamai) fingerprint,
// a debug line otherwise.
func (a *app) done(info *tlsconn.Info) {
	h := helloOf(info)
	if h.err != nil {
		// Not fingerprintable (the loop framed it, so this means a hello the
		// strict parser refuses): nothing to log in the file.
		if a.log.IsLevelEnabled(logrus.DebugLevel) {
			a.log.WithFields(logrus.Fields{"remote": info.Remote.String(), "error": h.err}).Debug("unparseable ClientHello")
		}
		return
	}
	l := &logEntry{
		Time:          info.Start.UTC().Format(time.RFC3339Nano),
		RemoteAddr:    info.Remote.String(),
		JA3:           h.fp.JA3,
		JA3Hash:       h.fp.JA3Hash,
		JA3N:          h.fp.JA3N,
		JA3NHash:      h.fp.JA3NHash,
		JA4:           h.fp.JA4,
		JA4R:          h.fp.JA4R,
		PeetPrintHash: h.fp.PeetPrintHash,
		SNI:           h.ch.ServerName,
		Status:        info.Status,
		DurationMS:    float64(time.Since(info.Start).Microseconds()) / 1000,
	}
	if len(h.ch.ALPN) > 0 {
		l.ALPN = strings.Join(h.ch.ALPN, ",")
	}
	if s := info.State; s != nil {
		l.TLSVersion = tls.VersionName(s.Version)
		l.CipherSuite = tls.CipherSuiteName(s.CipherSuite)
	}
	if r := info.Request; r != nil {
		l.Method, l.Path, l.UserAgent = r.Method, r.URL.Path, r.UserAgent()
		b, o := h.client(l.UserAgent)
		l.Browser, l.BrowserVersion, l.OS = b.Name, b.Version, o.Name
	}
	if info.HTTP2 != nil {
		l.AkamaiHash = info.HTTP2.AkamaiHash()
	}
	if info.Err != nil {
		l.Error = info.Err.Error()
	}
	a.events.record(l)
	a.metrics.logged(l)

	if !l.NewJA3 && !l.NewJA4 && !l.NewClient && !l.newAkamai() && !a.log.IsLevelEnabled(logrus.DebugLevel) {
		return // the line would be dropped: do not build its fields (a map, two entries)
	}
	fields := logrus.Fields{"remote": l.RemoteAddr, "ja3": l.JA3Hash, "ja3n": l.JA3NHash, "ja4": l.JA4, "ua": l.UserAgent}
	if l.AkamaiHash != "" {
		fields["akamai"] = l.AkamaiHash
	}
	if l.Error != "" {
		fields["error"] = l.Error
	}
	switch {
	case l.NewJA3:
		a.log.WithFields(fields).Info("new JA3")
	case l.NewJA4:
		a.log.WithFields(fields).Info("new JA4")
	case l.NewClient:
		a.log.WithFields(fields).Info("new client")
	case l.newAkamai(): // last: a new TLS stack usually brings a new HTTP/2 one, and is the bigger news
		a.log.WithFields(fields).Info("new HTTP/2 fingerprint")
	default:
		a.log.WithFields(fields).WithField("status", l.Status).Debug("connection")
	}
}
