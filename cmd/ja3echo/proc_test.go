package main

// Running the built binary as a subprocess.

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// proc is a running ja3echo server process.
type proc struct {
	cmd    *exec.Cmd
	lines  chan string // stdout lines
	mu     sync.Mutex
	out    bytes.Buffer // stdout and stderr so far, for failure messages
	exited chan struct{}
	err    error // from Wait, valid once exited is closed
}

// listenRE matches the startup line and captures the port.
var listenRE = regexp.MustCompile(`listening on https://localhost:(\d+)/`)

// startProc runs the binary in dir with args and waits for its listening
// line; it returns the process and the port.
func startProc(t *testing.T, dir string, args ...string) (*proc, int) {
	t.Helper()
	p := &proc{cmd: binaryCommand(context.Background(), t, args...), lines: make(chan string, 1024), exited: make(chan struct{})}
	p.cmd.Dir = dir
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p.cmd.Stderr = &procWriter{p}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			p.mu.Lock()
			p.out.WriteString(sc.Text() + "\n")
			p.mu.Unlock()
			select {
			case p.lines <- sc.Text():
			default: // nobody is waiting for lines this far
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
		p.err = p.cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			_ = p.cmd.Process.Kill()
			<-p.exited
		}
	})
	line := p.waitLine(t, "listening on")
	m := listenRE.FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("no port in the startup line %q", line)
	}
	port, _ := strconv.Atoi(m[1])
	return p, port
}

type procWriter struct{ p *proc }

func (w *procWriter) Write(b []byte) (int, error) {
	w.p.mu.Lock()
	defer w.p.mu.Unlock()
	return w.p.out.Write(b)
}

func (p *proc) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

// waitLine returns the first stdout line (not yet consumed) containing s.
func (p *proc) waitLine(t *testing.T, s string) string {
	t.Helper()
	timeout := time.After(testTimeout)
	for {
		select {
		case l := <-p.lines:
			if strings.Contains(l, s) {
				return l
			}
		case <-p.exited:
			// Drain what was printed before the exit.
			for {
				select {
				case l := <-p.lines:
					if strings.Contains(l, s) {
						return l
					}
				default:
					t.Fatalf("ja3echo exited (%v) before printing %q:\n%s", p.err, s, p.output())
				}
			}
		case <-timeout:
			t.Fatalf("ja3echo did not print %q:\n%s", s, p.output())
		}
	}
}

// stop sends SIGTERM and returns the exit code.
func (p *proc) stop(t *testing.T) int {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	return p.wait(t)
}

func (p *proc) wait(t *testing.T) int {
	t.Helper()
	select {
	case <-p.exited:
	case <-time.After(testTimeout):
		t.Fatalf("ja3echo did not exit:\n%s", p.output())
	}
	return exitCode(t, p.err)
}

func exitCode(t *testing.T, err error) int {
	t.Helper()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		return ee.ExitCode()
	}
	t.Fatalf("running ja3echo: %v", err)
	return -1
}

// runOnce runs the binary to completion and returns its combined output and
// exit code.
func runOnce(t *testing.T, dir string, args ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	cmd := binaryCommand(ctx, t, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	return string(out), exitCode(t, err)
}
