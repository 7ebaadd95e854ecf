package main

import (
	"strings"

	"github.com/ja3sentry/ja3echo/fingerprint"
)

// The page's tables, written with htmlBuilder (see the invariant in
// page_html.go): constant markup, escaped element content. The markup is
// what page.html's templates produced for them, byte for byte (but '+',
// which html/template also escapes, is left as is).

// writeFingerprint writes one fingerprint's card.
func writeFingerprint(b *htmlBuilder, c fpCard) {
	b.tag(`<div class="card fp" id="fp-`)
	b.tag(c.ID)
	b.tag("\">\n<h3>")
	b.tag(c.Name)
	b.tag("<small>")
	b.tag(c.About)
	b.tag("</small></h3>\n" + `<div class="val"><span class="k">`)
	b.tag(c.ShortLabel)
	b.tag(`</span><code id="`)
	b.tag(c.ID)
	b.tag(`" data-fp="`)
	b.tag(c.Key)
	b.tag(`">`)
	b.text(c.Short)
	b.tag("</code></div>\n" + `<div class="val"><span class="k">`)
	b.tag(c.LongLabel)
	b.tag(`</span><pre id="`)
	b.tag(c.LongID)
	b.tag(`" data-fp="`)
	b.tag(c.LongKey)
	b.tag(`">`)
	b.text(c.Long)
	b.tag("</pre></div>\n</div>\n")
}

// writeCPTable writes one list of code points; digits is the hex width.
func writeCPTable(b *htmlBuilder, id, title, note markup, cps []fingerprint.CodePoint, digits int) {
	b.tag(`<div class="tw"><table id="`)
	b.tag(id)
	b.tag("\">\n<caption>")
	b.tag(title)
	b.tag(" <small>(")
	b.int(len(cps))
	if note != "" {
		b.tag(", ")
		b.tag(note)
	}
	b.tag(")</small></caption>\n<thead><tr><th>#</th><th>ID</th><th>Name</th></tr></thead>\n<tbody>")
	for i, c := range cps {
		b.rowStart(i, c.GREASE)
		b.hex(c.ID, digits)
		b.tag("</td><td>")
		b.name(c)
		b.tag("</td></tr>")
	}
	if len(cps) == 0 {
		b.tag("\n" + `<tr><td colspan="3" class="unk">none sent</td></tr>`)
	}
	b.tag("\n</tbody>\n</table></div>")
}

// writeKeyShares writes the key shares of each key_share extension (there
// is one unless the hello repeats the extension).
func writeKeyShares(b *htmlBuilder, lists [][]fingerprint.KeyShareEntry) {
	n := 0
	for _, l := range lists {
		n += len(l)
	}
	b.tag("<div class=\"tw\"><table id=\"key-shares\">\n<caption>Key shares <small>(")
	b.int(n)
	b.tag(")</small></caption>\n<thead><tr><th>#</th><th>ID</th><th>Group</th><th>Bytes</th></tr></thead>\n<tbody>")
	for _, l := range lists {
		for i, k := range l {
			b.rowStart(i, k.Group.GREASE)
			b.hex(k.Group.ID, 4)
			b.tag("</td><td>")
			b.name(k.Group)
			b.tag(`</td><td class="n">`)
			b.int(k.KeyLength)
			b.tag("</td></tr>")
		}
	}
	if n == 0 {
		b.tag("\n" + `<tr><td colspan="4" class="unk">none sent</td></tr>`)
	}
	b.tag("\n</tbody>\n</table></div>")
}

func writeExtensions(b *htmlBuilder, exts []fingerprint.ExtensionInfo) {
	b.tag("<div class=\"tw\"><table id=\"extensions\">\n<caption>Extensions <small>(")
	b.int(len(exts))
	b.tag(", in the order sent)</small></caption>\n<thead><tr><th>#</th><th>ID</th><th>Name</th><th>Bytes</th><th>Data</th></tr></thead>\n<tbody>")
	for i, e := range exts {
		b.rowStart(i, e.GREASE)
		b.hex(e.ID, 4)
		b.tag("</td><td>")
		b.name(fingerprint.CodePoint{ID: e.ID, Name: e.Name, GREASE: e.GREASE})
		b.tag(`</td><td class="n">`)
		b.int(e.Length)
		if e.Data == nil && e.DataHex != "" {
			b.tag(`</td><td class="d mono">`)
		} else {
			b.tag(`</td><td class="d">`)
		}
		writeExtData(b, e)
		if e.Error != "" {
			b.tag(` <span class="unk">(`)
			b.text(e.Error)
			b.tag(")</span>")
		}
		b.tag("</td></tr>")
	}
	if len(exts) == 0 {
		b.tag("\n" + `<tr><td colspan="5" class="unk">none sent</td></tr>`)
	}
	b.tag("\n</tbody>\n</table></div>")
}

// writeHeaders writes the request's header lines, split at the first colon;
// a folded continuation line has no name and is shown as sent.
func writeHeaders(b *htmlBuilder, lines []string) {
	b.tag("<div class=\"tw\"><table id=\"headers\">\n<caption>Headers <small>(")
	b.int(len(lines))
	b.tag(", in the order sent)</small></caption>\n<thead><tr><th>#</th><th>Name</th><th>Value</th></tr></thead>\n<tbody>")
	for i, l := range lines {
		name, value, ok := strings.Cut(l, ":")
		if !ok {
			name, value = "", l
		}
		b.tag("\n" + `<tr><td class="n">`)
		b.int(i + 1)
		b.tag(`</td><td class="hn mono">`)
		b.text(name)
		b.tag(`</td><td class="d mono">`)
		b.text(strings.TrimLeft(value, " \t"))
		b.tag("</td></tr>")
	}
	b.tag("\n</tbody>\n</table></div>")
}

