package main

import (
	"bufio"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// TestSIGTERMDrains sends SIGTERM to the process while connections are in
// flight: handshaken but silent ones, ones with half a request sent, and
// clients making short requests in a loop. Every in-flight connection is
// answered after the signal, the exit code is 0, and the log file has one
// line for each response a client received, and no other.
func TestSIGTERMDrains(t *testing.T) {
	dir := t.TempDir()
	logPath := filepath.Join(dir, "ja3echo.log")
	p, port := startProc(t, dir, "--port", "0", "--log-file", logPath,
		"--handshake-timeout", "20s", "--shutdown-grace", "20s")
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))

	var (
		mu       sync.Mutex
		answered = make(map[string]bool) // client local addr -> got a 200
	)
	ok := func(c net.Conn) {
		mu.Lock()
		answered[c.LocalAddr().String()] = true
		mu.Unlock()
	}

	// Handshake done, request not sent.
	var held []*tls.Conn
	for range 6 {
		c, err := tls.Dial("tcp", addr, clientTLS())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		held = append(held, c)
	}
	// Half a request sent.
	var half []*tls.Conn
	for range 3 {
		c, err := tls.Dial("tcp", addr, clientTLS())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, err := io.WriteString(c, "GET /json HTTP/1.1\r\nHost: local"); err != nil {
			t.Fatal(err)
		}
		half = append(half, c)
	}
	// Loops of short requests, running through the signal until refused.
	var (
		loops    sync.WaitGroup
		stop     = make(chan struct{})
		progress atomic.Int64
	)
	for range 3 {
		loops.Add(1)
		go func() {
			defer loops.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				c, err := tls.DialWithDialer(&net.Dialer{Timeout: testTimeout}, "tcp", addr, clientTLS())
				if err != nil {
					return // the listener is gone
				}
				_ = c.SetDeadline(time.Now().Add(testTimeout))
				_, err = io.WriteString(c, getRequest("/json", "User-Agent: loop"))
				if err == nil {
					var resp *http.Response
					resp, err = http.ReadResponse(bufio.NewReader(c), nil)
					if err == nil {
						_, err = io.ReadAll(resp.Body)
						if err == nil && resp.StatusCode == http.StatusOK {
							ok(c)
							progress.Add(1)
						}
					}
				}
				c.Close()
				if err != nil {
					return // shed or cut by the shutdown: not answered, not logged
				}
			}
		}()
	}
	for progress.Load() < 10 { // the loops are really running
		select {
		case <-p.exited:
			t.Fatalf("ja3echo exited early:\n%s", p.output())
		case <-time.After(10 * time.Millisecond):
		}
	}

	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	p.waitLine(t, "shutting down")

	// The in-flight connections finish after the signal.
	for i, c := range held {
		resp, body := roundTrip(t, c, http.MethodGet, getRequest("/json", "User-Agent: held"))
		if resp.StatusCode != http.StatusOK {
			t.Errorf("held conn %d: status %d: %s", i, resp.StatusCode, body)
		}
		ok(c)
	}
	for i, c := range half {
		resp, body := roundTrip(t, c, http.MethodGet, "host\r\nUser-Agent: half\r\nConnection: close\r\n\r\n")
		if resp.StatusCode != http.StatusOK {
			t.Errorf("half-request conn %d: status %d: %s", i, resp.StatusCode, body)
		}
		ok(c)
	}
	close(stop)
	loops.Wait()

	if code := p.wait(t); code != 0 {
		t.Fatalf("exit code %d after SIGTERM, want 0:\n%s", code, p.output())
	}
	lines := readLog(t, logPath)
	logged := make(map[string]bool)
	for _, l := range lines {
		logged[l.RemoteAddr] = true
		if l.Status != http.StatusOK {
			t.Errorf("log line for %s has status %d (error %q)", l.RemoteAddr, l.Status, l.Error)
		}
	}
	if len(lines) != len(answered) {
		t.Errorf("%d log lines for %d responses received", len(lines), len(answered))
	}
	for a := range answered {
		if !logged[a] {
			t.Errorf("no log line for %s, which got its response", a)
		}
	}
	for a := range logged {
		if !answered[a] {
			t.Errorf("log line for %s, which got no response", a)
		}
	}
	t.Logf("%d responses (%d from the loops), all logged", len(answered), progress.Load())
}
