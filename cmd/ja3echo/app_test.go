package main

import (
	"bytes"
	"encoding/json"
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/ja3sentry/ja3echo/fingerprint"
	"github.com/ja3sentry/ja3echo/tlsconn"
)

// chromeHTTP2 is Chrome's HTTP/2 preface as the Akamai fingerprint sees
// it; its hash is the published akamaiChrome.
func chromeHTTP2() *fingerprint.HTTP2 {
	return &fingerprint.HTTP2{
		Settings:      []fingerprint.HTTP2Setting{{ID: 1, Value: 65536}, {ID: 2, Value: 0}, {ID: 4, Value: 6291456}, {ID: 6, Value: 262144}},
		WindowUpdate:  15663105,
		PseudoHeaders: []string{":method", ":authority", ":scheme", ":path"},
	}
}

// TestDoneAnnouncesHTTP2 checks done's stdout lines for first sightings:
// a new JA3 takes precedence over a new HTTP/2 fingerprint, "new HTTP/2
// fingerprint" is logged when the Akamai hash is the only new thing, with
// an akamai field, and a connection with nothing new logs nothing at info.
func TestDoneAnnouncesHTTP2(t *testing.T) {
	hello := opsClientHello(t) // the same ClientHello for every connection
	type stdoutLine struct {
		Msg    string  `json:"msg"`
		Level  string  `json:"level"`
		Akamai *string `json:"akamai"`
	}
	conns := []struct {
		name   string
		http2  *fingerprint.HTTP2 // nil: HTTP/1
		msg    string             // "" for no info line
		akamai string             // "" for no akamai field
	}{
		{"first connection, HTTP/1", nil, "new JA3", ""},
		{"same hello over HTTP/2", chromeHTTP2(), "new HTTP/2 fingerprint", akamaiChrome},
		{"same again", chromeHTTP2(), "", ""},
		{"same hello over HTTP/1 again", nil, "", ""},
	}
	var out bytes.Buffer
	log := logrus.New()
	log.SetOutput(&out)
	log.SetFormatter(&logrus.JSONFormatter{})
	log.SetLevel(logrus.InfoLevel)
	events, err := openEventLog(filepath.Join(t.TempDir(), "events.log"), discardLog())
	if err != nil {
		t.Fatal(err)
	}
	defer events.Close()
	a := &app{log: log, events: events}
	for _, c := range conns {
		out.Reset()
		info := &tlsconn.Info{Remote: netip.MustParseAddrPort("127.0.0.1:1"), Prefix: hello, Start: time.Now(), HTTP2: c.http2}
		a.inspect(info)
		a.done(info)
		if c.msg == "" {
			if out.Len() != 0 {
				t.Errorf("%s: logged %s, want nothing", c.name, out.Bytes())
			}
			continue
		}
		var l stdoutLine
		if err := json.Unmarshal(out.Bytes(), &l); err != nil {
			t.Fatalf("%s: want one JSON line, got %q: %v", c.name, out.Bytes(), err)
		}
		if l.Msg != c.msg || l.Level != "info" {
			t.Errorf("%s: logged %q at %s, want %q at info", c.name, l.Msg, l.Level, c.msg)
		}
		switch {
		case c.akamai == "" && l.Akamai != nil:
			t.Errorf("%s: akamai field %q on an HTTP/1 connection", c.name, *l.Akamai)
		case c.akamai != "" && (l.Akamai == nil || *l.Akamai != c.akamai):
			t.Errorf("%s: akamai field %v, want %s: %s", c.name, l.Akamai, c.akamai, out.Bytes())
		}
	}

	// On a fresh log, the first connection over HTTP/2 is new in every
	// way: it is announced as a new JA3, with its akamai field.
	events2, err := openEventLog(filepath.Join(t.TempDir(), "events.log"), discardLog())
	if err != nil {
		t.Fatal(err)
	}
	defer events2.Close()
	out.Reset()
	a = &app{log: log, events: events2}
	info := &tlsconn.Info{Remote: netip.MustParseAddrPort("127.0.0.1:2"), Prefix: hello, Start: time.Now(), HTTP2: chromeHTTP2()}
	a.inspect(info)
	a.done(info)
	var l stdoutLine
	if err := json.Unmarshal(out.Bytes(), &l); err != nil {
		t.Fatalf("fresh log, HTTP/2: want one JSON line, got %q: %v", out.Bytes(), err)
	}
	if l.Msg != "new JA3" || l.Akamai == nil || *l.Akamai != akamaiChrome {
		t.Errorf("fresh log, HTTP/2: logged %q with akamai %v, want \"new JA3\" with akamai %s", l.Msg, l.Akamai, akamaiChrome)
	}
}
