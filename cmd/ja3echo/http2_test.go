package main

// --http2: real HTTP/2 clients (Go's, curl, Chromium) get their Akamai
// fingerprint. The expected values come from each client's own source or
// from published captures, never from package fingerprint.

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"github.com/ja3sentry/ja3echo/fingerprint"
	"github.com/ja3sentry/ja3echo/tlsconn"
)

// h2Doc is the part of /json these tests read.
type h2Doc struct {
	Negotiated struct {
		ALPN string `json:"alpn"`
	} `json:"negotiated"`
	HTTP struct {
		Protocol string   `json:"protocol"`
		Headers  []string `json:"headers"`
	} `json:"http"`
	HTTP2 *struct {
		Akamai     string `json:"akamai_fingerprint"`
		AkamaiHash string `json:"akamai_fingerprint_hash"`
		Settings   []struct {
			ID    uint16 `json:"id"`
			Name  string `json:"name"`
			Value uint32 `json:"value"`
		} `json:"settings"`
		WindowUpdate      uint32            `json:"window_update"`
		PriorityFrames    []json.RawMessage `json:"priority_frames"`
		PseudoHeaderOrder []string          `json:"pseudo_header_order"`
		HeadersPriority   *struct {
			StreamID  uint32 `json:"stream_id"`
			Exclusive bool   `json:"exclusive"`
			DependsOn uint32 `json:"depends_on"`
			Weight    int    `json:"weight"`
		} `json:"headers_priority"`
	} `json:"http2"`
}

func http2Server(t *testing.T) *testServer {
	cfg := testConfig(t)
	cfg.http2 = true
	return startServer(t, cfg)
}

func TestHTTP2Flag(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want bool
	}{{nil, true}, {[]string{"--http2"}, true}, {[]string{"--http2=false"}, false}} {
		cfg, err := parseFlags(tc.args, io.Discard)
		if err != nil {
			t.Fatalf("parseFlags(%q): %v", tc.args, err)
		}
		if cfg.http2 != tc.want {
			t.Errorf("parseFlags(%q).http2 = %v, want %v", tc.args, cfg.http2, tc.want)
		}
	}
}

// goH2Client is net/http's client with HTTP/2 allowed.
func goH2Client(t *testing.T) *http.Client {
	tr := &http.Transport{ForceAttemptHTTP2: true, TLSClientConfig: &tls.Config{ //nolint:gosec // test client
		InsecureSkipVerify: true, ServerName: "localhost", NextProtos: []string{"h2", "http/1.1"}}}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: testTimeout}
}

func get(t *testing.T, c *http.Client, url string) (*http.Response, []byte) {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: reading body: %v", url, err)
	}
	return resp, b
}

// The Go client's preface, from Go 1.26's net/http (h2_bundle.go,
// newClientConn): SETTINGS ENABLE_PUSH 0, INITIAL_WINDOW_SIZE
// transportDefaultStreamFlow (4 MiB), MAX_FRAME_SIZE (MaxReadFrameSize 0
// clipped to the minimum, 16384), MAX_HEADER_LIST_SIZE (10 MiB when
// unset); a connection WINDOW_UPDATE of transportDefaultConnFlow (1 GiB);
// no PRIORITY; pseudo-headers as encodeHeaders writes them.
const goAkamai = "2:0;4:4194304;5:16384;6:10485760|1073741824|0|a,m,p,s"

