package main

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	dto "github.com/prometheus/client_model/go"
)

// TestSIGHUPCertificate replaces the PEM pair under a running server: a
// connection that finished its handshake with the old certificate before
// the reload still gets its answer, new connections get the new one, and a
// mismatched pair is refused with an error while the last good one stays.
func TestSIGHUPCertificate(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "fullchain.pem"), filepath.Join(dir, "privkey.pem")
	certA, keyA := opsCertPair(t, "a.test")
	opsWriteFile(t, certFile, certA)
	opsWriteFile(t, keyFile, keyA)
	p := startOpsProc(t, true, "--port", "0", "--cert", certFile, "--key", keyFile, "--log-file", filepath.Join(dir, "ja3echo.log"))

	held, name := opsDial(t, p.addr, "localhost") // request not sent until after the reload
	defer held.Close()
	if name != "a.test" {
		t.Fatalf("served %q before the reload, want a.test", name)
	}

	certB, keyB := opsCertPair(t, "b.test")
	opsWriteFile(t, certFile, certB)
	opsWriteFile(t, keyFile, keyB)
	p.signal(t, syscall.SIGHUP)
	opsWaitReload(t, p, "certificate", "ok", 1)
	if name := opsServedName(t, p.addr); name != "b.test" {
		t.Errorf("served %q after the reload, want b.test", name)
	}
	if status, err := opsGet(held, "/json"); err != nil || status != http.StatusOK {
		t.Errorf("connection opened before the reload: status %d, error %v; want 200", status, err)
	}

	certC, _ := opsCertPair(t, "c.test")
	opsWriteFile(t, certFile, certC) // key is still B's: the pair does not match
	p.signal(t, syscall.SIGHUP)
	opsWaitReload(t, p, "certificate", "failed", 1)
	if name := opsServedName(t, p.addr); name != "b.test" {
		t.Errorf("served %q after a bad pair, want b.test kept", name)
	}
	p.stop(t)
	if !opsHasLogLine(p.out.String(), "level=error", "certificate not reloaded") {
		t.Errorf("no error logged for the mismatched pair:\n%s", p.out.String())
	}
}

// TestSIGHUPReopensLog rotates the log file the two ways logrotate does and
// checks that every line lands in exactly one file, in the right one.
func TestSIGHUPReopensLog(t *testing.T) {
	for _, mode := range []string{"create", "copytruncate"} {
		t.Run(mode, func(t *testing.T) {
			dir := t.TempDir()
			logFile, rotated := filepath.Join(dir, "ja3echo.log"), filepath.Join(dir, "ja3echo.log.1")
			p := startOpsProc(t, true, "--port", "0", "--log-file", logFile)
			batch := opsBatcher(t, p)

			batch(3)
			var wantRotated int
			switch mode {
			case "create":
				// mv, then lines keep going to the renamed file (same open
				// file) until the SIGHUP of logrotate's postrotate.
				if err := os.Rename(logFile, rotated); err != nil {
					t.Fatal(err)
				}
				batch(2)
				p.signal(t, syscall.SIGHUP)
				opsWaitReload(t, p, "log_file", "ok", 1)
				wantRotated = 5
			case "copytruncate":
				// The SIGHUP only flushes the buffer here, so the copy has
				// every line so far; the file is then copied and truncated
				// under the open descriptor, with no signal after.
				p.signal(t, syscall.SIGHUP)
				opsWaitReload(t, p, "log_file", "ok", 1)
				opsCopyFile(t, logFile, rotated)
				if err := os.Truncate(logFile, 0); err != nil {
					t.Fatal(err)
				}
				wantRotated = 3
			}
			batch(4)
			p.stop(t)

			if n := opsCountLines(t, rotated); n != wantRotated {
				t.Errorf("rotated file has %d lines, want %d", n, wantRotated)
			}
			// After copytruncate, opsCountLines also proves the writes went to
			// offset 0 (O_APPEND): a writer at its old offset leaves NULs.
			if n := opsCountLines(t, logFile); n != 4 {
				t.Errorf("current file has %d lines, want 4", n)
			}
		})
	}
}

func opsWaitReload(t *testing.T, p *opsProc, what, result string, n float64) {
	t.Helper()
	opsWaitMetric(t, p.metrics, "reload of "+what+" "+result, func(f map[string]*dto.MetricFamily) bool {
		v, _ := opsMetricValue(f, "ja3echo_reloads_total", "what", what, "result", result)
		return v == n
	})
}

func opsCopyFile(t *testing.T, from, to string) {
	t.Helper()
	src, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := os.Create(to)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
}

// opsHasLogLine reports whether one line of out contains every part.
func opsHasLogLine(out string, parts ...string) bool {
lines:
	for _, l := range strings.Split(out, "\n") {
		for _, p := range parts {
			if !strings.Contains(l, p) {
				continue lines
			}
		}
		return true
	}
	return false
}

// TestSIGHUPSelfSignedToFiles starts without a PEM pair (self-signed) and
// switches to one that appears later; a SIGHUP before the files exist keeps
// the self-signed certificate.
func TestSIGHUPSelfSignedToFiles(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "fullchain.pem"), filepath.Join(dir, "privkey.pem")
	p := startOpsProc(t, true, "--port", "0", "--cert", certFile, "--key", keyFile, "--log-file", filepath.Join(dir, "ja3echo.log"))
	c, selfSigned := opsDial(t, p.addr, "localhost")
	first := c.ConnectionState().PeerCertificates[0].Raw
	c.Close()

	p.signal(t, syscall.SIGHUP)
	opsWaitReload(t, p, "log_file", "ok", 1) // the certificate step runs first
	c, name := opsDial(t, p.addr, "localhost")
	if !bytes.Equal(c.ConnectionState().PeerCertificates[0].Raw, first) {
		t.Errorf("a SIGHUP without files replaced the self-signed certificate (%q → %q)", selfSigned, name)
	}
	c.Close()

	certA, keyA := opsCertPair(t, "a.test")
	opsWriteFile(t, certFile, certA)
	opsWriteFile(t, keyFile, keyA)
	p.signal(t, syscall.SIGHUP)
	opsWaitReload(t, p, "certificate", "ok", 1)
	if name := opsServedName(t, p.addr); name != "a.test" {
		t.Errorf("served %q after the files appeared, want a.test", name)
	}
	p.stop(t)
}
