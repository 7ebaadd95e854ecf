package bench

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"syscall"
	"time"
)

// Build compiles the main package pkg (an import path or ./dir) into out.
func Build(pkg, out string) error {
	cmd := exec.Command("go", "build", "-o", out, pkg)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("bench: go build %s: %w", pkg, err)
	}
	return nil
}

// Process is a server the benchmarks started, listening on 127.0.0.1.
type Process struct {
	Name string
	Addr string // "127.0.0.1:port"
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited
}

// PID is the server's process id, for ProcCPU and ProcStatus.
func (p *Process) PID() int { return p.cmd.Process.Pid }

// listening matches both servers' start-up line; ja3echo's has "localhost",
// the baseline's "127.0.0.1".
var listening = regexp.MustCompile(`listening on https://[^/\s"]*:(\d+)/`)

// ErrNoStart means a server exited or stayed silent instead of printing its
// address.
var ErrNoStart = errors.New("bench: server did not report its address")

// Start runs bin with args and waits (up to 30 s) for its "listening on
// https://HOST:PORT/" line. Its stdout and stderr go to logFile; they are
// drained for the process's whole life, so that a chatty server never blocks
// on a full pipe.
func Start(name, bin string, args []string, logFile string) (*Process, error) {
	f, err := os.Create(logFile)
	if err != nil {
		return nil, err
	}
	pr, pw := io.Pipe()
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = pw, f
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("bench: starting %s: %w", name, err)
	}
	p := &Process{Name: name, cmd: cmd, done: make(chan struct{})}
	port := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			fmt.Fprintln(f, sc.Text())
			if m := listening.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case port <- m[1]:
				default:
				}
			}
		}
		_, _ = io.Copy(io.Discard, pr) // a line over the scanner's limit
		f.Close()
	}()
	go func() {
		_ = cmd.Wait()
		pw.Close() // ends the scanner, which then closes f
		close(p.done)
	}()
	select {
	case pt := <-port:
		p.Addr = "127.0.0.1:" + pt
		return p, nil
	case <-p.done:
		return nil, fmt.Errorf("%w: %s exited (see %s)", ErrNoStart, name, logFile)
	case <-time.After(30 * time.Second):
		_ = p.Stop()
		return nil, fmt.Errorf("%w: %s silent for 30s (see %s)", ErrNoStart, name, logFile)
	}
}

// Stop sends SIGTERM and waits up to 10 s before killing the process.
func (p *Process) Stop() error {
	select {
	case <-p.done:
		return nil
	default:
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return err
	}
	select {
	case <-p.done:
		return nil
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
		return fmt.Errorf("bench: %s ignored SIGTERM for 10s, killed", p.Name)
	}
}

// Exited reports whether the process has ended.
func (p *Process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// BuildServers returns the ja3echo and baseline binaries: the given paths,
// or fresh builds into dir for the empty ones.
func BuildServers(dir, ja3echoBin, baselineBin string) (string, string, error) {
	if ja3echoBin == "" {
		ja3echoBin = filepath.Join(dir, "ja3echo")
		if err := Build("github.com/ja3sentry/ja3echo/cmd/ja3echo", ja3echoBin); err != nil {
			return "", "", err
		}
	}
	if baselineBin == "" {
		baselineBin = filepath.Join(dir, "baseline")
		if err := Build("github.com/ja3sentry/ja3echo/bench/cmd/baseline", baselineBin); err != nil {
			return "", "", err
		}
	}
	return ja3echoBin, baselineBin, nil
}

// StartJA3echo starts ja3echo on 127.0.0.1 (port 0) with the given
// certificate; its event log and output go to dir. extra flags come last.
func StartJA3echo(bin, dir, certFile, keyFile string, extra ...string) (*Process, error) {
	args := append([]string{"--host", "127.0.0.1", "--port", "0", "--cert", certFile, "--key", keyFile,
		"--log-file", filepath.Join(dir, "ja3echo-events.log"), "--shutdown-grace", "2s"}, extra...)
	return Start("ja3echo", bin, args, filepath.Join(dir, "ja3echo.out"))
}

// StartBaseline starts the baseline on 127.0.0.1 (port 0) with the given
// certificate; its output goes to dir. extra flags come last.
func StartBaseline(bin, dir, certFile, keyFile string, extra ...string) (*Process, error) {
	args := append([]string{"-addr", "127.0.0.1:0", "-cert", certFile, "-key", keyFile}, extra...)
	return Start("baseline", bin, args, filepath.Join(dir, "baseline.out"))
}