func TestHTTP2GoClient(t *testing.T) {
	s := http2Server(t)
	c := goH2Client(t)
	base := fmt.Sprintf("https://127.0.0.1:%d", s.port)

	resp, body := get(t, c, base+"/json")
	if resp.ProtoMajor != 2 {
		t.Fatalf("response over %s, want HTTP/2", resp.Proto)
	}
	var d h2Doc
	if err := json.Unmarshal(body, &d); err != nil {
		t.Fatalf("/json: %v\n%s", err, body)
	}
	if d.HTTP2 == nil {
		t.Fatalf("no http2 object in /json:\n%s", body)
	}
	h := d.HTTP2
	t.Logf("Go %s: %s %s", "net/http", h.Akamai, h.AkamaiHash)
	if h.Akamai != goAkamai {
		t.Errorf("akamai_fingerprint = %q, want %q", h.Akamai, goAkamai)
	}
	if d.Negotiated.ALPN != "h2" || d.HTTP.Protocol != "HTTP/2.0" {
		t.Errorf("negotiated.alpn %q, http.protocol %q; want h2, HTTP/2.0", d.Negotiated.ALPN, d.HTTP.Protocol)
	}
	wantNames := []string{"ENABLE_PUSH", "INITIAL_WINDOW_SIZE", "MAX_FRAME_SIZE", "MAX_HEADER_LIST_SIZE"}
	var names []string
	for _, st := range h.Settings {
		names = append(names, st.Name)
	}
	if !reflect.DeepEqual(names, wantNames) {
		t.Errorf("setting names %q, want %q", names, wantNames)
	}
	if h.WindowUpdate != 1<<30 || len(h.PriorityFrames) != 0 || h.HeadersPriority != nil {
		t.Errorf("window_update %d, priority_frames %d, headers_priority %v", h.WindowUpdate, len(h.PriorityFrames), h.HeadersPriority)
	}
	if want := []string{":authority", ":method", ":path", ":scheme"}; !reflect.DeepEqual(h.PseudoHeaderOrder, want) {
		t.Errorf("pseudo_header_order %q, want %q", h.PseudoHeaderOrder, want)
	}
	// The header lines start with the pseudo-headers, in the order sent.
	wantFirst := []string{":authority: 127.0.0.1:" + fmt.Sprint(s.port), ":method: GET", ":path: /json", ":scheme: https"}
	if len(d.HTTP.Headers) < 4 || !reflect.DeepEqual(d.HTTP.Headers[:4], wantFirst) {
		t.Errorf("http.headers = %q, want it to start with %q", d.HTTP.Headers, wantFirst)
	}
	akamaiHash := h.AkamaiHash

	t.Run("api", func(t *testing.T) {
		_, b := get(t, c, base+"/api/clean")
		var clean map[string]any
		if err := json.Unmarshal(b, &clean); err != nil {
			t.Fatal(err)
		}
		if clean["akamai"] != goAkamai || clean["akamai_hash"] != akamaiHash {
			t.Errorf("/api/clean akamai %v, akamai_hash %v", clean["akamai"], clean["akamai_hash"])
		}
		_, b = get(t, c, base+"/api/all")
		var all struct {
			HTTP1 json.RawMessage `json:"http1"`
			HTTP2 struct {
				Akamai     string   `json:"akamai_fingerprint"`
				AkamaiHash string   `json:"akamai_fingerprint_hash"`
				Headers    []string `json:"headers"`
			} `json:"http2"`
		}
		if err := json.Unmarshal(b, &all); err != nil {
			t.Fatal(err)
		}
		if all.HTTP2.Akamai != goAkamai || all.HTTP2.AkamaiHash != akamaiHash || all.HTTP1 != nil ||
			len(all.HTTP2.Headers) == 0 || all.HTTP2.Headers[0] != wantFirst[0] {
			t.Errorf("/api/all: %s", b)
		}
	})

	t.Run("page", func(t *testing.T) {
		_, b := get(t, c, base+"/")
		for _, want := range []string{
			`data-fp="akamai_fingerprint">` + goAkamai + `</pre>`,
			`data-fp="akamai_fingerprint_hash">` + akamaiHash + `</code>`,
			`<code id="http2-window-update">1073741824</code>`,
			`<code id="http2-pseudo-header-order">:authority :method :path :scheme</code>`,
		} {
			if !bytes.Contains(b, []byte(want)) {
				t.Errorf("page lacks %s", want)
			}
		}
	})

	t.Run("log", func(t *testing.T) {
		if err := s.stop(); err != nil {
			t.Fatal(err)
		}
		raw, err := os.ReadFile(s.logPath)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, line := range bytes.Split(bytes.TrimSpace(raw), []byte("\n")) {
			var l struct {
				AkamaiHash string `json:"akamai_hash"`
			}
			if err := json.Unmarshal(line, &l); err != nil {
				t.Fatalf("log line %s: %v", line, err)
			}
			if l.AkamaiHash != akamaiHash {
				t.Errorf("log line has akamai_hash %q, want %q: %s", l.AkamaiHash, akamaiHash, line)
			}
			n++
		}
		if n != 4 {
			t.Errorf("%d log lines, want 4 (one per request)", n)
		}
	})
}

