package main

import (
	"cmp"
	"fmt"
	"html/template"
	"strconv"
	"strings"

	"github.com/ja3sentry/ja3echo/fingerprint"
	"github.com/ja3sentry/ja3echo/fingerprint/iana"
)

// pageView is what page.html renders: the echo, flattened into rows and
// strings so that the template only loops and prints.
type pageView struct {
	*echo
	Style   template.CSS // page.css, byte for byte (its hash is in the CSP)
	Script  template.JS  // page.js, likewise
	Prints  []fpView
	Hello   *helloView // nil when the hello did not parse
	Headers []headerRow
}

// fpView is one fingerprint: its short form (hash) and its full string.
// Element ids are the JSON keys with dashes, data-fp the JSON keys, so
// scripts can find either.
type fpView struct {
	Name, About           string
	ShortLabel, LongLabel string
	ID, Key, Short        string
	LongID, LongKey       string
	Long                  string
}

type helloView struct {
	RecordVersion, ClientVersion string
	SNI                          string
	HasSNI                       bool
	ALPN                         []string
	Versions, Ciphers, Groups    cpTable
	SigAlgs, PointFormats        cpTable
	PSKModes                     cpTable
	Extensions                   []extRow
	KeyShares                    []keyShareRow
	Truncated                    []string
	RawHex                       string
	RawLen                       int
}

// cpTable is one list of code points, rendered by the "cps" template.
type cpTable struct {
	ID, Title, Note string
	Rows            []cpRow
}

type cpRow struct {
	N      int
	ID     string // hex
	Name   string // "" when unknown
	GREASE bool
}

type extRow struct {
	cpRow
	Length int
	Data   string // decoded summary, or the body in hex
	Hex    bool
	Error  string
}

type keyShareRow struct {
	cpRow
	KeyLength int
}

type headerRow struct {
	N           int
	Name, Value string
}

func newPageView(e *echo) *pageView {
	v := &pageView{echo: e, Style: template.CSS(pageCSS), Script: template.JS(pageJS)}
	if e.JA3 != "" {
		v.Prints = fingerprintViews(e.Fingerprints)
	}
	if e.TLS != nil {
		v.Hello = newHelloView(e.TLS)
	}
	for i, l := range e.HTTP.Headers {
		name, value, ok := strings.Cut(l, ":")
		if !ok { // a folded continuation line, shown as sent
			name, value = "", l
		}
		v.Headers = append(v.Headers, headerRow{N: i + 1, Name: name, Value: strings.TrimLeft(value, " \t")})
	}
	return v
}

func fingerprintViews(f fingerprint.Fingerprints) []fpView {
	ps := []fpView{
		{Name: "JA3", About: "MD5 of version, ciphers, extensions, groups, point formats in wire order",
			ShortLabel: "MD5", ID: "ja3-hash", Key: "ja3_hash", Short: f.JA3Hash,
			LongLabel: "string", LongID: "ja3", LongKey: "ja3", Long: f.JA3},
		{Name: "JA3N", About: "JA3 with the extensions sorted",
			ShortLabel: "MD5", ID: "ja3n-hash", Key: "ja3n_hash", Short: f.JA3NHash,
			LongLabel: "string", LongID: "ja3n", LongKey: "ja3n", Long: f.JA3N},
	}
	if f.JA4 != "" {
		ps = append(ps,
			fpView{Name: "JA4", About: "FoxIO JA4: ciphers and extensions sorted, then hashed",
				ShortLabel: "JA4", ID: "ja4", Key: "ja4", Short: f.JA4,
				LongLabel: "JA4_r", LongID: "ja4-r", LongKey: "ja4_r", Long: f.JA4R},
			fpView{Name: "JA4_o", About: "JA4 with ciphers and extensions in wire order",
				ShortLabel: "JA4_o", ID: "ja4-o", Key: "ja4_o", Short: f.JA4O,
				LongLabel: "JA4_ro", LongID: "ja4-ro", LongKey: "ja4_ro", Long: f.JA4RO})
	}
	if f.PeetPrint != "" {
		ps = append(ps, fpView{Name: "PeetPrint", About: "the tls.peet.ws fingerprint",
			ShortLabel: "MD5", ID: "peetprint-hash", Key: "peetprint_hash", Short: f.PeetPrintHash,
			LongLabel: "string", LongID: "peetprint", LongKey: "peetprint", Long: f.PeetPrint})
	}
	return ps
}

func newHelloView(t *fingerprint.TLS) *helloView {
	h := &helloView{
		RecordVersion: versionLabel(t.RecordVersion),
		ClientVersion: versionLabel(t.ClientVersion),
		SNI:           t.ServerName,
		HasSNI:        t.ServerName != "",
		ALPN:          t.ALPN,
		Truncated:     t.Truncated,
		RawHex:        t.RawHex,
		RawLen:        len(t.RawHex) / 2,
	}
	h.Versions = cpTable{ID: "versions", Title: "Protocol versions", Note: "supported_versions", Rows: cpRows(t.SupportedVersions, 4)}
	h.Ciphers = cpTable{ID: "ciphers", Title: "Cipher suites", Note: "in the order sent", Rows: cpRows(t.CipherSuites, 4)}
	h.Groups = cpTable{ID: "groups", Title: "Supported groups", Rows: cpRows(t.SupportedGroups, 4)}
	h.SigAlgs = cpTable{ID: "sigalgs", Title: "Signature algorithms", Rows: cpRows(t.SignatureAlgorithms, 4)}
	h.PointFormats = cpTable{ID: "point-formats", Title: "EC point formats"}
	h.PSKModes = cpTable{ID: "psk-modes", Title: "PSK key exchange modes"}
	for i, e := range t.Extensions {
		r := extRow{cpRow: cpRow{N: i + 1, ID: hex16(e.ID), Name: e.Name, GREASE: e.GREASE}, Length: e.Length, Error: e.Error}
		r.Data, r.Hex = extSummary(e)
		h.Extensions = append(h.Extensions, r)
		switch d := e.Data.(type) {
		case *fingerprint.PointFormatsData:
			h.PointFormats.Rows = cpRows(d.Formats, 2)
		case *fingerprint.PSKModesData:
			h.PSKModes.Rows = cpRows(d.Modes, 2)
		case *fingerprint.KeyShareData:
			for j, k := range d.Entries {
				h.KeyShares = append(h.KeyShares, keyShareRow{cpRow: cpRow{N: j + 1, ID: hex16(k.Group.ID), Name: k.Group.Name, GREASE: k.Group.GREASE}, KeyLength: k.KeyLength})
			}
		}
	}
	return h
}

