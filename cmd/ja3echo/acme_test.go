package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// acmeDomain is the name Pebble issues for; pebble-challtestsrv resolves
// every name to 127.0.0.1.
const acmeDomain = "echo.ja3echo.test"

// TestACMEPebble obtains a certificate from a local Pebble CA through
// TLS-ALPN-01 answered on ja3echo's own TLS port, checks that it chains to
// Pebble's root and is cached on disk, then stops Pebble and restarts
// ja3echo: the certificate must be served again from the cache.
//
// Port numbers: Pebble and pebble-challtestsrv cannot report a port picked
// from :0, and Pebble's validator connects to a tlsPort fixed in its config,
// so every port here is taken free from the kernel and passed on. It is the
// one place in the tests with a fixed ja3echo port.
func TestACMEPebble(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs Pebble")
	}
	pebbleDir := opsModuleDir(t, "github.com/letsencrypt/pebble/v2")
	minica := filepath.Join(pebbleDir, "test", "certs", "pebble.minica.pem")
	bin := t.TempDir()
	for _, tool := range []string{"pebble", "pebble-challtestsrv"} {
		out, err := exec.Command("go", "build", "-o", filepath.Join(bin, tool), "github.com/letsencrypt/pebble/v2/cmd/"+tool).CombinedOutput()
		if err != nil {
			t.Fatalf("building %s: %v\n%s", tool, err, out)
		}
	}

	dnsPort, acmePort, mgmtPort, echoPort := opsFreePort(t), opsFreePort(t), opsFreePort(t), opsFreePort(t)
	startExtProc(t, filepath.Join(bin, "pebble-challtestsrv"), nil,
		"-dnsserver", fmt.Sprintf("127.0.0.1:%d", dnsPort), "-management", fmt.Sprintf("127.0.0.1:%d", opsFreePort(t)),
		"-defaultIPv4", "127.0.0.1", "-defaultIPv6", "", // no AAAA: Pebble dials the first address
		"-http01", "", "-https01", "", "-doh", "", "-tlsalpn01", "")
	opsWaitTCP(t, fmt.Sprintf("127.0.0.1:%d", dnsPort))

	pebbleCfg := map[string]any{"pebble": map[string]any{
		"listenAddress":                  fmt.Sprintf("127.0.0.1:%d", acmePort),
		"managementListenAddress":        fmt.Sprintf("127.0.0.1:%d", mgmtPort),
		"certificate":                    filepath.Join(pebbleDir, "test", "certs", "localhost", "cert.pem"),
		"privateKey":                     filepath.Join(pebbleDir, "test", "certs", "localhost", "key.pem"),
		"httpPort":                       echoPort, // unused: autocert only does TLS-ALPN-01 here
		"tlsPort":                        echoPort,
		"ocspResponderURL":               "",
		"externalAccountBindingRequired": false,
		"retryAfter":                     map[string]int{"authz": 1, "order": 1},
		"keyAlgorithm":                   "ecdsa",
		"profiles":                       map[string]any{"default": map[string]any{"description": "test", "validityPeriod": 90 * 24 * 3600}},
	}}
	cfgJSON, err := json.Marshal(pebbleCfg)
	if err != nil {
		t.Fatal(err)
	}
	cfgFile := filepath.Join(bin, "pebble.json")
	if err := os.WriteFile(cfgFile, cfgJSON, 0o644); err != nil {
		t.Fatal(err)
	}
	pebble := startExtProc(t, filepath.Join(bin, "pebble"), []string{"PEBBLE_VA_NOSLEEP=1", "PEBBLE_WFE_NONCEREJECT=0"},
		"-config", cfgFile, "-dnsserver", fmt.Sprintf("127.0.0.1:%d", dnsPort))
	pebbleClient := opsHTTPSClient(t, minica)
	opsWaitHTTPS(t, pebbleClient, fmt.Sprintf("https://127.0.0.1:%d/dir", acmePort))

	cache := filepath.Join(t.TempDir(), "acme")
	cfg := testConfig(t)
	cfg.port = echoPort
	cfg.acmeDomains = []string{acmeDomain}
	cfg.acmeEmail = "ops@ja3echo.test"
	cfg.acmeCache = cache
	cfg.acmeDirectory = fmt.Sprintf("https://127.0.0.1:%d/dir", acmePort)
	cfg.acmeCARoot = minica
	ready := make(chan net.Addr, 1)
	cfg.metricsAddr, cfg.metricsReady = "127.0.0.1:0", ready
	s := startServer(t, cfg)
	maddr := (<-ready).String() // sent before serve's own ready, which startServer waited for

	// The first handshake waits for the issuance (or finds the prefetched
	// certificate).
	c, _ := opsDial(t, s.addr, acmeDomain)
	first := c.ConnectionState().PeerCertificates
	if status, err := opsGet(c, "/json"); err != nil || status != http.StatusOK {
		t.Errorf("GET /json over the ACME certificate: %d, %v", status, err)
	}
	c.Close()

	root := opsGetBody(t, pebbleClient, fmt.Sprintf("https://127.0.0.1:%d/roots/0", mgmtPort))
	opsVerifyChain(t, first, root)

	// The CA's validation went through the poller and tlsconn like any
	// client, was counted, and left no trace in the log file or warnings.
	fams := opsScrape(t, maddr)
	if n := opsMetric(t, fams, "ja3echo_acme_tls_alpn_challenges_total"); n < 1 {
		t.Errorf("ja3echo_acme_tls_alpn_challenges_total = %v, want at least 1", n)
	}
	if entries, err := os.ReadDir(cache); err != nil || len(entries) < 2 {
		t.Errorf("cache %s: %v entries, error %v; want the account key and the certificate", cache, len(entries), err)
	} else if _, err := os.Stat(filepath.Join(cache, acmeDomain)); err != nil {
		t.Errorf("no cached certificate for %s: %v", acmeDomain, err)
	}
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}
	if n := opsCountLines(t, cfg.logFile); n != 1 {
		t.Errorf("log file has %d lines, want 1 (our GET; validations are not logged)", n)
	}
	for _, l := range strings.Split(s.out.String(), "\n") {
		if strings.Contains(l, "level=warn") || strings.Contains(l, "level=error") {
			t.Errorf("unexpected log line: %s", l)
		}
	}

	// Pebble gone, restart: the certificate comes from the cache.
	pebble.stop()
	cfg2 := testConfig(t)
	cfg2.acmeDomains, cfg2.acmeCache, cfg2.acmeDirectory, cfg2.acmeCARoot = cfg.acmeDomains, cache, cfg.acmeDirectory, minica
	s2 := startServer(t, cfg2)
	c, _ = opsDial(t, s2.addr, acmeDomain)
	again := c.ConnectionState().PeerCertificates
	c.Close()
	if !bytes.Equal(again[0].Raw, first[0].Raw) {
		t.Errorf("after a restart, served serial %v, want the cached %v", again[0].SerialNumber, first[0].SerialNumber)
	}
	// A client that sends no SNI (it dialed the IP) still completes the
	// handshake, with the domain's certificate.
	c, _ = opsDial(t, s2.addr, "")
	if got := c.ConnectionState().PeerCertificates[0]; !bytes.Equal(got.Raw, first[0].Raw) {
		t.Errorf("without SNI, served %v, want the domain's certificate", got.DNSNames)
	}
	c.Close()
}

