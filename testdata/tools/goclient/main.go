// Command goclient makes one HTTPS request with Go's own crypto/tls client so
// that testdata/tools/capture can record the hello of the Go toolchain in use.
//
// -mode http uses a clone of net/http's DefaultTransport (ALPN h2, http/1.1:
// what most Go programs send); -mode tls uses a bare tls.Dial with a zero
// config apart from the server name (no ALPN). -max12 caps the version at
// TLS 1.2. The dial always goes to -addr, whatever -sni says.
package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"time"
)

func main() {
	addr := flag.String("addr", "", "127.0.0.1:PORT of the capture endpoint")
	sni := flag.String("sni", "localhost", "server name to send")
	mode := flag.String("mode", "http", "http (net/http default transport) or tls (bare tls.Dial)")
	max12 := flag.Bool("max12", false, "limit the client to TLS 1.2")
	flag.Parse()
	if err := run(*addr, *sni, *mode, *max12); err != nil {
		log.Printf("goclient: %v", err)
		os.Exit(1)
	}
}

func run(addr, sni, mode string, max12 bool) error {
	if addr == "" {
		return errors.New("-addr is required")
	}
	// Certificate checks are off: the capture endpoint uses a throwaway
	// self-signed certificate and only the ClientHello matters here.
	cfg := &tls.Config{ServerName: sni, InsecureSkipVerify: true} //nolint:gosec
	if max12 {
		cfg.MaxVersion = tls.VersionTLS12
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	switch mode {
	case "tls":
		d := &tls.Dialer{Config: cfg}
		c, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			return err
		}
		defer c.Close()
		if _, err := fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", sni); err != nil {
			return err
		}
		b, err := io.ReadAll(c)
		fmt.Printf("%s", b)
		return err
	case "http":
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.TLSClientConfig = cfg
		var nd net.Dialer
		tr.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
			return nd.DialContext(ctx, network, addr)
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "https://"+net.JoinHostPort(sni, portOf(addr))+"/", nil)
		if err != nil {
			return err
		}
		resp, err := (&http.Client{Transport: tr}).Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		fmt.Printf("%s %s", resp.Status, b)
		return err
	}
	return fmt.Errorf("unknown -mode %q", mode)
}

func portOf(addr string) string {
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "443"
	}
	return p
}