// cpRows numbers a code point list; digits is the hex width (2 or 4).
func cpRows(cps []fingerprint.CodePoint, digits int) []cpRow {
	rows := make([]cpRow, len(cps))
	for i, c := range cps {
		rows[i] = cpRow{N: i + 1, ID: fmt.Sprintf("0x%0*x", digits, c.ID), Name: c.Name, GREASE: c.GREASE}
	}
	return rows
}

func hex16(v uint16) string { return fmt.Sprintf("0x%04x", v) }

func versionLabel(v uint16) string {
	if n := iana.VersionName(v); n != "" {
		return hex16(v) + " (" + n + ")"
	}
	return hex16(v)
}

// maxShownHex caps the hex of an undecoded body on the page (the JSON has
// up to fingerprint.MaxEchoHexBytes bytes of it).
const maxShownHex = 128

// extSummary is one line describing an extension's body: the decoded data,
// or the bytes in hex when there is nothing to decode.
func extSummary(e fingerprint.ExtensionInfo) (summary string, isHex bool) {
	if e.Data == nil {
		if e.DataHex == "" {
			return "", false
		}
		if len(e.DataHex) > maxShownHex || e.Truncated {
			return e.DataHex[:min(len(e.DataHex), maxShownHex)] + "…", true
		}
		return e.DataHex, true
	}
	switch d := e.Data.(type) {
	case *fingerprint.ServerNameData:
		names := make([]string, len(d.Names))
		for i, n := range d.Names {
			names[i] = n.Name
			if n.Type != 0 {
				names[i] = "type " + strconv.Itoa(int(n.Type)) + ": " + n.Name
			}
		}
		return more(strings.Join(names, ", "), d.Truncated), false
	case *fingerprint.ProtocolsData:
		return more(strings.Join(d.Protocols, ", "), d.Truncated), false
	case *fingerprint.GroupsData:
		return names(d.Groups, d.Truncated), false
	case *fingerprint.PointFormatsData:
		return names(d.Formats, d.Truncated), false
	case *fingerprint.SignatureAlgorithmsData:
		return names(d.Algorithms, d.Truncated), false
	case *fingerprint.VersionsData:
		return names(d.Versions, d.Truncated), false
	case *fingerprint.PSKModesData:
		return names(d.Modes, d.Truncated), false
	case *fingerprint.CompressCertificateData:
		return names(d.Algorithms, d.Truncated), false
	case *fingerprint.KeyShareData:
		parts := make([]string, len(d.Entries))
		for i, k := range d.Entries {
			parts[i] = fmt.Sprintf("%s (%d B)", cpName(k.Group), k.KeyLength)
		}
		return more(strings.Join(parts, ", "), d.Truncated), false
	case *fingerprint.RecordSizeLimitData:
		return "limit " + strconv.Itoa(int(d.Limit)), false
	case *fingerprint.StatusRequestData:
		return fmt.Sprintf("%s, responder ids %d B, extensions %d B", cpName(d.StatusType), d.ResponderIDListLength, d.RequestExtensionsLength), false
	case *fingerprint.LengthData:
		return strconv.Itoa(d.Length) + " B", false
	case *fingerprint.PreSharedKeyData:
		return fmt.Sprintf("%d identities, %d binders", d.Identities, d.Binders), false
	case *fingerprint.ECHData:
		if d.ECHOuter == nil {
			return cmp.Or(d.TypeName, "type "+strconv.Itoa(int(d.Type))), false
		}
		o := d.ECHOuter
		return fmt.Sprintf("outer, %s, %s, config %d, enc %d B, payload %d B", cpName(o.KDF), cpName(o.AEAD), o.ConfigID, o.EncLength, o.PayloadLength), false
	case *fingerprint.PresenceData:
		if e.Length == 0 {
			return "(empty)", false
		}
		return strconv.Itoa(e.Length) + " B, not decoded", false
	}
	return "", false
}

func names(cps []fingerprint.CodePoint, truncated bool) string {
	parts := make([]string, len(cps))
	for i, c := range cps {
		parts[i] = cpName(c)
	}
	return more(strings.Join(parts, ", "), truncated)
}

// cpName is a code point's name, or its hex value when it has none.
func cpName(c fingerprint.CodePoint) string {
	if c.Name != "" {
		return c.Name
	}
	return fmt.Sprintf("0x%04x", c.ID)
}

func more(s string, truncated bool) string {
	if truncated {
		return s + ", …"
	}
	return s
}
