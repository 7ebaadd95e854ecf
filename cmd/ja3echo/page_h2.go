package main

import (
	"strings"
)

// writeHTTP2 writes the HTTP/2 cards of the fingerprints section: the
// Akamai fingerprint like the TLS ones, then the preface it is made of.
// Written with htmlBuilder under page_html.go's invariant: constant markup,
// every value through text or int.
func writeHTTP2(b *htmlBuilder, e *http2Echo) {
	writeFingerprint(b, fpCard{Name: "Akamai HTTP/2", About: "SETTINGS|WINDOW_UPDATE|PRIORITY|pseudo-header order of the HTTP/2 preface",
		ShortLabel: "MD5", ID: "akamai-fingerprint-hash", Key: "akamai_fingerprint_hash", Short: e.AkamaiFingerprintHash,
		LongLabel: "string", LongID: "akamai-fingerprint", LongKey: "akamai_fingerprint", Long: e.AkamaiFingerprint})
	b.tag("<div class=\"card fp\" id=\"http2\">\n<h3>HTTP/2<small>the frames before the first request, in the order sent</small></h3>\n")
	b.tag("<div class=\"tw\"><table id=\"http2-settings\">\n<caption>SETTINGS <small>(")
	b.int(len(e.Settings))
	b.tag(")</small></caption>\n<thead><tr><th>#</th><th>ID</th><th>Name</th><th>Value</th></tr></thead>\n<tbody>")
	for i, s := range e.Settings {
		b.rowStart(i, false)
		b.int(int(s.ID))
		b.tag("</td><td>")
		if s.Name == "" {
			b.tag(`<span class="unk">unknown</span>`)
		} else {
			b.text(s.Name)
		}
		b.tag(`</td><td class="d mono">`)
		b.int(int(s.Value))
		b.tag("</td></tr>")
	}
	if len(e.Settings) == 0 {
		b.tag("\n" + `<tr><td colspan="4" class="unk">none sent</td></tr>`)
	}
	if e.SettingsTruncated {
		b.tag("\n" + `<tr><td colspan="4" class="unk">… more, cut here (the fingerprint has them all)</td></tr>`)
	}
	b.tag("\n</tbody>\n</table></div>\n")
	b.tag(`<div class="val"><span class="k">window</span><code id="http2-window-update">`)
	if e.WindowUpdate == 0 {
		b.text("no WINDOW_UPDATE")
	} else {
		b.int(int(e.WindowUpdate))
	}
	b.tag("</code></div>\n" + `<div class="val"><span class="k">priority</span><code id="http2-priority-frames">`)
	b.text(priorityText(e.AkamaiFingerprint))
	b.tag("</code></div>\n" + `<div class="val"><span class="k">pseudo</span><code id="http2-pseudo-header-order">`)
	b.text(strings.Join(e.PseudoHeaderOrder, " "))
	b.tag("</code></div>\n</div>\n")
}

// priorityText is the fingerprint's PRIORITY part (stream:exclusive:
// dependency:weight per frame), which the Akamai string already renders.
func priorityText(akamai string) string {
	parts := strings.Split(akamai, "|") // SETTINGS|WINDOW_UPDATE|PRIORITY|order: no part holds a '|'
	if len(parts) != 4 || parts[2] == "0" {
		return "no PRIORITY frames"
	}
	return strings.ReplaceAll(parts[2], ",", ", ")
}
