package main

import (
	"io"
	"slices"
	"strings"
	"testing"

	"golang.org/x/crypto/acme"
)

func TestOpsFlagDefaults(t *testing.T) {
	t.Setenv("STATE_DIRECTORY", "")
	cfg, err := parseFlags(nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.acme() || cfg.metricsAddr != "" {
		t.Errorf("ACME %v, metrics %q; want both off by default", cfg.acme(), cfg.metricsAddr)
	}
	if cfg.acmeDirectory != acme.LetsEncryptURL || cfg.acmeCache != "certs/acme" {
		t.Errorf("ACME directory %q, cache %q; want Let's Encrypt production and certs/acme", cfg.acmeDirectory, cfg.acmeCache)
	}

	// systemd's StateDirectory= may list several directories.
	t.Setenv("STATE_DIRECTORY", "/var/lib/ja3echo:/var/lib/other")
	if cfg, err = parseFlags(nil, io.Discard); err != nil {
		t.Fatal(err)
	}
	if cfg.acmeCache != "/var/lib/ja3echo/acme" {
		t.Errorf("with $STATE_DIRECTORY, cache = %q, want /var/lib/ja3echo/acme", cfg.acmeCache)
	}
}

func TestOpsFlags(t *testing.T) {
	cfg, err := parseFlags([]string{
		"--acme-domain", "Echo.Example.com.", "--acme-domain", "a.example.com, b.example.org",
		"--acme-email", "ops@example.com", "--acme-cache", "/tmp/c", "--acme-directory", "https://ca.internal/dir",
		"--acme-ca-root", "/etc/ca.pem", "--metrics-addr", "127.0.0.1:9443",
	}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"echo.example.com", "a.example.com", "b.example.org"}; !slices.Equal(cfg.acmeDomains, want) {
		t.Errorf("domains = %q, want %q", cfg.acmeDomains, want)
	}
	if cfg.acmeEmail != "ops@example.com" || cfg.acmeCache != "/tmp/c" || cfg.acmeDirectory != "https://ca.internal/dir" ||
		cfg.acmeCARoot != "/etc/ca.pem" || cfg.metricsAddr != "127.0.0.1:9443" {
		t.Errorf("parsed %+v", cfg.opsConfig)
	}
}

func TestOpsFlagErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string // part of the message
	}{
		{[]string{"--acme-email", "a@b.c"}, "--acme-email needs --acme-domain"},
		{[]string{"--acme-ca-root", "x.pem"}, "--acme-ca-root needs --acme-domain"},
		{[]string{"--acme-domain", "a.example.com", "--cert", "c.pem"}, "exclusive"},
		{[]string{"--acme-domain", "192.0.2.1"}, "IP addresses"},
		{[]string{"--acme-domain", "localhost"}, "fully qualified"},
		{[]string{"--acme-domain", "*.example.com"}, "wildcards"},
		{[]string{"--acme-domain", "a..example.com"}, "bad label"},
		{[]string{"--acme-domain", "a.example.com", "--acme-cache", ""}, "--acme-cache"},
		{[]string{"--metrics-addr", "9443"}, "--metrics-addr"},
	} {
		_, err := parseFlags(tc.args, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("parseFlags(%q) = %v, want an error about %q", tc.args, err, tc.want)
		}
	}
}
