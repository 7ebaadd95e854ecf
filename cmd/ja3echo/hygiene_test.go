package main

import (
	"bufio"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"sync"
	"testing"
	"time"
)

func countFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("no /proc/self/fd: %v", err)
	}
	return len(ents)
}

// settle polls until f() <= want or the safety timeout and returns the last
// value. Closing is asynchronous (goroutines exit, the loop reaps), so the
// counts may need a moment; only the end state is asserted.
func settle(want int, f func() int) int {
	deadline := time.Now().Add(testTimeout)
	for {
		n := f()
		if n <= want || time.Now().After(deadline) {
			return n
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// burstKinds are the connections of the burst. They run on goroutines, so
// they report with t.Error and close their own conns before returning.
func burstKinds(addr string) []func(t *testing.T) {
	dial := func(t *testing.T) net.Conn {
		c, err := net.DialTimeout("tcp", addr, testTimeout)
		if err != nil {
			t.Error(err)
			return nil
		}
		_ = c.SetDeadline(time.Now().Add(testTimeout))
		return c
	}
	drain := func(c net.Conn) { _, _ = io.Copy(io.Discard, c) }
	dialTLS := func(t *testing.T) *tls.Conn {
		c, err := tls.DialWithDialer(&net.Dialer{Timeout: testTimeout}, "tcp", addr, clientTLS())
		if err != nil {
			t.Error(err)
			return nil
		}
		_ = c.SetDeadline(time.Now().Add(testTimeout))
		return c
	}
	return []func(t *testing.T){
		func(t *testing.T) { // good request
			if c := dialTLS(t); c != nil {
				defer c.Close()
				_, _ = io.WriteString(c, getRequest("/json"))
				resp, err := http.ReadResponse(bufio.NewReader(c), nil)
				if err != nil || resp.StatusCode != http.StatusOK {
					t.Errorf("good request: %v %v", resp, err)
					return
				}
				drain(c)
			}
		},
		func(t *testing.T) { // plaintext HTTP
			if c := dial(t); c != nil {
				defer c.Close()
				_, _ = io.WriteString(c, "GET / HTTP/1.1\r\n\r\n")
				drain(c)
			}
		},
		func(t *testing.T) { // garbage
			if c := dial(t); c != nil {
				defer c.Close()
				_, _ = c.Write([]byte{0, 1, 2, 3, 4, 5})
				drain(c)
			}
		},
		func(t *testing.T) { // connect and leave
			if c := dial(t); c != nil {
				c.Close()
			}
		},
		func(t *testing.T) { // half a hello, then leave
			if c := dial(t); c != nil {
				_, _ = c.Write([]byte{22, 3, 1, 2, 0, 1, 0, 1})
				c.Close()
			}
		},
		func(t *testing.T) { // handshake, then leave without a request
			if c := dialTLS(t); c != nil {
				c.Close()
			}
		},
		func(t *testing.T) { // silent until the hello timeout closes it
			if c := dial(t); c != nil {
				defer c.Close()
				drain(c)
			}
		},
		func(t *testing.T) { // request without its blank line, then leave
			if c := dialTLS(t); c != nil {
				_, _ = io.WriteString(c, "GET /json HTTP/1.1\r\n")
				c.Close()
			}
		},
	}
}

// TestNoLeaksAfterBurst: 200 connections of every kind, good and bad;
// afterwards the process has no more fds and goroutines than before.
func TestNoLeaksAfterBurst(t *testing.T) {
	cfg := testConfig(t)
	cfg.helloTimeout = 200 * time.Millisecond
	srv := startServer(t, cfg)
	kinds := burstKinds(srv.addr)
	burst := func(n int) {
		var wg sync.WaitGroup
		sem := make(chan struct{}, 16)
		for i := range n {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				kinds[i%len(kinds)](t)
			}()
		}
		wg.Wait()
	}

	// Warm up (runtime poller, TLS state, the loop's buffers), then take the
	// lowest counts seen while the warm-up's conns finish closing.
	burst(2 * len(kinds))
	fds, goroutines := countFDs(t), runtime.NumGoroutine()
	for range 10 {
		time.Sleep(20 * time.Millisecond)
		fds, goroutines = min(fds, countFDs(t)), min(goroutines, runtime.NumGoroutine())
	}

	burst(200)
	if n := settle(fds, func() int { return countFDs(t) }); n > fds {
		t.Errorf("%d fds open after the burst, %d before", n, fds)
		ents, _ := os.ReadDir("/proc/self/fd")
		for _, e := range ents {
			target, _ := os.Readlink("/proc/self/fd/" + e.Name())
			t.Logf("fd %s -> %s", e.Name(), target)
		}
	}
	if n := settle(goroutines, runtime.NumGoroutine); n > goroutines {
		buf := make([]byte, 1<<20)
		t.Errorf("%d goroutines after the burst, %d before:\n%s", n, goroutines, buf[:runtime.Stack(buf, true)])
	}
}
