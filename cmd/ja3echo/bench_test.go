package main

// Benchmarks of the per-request work after the handshake, over a real
// Chromium ClientHello and the request Chromium sends with it. They price
// what a GET / or GET /json adds to the handshake (whose server half is
// ~330 µs on the development machines; see shared/docs/performance.md).

import (
	"bufio"
	"crypto/tls"
	"encoding/hex"
	"io"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ja3sentry/ja3echo/tlsconn"
)

// chromeRequest is the head Chromium 156 sends for a top-level navigation.
const chromeRequest = "GET / HTTP/1.1\r\n" +
	"Host: 127.0.0.1\r\n" +
	"Connection: keep-alive\r\n" +
	"sec-ch-ua: \"Chromium\";v=\"156\", \"Not)A;Brand\";v=\"24\"\r\n" +
	"sec-ch-ua-mobile: ?0\r\n" +
	"sec-ch-ua-platform: \"Linux\"\r\n" +
	"Upgrade-Insecure-Requests: 1\r\n" +
	"User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36\r\n" +
	"Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7\r\n" +
	"Sec-Fetch-Site: none\r\n" +
	"Sec-Fetch-Mode: navigate\r\n" +
	"Sec-Fetch-User: ?1\r\n" +
	"Sec-Fetch-Dest: document\r\n" +
	"Accept-Encoding: gzip, deflate, br, zstd\r\n" +
	"Accept-Language: en-US,en;q=0.9\r\n" +
	"\r\n"

// chromeInfo is what tlsconn hands to Inspect and Handle for a Chromium
// visit: the recorded hello (testdata/clienthellos/chromium_1.hex), the
// request above and a TLS 1.3 connection state.
func chromeInfo(tb testing.TB) *tlsconn.Info {
	tb.Helper()
	b, err := os.ReadFile("../../testdata/clienthellos/chromium_1.hex")
	if err != nil {
		tb.Fatal(err)
	}
	var hx strings.Builder
	for _, l := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(l, "#") {
			hx.WriteString(strings.Join(strings.Fields(l), ""))
		}
	}
	wire, err := hex.DecodeString(hx.String())
	if err != nil {
		tb.Fatal(err)
	}
	req, err := http.ReadRequest(bufio.NewReader(strings.NewReader(chromeRequest)))
	if err != nil {
		tb.Fatal(err)
	}
	info := &tlsconn.Info{
		Remote:    netip.MustParseAddrPort("127.0.0.1:50000"),
		Prefix:    wire,
		Start:     time.Now(),
		Request:   req,
		RawHeader: []byte(chromeRequest),
		State: &tls.ConnectionState{Version: tls.VersionTLS13, CipherSuite: tls.TLS_AES_128_GCM_SHA256,
			NegotiatedProtocol: "http/1.1", CurveID: tls.X25519MLKEM768, HandshakeComplete: true},
	}
	(&app{}).inspect(info)
	if h := helloOf(info); h.err != nil {
		tb.Fatalf("chromium_1.hex: %v", h.err)
	}
	return info
}

// BenchmarkPage prices GET /: "render" is the page alone for a ready echo,
// "handle" the whole Handle call (echo, User-Agent parse, page).
func BenchmarkPage(b *testing.B) {
	info := chromeInfo(b)
	a := &app{}
	b.Run("render", func(b *testing.B) {
		e := newEcho(info)
		b.ReportAllocs()
		for b.Loop() {
			r := a.page(e)
			if r.Status != http.StatusOK {
				b.Fatal(r.Status)
			}
			r.Done() // as tlsconn does once it copied the body
		}
	})
	b.Run("handle", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			r := a.handle(info)
			if r.Status != http.StatusOK {
				b.Fatal(r.Status)
			}
			r.Done()
		}
	})
}

// BenchmarkJSON prices GET /json the same way.
func BenchmarkJSON(b *testing.B) {
	info := chromeInfo(b)
	b.Run("encode", func(b *testing.B) {
		e := newEcho(info)
		b.ReportAllocs()
		for b.Loop() {
			r := jsonResponse(e)
			if r.Status != http.StatusOK {
				b.Fatal(r.Status)
			}
			r.Done()
		}
	})
	b.Run("handle", func(b *testing.B) {
		req := *info.Request
		u := *req.URL
		u.Path = "/json"
		req.URL = &u
		in := *info
		in.Request = &req
		a := &app{}
		b.ReportAllocs()
		for b.Loop() {
			r := a.handle(&in)
			if r.Status != http.StatusOK {
				b.Fatal(r.Status)
			}
			r.Done()
		}
	})
}

// BenchmarkEcho prices what both share: the echo document (hello decoding,
// header lines, User-Agent parse).
func BenchmarkEcho(b *testing.B) {
	info := chromeInfo(b)
	b.ReportAllocs()
	for b.Loop() {
		newEcho(info)
	}
}

// BenchmarkParseUA prices the User-Agent parse, done once per request for
// the response and once more for the log line.
func BenchmarkParseUA(b *testing.B) {
	ua := chromeInfo(b).Request.UserAgent()
	b.ReportAllocs()
	for b.Loop() {
		parseUA(ua)
	}
}

// BenchmarkDone prices the log line of a connection whose fingerprint and
// client were seen before (the common case): the JSON line in the file,
// the counters, and the stdout line that is dropped unless --debug.
func BenchmarkDone(b *testing.B) {
	info := chromeInfo(b)
	info.Status = http.StatusOK
	log := newLogger(io.Discard, false)
	events, err := openEventLog(filepath.Join(b.TempDir(), "bench.log"), log.WithField("component", "logfile"))
	if err != nil {
		b.Fatal(err)
	}
	defer events.Close()
	a := &app{log: log, events: events, metrics: newMetrics()}
	a.done(info) // the first sighting is news; the loop measures the rest
	h := helloOf(info)
	b.ReportAllocs()
	for b.Loop() {
		h.uaDone = false // as after GET /robots.txt: the User-Agent is parsed here
		a.done(info)
	}
}
