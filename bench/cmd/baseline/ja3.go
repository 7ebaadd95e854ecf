package main

import (
	"crypto/md5"
	"crypto/tls"
	"encoding/hex"
	"strconv"
	"strings"
)

// ja3Hash is the MD5 of a JA3-like string built from tls.ClientHelloInfo:
// the version field is the legacy version capped at TLS 1.2 (ClientHelloInfo
// only has the supported_versions list), then ciphers, extensions, groups
// and point formats in wire order, GREASE values removed. It is what a Go
// user without access to the raw hello would write.
func ja3Hash(h *tls.ClientHelloInfo) string {
	var b strings.Builder
	version := uint16(0)
	for _, v := range h.SupportedVersions {
		if !grease(v) {
			version = max(version, v)
		}
	}
	b.WriteString(strconv.Itoa(int(min(version, tls.VersionTLS12))))
	b.WriteByte(',')
	list(&b, h.CipherSuites)
	b.WriteByte(',')
	list(&b, h.Extensions)
	b.WriteByte(',')
	list(&b, h.SupportedCurves)
	b.WriteByte(',')
	list(&b, h.SupportedPoints)
	sum := md5.Sum([]byte(b.String()))
	return hex.EncodeToString(sum[:])
}

func list[T ~uint8 | ~uint16](b *strings.Builder, v []T) {
	first := true
	for _, x := range v {
		if grease(uint16(x)) {
			continue
		}
		if !first {
			b.WriteByte('-')
		}
		first = false
		b.WriteString(strconv.Itoa(int(x)))
	}
}

// grease reports a GREASE value (RFC 8701): 0x0a0a, 0x1a1a, ... 0xfafa.
func grease(v uint16) bool { return v&0x0f0f == 0x0a0a && v>>8 == v&0xff }
