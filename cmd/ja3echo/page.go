package main

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"html/template"
	"net/http"
	"strings"

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
// headers, SNI, ALPN) is escaped in context.
var pageTemplate = template.Must(template.New("page").Parse(pageSource))

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

func (a *app) page(e *echo) tlsconn.Response {
	v := newPageView(e)
	// One allocation for the whole page: the shell with its CSS and script,
	// the tables, and room for the few values the template prints (the
	// User-Agent is capped by tlsconn's header limit).
	b := bytes.NewBuffer(make([]byte, 0, len(pageSource)+len(pageCSS)+len(pageJS)+v.size+4<<10))
	if err := pageTemplate.Execute(b, v); err != nil {
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
		Body: b.Bytes(),
	}
}
