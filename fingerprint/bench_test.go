package fingerprint

import (
	"crypto/md5"
	"crypto/sha256"
	"strings"
	"testing"
)

// Benchmarks over one Chrome, one Firefox and one OpenSSL (curl-like) hello
// from the shared vectors. Fingerprints is the per-connection cost of the
// server: JA3, JA3N, the four JA4 forms and PeetPrint, with their hashes.

func BenchmarkParse(b *testing.B) {
	for _, n := range namedHellos {
		msg := namedHello(b, n.name)
		b.Run(n.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(msg)))
			for b.Loop() {
				if _, err := ParseMessage(msg); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkFingerprints(b *testing.B) {
	for _, n := range namedHellos {
		h, err := ParseMessage(namedHello(b, n.name))
		if err != nil {
			b.Fatal(err)
		}
		b.Run(n.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				h.Fingerprints()
			}
		})
	}
}

func BenchmarkTLS(b *testing.B) {
	for _, n := range namedHellos {
		h, err := ParseMessage(namedHello(b, n.name))
		if err != nil {
			b.Fatal(err)
		}
		b.Run(n.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				h.TLS()
			}
		})
	}
}

// BenchmarkHashFloor measures only the seven digests Fingerprints must
// compute for a hello (MD5 of JA3, JA3N and PeetPrint; SHA-256 of the two
// lists of JA4 and of JA4_o): the part of BenchmarkFingerprints no builder
// can remove.
func BenchmarkHashFloor(b *testing.B) {
	for _, n := range namedHellos {
		h, err := ParseMessage(namedHello(b, n.name))
		if err != nil {
			b.Fatal(err)
		}
		fp := h.Fingerprints()
		var md5In, shaIn [][]byte
		for _, s := range []string{fp.JA3, fp.JA3N, fp.PeetPrint} {
			md5In = append(md5In, []byte(s))
		}
		for _, raw := range []string{fp.JA4R, fp.JA4RO} {
			bc := raw[11:] // b_c[_sigalgs]
			i := strings.IndexByte(bc, '_')
			shaIn = append(shaIn, []byte(bc[:i]), []byte(bc[i+1:]))
		}
		b.Run(n.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				for _, in := range md5In {
					md5.Sum(in)
				}
				for _, in := range shaIn {
					sha256.Sum256(in)
				}
			}
		})
	}
}
