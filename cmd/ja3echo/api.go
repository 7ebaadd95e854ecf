package main

import (
	"bytes"
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strconv"

	"github.com/ja3sentry/ja3echo/fingerprint"
	"github.com/ja3sentry/ja3echo/fingerprint/iana"
	"github.com/ja3sentry/ja3echo/tlsconn"
)

// httpEcho is the request as received; Headers keep the client's order and
// spelling, which matter to fingerprinting as much as the TLS hello does.
type httpEcho struct {
	Method   string   `json:"method"`
	Path     string   `json:"path"`
	Protocol string   `json:"protocol"`
	Headers  []string `json:"headers"`
}

// maxEchoHeaders bounds the header lines echoed (tlsconn caps their bytes).
const maxEchoHeaders = 200

func newHTTPEcho(info *tlsconn.Info) httpEcho {
	r := info.Request
	return httpEcho{Method: r.Method, Path: r.URL.RequestURI(), Protocol: r.Proto, Headers: requestHeaderLines(info)}
}

// requestHeaderLines is the request's header lines in order. An HTTP/2
// request's raw header block has no request line (its pseudo-headers come
// first, and are kept).
func requestHeaderLines(info *tlsconn.Info) []string {
	return headerLines(info.RawHeader, info.HTTP2 == nil)
}

// headerLines splits a raw request head into its header lines, in order,
// without the request line if it has one; folded continuation lines stay as
// sent.
func headerLines(raw []byte, requestLine bool) []string {
	lines := []string{}
	for i, l := range bytes.Split(raw, []byte("\n")) {
		l = bytes.TrimSuffix(l, []byte("\r"))
		if (i == 0 && requestLine) || len(l) == 0 {
			continue
		}
		if len(lines) == maxEchoHeaders {
			break
		}
		lines = append(lines, string(l))
	}
	return lines
}

func curveName(id tls.CurveID) string {
	if id == 0 {
		return ""
	}
	if n := iana.GroupName(uint16(id)); n != "" {
		return n
	}
	return id.String()
}

// The /api/* documents follow the shape of TrackMe (tls.peet.ws), so that
// tooling written against it can point here. Fields TrackMe has and we do
// not (HTTP/2 sent_frames, HTTP/3, TCP/IP) are absent, not empty.

type apiAll struct {
	IP          string    `json:"ip"`
	HTTPVersion string    `json:"http_version"`
	Method      string    `json:"method"`
	UserAgent   string    `json:"user_agent"`
	TLS         *apiTLS   `json:"tls"`
	HTTP1       *apiHTTP1 `json:"http1,omitempty"` // HTTP/1.x requests
	HTTP2       *apiHTTP2 `json:"http2,omitempty"` // HTTP/2 requests
}

type apiHTTP1 struct {
	Headers []string `json:"headers"`
}

// apiHTTP2 has TrackMe's fingerprint keys, and the header block (with its
// pseudo-headers) as the http1 object and TrackMe's http3 have it.
type apiHTTP2 struct {
	AkamaiFingerprint     string   `json:"akamai_fingerprint"`
	AkamaiFingerprintHash string   `json:"akamai_fingerprint_hash"`
	Headers               []string `json:"headers"`
}

type apiTLS struct {
	Ciphers              []string                    `json:"ciphers"`
	Extensions           []fingerprint.ExtensionInfo `json:"extensions"`
	TLSVersionRecord     string                      `json:"tls_version_record"`
	TLSVersionNegotiated string                      `json:"tls_version_negotiated"`
	fingerprint.Fingerprints
	ClientRandom string `json:"client_random"`
	SessionID    string `json:"session_id"`
}

type apiClean struct {
	fingerprint.Fingerprints
	Akamai      string `json:"akamai,omitempty"` // HTTP/2 requests only
	AkamaiHash  string `json:"akamai_hash,omitempty"`
	HTTPVersion string `json:"http_version"`
}

type apiRaw struct {
	Raw    string `json:"raw"`
	RawB64 string `json:"raw_b64"`
}

func apiDocument(path string, info *tlsconn.Info) any {
	h := helloOf(info)
	if h.err != nil {
		return map[string]string{"error": h.err.Error()}
	}
	switch path {
	case "/api/clean":
		c := apiClean{Fingerprints: h.fp, HTTPVersion: info.Request.Proto}
		if info.HTTP2 != nil {
			c.Akamai, c.AkamaiHash = info.HTTP2.Akamai(), info.HTTP2.AkamaiHash()
		}
		return c
	case "/api/raw":
		return apiRaw{Raw: hex.EncodeToString(h.ch.Raw), RawB64: base64.StdEncoding.EncodeToString(h.ch.Raw)}
	case "/api/tls":
		return struct {
			IP  string  `json:"ip"`
			TLS *apiTLS `json:"tls"`
		}{info.Remote.String(), newAPITLS(h, info)}
	}
	all := apiAll{
		IP:          info.Remote.String(),
		HTTPVersion: info.Request.Proto,
		Method:      info.Request.Method,
		UserAgent:   info.Request.UserAgent(),
		TLS:         newAPITLS(h, info),
	}
	if h2 := info.HTTP2; h2 != nil {
		all.HTTP2 = &apiHTTP2{AkamaiFingerprint: h2.Akamai(), AkamaiFingerprintHash: h2.AkamaiHash(), Headers: requestHeaderLines(info)}
	} else {
		all.HTTP1 = &apiHTTP1{Headers: requestHeaderLines(info)}
	}
	return all
}

func newAPITLS(h *hello, info *tlsconn.Info) *apiTLS {
	t := h.ch.TLS()
	ciphers := make([]string, len(h.ch.CipherSuites))
	for i, c := range h.ch.CipherSuites {
		switch name := iana.CipherSuiteName(c); {
		case fingerprint.IsGREASE(c):
			ciphers[i] = fmt.Sprintf("TLS_GREASE (%#04x)", c)
		case name == "":
			ciphers[i] = fmt.Sprintf("%#04x", c)
		default:
			ciphers[i] = name
		}
	}
	a := &apiTLS{
		Ciphers:          ciphers,
		Extensions:       t.Extensions,
		TLSVersionRecord: strconv.Itoa(int(h.ch.RecordVersion)),
		Fingerprints:     h.fp,
		ClientRandom:     hex.EncodeToString(h.ch.Random),
		SessionID:        hex.EncodeToString(h.ch.SessionID),
	}
	if info.State != nil {
		a.TLSVersionNegotiated = strconv.Itoa(int(info.State.Version))
	}
	return a
}
