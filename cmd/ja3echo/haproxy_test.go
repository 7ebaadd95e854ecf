package main

import (
	"crypto/tls"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// shippedHAProxyConfig is the example deploy/haproxy.cfg, which the test
// runs as is: its ${NAME-default} addresses are set through the environment.
var shippedHAProxyConfig = filepath.Join("..", "..", "deploy", "haproxy.cfg")

// haproxyBinary finds haproxy, also in /usr/sbin (where Debian puts it),
// which a non-root PATH often lacks; it skips the test if there is none.
func haproxyBinary(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("haproxy"); err == nil {
		return p
	}
	if p, err := exec.LookPath("/usr/sbin/haproxy"); err == nil {
		return p
	}
	t.Skip("haproxy is not installed (.ci/run installs it: apt-get install haproxy)")
	return ""
}

// freePort returns a 127.0.0.1 address nobody listens on right now. HAProxy
// cannot bind port 0 and report it, so the test picks the port for it.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startHAProxy runs haproxy in the foreground on cfg with env added, until
// the test ends, and waits until every address in fronts accepts.
func startHAProxy(t *testing.T, bin, cfg string, env []string, fronts ...string) {
	t.Helper()
	out := &lockedBuffer{}
	cmd := exec.Command(bin, "-db", "-f", cfg)
	cmd.Env, cmd.Stdout, cmd.Stderr = append(os.Environ(), env...), out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting haproxy: %v", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("haproxy output:\n%s", out)
		}
	})
	for _, addr := range fronts {
		for end := time.Now().Add(testTimeout); ; time.Sleep(10 * time.Millisecond) {
			select {
			case <-exited:
				t.Fatalf("haproxy exited: %v\n%s", cmd.ProcessState, out)
			default:
			}
			if c, err := net.Dial("tcp", addr); err == nil {
				c.Close()
				break
			}
			if time.Now().After(end) {
				t.Fatalf("haproxy does not accept on %s\n%s", addr, out)
			}
		}
	}
}

// TestHAProxy puts a real HAProxy, configured by the shipped
// deploy/haproxy.cfg, between a client on 127.0.0.7 and ja3echo, once with
// PROXY v2 (plus a CRC32C TLV, and LOCAL health checks) and once with v1.
// Both the /json answer and the log file must show the client's own address
// and port, not HAProxy's.
func TestHAProxy(t *testing.T) {
	bin := haproxyBinary(t)
	cfg := proxyConfig(t) // trusts 127.0.0.1, HAProxy's source address
	s := startServer(t, cfg)
	v2, v1 := freePort(t), freePort(t)
	env := []string{"JA3ECHO_FRONTEND=" + v2, "JA3ECHO_FRONTEND_V1=" + v1, "JA3ECHO_BACKEND=" + s.addr}

	// The file is valid as shipped (its defaults) and as the test runs it.
	for _, e := range [][]string{nil, env} {
		check := exec.Command(bin, "-c", "-f", shippedHAProxyConfig)
		check.Env = append(os.Environ(), e...)
		if out, err := check.CombinedOutput(); err != nil {
			t.Fatalf("haproxy -c with %q: %v\n%s", e, err, out)
		}
	}
	startHAProxy(t, bin, shippedHAProxyConfig, env, v2, v1)

	want := map[string]string{} // User-Agent => the client's address
	for _, front := range []struct{ name, addr string }{{"v2", v2}, {"v1", v1}} {
		d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 7)}, Timeout: testTimeout}
		c, err := tls.DialWithDialer(d, "tcp", front.addr, clientTLS())
		if err != nil {
			t.Fatalf("%s: TLS through haproxy: %v", front.name, err)
		}
		ua := "ja3echo-haproxy-test/" + front.name
		e := echoThrough(t, c, ua)
		c.Close()
		if e.RemoteAddr != c.LocalAddr().String() {
			t.Errorf("%s: remote_addr = %q, want the client's %s", front.name, e.RemoteAddr, c.LocalAddr())
		}
		if e.JA3Hash == "" {
			t.Errorf("%s: no JA3 in %+v", front.name, e)
		}
		want[ua] = c.LocalAddr().String()
	}

	if err := s.stop(); err != nil { // flushes the log file
		t.Fatal(err)
	}
	for _, l := range readLog(t, s.logPath) {
		if addr, ok := want[l.UserAgent]; ok {
			if l.RemoteAddr != addr {
				t.Errorf("log line for %s: remote_addr = %q, want %s", l.UserAgent, l.RemoteAddr, addr)
			}
			delete(want, l.UserAgent)
		}
	}
	if len(want) != 0 {
		t.Errorf("no log line for %v", want)
	}
}