// curlH2 runs curl --http2 against url and returns the body.
func curlH2(t *testing.T, url string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, "curl", "-sSk", "--http2", url).Output()
	if err != nil {
		t.Fatalf("curl --http2 %s: %v", url, err)
	}
	return out
}

func needCurlHTTP2(t *testing.T) {
	t.Helper()
	needTool(t, "curl")
	out, err := exec.Command("curl", "-V").Output()
	if err != nil {
		t.Fatalf("curl -V: %v", err)
	}
	if !regexp.MustCompile(`(?m)^Features:.* HTTP2( |$)`).Match(out) {
		t.Skipf("curl has no HTTP2 feature:\n%s", out)
	}
}

// akamaiShape is the format: SETTINGS | WINDOW_UPDATE | PRIORITY | order.
var akamaiShape = regexp.MustCompile(`^(\d+:\d+(;\d+:\d+)*)?\|(00|[1-9]\d*)\|(0|\d+:[01]:\d+:\d+(,\d+:[01]:\d+:\d+)*)\|([a-z](,[a-z])*)$`)

func TestHTTP2Curl(t *testing.T) {
	needCurlHTTP2(t)
	t.Run("http2", func(t *testing.T) {
		s := http2Server(t)
		body := curlH2(t, fmt.Sprintf("https://127.0.0.1:%d/json", s.port))
		var d h2Doc
		if err := json.Unmarshal(body, &d); err != nil || d.HTTP2 == nil {
			t.Fatalf("/json over curl --http2 (err %v):\n%s", err, body)
		}
		t.Logf("curl: %s %s", d.HTTP2.Akamai, d.HTTP2.AkamaiHash)
		if !akamaiShape.MatchString(d.HTTP2.Akamai) {
			t.Errorf("akamai_fingerprint %q does not have the format", d.HTTP2.Akamai)
		}
		// curl (lib/http2.c) writes :method, :path, :scheme, :authority.
		if parts := strings.Split(d.HTTP2.Akamai, "|"); parts[len(parts)-1] != "m,p,s,a" {
			t.Errorf("pseudo-header order %q, want curl's m,p,s,a", parts[len(parts)-1])
		}
		if d.Negotiated.ALPN != "h2" {
			t.Errorf("negotiated.alpn %q", d.Negotiated.ALPN)
		}
	})
	t.Run("http2=false", func(t *testing.T) {
		cfg := testConfig(t)
		cfg.http2 = false
		s := startServer(t, cfg)
		body := curlH2(t, fmt.Sprintf("https://127.0.0.1:%d/json", s.port))
		var d map[string]json.RawMessage
		if err := json.Unmarshal(body, &d); err != nil {
			t.Fatalf("/json: %v\n%s", err, body)
		}
		if _, ok := d["http2"]; ok {
			t.Errorf("/json has an http2 key with --http2=false:\n%s", body)
		}
		var n struct {
			ALPN string `json:"alpn"`
		}
		if err := json.Unmarshal(d["negotiated"], &n); err != nil || n.ALPN != "http/1.1" {
			t.Errorf("negotiated %s, want alpn http/1.1", d["negotiated"])
		}
	})
}

