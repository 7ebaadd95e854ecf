package main

import (
	"crypto/tls"
	"slices"

	"github.com/ja3sentry/ja3echo/fingerprint"
	"github.com/ja3sentry/ja3echo/tlsconn"
)

// HTTP/2 (--http2, on by default): the server offers h2 before http/1.1,
// and a client that takes it gets the Akamai fingerprint of its connection
// preface in /json, /api/all, /api/clean, the page and the log.

// offerHTTP2 puts h2 first in tc's ALPN list. It must run before anything
// copies tc or captures its NextProtos (applyKex, answerAnyALPN).
func offerHTTP2(tc *tls.Config, on bool) {
	if on && !slices.Contains(tc.NextProtos, "h2") {
		tc.NextProtos = append([]string{"h2"}, tc.NextProtos...)
	}
}

// http2Echo is the /json "http2" object: the Akamai fingerprint and the
// frames it is made of. Weights are effective weights (1–256), as in the
// fingerprint string.
type http2Echo struct {
	AkamaiFingerprint     string          `json:"akamai_fingerprint"`
	AkamaiFingerprintHash string          `json:"akamai_fingerprint_hash"`
	Settings              []http2Setting  `json:"settings"`
	WindowUpdate          uint32          `json:"window_update"`
	PriorityFrames        []http2Priority `json:"priority_frames"`
	PseudoHeaderOrder     []string        `json:"pseudo_header_order"`
	HeadersPriority       *http2Priority  `json:"headers_priority,omitempty"`
	// SettingsTruncated: more than fingerprint.MaxEchoList settings were
	// sent; the list shows the first ones, the fingerprint has them all.
	SettingsTruncated bool `json:"settings_truncated,omitempty"`
}

// http2Setting is one SETTINGS parameter; Name is "" for an id no RFC names.
type http2Setting struct {
	ID    uint16 `json:"id"`
	Name  string `json:"name"`
	Value uint32 `json:"value"`
}

type http2Priority struct {
	StreamID  uint32 `json:"stream_id"`
	Exclusive bool   `json:"exclusive"`
	DependsOn uint32 `json:"depends_on"`
	Weight    int    `json:"weight"`
}

func newPriority(p fingerprint.HTTP2Priority) http2Priority {
	return http2Priority{StreamID: p.StreamID, Exclusive: p.Exclusive, DependsOn: p.DependsOn, Weight: int(p.Weight) + 1}
}

// newHTTP2Echo is nil unless the request came over HTTP/2.
func newHTTP2Echo(info *tlsconn.Info) *http2Echo {
	h := info.HTTP2
	if h == nil {
		return nil
	}
	e := &http2Echo{
		AkamaiFingerprint:     h.Akamai(),
		AkamaiFingerprintHash: h.AkamaiHash(),
		Settings:              make([]http2Setting, min(len(h.Settings), fingerprint.MaxEchoList)),
		SettingsTruncated:     len(h.Settings) > fingerprint.MaxEchoList,
		WindowUpdate:          h.WindowUpdate,
		PriorityFrames:        make([]http2Priority, len(h.Priorities)),
		PseudoHeaderOrder:     h.PseudoHeaders,
	}
	if e.PseudoHeaderOrder == nil {
		e.PseudoHeaderOrder = []string{}
	}
	for i := range e.Settings {
		s := h.Settings[i]
		e.Settings[i] = http2Setting{ID: s.ID, Name: fingerprint.HTTP2SettingName(s.ID), Value: s.Value}
	}
	for i, p := range h.Priorities {
		e.PriorityFrames[i] = newPriority(p)
	}
	if h.HeadersPriority != nil {
		p := newPriority(*h.HeadersPriority)
		e.HeadersPriority = &p
	}
	return e
}
