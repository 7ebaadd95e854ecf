package main

// Differential check of package fingerprint against crypto/tls: the same
// client bytes go to a plain crypto/tls server, whose GetConfigForClient
// sees Go's own parse (tls.ClientHelloInfo), and to fingerprint.Parse.
//
// How Go 1.26's ClientHelloInfo differs from the wire, handled below:
//   - SupportedVersions is synthesized from legacy_version when the client
//     sent no supported_versions extension (supportedVersionsFromMax): TLS
//     1.3 to 1.0, those at or below legacy_version. Our parse reports the
//     extension as sent, so it is empty then.
//   - GREASE is not filtered: CipherSuites, Extensions, SupportedCurves and
//     SupportedVersions hold the values exactly as sent, so they are compared
//     exactly; the Chrome parrot's subtest checks that GREASE was there.

import (
	"bufio"
	"crypto/md5"
	"crypto/tls"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	utls "github.com/refraction-networking/utls"

	"github.com/ja3sentry/ja3echo/fingerprint"
)

// goTLSServer is a plain crypto/tls server that records the ClientHelloInfo
// of every connection by remote address and answers one HTTP request.
type goTLSServer struct {
	ln    net.Listener
	infos sync.Map // remote addr string -> *tls.ClientHelloInfo
}

func newGoTLSServer(t *testing.T) *goTLSServer {
	t.Helper()
	s := &goTLSServer{}
	cfg := &tls.Config{
		Certificates: []tls.Certificate{newTestCert(t, "localhost").tls},
		MinVersion:   tls.VersionTLS10, // openssl -tls1 must get through too
		NextProtos:   []string{"http/1.1"},
		GetConfigForClient: func(chi *tls.ClientHelloInfo) (*tls.Config, error) {
			s.infos.Store(chi.Conn.RemoteAddr().String(), chi)
			return nil, nil
		},
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	s.ln = ln
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() { defer wg.Done(); answerOne(c) }()
		}
	}()
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	return s
}

// answerOne reads one request head and answers 200 "ok".
func answerOne(c net.Conn) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(testTimeout))
	tr := textproto.NewReader(bufio.NewReader(c))
	if _, err := tr.ReadLine(); err != nil {
		return
	}
	if _, err := tr.ReadMIMEHeader(); err != nil {
		return
	}
	_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 3\r\nConnection: close\r\n\r\n{}\n")
}

func TestClientHelloInfoDifferential(t *testing.T) {
	srv := newGoTLSServer(t)
	clients := []struct {
		name   string
		run    func(t *testing.T, rec *recorder) clientResult
		grease bool // the client is known to send GREASE
	}{
		{name: "go-crypto-tls", run: func(t *testing.T, rec *recorder) clientResult { return runGo(t, rec.addr(), "x") }},
		{name: "utls-chrome-auto", grease: true, run: func(t *testing.T, rec *recorder) clientResult {
			return runUTLS(t, rec.addr(), utls.HelloChrome_Auto, "x")
		}},
		{name: "utls-firefox-auto", run: func(t *testing.T, rec *recorder) clientResult {
			return runUTLS(t, rec.addr(), utls.HelloFirefox_Auto, "x")
		}},
		{name: "curl", run: runCurl},
		{name: "openssl-tls1_2", run: func(t *testing.T, rec *recorder) clientResult {
			return runOpenSSL(t, rec.addr(), "", "-tls1_2")
		}},
		{name: "openssl-tls1", run: runOpenSSLTLS10}, // no supported_versions: Go synthesizes it
		{name: "python-ssl", run: runPython},
	}
	for _, c := range clients {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			rec := newRecorder(t, srv.ln.Addr().String())
			c.run(t, rec)
			got := rec.next(t)
			v, ok := srv.infos.Load(got.upstream)
			if !ok {
				t.Fatalf("crypto/tls saw no ClientHello from %s", got.upstream)
			}
			chi := v.(*tls.ClientHelloInfo)
			h, err := fingerprint.Parse(got.sent)
			if err != nil {
				t.Fatalf("fingerprint.Parse: %v", err)
			}
			compareWithGo(t, h, chi)
			if c.grease && !slices.ContainsFunc(chi.CipherSuites, isGREASE) {
				t.Errorf("the parrot sent no GREASE cipher suite: %v", chi.CipherSuites)
			}

			// JA3 and JA3N rebuilt from Go's view (plus legacy_version, which
			// ClientHelloInfo lacks, read from the recorded bytes).
			msg, _, ok := reassemble(got.sent)
			if !ok || len(msg.msg) < 6 {
				t.Fatal("no ClientHello in the recorded bytes")
			}
			legacy := binary.BigEndian.Uint16(msg.msg[4:6])
			if want := ja3FromInfo(legacy, chi, false); h.JA3() != want {
				t.Errorf("JA3 = %s\n   want %s (from crypto/tls)", h.JA3(), want)
			}
			if want := ja3FromInfo(legacy, chi, false); h.JA3Hash() != md5hex(want) {
				t.Errorf("JA3 hash = %s, want %s", h.JA3Hash(), md5hex(want))
			}
			if want := ja3FromInfo(legacy, chi, true); h.JA3N() != want || h.JA3NHash() != md5hex(want) {
				t.Errorf("JA3N = %s (%s)\n   want %s (from crypto/tls)", h.JA3N(), h.JA3NHash(), want)
			}
		})
	}
}

