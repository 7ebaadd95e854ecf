package main

import (
	"fmt"
	"html/template"

	"github.com/ja3sentry/ja3echo/fingerprint"
	"github.com/ja3sentry/ja3echo/fingerprint/iana"
)

// pageView is the data of page.html's templates: the few values they
// print. The long parts (fingerprint cards, the ClientHello section, the
// headers) are written between the templates with htmlBuilder, so that
// html/template evaluates a few dozen values per page instead of over a
// thousand. It copies what it needs from the echo rather than embedding
// it: text/template looks fields up by name, and a struct with embedded
// fields turns each lookup into an allocating breadth-first search.
type pageView struct {
	Browser, OS nameVersion
	UserAgent   string
	Error       string
	HTTP        httpEcho     // the request line
	Style       template.CSS // page.css, byte for byte (its hash is in the CSP)
	Script      template.JS  // page.js, likewise
}

// fpCard is one fingerprint: its short form (hash) and its full string.
// Element ids are the JSON keys with dashes, data-fp the JSON keys, so
// scripts can find either. Everything but the two values is constant.
type fpCard struct {
	Name, About           markup
	ShortLabel, LongLabel markup
	ID, Key, LongID       markup
	LongKey               markup
	Short, Long           string
}

func newPageView(e *echo) *pageView {
	return &pageView{Browser: e.Browser, OS: e.OS, UserAgent: e.UserAgent, Error: e.Error, HTTP: e.HTTP,
		Style: template.CSS(pageCSS), Script: template.JS(pageJS)}
}

func writeFingerprints(b *htmlBuilder, f fingerprint.Fingerprints) {
	writeFingerprint(b, fpCard{Name: "JA3", About: "MD5 of version, ciphers, extensions, groups, point formats in wire order",
		ShortLabel: "MD5", ID: "ja3-hash", Key: "ja3_hash", Short: f.JA3Hash,
		LongLabel: "string", LongID: "ja3", LongKey: "ja3", Long: f.JA3})
	writeFingerprint(b, fpCard{Name: "JA3N", About: "JA3 with the extensions sorted",
		ShortLabel: "MD5", ID: "ja3n-hash", Key: "ja3n_hash", Short: f.JA3NHash,
		LongLabel: "string", LongID: "ja3n", LongKey: "ja3n", Long: f.JA3N})
	if f.JA4 != "" {
		writeFingerprint(b, fpCard{Name: "JA4", About: "FoxIO JA4: ciphers and extensions sorted, then hashed",
			ShortLabel: "JA4", ID: "ja4", Key: "ja4", Short: f.JA4,
			LongLabel: "JA4_r", LongID: "ja4-r", LongKey: "ja4_r", Long: f.JA4R})
		writeFingerprint(b, fpCard{Name: "JA4_o", About: "JA4 with ciphers and extensions in wire order",
			ShortLabel: "JA4_o", ID: "ja4-o", Key: "ja4_o", Short: f.JA4O,
			LongLabel: "JA4_ro", LongID: "ja4-ro", LongKey: "ja4_ro", Long: f.JA4RO})
	}
	if f.PeetPrint != "" {
		writeFingerprint(b, fpCard{Name: "PeetPrint", About: "the tls.peet.ws fingerprint",
			ShortLabel: "MD5", ID: "peetprint-hash", Key: "peetprint_hash", Short: f.PeetPrintHash,
			LongLabel: "string", LongID: "peetprint", LongKey: "peetprint", Long: f.PeetPrint})
	}
}

func versionLabel(v uint16) string {
	if n := iana.VersionName(v); n != "" {
		return fmt.Sprintf("0x%04x (%s)", v, n)
	}
	return fmt.Sprintf("0x%04x", v)
}
