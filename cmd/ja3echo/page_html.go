package main

import (
	"bytes"
	"html/template"
	"strconv"
)

// htmlBuilder writes the page's long, repetitive parts (the fingerprint
// cards, the code point tables, the extensions, the headers) in plain Go,
// between page.html's templates and into the same buffer. Through
// html/template each value of each row costs a reflective field lookup, a
// reflective call of the escaper and a few allocations: over a thousand
// evaluations for a browser's hello, about 1 ms, more CPU than the TLS
// handshake itself.
//
// What it writes reaches the client as it is, so this file is the page's
// escaping boundary. Its invariant, which every method keeps and every
// caller must too:
//
//   - markup (tags, attribute names and attribute values) is only ever a
//     markup value, and markup values are constants written in this
//     package's source: never convert anything from the connection (or
//     any other variable) to markup;
//   - every other string goes through text, which escapes it with
//     template.HTMLEscapeString, and numbers through int or hex; both only
//     ever land in element content (never inside an attribute, a URL, a
//     <script> or a <style>), the one context that escaping covers;
//   - nothing in the package makes a template.HTML (or another type that
//     html/template inserts unescaped), so the templates escape every value
//     they print.
//
// page_test.go's XSS tests send payloads through every client-controlled
// field shown in these tables.
type htmlBuilder struct {
	buf *bytes.Buffer // the response body; page.go runs the templates into it too
}

// markup is constant HTML: see the invariant above.
type markup string

// tag writes constant markup.
func (b *htmlBuilder) tag(m markup) { b.buf.WriteString(string(m)) }

// text writes s escaped, as element content.
func (b *htmlBuilder) text(s string) { b.buf.WriteString(template.HTMLEscapeString(s)) }

// int writes n in decimal.
func (b *htmlBuilder) int(n int) {
	var d [20]byte
	b.buf.Write(strconv.AppendInt(d[:0], int64(n), 10))
}

// hex writes v as 0x and digits (2 or 4) lowercase hex digits.
func (b *htmlBuilder) hex(v uint16, digits int) {
	const hexDigits = "0123456789abcdef"
	b.buf.WriteString("0x")
	for shift := 4 * (digits - 1); shift >= 0; shift -= 4 {
		b.buf.WriteByte(hexDigits[v>>shift&0xf])
	}
}
