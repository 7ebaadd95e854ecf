package main

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

const (
	unitFile      = "../../deploy/ja3echo.service"
	logrotateFile = "../../deploy/logrotate.conf"
)

// TestSystemdUnit checks deploy/ja3echo.service: its ExecStart flags parse,
// it has the hardening the README promises, and `systemd-analyze verify`
// accepts it without a warning. verify needs ExecStart's binary to exist,
// so it runs on a copy that points at the test build.
func TestSystemdUnit(t *testing.T) {
	raw, err := os.ReadFile(unitFile)
	if err != nil {
		t.Fatal(err)
	}
	unit := strings.ReplaceAll(string(raw), "\\\n", " ") // join continuation lines
	var execStart []string
	for _, l := range strings.Split(unit, "\n") {
		if v, ok := strings.CutPrefix(l, "ExecStart="); ok {
			execStart = strings.Fields(v)
		}
	}
	if len(execStart) < 2 || execStart[0] != "/usr/local/bin/ja3echo" {
		t.Fatalf("ExecStart = %q, want /usr/local/bin/ja3echo with flags", execStart)
	}
	t.Setenv("STATE_DIRECTORY", "/var/lib/ja3echo") // as systemd sets it for StateDirectory=ja3echo
	cfg, err := parseFlags(execStart[1:], io.Discard)
	if err != nil {
		t.Fatalf("ExecStart flags do not parse: %v", err)
	}
	if cfg.acmeCache != "/var/lib/ja3echo/acme" || cfg.port != 443 || !cfg.acme() {
		t.Errorf("ExecStart gives port %d, ACME %v, cache %q; want 443, on, /var/lib/ja3echo/acme", cfg.port, cfg.acme(), cfg.acmeCache)
	}
	for _, want := range []string{
		"AmbientCapabilities=CAP_NET_BIND_SERVICE", "DynamicUser=yes", "StateDirectory=ja3echo", "LogsDirectory=ja3echo",
		"NoNewPrivileges=yes", "ProtectSystem=strict", "ProtectHome=yes", "PrivateTmp=yes", "PrivateDevices=yes",
		"RestrictAddressFamilies=", "SystemCallFilter=@system-service", "LimitNOFILE=", "ExecReload=/bin/kill -HUP $MAINPID",
	} {
		if !strings.Contains(unit, "\n"+want) {
			t.Errorf("unit lacks %s", want)
		}
	}

	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skipf("systemd-analyze not installed: %v", err)
	}
	copyPath := filepath.Join(t.TempDir(), "ja3echo.service")
	if err := os.WriteFile(copyPath, []byte(strings.ReplaceAll(string(raw), "/usr/local/bin/ja3echo", buildBinary(t))), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(analyze, "verify", copyPath).CombinedOutput()
	if err != nil {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
	// Unknown keys and bad values are only warnings (exit 0); fail on any
	// line about our unit. Lines about the host's other units are not ours.
	for _, l := range strings.Split(string(out), "\n") {
		if strings.Contains(l, "ja3echo.service") {
			t.Errorf("systemd-analyze verify: %s", l)
		}
	}
}

// TestLogrotateConfig runs logrotate itself on deploy/logrotate.conf (paths
// and the reload command pointed at a test server): the rotated file must
// hold the lines from before the rotation and the new file those after.
func TestLogrotateConfig(t *testing.T) {
	logrotate, err := exec.LookPath("logrotate")
	if err != nil {
		t.Skipf("logrotate not installed: %v", err)
	}
	raw, err := os.ReadFile(logrotateFile)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	logFile := filepath.Join(dir, "ja3echo.log")
	p := startOpsProc(t, true, "--port", "0", "--log-file", logFile)
	conf := strings.ReplaceAll(string(raw), "/var/log/ja3echo/ja3echo.log", logFile)
	conf = strings.ReplaceAll(conf, "systemctl reload ja3echo.service", "kill -HUP "+strconv.Itoa(p.cmd.Process.Pid))
	if conf == string(raw) || !strings.Contains(conf, "kill -HUP") {
		t.Fatal("the paths or the reload command in logrotate.conf changed; update this test")
	}
	confFile := filepath.Join(dir, "logrotate.conf")
	if err := os.WriteFile(confFile, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}

	batch := opsBatcher(t, p)
	batch(3)
	// The buffer is flushed every second; notifempty would skip a file
	// that looks empty, so flush it the way an operator could: SIGHUP.
	p.signal(t, syscall.SIGHUP)
	opsWaitReload(t, p, "log_file", "ok", 1)
	out, err := exec.Command(logrotate, "--force", "--state", filepath.Join(dir, "state"), confFile).CombinedOutput()
	if err != nil {
		t.Fatalf("logrotate: %v\n%s", err, out)
	}
	opsWaitReload(t, p, "log_file", "ok", 2) // logrotate's postrotate
	batch(2)
	p.stop(t)

	if n := opsCountLines(t, logFile+".1"); n != 3 {
		t.Errorf("rotated file has %d lines, want 3", n)
	}
	if n := opsCountLines(t, logFile); n != 2 {
		t.Errorf("new file has %d lines, want 2", n)
	}
}
