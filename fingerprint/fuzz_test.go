package fingerprint

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"regexp"
	"strings"
	"testing"
)

var (
	ja3Format = regexp.MustCompile(`^\d+,(\d+(-\d+)*)?,(\d+(-\d+)*)?,(\d+(-\d+)*)?,(\d+(-\d+)*)?$`)
	md5Format = regexp.MustCompile(`^[0-9a-f]{32}$`)
	ja4Format = regexp.MustCompile(`^t(13|12|11|10|s3|s2|d1|d2|d3|00)[di]\d{4}[0-9A-Za-z]{2}_[0-9a-f]{12}_[0-9a-f]{12}$`)
	// peetFormat: eight '|'-separated fields of '-'-joined decimal or
	// GREASE tokens; the ALPN field holds 2, 1.1 and 1.0 tokens.
	peetToken  = `(\d+|GREASE)`
	peetList   = `(` + peetToken + `(-` + peetToken + `)*)?`
	peetFormat = regexp.MustCompile(`^` + peetList + `\|((2|1\.1|1\.0)(-(2|1\.1|1\.0))*)?\|` +
		peetList + `\|` + peetList + `\|\d+\|` + peetList + `\|` + peetList + `\|` + peetList + `$`)
	fuzzSeeds = 20 // shared vectors used as seeds; all of them makes -fuzz start slowly
)

func addSeeds(f *testing.F, wire bool) {
	vs := loadVectors(f)
	for i, v := range vs {
		if i%(len(vs)/fuzzSeeds+1) != 0 {
			continue
		}
		msg, err := hex.DecodeString(v.HelloHex)
		if err != nil {
			f.Fatal(err)
		}
		if wire {
			f.Add(records(msg, 1<<14))
			f.Add(records(msg, 7))
		} else {
			f.Add(msg)
		}
	}
	f.Add([]byte("GET / HTTP/1.1\r\n\r\n"))
	f.Add([]byte{})
}

// FuzzParseMessage: never panics; a hello that parses renders JA3/JA3N,
// the JA4 forms and PeetPrint in their formats, Fingerprints agrees with
// the single methods and the echo marshals; no strict prefix of a hello
// that parses parses too.
func FuzzParseMessage(f *testing.F) {
	addSeeds(f, false)
	f.Fuzz(func(t *testing.T, msg []byte) {
		h, err := ParseMessage(msg)
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrNotClientHello) {
				t.Fatalf("unclassified error %v", err)
			}
			return
		}
		for _, s := range []string{h.JA3(), h.JA3N()} {
			if !ja3Format.MatchString(s) {
				t.Fatalf("JA3 %q not in format", s)
			}
		}
		for _, s := range []string{h.JA3Hash(), h.JA3NHash(), h.PeetPrintHash()} {
			if !md5Format.MatchString(s) {
				t.Fatalf("hash %q not in format", s)
			}
		}
		for _, s := range []string{h.JA4(), h.JA4O()} {
			if !ja4Format.MatchString(s) {
				t.Fatalf("JA4 %q not in format", s)
			}
		}
		for _, s := range []string{h.JA4R(), h.JA4RO()} {
			if !strings.HasPrefix(s, h.JA4()[:10]+"_") {
				t.Fatalf("raw JA4 %q does not start with part a of %q", s, h.JA4())
			}
		}
		if p := h.PeetPrint(); !peetFormat.MatchString(p) {
			t.Fatalf("PeetPrint %q not in format", p)
		}
		fp := h.Fingerprints()
		if fp.JA4 != h.JA4() || fp.JA4RO != h.JA4RO() || fp.PeetPrint != h.PeetPrint() || fp.JA3N != h.JA3N() {
			t.Fatalf("Fingerprints %+v disagrees with the methods", fp)
		}
		if _, err := json.Marshal(h.TLS()); err != nil {
			t.Fatalf("TLS JSON: %v", err)
		}
		for i := range len(msg) {
			if _, err := ParseMessage(msg[:i]); err == nil {
				t.Fatalf("strict prefix of %d bytes parses", i)
			}
		}
	})
}

// FuzzExtensionData: decoding any body as any extension type never panics,
// and the echo of it marshals. Parse does not check most bodies, so this is
// what a client fully controls.
func FuzzExtensionData(f *testing.F) {
	for _, v := range loadVectors(f)[:fuzzSeeds] {
		msg, err := hex.DecodeString(v.HelloHex)
		if err != nil {
			f.Fatal(err)
		}
		h, err := ParseMessage(msg)
		if err != nil {
			f.Fatal(err)
		}
		for _, e := range h.Extensions {
			f.Add(e.Type, e.Data)
		}
	}
	f.Add(uint16(extECH), []byte{0, 0, 1, 0, 1, 7, 0, 1, 9, 0, 1, 8})
	f.Add(uint16(extPreSharedKey), []byte{0, 7, 0, 1, 'x', 0, 0, 0, 1, 0, 2, 1, 0})
	f.Fuzz(func(t *testing.T, typ uint16, body []byte) {
		info := extensionInfo(Extension{Type: typ, Data: body})
		if info.Length != len(body) {
			t.Fatalf("length %d for a %d-byte body", info.Length, len(body))
		}
		// Either decoded data, or the body (cut) as hex, never both.
		if info.Data != nil && (info.Error != "" || info.DataHex != "") {
			t.Fatalf("extension %d body %x: data and error/data_hex (%+v)", typ, body, info)
		}
		if info.Data == nil && info.DataHex != hex.EncodeToString(body[:min(len(body), MaxEchoHexBytes)]) {
			t.Fatalf("extension %d body %x: data_hex %q", typ, body, info.DataHex)
		}
		if _, err := json.Marshal(info); err != nil {
			t.Fatal(err)
		}
	})
}

// FuzzFrame: Frame never panics, agrees with Parse, and feeding the input one
// byte at a time reaches the same verdict as one read.
func FuzzFrame(f *testing.F) {
	addSeeds(f, true)
	f.Fuzz(func(t *testing.T, wire []byte) {
		ok, err := Frame(wire)
		if ok && err != nil {
			t.Fatal("complete with error")
		}
		_, _, rerr := Reassemble(wire)
		if ok != (rerr == nil) {
			t.Fatalf("Frame complete=%v but Reassemble err=%v", ok, rerr)
		}
		// Byte by byte: no earlier prefix may be complete or fail differently
		// from the whole, unless the whole is an error first seen at that prefix.
		for i := range len(wire) {
			pok, perr := Frame(wire[:i])
			if pok && !ok {
				t.Fatalf("prefix %d complete but whole is not (err %v)", i, err)
			}
			if perr != nil && (err == nil || !sameClass(perr, err)) {
				t.Fatalf("prefix %d error %v, whole %v", i, perr, err)
			}
		}
	})
}

func sameClass(a, b error) bool {
	for _, s := range []error{ErrNotHandshake, ErrPlaintextHTTP, ErrSSLv2, ErrRecord, ErrNotClientHello, ErrTooLarge} {
		if errors.Is(a, s) {
			return errors.Is(b, s)
		}
	}
	return false
}