// A client that offers only h2 still gets an answer over h2 with --http2.
func TestHTTP2OnlyClient(t *testing.T) {
	s := http2Server(t)
	tr := &http.Transport{ForceAttemptHTTP2: true, TLSClientConfig: &tls.Config{ //nolint:gosec // test client
		InsecureSkipVerify: true, ServerName: "localhost", NextProtos: []string{"h2"}}}
	defer tr.CloseIdleConnections()
	resp, _ := get(t, &http.Client{Transport: tr, Timeout: testTimeout}, fmt.Sprintf("https://127.0.0.1:%d/robots.txt", s.port))
	if resp.ProtoMajor != 2 || resp.StatusCode != 200 {
		t.Errorf("%s %d, want HTTP/2 200", resp.Proto, resp.StatusCode)
	}
}

// rawH2Get sends a GET with the given header fields in one HEADERS frame
// (pseudo-headers too, however odd) and returns the response body, or the
// GOAWAY error code if the server refused the request.
func rawH2Get(t *testing.T, addr string, fields []hpack.HeaderField) ([]byte, *http2.ErrCode) {
	t.Helper()
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: testTimeout}, "tcp", addr, &tls.Config{ //nolint:gosec // test client
		InsecureSkipVerify: true, ServerName: "localhost", NextProtos: []string{"h2"}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(testTimeout))
	var out bytes.Buffer
	fr := http2.NewFramer(&out, c)
	fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	out.WriteString(http2.ClientPreface)
	fr.WriteSettings()
	var block bytes.Buffer
	enc := hpack.NewEncoder(&block)
	for _, f := range fields {
		enc.WriteField(f)
	}
	fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: block.Bytes(), EndStream: true, EndHeaders: true})
	if _, err := c.Write(out.Bytes()); err != nil {
		t.Fatal(err)
	}
	var body []byte
	for {
		f, err := fr.ReadFrame()
		if err != nil {
			t.Fatalf("reading the response: %v", err)
		}
		switch f := f.(type) {
		case *http2.DataFrame:
			body = append(body, f.Data()...)
			if f.StreamEnded() {
				return body, nil
			}
		case *http2.GoAwayFrame:
			if f.ErrCode != http2.ErrCodeNo {
				code := f.ErrCode
				return nil, &code
			}
		}
	}
}

// Pseudo-header names reach the fingerprint and the page, but only the
// ones RFC 9113 (and RFC 8441's :protocol) define get that far: the frame
// reader refuses any other, so a payload cannot ride in on one.
func TestHTTP2UnknownPseudoHeader(t *testing.T) {
	s := http2Server(t)
	_, code := rawH2Get(t, s.addr, []hpack.HeaderField{
		{Name: ":method", Value: "GET"}, {Name: ":path", Value: "/"}, {Name: ":<img src=x>", Value: "v"}, {Name: ":scheme", Value: "https"},
	})
	if code == nil || *code != http2.ErrCodeProtocol {
		t.Errorf("GOAWAY code %v, want PROTOCOL_ERROR", code)
	}
}

// A raw client's chosen preface comes back in /json exactly.
func TestHTTP2RawPreface(t *testing.T) {
	s := http2Server(t)
	body, code := rawH2Get(t, s.addr, []hpack.HeaderField{
		{Name: ":method", Value: "GET"}, {Name: ":scheme", Value: "https"}, {Name: ":path", Value: "/json"},
		{Name: ":authority", Value: "localhost"}, {Name: "user-agent", Value: "raw-h2"},
	})
	if code != nil {
		t.Fatalf("GOAWAY %v", *code)
	}
	var d h2Doc
	if err := json.Unmarshal(body, &d); err != nil || d.HTTP2 == nil {
		t.Fatalf("/json (err %v):\n%s", err, body)
	}
	// An empty SETTINGS frame, no WINDOW_UPDATE, no PRIORITY.
	if want := "|00|0|m,s,p,a"; d.HTTP2.Akamai != want {
		t.Errorf("akamai_fingerprint %q, want %q", d.HTTP2.Akamai, want)
	}
	if d.HTTP2.Settings == nil || len(d.HTTP2.Settings) != 0 || d.HTTP2.PriorityFrames == nil {
		t.Errorf("settings %v, priority_frames %v: want empty lists", d.HTTP2.Settings, d.HTTP2.PriorityFrames)
	}
}

