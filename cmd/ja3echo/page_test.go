package main

// Tests of the HTML page (GET /) without a browser: its structure, its
// Content-Security-Policy, the stable ids of the fingerprints, and escaping
// of everything the client controls. browser_test.go renders it in Chromium.

import (
	"bytes"
	"crypto/md5"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	utls "github.com/refraction-networking/utls"
	"golang.org/x/net/html"
)

// fpKeys are the JSON keys of the fingerprints. The page must show each in
// an element with data-fp="<key>" and id "<key with dashes>".
var fpKeys = []string{"ja3_hash", "ja3", "ja3n_hash", "ja3n", "ja4", "ja4_r", "ja4_o", "ja4_ro", "peetprint_hash", "peetprint"}

// voidElements may not have an end tag (HTML Living Standard, 13.1.2).
var voidElements = map[string]bool{
	"area": true, "base": true, "br": true, "col": true, "embed": true, "hr": true, "img": true,
	"input": true, "link": true, "meta": true, "source": true, "track": true, "wbr": true,
}

// pageDoc is what checkHTML learned from a page.
type pageDoc struct {
	text    map[string]string // element id -> its text content
	dataFP  map[string]string // data-fp value -> id of that element
	styles  []string          // inline <style> contents
	scripts []string          // inline <script> contents
}

// checkHTML tokenizes body and reports every structural fault: a non-void
// element without its end tag or closed out of order, a self-closed non-void
// element, a duplicate id, an external URL in src or href, a style or event
// handler attribute (the CSP blocks both), a script with src.
func checkHTML(t *testing.T, body []byte) *pageDoc {
	t.Helper()
	doc := &pageDoc{text: map[string]string{}, dataFP: map[string]string{}}
	type open struct{ name, id string }
	var stack []open
	z := html.NewTokenizer(bytes.NewReader(body))
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			if !errors.Is(z.Err(), io.EOF) {
				t.Errorf("tokenizer: %v", z.Err())
			}
			break
		}
		tok := z.Token()
		switch tt {
		case html.StartTagToken, html.SelfClosingTagToken:
			var id string
			for _, a := range tok.Attr {
				switch {
				case a.Key == "id":
					if _, dup := doc.text[a.Val]; dup {
						t.Errorf("duplicate id %q", a.Val)
					}
					id = a.Val
					doc.text[id] = ""
				case a.Key == "data-fp":
					doc.dataFP[a.Val] = attr(tok, "id")
				case a.Key == "src" || a.Key == "href":
					if !localURL(a.Val) {
						t.Errorf("<%s %s=%q>: not a same-origin relative URL", tok.Data, a.Key, a.Val)
					}
				case a.Key == "style" || strings.HasPrefix(a.Key, "on"):
					t.Errorf("<%s %s=...>: inline attribute the CSP blocks", tok.Data, a.Key)
				}
			}
			if tok.Data == "script" && attr(tok, "src") != "" {
				t.Errorf("external script %q", attr(tok, "src"))
			}
			if voidElements[tok.Data] {
				continue
			}
			if tt == html.SelfClosingTagToken {
				t.Errorf("<%s/>: self-closing syntax on a non-void element", tok.Data)
				continue
			}
			stack = append(stack, open{tok.Data, id})
		case html.EndTagToken:
			if voidElements[tok.Data] {
				t.Errorf("</%s>: end tag of a void element", tok.Data)
				continue
			}
			if len(stack) == 0 || stack[len(stack)-1].name != tok.Data {
				t.Errorf("</%s> does not close the innermost open element (open: %v)", tok.Data, stack)
				continue
			}
			stack = stack[:len(stack)-1]
		case html.TextToken:
			for _, o := range stack {
				if o.id != "" {
					doc.text[o.id] += tok.Data
				}
			}
			if n := len(stack); n > 0 {
				switch stack[n-1].name {
				case "style":
					doc.styles = append(doc.styles, tok.Data)
				case "script":
					doc.scripts = append(doc.scripts, tok.Data)
				}
			}
		}
	}
	if len(stack) != 0 {
		t.Errorf("elements left open at the end: %v", stack)
	}
	return doc
}

