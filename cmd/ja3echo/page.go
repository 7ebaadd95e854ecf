package main

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"html/template"
	"net/http"
	"strings"
	"sync"

	"github.com/ja3sentry/ja3echo/tlsconn"
)

// The page is one self-contained HTML response: the CSS and the script are
// inline, and the Content-Security-Policy allows exactly those two blocks by
// their SHA-256, so nothing else can run or load even if escaping failed.

//go:embed page.html
var pageSource string

//go:embed page.css
var pageCSS string

//go:embed page.js
var pageJS string

// pageTemplate is html/template, so everything the client controls (UA,
// request line) is escaped in context. page.html defines the parts of the
// page; page writes them in order with htmlBuilder's parts between them.
var pageTemplate = template.Must(template.New("page").Parse(pageSource))

// The parts that print nothing are rendered once, here.
var (
	pagePrints    = staticPart("prints")
	pagePrintsEnd = staticPart("prints-end")
	pageHello     = staticPart("hello")
	pageHelloEnd  = staticPart("hello-end")
)

func staticPart(name string) string {
	var b strings.Builder
	if err := pageTemplate.ExecuteTemplate(&b, name, nil); err != nil {
		panic("page: " + err.Error())
	}
	return b.String()
}

// pageCSP allows the inline style and script by hash. It is computed from
// the embedded files, which the template inserts byte for byte, so the two
// cannot drift apart. Style attributes and event handler attributes stay
// blocked, which is why page.html has none.
var pageCSP = newPageCSP(pageCSS, pageJS)

func newPageCSP(css, js string) string {
	for _, s := range []string{css, js} {
		// The raw text must not be able to end its element early: the
		// template inserts it unescaped so that its hash stays valid.
		if l := strings.ToLower(s); strings.Contains(l, "</style") || strings.Contains(l, "</script") || strings.Contains(l, "<!--") {
			panic("page: inline CSS or JS contains an end tag")
		}
	}
	return "default-src 'none'; style-src " + cspHash(css) + "; script-src " + cspHash(js) +
		"; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
}

// cspHash is the CSP source expression matching an inline element's text.
func cspHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}

// pageBufs holds page buffers between responses: a page is ~25 KB, and a
// fresh buffer each time was a third of the bytes a connection allocated.
var pageBufs = sync.Pool{New: func() any { return bytes.NewBuffer(make([]byte, 0, 32<<10)) }}

// maxPooledPage keeps a rare huge page (a hello with thousands of entries,
// a 64 KB header block) from pinning its buffer in the pool.
const maxPooledPage = 256 << 10

func (a *app) page(e *echo) tlsconn.Response {
	buf := pageBufs.Get().(*bytes.Buffer)
	buf.Reset()
	release := func() {
		if buf.Cap() <= maxPooledPage {
			pageBufs.Put(buf)
		}
	}
	if err := renderPage(buf, e); err != nil {
		release()
		return text(http.StatusInternalServerError, "500 cannot render page\n")
	}
	return tlsconn.Response{
		Status: http.StatusOK,
		Header: http.Header{
			"Content-Type":            {"text/html; charset=utf-8"},
			"Content-Security-Policy": {pageCSP},
			"X-Content-Type-Options":  {"nosniff"},
			"Referrer-Policy":         {"no-referrer"},
			// The page describes one connection; a cached copy would show
			// someone else's (or an older) ClientHello.
			"Cache-Control": {"no-store"},
		},
		Body: buf.Bytes(),
		Done: release, // tlsconn has copied the body out
	}
}

// renderPage writes the page for e into buf: the templates of page.html in
// order, with the parts htmlBuilder writes between them.
func renderPage(buf *bytes.Buffer, e *echo) error {
	v := newPageView(e)
	b := &htmlBuilder{buf: buf}
	if err := pageTemplate.ExecuteTemplate(buf, "head", v); err != nil {
		return err
	}
	if e.JA3 != "" {
		buf.WriteString(pagePrints)
		writeFingerprints(b, e.Fingerprints)
		if e.HTTP2 != nil {
			writeHTTP2(b, e.HTTP2) // page_h2.go
		}
		buf.WriteString(pagePrintsEnd)
	}
	if e.TLS != nil {
		buf.WriteString(pageHello)
		writeHello(b, e.TLS, e.Negotiated, e.RemoteAddr)
		buf.WriteString(pageHelloEnd)
	}
	if err := pageTemplate.ExecuteTemplate(buf, "request", v); err != nil {
		return err
	}
	writeHeaders(b, e.HTTP.Headers)
	return pageTemplate.ExecuteTemplate(buf, "tail", v)
}