// chromeAkamai is Chrome's fingerprint as tls.peet.ws and browserleaks
// publish it (Chrome 106 onwards).
const chromeAkamai = "1:65536;2:0;4:6291456;6:262144|15663105|0|m,a,s,p"

func TestHTTP2Chromium(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skipf("%s is not installed: %v", chromiumPath, err)
	}
	s := http2Server(t)
	jsonDOM := parseDOM(t, runChromium(t, "--dump-dom", fmt.Sprintf("https://127.0.0.1:%d/json", s.port)))
	pres := jsonDOM.elements("pre")
	if len(pres) == 0 {
		t.Fatal("no <pre> in Chromium's rendering of /json")
	}
	var d h2Doc
	if err := json.Unmarshal([]byte(nodeText(pres[0])), &d); err != nil || d.HTTP2 == nil {
		t.Fatalf("/json in Chromium (err %v):\n%s", err, nodeText(pres[0]))
	}
	t.Logf("Chromium %s: %s %s, HEADERS priority %+v", chromiumMajor(t), d.HTTP2.Akamai, d.HTTP2.AkamaiHash, d.HTTP2.HeadersPriority)
	if d.HTTP2.Akamai != chromeAkamai {
		t.Errorf("akamai_fingerprint %q, want Chrome's published %q", d.HTTP2.Akamai, chromeAkamai)
	}
}

// TestHTTP2EchoSettingsCap: a client can send ~2,700 settings in one frame;
// the echo lists the first fingerprint.MaxEchoList and says it cut, while
// the fingerprint string keeps every pair.
func TestHTTP2EchoSettingsCap(t *testing.T) {
	const sent = 300
	h := &fingerprint.HTTP2{PseudoHeaders: []string{":method"}}
	for i := range sent {
		h.Settings = append(h.Settings, fingerprint.HTTP2Setting{ID: uint16(100 + i), Value: uint32(i)})
	}
	e := newHTTP2Echo(&tlsconn.Info{HTTP2: h})
	if len(e.Settings) != 256 || !e.SettingsTruncated {
		t.Errorf("echo has %d settings, truncated %v; want 256, true", len(e.Settings), e.SettingsTruncated)
	}
	if last := e.Settings[255]; last.ID != 355 || last.Value != 255 {
		t.Errorf("last echoed setting = %+v, want id 355 value 255", last)
	}
	settings, _, _ := strings.Cut(e.AkamaiFingerprint, "|")
	if n := strings.Count(settings, ";") + 1; n != sent || !strings.HasSuffix(settings, ";399:299") {
		t.Errorf("fingerprint has %d settings ending %q, want %d ending 399:299", n, settings[max(0, len(settings)-12):], sent)
	}
	small := newHTTP2Echo(&tlsconn.Info{HTTP2: &fingerprint.HTTP2{Settings: h.Settings[:3]}})
	if len(small.Settings) != 3 || small.SettingsTruncated {
		t.Errorf("3 settings echoed as %d, truncated %v", len(small.Settings), small.SettingsTruncated)
	}
}

// TestPriorityText: the page's PRIORITY line is the fingerprint's third
// part, spaced; old Firefox's published frames as the example.
func TestPriorityText(t *testing.T) {
	for _, tc := range []struct{ akamai, want string }{
		{"1:65536;4:131072;5:16384|12517377|3:0:0:201,5:0:0:101,13:0:0:241|m,p,a,s", "3:0:0:201, 5:0:0:101, 13:0:0:241"},
		{"1:65536;2:0;4:6291456;6:262144|15663105|0|m,a,s,p", "no PRIORITY frames"},
		{"", "no PRIORITY frames"},
	} {
		if got := priorityText(tc.akamai); got != tc.want {
			t.Errorf("priorityText(%q) = %q, want %q", tc.akamai, got, tc.want)
		}
	}
}