func attr(tok html.Token, key string) string {
	for _, a := range tok.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

// localURL accepts what the page may link: a path on this origin, a
// fragment, or the empty data: favicon (no request at all).
func localURL(u string) bool {
	switch {
	case strings.HasPrefix(u, "//"):
		return false // scheme-relative: another host
	case strings.HasPrefix(u, "/"), strings.HasPrefix(u, "#"), u == "data:,":
		return true
	}
	return false
}

// cspSources parses a policy into directive -> source list.
func cspSources(policy string) map[string][]string {
	m := map[string][]string{}
	for _, d := range strings.Split(policy, ";") {
		f := strings.Fields(d)
		if len(f) > 0 {
			m[f[0]] = f[1:]
		}
	}
	return m
}

func sha256Source(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}

// checkCSP verifies the policy of a page response: nothing by default, and
// exactly the page's inline style and script allowed by their hashes.
func checkCSP(t *testing.T, resp *http.Response, doc *pageDoc) {
	t.Helper()
	policy := resp.Header.Get("Content-Security-Policy")
	if policy == "" {
		t.Fatal("no Content-Security-Policy header")
	}
	csp := cspSources(policy)
	want := map[string][]string{
		"default-src":     {"'none'"},
		"base-uri":        {"'none'"},
		"form-action":     {"'none'"},
		"frame-ancestors": {"'none'"},
	}
	for d, srcs := range want {
		if strings.Join(csp[d], " ") != strings.Join(srcs, " ") {
			t.Errorf("CSP %s = %v, want %v (policy %q)", d, csp[d], srcs, policy)
		}
	}
	if len(doc.styles) != 1 || len(doc.scripts) != 1 {
		t.Fatalf("%d inline styles and %d inline scripts, want 1 each", len(doc.styles), len(doc.scripts))
	}
	for _, c := range []struct{ directive, content string }{{"style-src", doc.styles[0]}, {"script-src", doc.scripts[0]}} {
		want := []string{sha256Source(c.content)}
		if strings.Join(csp[c.directive], " ") != strings.Join(want, " ") {
			t.Errorf("CSP %s = %v, want exactly the hash of the inline block %v", c.directive, csp[c.directive], want)
		}
	}
	if strings.Contains(policy, "unsafe") {
		t.Errorf("CSP allows something unsafe: %q", policy)
	}
}

// checkFingerprintIDs verifies that every fingerprint key has its element,
// with the id derived from the key, and returns the values shown.
func checkFingerprintIDs(t *testing.T, doc *pageDoc) map[string]string {
	t.Helper()
	shown := map[string]string{}
	for _, k := range fpKeys {
		id, ok := doc.dataFP[k]
		if !ok {
			t.Errorf("no element with data-fp=%q", k)
			continue
		}
		if want := strings.ReplaceAll(k, "_", "-"); id != want {
			t.Errorf("data-fp=%q has id %q, want %q", k, id, want)
		}
		shown[k] = doc.text[id]
	}
	return shown
}

// ja4Shape is JA4's a_b_c layout (FoxIO spec): 10 characters, then two
// 12-hex-digit truncated SHA-256s.
var ja4Shape = regexp.MustCompile(`^[tqd][0-9s]{2}[di][0-9]{4}[0-9a-z]{2}_[0-9a-f]{12}_[0-9a-f]{12}$`)

func TestPageHTMLStructure(t *testing.T) {
	srv := startServer(t, nil)
	resp, body := tlsRequest(t, srv.addr, http.MethodGet, getRequest("/"))
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("status %d, Content-Type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if !bytes.HasPrefix(body, []byte("<!DOCTYPE html>")) {
		t.Errorf("the page does not start with the doctype: %q", body[:min(len(body), 40)])
	}
	doc := checkHTML(t, body)
	checkCSP(t, resp, doc)
	shown := checkFingerprintIDs(t, doc)

	// The values shown are those of /json for the same client; JA3 is
	// compared too, since Go's client sends its extensions in a fixed order.
	_, jbody := tlsRequest(t, srv.addr, http.MethodGet, getRequest("/json"))
	var j map[string]any
	if err := json.Unmarshal(jbody, &j); err != nil {
		t.Fatalf("/json: %v", err)
	}
	for _, k := range fpKeys {
		if shown[k] == "" || shown[k] != j[k] {
			t.Errorf("%s on the page = %q, /json has %v", k, shown[k], j[k])
		}
	}
	// Each hash belongs to the string shown next to it.
	for _, p := range [][2]string{{"ja3_hash", "ja3"}, {"ja3n_hash", "ja3n"}, {"peetprint_hash", "peetprint"}} {
		sum := md5.Sum([]byte(shown[p[1]]))
		if got := hex.EncodeToString(sum[:]); shown[p[0]] != got {
			t.Errorf("%s = %q, but the MD5 of the %s shown is %s", p[0], shown[p[0]], p[1], got)
		}
	}
	for _, k := range []string{"ja4", "ja4_o"} {
		if !ja4Shape.MatchString(shown[k]) {
			t.Errorf("%s = %q is not shaped like JA4", k, shown[k])
		}
	}

	// The tables and links the issue asks for.
	for _, id := range []string{"browser", "user-agent", "chrome-note", "clienthello", "versions", "ciphers",
		"extensions", "groups", "key-shares", "sigalgs", "sni", "alpn", "negotiated", "neg-version", "neg-cipher",
		"headers", "request-line", "api"} {
		if _, ok := doc.text[id]; !ok {
			t.Errorf("no element with id %q", id)
		}
	}
	for _, l := range []string{`href="/json"`, `href="/api/all"`, `href="/api/clean"`, `href="/api/tls"`, `href="/api/raw"`} {
		if !bytes.Contains(body, []byte(l)) {
			t.Errorf("no link %s", l)
		}
	}
	// Go's client offers TLS_AES_128_GCM_SHA256 (0x1301) and sends SNI
	// "localhost" (clientTLS); both must be named, with the hex id.
	if !strings.Contains(doc.text["ciphers"], "0x1301") || !strings.Contains(doc.text["ciphers"], "TLS_AES_128_GCM_SHA256") {
		t.Errorf("cipher table lacks 0x1301 TLS_AES_128_GCM_SHA256:\n%s", doc.text["ciphers"])
	}
	if strings.TrimSpace(doc.text["sni"]) != "localhost" {
		t.Errorf("SNI shown = %q, want localhost", doc.text["sni"])
	}
	if !strings.Contains(doc.text["neg-version"], "TLS 1.3") {
		t.Errorf("negotiated version = %q, want TLS 1.3", doc.text["neg-version"])
	}
	// Headers in wire order: Host first, then what getRequest added.
	if h := doc.text["headers"]; !strings.Contains(h, "Host") || strings.Index(h, "Host") > strings.Index(h, "Connection") {
		t.Errorf("headers not in the order sent:\n%s", h)
	}
}

// TestPageHTMLWithoutHello renders the page for a connection whose hello did
// not parse: the error is shown, no fingerprint or hello section, and the
// markup is still well formed.
func TestPageHTMLWithoutHello(t *testing.T) {
	resp := (&app{}).page(&echo{Error: "fingerprint: <malformed> & truncated"})
	if resp.Status != http.StatusOK {
		t.Fatalf("status %d: %s", resp.Status, resp.Body)
	}
	doc := checkHTML(t, resp.Body)
	if got := doc.text["error"]; !strings.Contains(got, "fingerprint: <malformed> & truncated") {
		t.Errorf("error shown as %q", got)
	}
	for _, id := range []string{"fingerprints", "clienthello", "ja3-hash"} {
		if _, ok := doc.text[id]; ok {
			t.Errorf("element %q shown without a fingerprint", id)
		}
	}
	if !bytes.Contains(resp.Body, []byte("&lt;malformed&gt; &amp; truncated")) {
		t.Errorf("error text not escaped:\n%s", resp.Body)
	}
}

// The XSS payloads, one per field, so that each escape is checked on its own.
const (
	xssUA        = "<script>alert(1)</script>"
	xssSNI       = "<script>alert(2)</script>"
	xssALPN      = "<script>alert(3)</script>"
	xssHeader    = "<script>alert(4)</script>"
	xssLang      = "<script>alert(5)</script>"
	xssQuery     = "<script>alert(6)</script>"
	xssALPS      = "<script>alert(7)</script>"
	xssExtension = "<script>alert(8)</script>"
)

// escaped is how html/template writes s in text (the test's own spelling,
// not the package's escaper).
func escaped(s string) string {
	return strings.NewReplacer("<", "&lt;", ">", "&gt;").Replace(s)
}

// checkNoScript asserts that no payload appears raw, that each appears
// escaped (or in hex, for bytes shown as hex), and that the page's only
// script element is its own.
func checkNoScript(t *testing.T, body []byte, escapedText, hexBytes []string) {
	t.Helper()
	if bytes.Contains(bytes.ToLower(body), []byte("<script>alert")) {
		t.Errorf("a payload reached the page unescaped:\n%s", body)
	}
	for _, p := range escapedText {
		if !bytes.Contains(body, []byte(escaped(p))) {
			t.Errorf("escaped %q not on the page", p)
		}
	}
	for _, p := range hexBytes {
		if !bytes.Contains(body, []byte(hex.EncodeToString([]byte(p)))) {
			t.Errorf("hex of %q not on the page", p)
		}
	}
	doc := checkHTML(t, body)
	if len(doc.scripts) != 1 {
		t.Errorf("%d script elements, want only the page's own", len(doc.scripts))
	}
}

func TestPageXSS(t *testing.T) {
	srv := startServer(t, nil)

	// crypto/tls sends any ServerName that is not an IP literal as SNI
	// (it strips a trailing dot, nothing else), and any ALPN string; the
	// server's crypto/tls accepts both (it only refuses a trailing dot).
	t.Run("UA, SNI, ALPN, headers, query via crypto/tls", func(t *testing.T) {
		cfg := &tls.Config{InsecureSkipVerify: true, ServerName: xssSNI, NextProtos: []string{xssALPN, "http/1.1"}} //nolint:gosec // test client
		c, err := tls.DialWithDialer(&net.Dialer{Timeout: testTimeout}, "tcp", srv.addr, cfg)
		if err != nil {
			t.Fatalf("dial: %v", err)
		}
		defer c.Close()
		req := "GET /?q=" + xssQuery + " HTTP/1.1\r\nHost: localhost\r\nUser-Agent: " + xssUA +
			"\r\nX-Test: " + xssHeader + "\r\nAccept-Language: " + xssLang + "\r\nConnection: close\r\n\r\n"
		resp, body := roundTrip(t, c, http.MethodGet, req)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d: %s", resp.StatusCode, body)
		}
		checkNoScript(t, body, []string{xssUA, xssSNI, xssALPN, xssHeader, xssLang, xssQuery}, nil)
	})

	// uTLS puts bytes crypto/tls will not: ALPS (decoded, so shown as
	// text) and an unknown extension (shown as hex).
	t.Run("ALPS and unknown extension via uTLS", func(t *testing.T) {
		raw, err := net.DialTimeout("tcp", srv.addr, testTimeout)
		if err != nil {
			t.Fatal(err)
		}
		defer raw.Close()
		_ = raw.SetDeadline(time.Now().Add(testTimeout))
		uc := utls.UClient(raw, &utls.Config{ServerName: "localhost", InsecureSkipVerify: true}, utls.HelloCustom) //nolint:gosec // test client
		spec := &utls.ClientHelloSpec{
			CipherSuites:       []uint16{utls.TLS_AES_128_GCM_SHA256, utls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256},
			CompressionMethods: []uint8{0},
			Extensions: []utls.TLSExtension{
				&utls.SNIExtension{},
				&utls.SupportedCurvesExtension{Curves: []utls.CurveID{utls.X25519, utls.CurveP256}},
				&utls.SupportedPointsExtension{SupportedPoints: []byte{0}},
				&utls.SignatureAlgorithmsExtension{SupportedSignatureAlgorithms: []utls.SignatureScheme{utls.ECDSAWithP256AndSHA256, utls.PSSWithSHA256}},
				&utls.ALPNExtension{AlpnProtocols: []string{"http/1.1"}},
				&utls.ApplicationSettingsExtension{SupportedProtocols: []string{xssALPS}},
				&utls.GenericExtension{Id: 0x7e7e, Data: []byte(xssExtension)},
				&utls.SupportedVersionsExtension{Versions: []uint16{utls.VersionTLS13, utls.VersionTLS12}},
				&utls.KeyShareExtension{KeyShares: []utls.KeyShare{{Group: utls.X25519}}},
				&utls.PSKKeyExchangeModesExtension{Modes: []uint8{utls.PskModeDHE}},
			},
		}
		if err := uc.ApplyPreset(spec); err != nil {
			t.Fatalf("uTLS preset: %v", err)
		}
		if err := uc.Handshake(); err != nil {
			t.Fatalf("uTLS handshake: %v", err)
		}
		resp, body := roundTrip(t, uc, http.MethodGet, getRequest("/"))
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d: %s", resp.StatusCode, body)
		}
		checkNoScript(t, body, []string{xssALPS}, []string{xssExtension})
	})
}
