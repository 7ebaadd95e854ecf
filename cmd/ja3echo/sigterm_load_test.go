package main

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// TestSIGTERMDuringLoad sends SIGTERM while many clients hammer the server:
// it must exit 0 on its own within --shutdown-grace, and the log file must
// hold exactly one line per response a client received, none lost in the
// buffer and none for connections that never got an answer.
func TestSIGTERMDuringLoad(t *testing.T) {
	const (
		workers = 32
		warmup  = 200 // responses before the signal, so it lands mid-load
		grace   = 10 * time.Second
	)
	dir := t.TempDir()
	logFile := filepath.Join(dir, "ja3echo.log")
	p := startOpsProc(t, false, "--port", "0", "--log-file", logFile, "--shutdown-grace", grace.String())

	var (
		responses atomic.Int64
		signalled atomic.Bool
		wg        sync.WaitGroup
		errMu     sync.Mutex
		loadErr   error
	)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				status, err := opsLoadOnce(p.addr)
				if err != nil {
					// Refused, reset or cut before the hello completed: the
					// server is stopping. Earlier, it is a failure.
					if !signalled.Load() {
						errMu.Lock()
						loadErr = err
						errMu.Unlock()
					}
					return
				}
				if status != http.StatusOK {
					errMu.Lock()
					loadErr = fmt.Errorf("status %d, want 200", status)
					errMu.Unlock()
					return
				}
				responses.Add(1)
			}
		}()
	}

	deadline := time.Now().Add(testTimeout)
	for responses.Load() < warmup && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	signalled.Store(true)
	atSignal := responses.Load()
	if atSignal < warmup {
		t.Fatalf("only %d responses in %v, want %d before SIGTERM", atSignal, testTimeout, warmup)
	}
	p.signal(t, syscall.SIGTERM)
	sigAt := time.Now()

	// The bound is the requirement itself: exit within the grace period
	// (plus a margin for a race-instrumented binary to start its exit).
	select {
	case <-p.exited:
	case <-time.After(grace + testTimeout):
		t.Fatalf("ja3echo still running %v after SIGTERM", grace+testTimeout)
	}
	t.Logf("exited %v after SIGTERM", time.Since(sigAt))
	wg.Wait()
	t.Logf("clients done %v after SIGTERM", time.Since(sigAt))
	if loadErr != nil {
		t.Fatalf("a client failed before SIGTERM: %v", loadErr)
	}
	if p.err != nil {
		t.Fatalf("exit status: %v, want 0\n%s", p.err, p.out.String())
	}
	if opsHasLogLine(p.out.String(), "did not finish within the grace period") {
		t.Errorf("in-flight connections outlived the grace period:\n%s", p.out.String())
	}
	if lines, got := opsCountLines(t, logFile), responses.Load(); int64(lines) != got {
		t.Errorf("log file has %d lines, clients received %d responses", lines, got)
	}
	t.Logf("%d responses, about %d of them after SIGTERM", responses.Load(), responses.Load()-atSignal)
}

// opsLoadOnce does one TLS connection with one GET, all bounded by testTimeout.
func opsLoadOnce(addr string) (int, error) {
	d := &net.Dialer{Timeout: testTimeout, Deadline: time.Now().Add(testTimeout)}
	c, err := tls.DialWithDialer(d, "tcp", addr, opsClientTLS("localhost"))
	if err != nil {
		return 0, err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(testTimeout))
	return opsGet(c, "/json")
}