// opsVerifyChain checks that the served chain leads to Pebble's root.
func opsVerifyChain(t *testing.T, chain []*x509.Certificate, rootPEM []byte) {
	t.Helper()
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(rootPEM) {
		t.Fatalf("Pebble's /roots/0 is not PEM: %q", rootPEM)
	}
	inter := x509.NewCertPool()
	for _, c := range chain[1:] {
		inter.AddCert(c)
	}
	if _, err := chain[0].Verify(x509.VerifyOptions{DNSName: acmeDomain, Roots: roots, Intermediates: inter}); err != nil {
		t.Errorf("served certificate (names %v, issuer %q) does not chain to Pebble's root: %v", chain[0].DNSNames, chain[0].Issuer, err)
	}
}

// extProc is a helper process (Pebble, its DNS server).
type extProc struct {
	cmd    *exec.Cmd
	out    lockedBuffer
	exited chan struct{}
}

func startExtProc(t *testing.T, path string, env []string, args ...string) *extProc {
	t.Helper()
	p := &extProc{cmd: exec.Command(path, args...), exited: make(chan struct{})}
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stdout, p.cmd.Stderr = &p.out, &p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = p.cmd.Wait(); close(p.exited) }()
	t.Cleanup(func() {
		p.stop()
		if t.Failed() {
			t.Logf("%s output:\n%s", filepath.Base(path), p.out.String())
		}
	})
	return p
}

// stop kills the process and waits for it; it is idempotent.
func (p *extProc) stop() {
	_ = p.cmd.Process.Kill()
	<-p.exited
}

func opsModuleDir(t *testing.T, mod string) string {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", mod).Output()
	dir := strings.TrimSpace(string(out))
	if err != nil || dir == "" {
		t.Fatalf("go list -m %s: %q, %v", mod, out, err)
	}
	return dir
}

func opsHTTPSClient(t *testing.T, rootFile string) *http.Client {
	t.Helper()
	pemBytes, err := os.ReadFile(rootFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pemBytes) {
		t.Fatalf("%s has no certificate", rootFile)
	}
	return &http.Client{Timeout: testTimeout, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
}

func opsGetBody(t *testing.T, c *http.Client, url string) []byte {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s, %v", url, resp.Status, err)
	}
	return b
}

// opsWaitTCP and opsWaitHTTPS poll until a helper process listens.
func opsWaitTCP(t *testing.T, addr string) {
	t.Helper()
	opsPoll(t, addr, func() error {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
		}
		return err
	})
}

func opsWaitHTTPS(t *testing.T, c *http.Client, url string) {
	t.Helper()
	opsPoll(t, url, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := c.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		return err
	})
}

func opsPoll(t *testing.T, what string, try func() error) {
	t.Helper()
	deadline := time.Now().Add(testTimeout)
	for {
		err := try()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not up: %v", what, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
