package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/ja3sentry/ja3echo/fingerprint"
	"github.com/ja3sentry/ja3echo/poller"
	"github.com/ja3sentry/ja3echo/tlsconn"
)

// serve runs the server until ctx is done, then shuts down gracefully: stop
// accepting, let in-flight connections finish (bounded by cfg.grace), flush
// the log file. If ready is not nil it receives the listening address.
func serve(ctx context.Context, cfg *config, log *logrus.Logger, ready chan<- net.Addr) error {
	ops, err := newOps(cfg, log) // certificate source (files or ACME) and metrics: ops.go
	if err != nil {
		return err
	}
	events, err := openEventLog(cfg.logFile, log.WithField("component", "logfile"))
	if err != nil {
		return err
	}
	defer events.Close()

	app := &app{log: log, events: events, metrics: ops.metrics}
	srv := &tlsconn.Server{
		TLSConfig: ops.tls,
		Timeout:   cfg.handshakeTimeout,
		MaxConns:  cfg.maxHandshakes,
		Inspect:   app.inspect,
		Handle:    app.handle,
		Done:      ops.metrics.onDone(app.done),
		Log:       log.WithField("component", "tlsconn"),
	}
	loop, err := newLoop(cfg, srv, ops.metrics, poller.Config{ // + PROXY protocol, per-IP limits: edge.go
		Addr:          cfg.addr(),
		Framer:        fingerprint.Frame,
		Handoff:       srv.Handoff,
		OnReject:      ops.metrics.onReject(app.reject),
		HelloTimeout:  cfg.helloTimeout,
		MaxHelloBytes: fingerprint.MaxWireBytes,
		MaxConns:      cfg.maxConns,
		Log:           log.WithField("component", "poller"),
	})
	if err != nil {
		return err
	}
	stopOps, err := ops.start(ctx, loop, srv, events)
	if err != nil {
		loop.Stop() // releases the listener; Run was never called
		return err
	}
	app.httpsURL = httpsURL(loop.Addr())
	log.Infof("ja3echo %s listening on %s", version, app.httpsURL)
	if ready != nil {
		ready <- loop.Addr()
	}

	runErr := make(chan error, 1)
	go func() { runErr <- loop.Run() }()
	select {
	case err = <-runErr:
		// The loop died on its own: still drain what was handed off.
	case <-ctx.Done():
		log.Info("shutting down: no new connections, waiting for in-flight ones")
		if serr := loop.Stop(); serr != nil {
			log.WithError(serr).Warn("stopping the loop")
		}
		err = <-runErr
	}
	sctx, cancel := context.WithTimeout(context.Background(), cfg.grace)
	defer cancel()
	if serr := srv.Shutdown(sctx); serr != nil {
		log.WithError(serr).Warn("in-flight connections did not finish within the grace period")
	}
	stopOps() // no reload may race the close below
	if cerr := events.Close(); cerr != nil && err == nil {
		err = fmt.Errorf("closing log file: %w", cerr)
	}
	return err
}

// tlsConfig is the server side of every handshake. TLS 1.0 to 1.3 are
// accepted because a fingerprint echo must answer old clients too; session
// tickets are off so every connection is a full handshake that shows the
// client's real, complete ClientHello (a resumption hello differs).
func tlsConfig(c *certStore) *tls.Config {
	return &tls.Config{
		MinVersion:             tls.VersionTLS10,
		MaxVersion:             tls.VersionTLS13,
		SessionTicketsDisabled: true,
		NextProtos:             []string{"http/1.1"},
		GetCertificate:         c.getCertificate,
	}
}

// httpsURL is what the 400 for plaintext HTTP and the startup line point to.
func httpsURL(a *net.TCPAddr) string {
	ap := a.AddrPort()
	host := ap.Addr().Unmap()
	if host.IsUnspecified() {
		return fmt.Sprintf("https://<this host>:%d/", ap.Port())
	}
	if host.IsLoopback() {
		return fmt.Sprintf("https://localhost:%d/", ap.Port())
	}
	return "https://" + netip.AddrPortFrom(host, ap.Port()).String() + "/"
}

// reject answers a connection whose first bytes are not a ClientHello. It
// runs on the loop: it only formats a few bytes.
func (a *app) reject(err error, remote netip.AddrPort) []byte {
	if !errors.Is(err, fingerprint.ErrPlaintextHTTP) {
		return nil
	}
	body := "This is a TLS (HTTPS) port. Use " + a.httpsURL + " instead of http://.\n"
	return []byte(fmt.Sprintf("HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", len(body), body))
}

var _ = time.Second
