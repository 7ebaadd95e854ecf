package fingerprint

import (
	"encoding/hex"
	"errors"
	"regexp"
	"testing"
)

var (
	ja3Format = regexp.MustCompile(`^\d+,(\d+(-\d+)*)?,(\d+(-\d+)*)?,(\d+(-\d+)*)?,(\d+(-\d+)*)?$`)
	md5Format = regexp.MustCompile(`^[0-9a-f]{32}$`)
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

// FuzzParseMessage: never panics; a hello that parses renders JA3/JA3N in
// their formats; no strict prefix of a hello that parses parses too.
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
		for _, s := range []string{h.JA3Hash(), h.JA3NHash()} {
			if !md5Format.MatchString(s) {
				t.Fatalf("hash %q not in format", s)
			}
		}
		for i := range len(msg) {
			if _, err := ParseMessage(msg[:i]); err == nil {
				t.Fatalf("strict prefix of %d bytes parses", i)
			}
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
