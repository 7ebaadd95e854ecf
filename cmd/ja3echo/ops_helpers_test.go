package main

// Test machinery for the production-operations tests (ACME, SIGHUP, metrics,
// SIGTERM under load): the binary as a child process with its stdout
// captured, a /metrics scraper that parses the Prometheus text format, and
// certificate pairs written to disk.

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// opsProc is the ja3echo binary running as a child process.
type opsProc struct {
	cmd     *exec.Cmd
	out     lockedBuffer // stdout and stderr
	addr    string       // 127.0.0.1:port of the TLS listener
	metrics string       // host:port of /metrics, "" when off
	exited  chan struct{}
	err     error // cmd.Wait's result, set before exited is closed
}

var (
	opsListenRE  = regexp.MustCompile(`listening on https://localhost:(\d+)/`)
	opsMetricsRE = regexp.MustCompile(`metrics on http://([^/\s]+)/metrics`)
)

// startOpsProc runs the binary with args (plus --host 127.0.0.1) and waits
// for its startup lines. With metrics it also waits for the metrics line.
func startOpsProc(t *testing.T, metrics bool, args ...string) *opsProc {
	t.Helper()
	args = append([]string{"--host", "127.0.0.1"}, args...)
	if metrics {
		args = append(args, "--metrics-addr", "127.0.0.1:0")
	}
	p := &opsProc{cmd: exec.Command(buildBinary(t), args...), exited: make(chan struct{})}
	p.cmd.Dir = t.TempDir()
	p.cmd.Stdout, p.cmd.Stderr = &p.out, &p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.exited) }()
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			_ = p.cmd.Process.Kill()
			<-p.exited
		}
		if t.Failed() {
			t.Logf("ja3echo output:\n%s", p.out.String())
		}
	})
	m := p.waitFor(t, opsListenRE)
	p.addr = net.JoinHostPort("127.0.0.1", m[1])
	if metrics {
		p.metrics = p.waitFor(t, opsMetricsRE)[1]
	}
	return p
}

// waitFor polls the output until re matches (or the process exits).
func (p *opsProc) waitFor(t *testing.T, re *regexp.Regexp) []string {
	t.Helper()
	deadline := time.Now().Add(testTimeout)
	for {
		if m := re.FindStringSubmatch(p.out.String()); m != nil {
			return m
		}
		select {
		case <-p.exited:
			t.Fatalf("ja3echo exited (%v) before printing %q:\n%s", p.err, re, p.out.String())
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("ja3echo did not print %q:\n%s", re, p.out.String())
		}
	}
}

func (p *opsProc) signal(t *testing.T, sig syscall.Signal) {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatalf("sending %v: %v", sig, err)
	}
}

// stop sends SIGTERM and waits for a clean exit.
func (p *opsProc) stop(t *testing.T) {
	t.Helper()
	p.signal(t, syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(testTimeout):
		t.Fatalf("ja3echo did not exit after SIGTERM:\n%s", p.out.String())
	}
	if p.err != nil {
		t.Fatalf("ja3echo exited with %v:\n%s", p.err, p.out.String())
	}
}

// opsScrape fetches and parses /metrics from addr.
func opsScrape(t *testing.T, addr string) map[string]*dto.MetricFamily {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/metrics", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("scraping /metrics: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("/metrics answered %s: %s", resp.Status, b)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("/metrics is not the Prometheus text format: %v", err)
	}
	return fams
}

// opsMetricValue returns the value of the series of fams[name] whose labels
// include labels (given as name, value pairs), and whether it exists. For a
// histogram it is the sample count.
func opsMetricValue(fams map[string]*dto.MetricFamily, name string, labels ...string) (float64, bool) {
	f := fams[name]
	if f == nil {
		return 0, false
	}
series:
	for _, m := range f.GetMetric() {
		have := map[string]string{}
		for _, lp := range m.GetLabel() {
			have[lp.GetName()] = lp.GetValue()
		}
		for i := 0; i+1 < len(labels); i += 2 {
			if have[labels[i]] != labels[i+1] {
				continue series
			}
		}
		switch {
		case m.Counter != nil:
			return m.GetCounter().GetValue(), true
		case m.Gauge != nil:
			return m.GetGauge().GetValue(), true
		case m.Histogram != nil:
			return float64(m.GetHistogram().GetSampleCount()), true
		}
	}
	return 0, false
}

// opsMetric is opsMetricValue for a series that must exist.
func opsMetric(t *testing.T, fams map[string]*dto.MetricFamily, name string, labels ...string) float64 {
	t.Helper()
	v, ok := opsMetricValue(fams, name, labels...)
	if !ok {
		t.Fatalf("no series %s%v in /metrics", name, labels)
	}
	return v
}

