// Command capture is a recording TLS endpoint used to collect real
// ClientHellos for ja3echo's golden test data.
//
// It listens on a loopback address, reads the first connection's client bytes
// up to the end of the ClientHello (before the server says anything), writes
// them as hex to <out>/<name>.hex, and then completes a real TLS handshake by
// replaying those bytes to crypto/tls, answering any HTTP/1.1 request with a
// small 200 so that curl, browsers and scripts exit cleanly. It exits once the
// recorded connection is closed (or on SIGINT/SIGTERM or -timeout).
//
// Run it from the module root: go run ./testdata/tools/capture -name curl_default
// -client "curl 7.88.1 (OpenSSL 3.0.19)". testdata/tools/regen.sh drives it.
package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"flag"
	"fmt"
	"log"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

type options struct {
	addr     string
	out      string
	name     string
	client   string
	date     string
	portFile string
	timeout  time.Duration
}

func main() {
	var o options
	flag.StringVar(&o.addr, "addr", "127.0.0.1:0", "loopback address to listen on")
	flag.StringVar(&o.out, "out", "testdata/clienthellos", "directory for <name>.hex")
	flag.StringVar(&o.name, "name", "", "capture name (file stem), required")
	flag.StringVar(&o.client, "client", "", "client description for the # comment line, required")
	flag.StringVar(&o.date, "date", time.Now().UTC().Format("2006-01-02"), "capture date for the comment line")
	flag.StringVar(&o.portFile, "portfile", "", "if set, write the listening port here once ready")
	flag.DurationVar(&o.timeout, "timeout", 60*time.Second, "give up after this long")
	flag.Parse()
	if err := run(o); err != nil {
		log.Printf("capture: %v", err)
		os.Exit(1)
	}
}

func run(o options) error {
	if o.name == "" || o.client == "" || strings.ContainsAny(o.name, "/\\") {
		return errors.New("-name (a plain file stem) and -client are required")
	}
	host, _, err := net.SplitHostPort(o.addr)
	if err != nil {
		return err
	}
	// Loopback only: this tool exists to be pointed at by local clients.
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("refusing non-loopback address %q", o.addr)
	}
	cert, err := selfSigned()
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return err
	}
	rec := &recorder{path: filepath.Join(o.out, o.name+".hex"), comment: fmt.Sprintf("# %s captured %s", o.client, o.date), done: make(chan struct{})}
	rl := &replayListener{Listener: ln, wrap: func(c net.Conn) net.Conn {
		return &replayConn{Conn: c, onHello: rec.hello, onClose: rec.closed}
	}}
	srv := &http.Server{
		Handler: http.HandlerFunc(respond),
		TLSConfig: &tls.Config{
			Certificates: []tls.Certificate{cert},
			MinVersion:   tls.VersionTLS10, // accept whatever old-style client we point at it
			NextProtos:   []string{"http/1.1"},
		},
		// A non-nil empty map keeps net/http from adding h2: every client then
		// speaks HTTP/1.1, which the simple drivers in testdata/tools can handle.
		TLSNextProto:      map[string]func(*http.Server, *tls.Conn, http.Handler){},
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          log.New(os.Stderr, "capture: http: ", 0),
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.ServeTLS(rl, "", "") }()

	port := ln.Addr().(*net.TCPAddr).Port
	log.Printf("capture: listening on %s for %s", ln.Addr(), o.name)
	if o.portFile != "" {
		tmp := o.portFile + ".tmp"
		if err := os.WriteFile(tmp, []byte(fmt.Sprintf("%d\n", port)), 0o644); err != nil {
			return err
		}
		if err := os.Rename(tmp, o.portFile); err != nil {
			return err
		}
	}

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	select {
	case <-rec.done:
		// Give the client a moment for any follow-up connection before closing.
		time.Sleep(500 * time.Millisecond)
	case s := <-sig:
		log.Printf("capture: %v", s)
	case <-time.After(o.timeout):
		log.Printf("capture: timeout after %v", o.timeout)
	case err := <-serveErr:
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		_ = srv.Close()
	}
	return rec.result()
}

func respond(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Connection", "close")
	_, _ = fmt.Fprintf(w, "<html><body><p>ja3echo capture ok: %s %s</p></body></html>\n", r.Method, r.URL.Path)
}

// recorder writes the first connection's hello to disk; later connections
// (browsers sometimes open more than one) are served but not recorded.
type recorder struct {
	path    string
	comment string
	done    chan struct{}

	mu    sync.Mutex
	taken bool
	err   error
	once  sync.Once
}

func (r *recorder) hello(wire []byte, framingErr error) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.taken {
		log.Printf("capture: extra connection with %d bytes not recorded", len(wire))
		return false
	}
	r.taken = true
	if framingErr != nil {
		log.Printf("capture: recording %d bytes, hello not complete: %v", len(wire), framingErr)
	}
	r.err = os.WriteFile(r.path, hexDump(r.comment, wire), 0o644)
	if r.err == nil {
		log.Printf("capture: wrote %s (%d bytes)", r.path, len(wire))
	}
	return true
}

func (r *recorder) closed() { r.once.Do(func() { close(r.done) }) }

func (r *recorder) result() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.taken {
		return errors.New("no connection recorded")
	}
	return r.err
}

// hexDump renders the comment line and the bytes as lowercase hex, 32 bytes
// per line; readers must ignore '#' lines and all whitespace.
func hexDump(comment string, b []byte) []byte {
	var sb strings.Builder
	sb.WriteString(comment)
	sb.WriteByte('\n')
	for i := 0; i < len(b); i += 32 {
		end := min(i+32, len(b))
		fmt.Fprintf(&sb, "%x\n", b[i:end])
	}
	return []byte(sb.String())
}

// selfSigned makes a throwaway ECDSA P-256 certificate for localhost and
// 127.0.0.1; clients are run with verification off.
func selfSigned() (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: "ja3echo capture"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}
