package main

import (
	"crypto/tls"
	"testing"
)

func TestJA3Hash(t *testing.T) {
	tests := []struct {
		name  string
		hello tls.ClientHelloInfo
		want  string // md5 of the JA3 string in the comment, computed outside Go
	}{
		{
			// "771,4865-4866,0-10-11,29-23,0": TLS 1.3 capped at 771, GREASE dropped.
			name: "tls13 with grease",
			hello: tls.ClientHelloInfo{
				SupportedVersions: []uint16{0x0a0a, tls.VersionTLS13, tls.VersionTLS12},
				CipherSuites:      []uint16{0x1a1a, 4865, 4866},
				Extensions:        []uint16{0x2a2a, 0, 10, 11},
				SupportedCurves:   []tls.CurveID{0x3a3a, 29, 23},
				SupportedPoints:   []uint8{0},
			},
			want: "38eaca597c62da4c9db8cfad482f14ad",
		},
		{
			// "769,47-53,0-11,,0": a TLS 1.0 client without supported groups.
			name: "tls10 no groups",
			hello: tls.ClientHelloInfo{
				SupportedVersions: []uint16{tls.VersionTLS10},
				CipherSuites:      []uint16{47, 53},
				Extensions:        []uint16{0, 11},
				SupportedPoints:   []uint8{0},
			},
			want: "8152cf5d66425fc3e9ecc107c01c46a4",
		},
	}
	for _, tt := range tests {
		if got := ja3Hash(&tt.hello); got != tt.want {
			t.Errorf("%s: ja3Hash = %s, want %s", tt.name, got, tt.want)
		}
	}
}