// opsWaitMetric scrapes until cond holds. The deadline only guards against a
// hang; the caller asserts exact values on the returned scrape.
func opsWaitMetric(t *testing.T, addr, what string, cond func(map[string]*dto.MetricFamily) bool) map[string]*dto.MetricFamily {
	t.Helper()
	deadline := time.Now().Add(testTimeout)
	for {
		fams := opsScrape(t, addr)
		if cond(fams) {
			return fams
		}
		if time.Now().After(deadline) {
			t.Fatalf("metrics never showed %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// opsCertPair returns a fresh self-signed PEM pair for name (and 127.0.0.1).
func opsCertPair(t *testing.T, name string) (certPEM, keyPEM []byte) {
	t.Helper()
	c := newTestCert(t, name)
	return c.certPEM, c.keyPEM
}

// opsWriteFile replaces name atomically (write + rename), as deploy tools do,
// so the server never reads a half-written file.
func opsWriteFile(t *testing.T, name string, data []byte) {
	t.Helper()
	tmp := name + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, name); err != nil {
		t.Fatal(err)
	}
}

// opsDial completes a TLS handshake with addr (any certificate accepted)
// and returns the conn and the name on the served certificate.
func opsDial(t *testing.T, addr, sni string) (*tls.Conn, string) {
	t.Helper()
	d := &net.Dialer{Timeout: testTimeout}
	c, err := tls.DialWithDialer(d, "tcp", addr, opsClientTLS(sni))
	if err != nil {
		t.Fatalf("TLS dial %s: %v", addr, err)
	}
	_ = c.SetDeadline(time.Now().Add(testTimeout))
	return c, c.ConnectionState().PeerCertificates[0].Subject.CommonName
}

// opsClientTLS accepts any certificate: these tests look at which one is
// served, not at whether it chains.
func opsClientTLS(sni string) *tls.Config {
	return &tls.Config{InsecureSkipVerify: true, ServerName: sni} //nolint:gosec // test client
}

// opsGet sends one GET over c and returns the status code.
func opsGet(c net.Conn, path string) (int, error) {
	if _, err := fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: localhost\r\nUser-Agent: ops-test\r\nConnection: close\r\n\r\n", path); err != nil {
		return 0, err
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return 0, err
	}
	return resp.StatusCode, nil
}

// opsCountLines counts the non-empty lines of a file, failing on a NUL byte
// (the hole a non-O_APPEND writer leaves after a truncation) or a line that
// is not a JSON object.
func opsCountLines(t *testing.T, name string) int {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	if i := strings.IndexByte(string(b), 0); i >= 0 {
		t.Fatalf("%s has a NUL byte at offset %d", name, i)
	}
	n := 0
	for _, l := range strings.Split(string(b), "\n") {
		if l == "" {
			continue
		}
		if !strings.HasPrefix(l, "{") || !strings.HasSuffix(l, "}") {
			t.Fatalf("%s: line %d is not a JSON object: %q", name, n+1, l)
		}
		n++
	}
	return n
}

// opsFreePort returns a port that was free a moment ago. Only for servers
// that cannot report the port they got from port 0 (Pebble) or must be
// told a fixed port in advance (Pebble validates ja3echo at its tlsPort).
func opsFreePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// opsServedName is the certificate name a new connection gets. The conn is
// closed at once, so the server does not wait for its request at shutdown.
func opsServedName(t *testing.T, addr string) string {
	t.Helper()
	c, name := opsDial(t, addr, "localhost")
	c.Close()
	return name
}

// opsBatcher returns a function that serves n GET /json requests on p and
// waits until all of them (counting earlier batches) are logged: Done, which
// writes the line, runs before a conn leaves in_flight.
func opsBatcher(t *testing.T, p *opsProc) func(n int) {
	served := 0
	return func(n int) {
		t.Helper()
		for range n {
			c, _ := opsDial(t, p.addr, "localhost")
			if status, err := opsGet(c, "/json"); err != nil || status != http.StatusOK {
				t.Fatalf("GET /json: %d, %v", status, err)
			}
			c.Close()
		}
		served += n
		opsWaitMetric(t, p.metrics, "the batch logged", func(f map[string]*dto.MetricFamily) bool {
			ok, _ := opsMetricValue(f, "ja3echo_requests_total", "status", "200")
			inFlight, _ := opsMetricValue(f, "ja3echo_connections_in_flight")
			return ok == float64(served) && inFlight == 0
		})
	}
}
