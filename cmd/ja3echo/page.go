package main

import (
	"bytes"
	_ "embed"
	"html/template"
	"net/http"

	"github.com/ja3sentry/ja3echo/tlsconn"
)

//go:embed page.html
var pageSource string

// pageTemplate is html/template, so everything the client controls (UA,
// SNI, ALPN) is escaped in context.
var pageTemplate = template.Must(template.New("page").Parse(pageSource))

func (a *app) page(e *echo) tlsconn.Response {
	var b bytes.Buffer
	if err := pageTemplate.Execute(&b, e); err != nil {
		return text(http.StatusInternalServerError, "500 cannot render page\n")
	}
	return tlsconn.Response{
		Status: http.StatusOK,
		Header: http.Header{
			"Content-Type":            {"text/html; charset=utf-8"},
			"Content-Security-Policy": {"default-src 'none'; style-src 'unsafe-inline'"},
			"X-Content-Type-Options":  {"nosniff"},
		},
		Body: b.Bytes(),
	}
}
