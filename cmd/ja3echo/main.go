// Command ja3echo is a TLS fingerprint echo server: every client that
// connects is shown its own ClientHello, its JA3/JA3N fingerprints and its
// browser, and new fingerprints and clients are logged.
//
// One goroutine runs an epoll loop (package poller) that accepts connections
// and buffers each one's bytes until a complete ClientHello has arrived; the
// socket then goes to a stock crypto/tls server (package tlsconn) with the
// buffered bytes replayed, which answers one HTTP request and closes.
//
// Usage:
//
//	ja3echo [flags]                 serve
//	ja3echo fingerprint FILE|-      fingerprint a pcap/pcapng capture, or hex-encoded client bytes, one per line
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/sirupsen/logrus"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// config is everything the command line sets.
type config struct {
	host             string
	port             int
	certFile         string
	keyFile          string
	logFile          string
	debug            bool
	helloTimeout     time.Duration
	handshakeTimeout time.Duration
	maxHandshakes    int
	maxConns         int
	grace            time.Duration
	kex              string // key exchange policy: kex.go
	http2            bool   // offer h2 and echo the Akamai fingerprint: http2.go

	opsConfig   // ACME and metrics: ops.go
	edgeConfig  // PROXY protocol and per-IP limits: edge.go
	debugConfig // pprof: pprof.go
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "fingerprint" {
		os.Exit(fingerprintCmd(os.Args[2:], os.Stdin, os.Stdout, os.Stderr))
	}
	cfg, err := parseFlags(os.Args[1:], os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "ja3echo:", err)
		os.Exit(2)
	}
	tuneGC() // GOGC and GOMEMLIMIT defaults for a handshake server: gc.go
	log := newLogger(os.Stdout, cfg.debug)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := serve(ctx, cfg, log, nil); err != nil {
		log.WithError(err).Error("ja3echo stopped")
		os.Exit(1)
	}
}

func parseFlags(args []string, stderr io.Writer) (*config, error) {
	cfg := &config{}
	fs := flag.NewFlagSet("ja3echo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "ja3echo %s: a TLS fingerprint echo server\n\n", version)
		fmt.Fprintf(stderr, "Usage:\n  ja3echo [flags]\n  ja3echo fingerprint FILE|-   (a pcap/pcapng capture, or hex of client bytes, one connection per line)\n\nFlags:\n")
		fs.PrintDefaults()
	}
	fs.StringVar(&cfg.host, "host", "127.0.0.1", "address to listen on (IPv4 or IPv6; 0.0.0.0 or :: for all)")
	fs.IntVar(&cfg.port, "port", 4443, "TCP port to listen on")
	fs.StringVar(&cfg.certFile, "cert", "certs/fullchain.pem", "PEM certificate chain; if neither it nor --key exists, an ephemeral self-signed cert is used")
	fs.StringVar(&cfg.keyFile, "key", "certs/privkey.pem", "PEM private key")
	fs.StringVar(&cfg.logFile, "log-file", "logs/ja3echo.log", "JSON-lines log of fingerprinted connections (parent directory created)")
	fs.BoolVar(&cfg.debug, "debug", false, "log every connection on stdout")
	fs.DurationVar(&cfg.helloTimeout, "hello-timeout", 10*time.Second, "time a client has to send its whole ClientHello")
	fs.DurationVar(&cfg.handshakeTimeout, "handshake-timeout", 10*time.Second, "time for the TLS handshake, the request and the response together")
	fs.IntVar(&cfg.maxHandshakes, "max-handshakes", 4096, "connections served (handshake to close) at once; more are shed")
	fs.IntVar(&cfg.maxConns, "max-conns", 0, "connections waiting for their ClientHello at once (0: derived from the fd limit)")
	fs.DurationVar(&cfg.grace, "shutdown-grace", 15*time.Second, "on SIGINT/SIGTERM, how long in-flight connections may finish")
	fs.StringVar(&cfg.kex, "kex", kexPQ, "TLS 1.3 key exchange when a client offers several: pq (X25519MLKEM768, post-quantum hybrid) or classical (X25519 when the client supports it: less CPU, no protection against harvest-now-decrypt-later)")
	fs.BoolVar(&cfg.http2, "http2", true, "offer HTTP/2 (ALPN h2 before http/1.1) and show h2 clients their Akamai HTTP/2 fingerprint; --http2=false offers http/1.1 only")
	addOpsFlags(fs, &cfg.opsConfig)
	addEdgeFlags(fs, &cfg.edgeConfig)
	addDebugFlags(fs, &cfg.debugConfig)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if err := checkOps(fs, &cfg.opsConfig); err != nil {
		return nil, err
	}
	if err := checkEdge(&cfg.edgeConfig); err != nil {
		return nil, err
	}
	if err := checkDebug(&cfg.debugConfig); err != nil {
		return nil, err
	}
	if err := checkKex(cfg.kex); err != nil {
		return nil, err
	}
	switch {
	case fs.NArg() > 0:
		return nil, fmt.Errorf("unexpected argument %q (see -h)", fs.Arg(0))
	case cfg.port < 0 || cfg.port > 65535:
		return nil, fmt.Errorf("--port %d out of range 0-65535", cfg.port)
	case cfg.helloTimeout <= 0:
		return nil, fmt.Errorf("--hello-timeout must be positive, got %v", cfg.helloTimeout)
	case cfg.handshakeTimeout <= 0:
		return nil, fmt.Errorf("--handshake-timeout must be positive, got %v", cfg.handshakeTimeout)
	case cfg.maxHandshakes < 1:
		return nil, fmt.Errorf("--max-handshakes must be at least 1, got %d", cfg.maxHandshakes)
	case cfg.maxConns < 0:
		return nil, fmt.Errorf("--max-conns must not be negative, got %d", cfg.maxConns)
	case cfg.grace < 0:
		return nil, fmt.Errorf("--shutdown-grace must not be negative, got %v", cfg.grace)
	case cfg.logFile == "":
		return nil, errors.New("--log-file must not be empty")
	}
	return cfg, nil
}

func (c *config) addr() string {
	return net.JoinHostPort(c.host, strconv.Itoa(c.port))
}

// newLogger builds the one stdout logger; packages get entries of it.
func newLogger(w io.Writer, debug bool) *logrus.Logger {
	l := logrus.New()
	l.SetOutput(w)
	l.SetFormatter(&logrus.TextFormatter{FullTimestamp: true, TimestampFormat: time.RFC3339})
	if debug {
		l.SetLevel(logrus.DebugLevel)
	}
	return l
}
