// Command baseline is the server a Go user would write instead of ja3echo:
// net/http and crypto/tls with an ECDSA P-256 certificate, session tickets
// off (as in ja3echo, so every handshake is full), a small body and
// Connection: close on every response. With -ja3 it also computes a JA3-like
// fingerprint in GetConfigForClient from tls.ClientHelloInfo, the only view
// of the hello crypto/tls gives (it has no raw bytes), and echoes its hash.
//
// It prints "listening on https://127.0.0.1:PORT/" on stdout and serves
// until SIGINT or SIGTERM.
//
//	go run ./bench/cmd/baseline -ja3
package main

import (
	"context"
	"crypto/tls"
	"errors"
	_ "expvar" // /debug/vars with runtime.MemStats, for -debug-addr
	"flag"
	"fmt"
	"net"
	"net/http"
	_ "net/http/pprof" // /debug/pprof/, for -debug-addr
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/ja3sentry/ja3echo/bench"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address (127.0.0.x only)")
	certFile := flag.String("cert", "", "PEM certificate; empty: an ephemeral self-signed one of -key-type")
	keyFile := flag.String("key", "", "PEM private key (with -cert)")
	keyType := flag.String("key-type", bench.KeyECDSA, "ephemeral certificate key: ecdsa (P-256), ed25519 or rsa (2048)")
	readTimeout := flag.Duration("read-timeout", 10*time.Second, "http.Server.ReadTimeout (handshake + request head); idlemem sets it long")
	withJA3 := flag.Bool("ja3", false, "compute a JA3-like fingerprint in GetConfigForClient and echo its hash")
	debugAddr := flag.String("debug-addr", "", "serve net/http/pprof and expvar on this 127.0.0.x address (profiling only)")
	flag.Parse()
	if *debugAddr != "" {
		if err := serveDebug(*debugAddr); err != nil {
			fmt.Fprintln(os.Stderr, "baseline:", err)
			os.Exit(1)
		}
	}
	if err := run(*addr, *certFile, *keyFile, *keyType, *readTimeout, *withJA3); err != nil {
		fmt.Fprintln(os.Stderr, "baseline:", err)
		os.Exit(1)
	}
}

func run(addr, certFile, keyFile, keyType string, readTimeout time.Duration, withJA3 bool) error {
	if ap, err := net.ResolveTCPAddr("tcp", addr); err != nil || !ap.IP.IsLoopback() {
		return fmt.Errorf("-addr %q must be a 127.0.0.x address", addr)
	}
	cert, err := loadCert(certFile, keyFile, keyType)
	if err != nil {
		return err
	}
	fps := &fingerprints{}
	tlsCfg := &tls.Config{Certificates: []tls.Certificate{cert}, SessionTicketsDisabled: true}
	srv := &http.Server{
		Handler:     handler(fps, withJA3),
		TLSConfig:   tlsCfg,
		ReadTimeout: readTimeout,
	}
	if withJA3 {
		tlsCfg.GetConfigForClient = fps.remember
		srv.ConnState = fps.forget
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	fmt.Printf("baseline listening on https://%s/\n", ln.Addr())

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		srv.Close() // a benchmark's end: no grace needed
	}()
	if err := srv.ServeTLS(ln, "", ""); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// serveDebug serves http.DefaultServeMux, where net/http/pprof and expvar
// register, on its own listener: the benchmarked server never sees it.
func serveDebug(addr string) error {
	if ap, err := net.ResolveTCPAddr("tcp", addr); err != nil || !ap.IP.IsLoopback() {
		return fmt.Errorf("-debug-addr %q must be a 127.0.0.x address", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	go func() { _ = http.Serve(ln, nil) }()
	return nil
}

func loadCert(certFile, keyFile, keyType string) (tls.Certificate, error) {
	if certFile != "" {
		return tls.LoadX509KeyPair(certFile, keyFile)
	}
	return bench.NewCert(keyType)
}

// handler answers every request with a few bytes and Connection: close, so
// each connection carries one request, as with ja3echo.
func handler(fps *fingerprints, withJA3 bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Connection", "close")
		body := "hello from the net/http baseline\n"
		if withJA3 {
			body += "ja3 " + fps.take(r.RemoteAddr) + "\n"
		}
		_, _ = w.Write([]byte(body))
	}
}

// fingerprints carries each connection's JA3 hash from GetConfigForClient,
// which sees the hello, to the handler, which sees the request: the two only
// share the remote address.
type fingerprints struct{ m sync.Map }

func (f *fingerprints) remember(h *tls.ClientHelloInfo) (*tls.Config, error) {
	f.m.Store(h.Conn.RemoteAddr().String(), ja3Hash(h))
	return nil, nil // nil: keep the server's config
}

func (f *fingerprints) take(remote string) string {
	if v, ok := f.m.LoadAndDelete(remote); ok {
		return v.(string)
	}
	return "-"
}

// forget drops the entry of a connection that closed before its request
// (a failed handshake, a client that left), so the map cannot grow.
func (f *fingerprints) forget(c net.Conn, s http.ConnState) {
	if s == http.StateClosed || s == http.StateHijacked {
		f.m.Delete(c.RemoteAddr().String())
	}
}
