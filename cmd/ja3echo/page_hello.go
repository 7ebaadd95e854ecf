package main

import "github.com/ja3sentry/ja3echo/fingerprint"

// The ClientHello section of the page, written with htmlBuilder (see the
// invariant in page_html.go): constant markup, escaped element content.

// writeHello writes the ClientHello section: what the client sent, what
// the server chose, and the tables.
func writeHello(b *htmlBuilder, t *fingerprint.TLS, neg negotiated, remote string) {
	var pointFormats, pskModes []fingerprint.CodePoint
	var keyShares [][]fingerprint.KeyShareEntry // one list per key_share extension
	for _, e := range t.Extensions {
		switch d := e.Data.(type) {
		case *fingerprint.PointFormatsData:
			pointFormats = d.Formats
		case *fingerprint.PSKModesData:
			pskModes = d.Modes
		case *fingerprint.KeyShareData:
			keyShares = append(keyShares, d.Entries)
		}
	}
	rawLen := len(t.RawHex) / 2

	b.tag("<div class=\"grid\">\n<div class=\"card\"><dl id=\"summary\">\n" +
		`<dt>Record version</dt><dd class="mono" id="record-version">`)
	b.text(versionLabel(t.RecordVersion))
	b.tag("</dd>\n" + `<dt>Client version</dt><dd class="mono" id="client-version">`)
	b.text(versionLabel(t.ClientVersion))
	b.tag("</dd>\n" + `<dt>SNI</dt><dd id="sni">`)
	if t.ServerName != "" {
		b.tag("<code>")
		b.text(t.ServerName)
		b.tag("</code>")
	} else {
		b.tag(`<span class="unk">none sent</span>`)
	}
	b.tag("</dd>\n" + `<dt>ALPN</dt><dd id="alpn">`)
	for i, p := range t.ALPN {
		b.sep(i)
		b.tag("<code>")
		b.text(p)
		b.tag("</code>")
	}
	if len(t.ALPN) == 0 {
		b.tag(`<span class="unk">none sent</span>`)
	}
	b.tag("</dd>\n<dt>Size</dt><dd>")
	b.int(rawLen)
	b.tag(" bytes, ")
	b.int(len(t.Extensions))
	b.tag(" extensions</dd>\n</dl></div>\n" + `<div class="card" id="negotiated"><dl>` + "\n<dt>Negotiated</dt><dd>")
	if neg.Version != "" {
		b.tag(`<span id="neg-version">`)
		b.text(neg.Version)
		b.tag("</span>")
	} else {
		b.tag(`<span class="unk">no handshake</span>`)
	}
	b.tag("</dd>\n" + `<dt>Cipher suite</dt><dd class="mono" id="neg-cipher">`)
	b.text(neg.CipherSuite)
	b.tag("</dd>\n" + `<dt>ALPN</dt><dd class="mono" id="neg-alpn">`)
	b.text(neg.ALPN)
	b.tag("</dd>\n" + `<dt>Key exchange</dt><dd class="mono" id="neg-curve">`)
	b.text(neg.Curve)
	b.tag("</dd>\n" + `<dt>Resumed</dt><dd id="neg-resumed">`)
	if neg.Resumed {
		b.tag("yes")
	} else {
		b.tag("no")
	}
	b.tag("</dd>\n" + `<dt>Your address</dt><dd class="mono" id="remote-addr">`)
	b.text(remote)
	b.tag("</dd>\n</dl></div>\n</div>\n")
	if len(t.Truncated) > 0 {
		b.tag(`<p class="note" id="truncated">Lists longer than 256 entries are cut here (see /api/raw for all bytes): `)
		for i, k := range t.Truncated {
			b.sep(i)
			b.text(k)
		}
		b.tag(".</p>\n")
	}
	b.tag("<div class=\"grid g3\">\n<div class=\"card\">")
	writeCPTable(b, "versions", "Protocol versions", "supported_versions", t.SupportedVersions, 4)
	b.tag("</div>\n<div class=\"card\">")
	writeCPTable(b, "groups", "Supported groups", "", t.SupportedGroups, 4)
	b.tag("</div>\n<div class=\"card\">")
	writeKeyShares(b, keyShares)
	b.tag("</div>\n</div>\n<div class=\"grid g32\">\n<div class=\"card\">")
	writeCPTable(b, "ciphers", "Cipher suites", "in the order sent", t.CipherSuites, 4)
	b.tag("</div>\n<div class=\"card\">")
	writeCPTable(b, "sigalgs", "Signature algorithms", "", t.SignatureAlgorithms, 4)
	b.tag("</div>\n</div>\n<div class=\"card\">")
	writeExtensions(b, t.Extensions)
	b.tag("</div>\n<div class=\"grid\">\n<div class=\"card\">")
	writeCPTable(b, "point-formats", "EC point formats", "", pointFormats, 2)
	b.tag("</div>\n<div class=\"card\">")
	writeCPTable(b, "psk-modes", "PSK key exchange modes", "", pskModes, 2)
	b.tag("</div>\n</div>\n" + `<details class="card" id="raw"><summary>Raw ClientHello (`)
	b.int(rawLen)
	b.tag(` bytes, hex)</summary><pre id="raw-hex">`)
	b.text(t.RawHex)
	b.tag("</pre></details>\n")
}