// rowStart opens row i of a code point table, up to the ID cell's content.
func (b *htmlBuilder) rowStart(i int, grease bool) {
	if grease {
		b.tag("\n" + `<tr class="g"><td class="n">`)
	} else {
		b.tag("\n" + `<tr><td class="n">`)
	}
	b.int(i + 1)
	b.tag(`</td><td class="id mono">`)
}

// name writes a code point's name: a GREASE badge, the name, or "unknown".
func (b *htmlBuilder) name(c fingerprint.CodePoint) {
	switch {
	case c.GREASE:
		b.tag(`<span class="gr">GREASE</span>`)
	case c.Name != "":
		b.text(c.Name)
	default:
		b.tag(`<span class="unk">unknown</span>`)
	}
}

// maxShownHex caps the hex of an undecoded body on the page (the JSON has
// up to fingerprint.MaxEchoHexBytes bytes of it).
const maxShownHex = 128

// writeExtData writes one line describing an extension's body: the decoded
// data, or the bytes in hex when there is nothing to decode.
func writeExtData(b *htmlBuilder, e fingerprint.ExtensionInfo) {
	if e.Data == nil {
		if e.DataHex == "" {
			return
		}
		b.text(e.DataHex[:min(len(e.DataHex), maxShownHex)])
		if len(e.DataHex) > maxShownHex || e.Truncated {
			b.tag("…")
		}
		return
	}
	switch d := e.Data.(type) {
	case *fingerprint.ServerNameData:
		for i, n := range d.Names {
			b.sep(i)
			if n.Type != 0 {
				b.tag("type ")
				b.int(int(n.Type))
				b.tag(": ")
			}
			b.text(n.Name)
		}
		b.more(d.Truncated)
	case *fingerprint.ProtocolsData:
		for i, p := range d.Protocols {
			b.sep(i)
			b.text(p)
		}
		b.more(d.Truncated)
	case *fingerprint.GroupsData:
		b.names(d.Groups, d.Truncated)
	case *fingerprint.PointFormatsData:
		b.names(d.Formats, d.Truncated)
	case *fingerprint.SignatureAlgorithmsData:
		b.names(d.Algorithms, d.Truncated)
	case *fingerprint.VersionsData:
		b.names(d.Versions, d.Truncated)
	case *fingerprint.PSKModesData:
		b.names(d.Modes, d.Truncated)
	case *fingerprint.CompressCertificateData:
		b.names(d.Algorithms, d.Truncated)
	case *fingerprint.KeyShareData:
		for i, k := range d.Entries {
			b.sep(i)
			b.cpName(k.Group)
			b.tag(" (")
			b.int(k.KeyLength)
			b.tag(" B)")
		}
		b.more(d.Truncated)
	case *fingerprint.RecordSizeLimitData:
		b.tag("limit ")
		b.int(int(d.Limit))
	case *fingerprint.StatusRequestData:
		b.cpName(d.StatusType)
		b.tag(", responder ids ")
		b.int(d.ResponderIDListLength)
		b.tag(" B, extensions ")
		b.int(d.RequestExtensionsLength)
		b.tag(" B")
	case *fingerprint.LengthData:
		b.int(d.Length)
		b.tag(" B")
	case *fingerprint.PreSharedKeyData:
		b.int(d.Identities)
		b.tag(" identities, ")
		b.int(d.Binders)
		b.tag(" binders")
	case *fingerprint.ECHData:
		switch o := d.ECHOuter; {
		case o != nil:
			b.tag("outer, ")
			b.cpName(o.KDF)
			b.tag(", ")
			b.cpName(o.AEAD)
			b.tag(", config ")
			b.int(int(o.ConfigID))
			b.tag(", enc ")
			b.int(o.EncLength)
			b.tag(" B, payload ")
			b.int(o.PayloadLength)
			b.tag(" B")
		case d.TypeName != "":
			b.text(d.TypeName)
		default:
			b.tag("type ")
			b.int(int(d.Type))
		}
	case *fingerprint.PresenceData:
		if e.Length == 0 {
			b.tag("(empty)")
		} else {
			b.int(e.Length)
			b.tag(" B, not decoded")
		}
	}
}

// names writes a list of code point names.
func (b *htmlBuilder) names(cps []fingerprint.CodePoint, truncated bool) {
	for i, c := range cps {
		b.sep(i)
		b.cpName(c)
	}
	b.more(truncated)
}

// cpName writes a code point's name, or its hex value when it has none.
func (b *htmlBuilder) cpName(c fingerprint.CodePoint) {
	if c.Name != "" {
		b.text(c.Name)
	} else {
		b.hex(c.ID, 4)
	}
}

// sep separates list item i from the one before.
func (b *htmlBuilder) sep(i int) {
	if i > 0 {
		b.tag(", ")
	}
}

// more marks a list cut short.
func (b *htmlBuilder) more(truncated bool) {
	if truncated {
		b.tag(", …")
	}
}