// compareWithGo compares our parse with crypto/tls's, field by field.
func compareWithGo(t *testing.T, h *fingerprint.ClientHello, chi *tls.ClientHelloInfo) {
	t.Helper()
	if !slices.Equal(h.CipherSuites, chi.CipherSuites) {
		t.Errorf("cipher suites:\n ours %v\n   go %v", h.CipherSuites, chi.CipherSuites)
	}
	exts := make([]uint16, len(h.Extensions))
	for i, e := range h.Extensions {
		exts[i] = e.Type
	}
	if !slices.Equal(exts, chi.Extensions) {
		t.Errorf("extensions:\n ours %v\n   go %v", exts, chi.Extensions)
	}
	wantVersions := h.SupportedVersions
	if !h.HasExtension(43) {
		// Go's synthesized list: every version it knows up to legacy_version.
		wantVersions = nil
		for _, v := range []uint16{tls.VersionTLS13, tls.VersionTLS12, tls.VersionTLS11, tls.VersionTLS10} {
			if v <= h.Version {
				wantVersions = append(wantVersions, v)
			}
		}
	}
	if !slices.Equal(wantVersions, chi.SupportedVersions) {
		t.Errorf("supported versions (extension present: %v):\n ours %v\n   go %v", h.HasExtension(43), wantVersions, chi.SupportedVersions)
	}
	if !slices.Equal(h.ALPN, chi.SupportedProtos) {
		t.Errorf("ALPN: ours %q, go %q", h.ALPN, chi.SupportedProtos)
	}
	if h.ServerName != chi.ServerName {
		t.Errorf("SNI: ours %q, go %q", h.ServerName, chi.ServerName)
	}
	curves := make([]uint16, len(chi.SupportedCurves))
	for i, c := range chi.SupportedCurves {
		curves[i] = uint16(c)
	}
	if !slices.Equal(h.SupportedGroups, curves) {
		t.Errorf("supported groups:\n ours %v\n   go %v", h.SupportedGroups, curves)
	}
	if !slices.Equal(h.ECPointFormats, chi.SupportedPoints) {
		t.Errorf("point formats: ours %v, go %v", h.ECPointFormats, chi.SupportedPoints)
	}
	sigs := make([]uint16, len(chi.SignatureSchemes))
	for i, s := range chi.SignatureSchemes {
		sigs[i] = uint16(s)
	}
	if !slices.Equal(h.SignatureAlgorithms, sigs) {
		t.Errorf("signature algorithms:\n ours %v\n   go %v", h.SignatureAlgorithms, sigs)
	}
}

// isGREASE is RFC 8701's test, written here rather than borrowed from the
// package under test.
func isGREASE(v uint16) bool { return v&0x0f0f == 0x0a0a && v>>8 == v&0xff }

// ja3FromInfo builds the JA3 string (JA3N when sorted) from crypto/tls's
// view of a hello, following the salesforce definition.
func ja3FromInfo(legacy uint16, chi *tls.ClientHelloInfo, sorted bool) string {
	join := func(vs []uint16) string {
		var parts []string
		for _, v := range vs {
			if !isGREASE(v) {
				parts = append(parts, strconv.Itoa(int(v)))
			}
		}
		return strings.Join(parts, "-")
	}
	exts := slices.Clone(chi.Extensions)
	if sorted {
		slices.Sort(exts)
	}
	curves := make([]uint16, len(chi.SupportedCurves))
	for i, c := range chi.SupportedCurves {
		curves[i] = uint16(c)
	}
	points := make([]uint16, len(chi.SupportedPoints))
	for i, p := range chi.SupportedPoints {
		points[i] = uint16(p)
	}
	return fmt.Sprintf("%d,%s,%s,%s,%s", legacy, join(chi.CipherSuites), join(exts), join(curves), join(points))
}

func md5hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}
