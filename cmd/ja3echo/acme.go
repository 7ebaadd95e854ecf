package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/sirupsen/logrus"
	"golang.org/x/crypto/acme"
	"golang.org/x/crypto/acme/autocert"
)

// serverTLS picks the certificate source. With --acme-domain the handshake
// asks autocert and also offers the "acme-tls/1" protocol, so TLS-ALPN-01
// challenges are answered by the very TLS path that serves visitors (no port
// 80 listener); certs is then nil. Otherwise certs holds the PEM pair (or
// the self-signed fallback) that SIGHUP reloads.
func serverTLS(cfg *config, log *logrus.Logger) (tc *tls.Config, certs *certStore, am *acmeCerts, err error) {
	if !cfg.acme() {
		certs, err := loadCertificate(cfg.certFile, cfg.keyFile)
		if err != nil {
			return nil, nil, nil, err
		}
		if certs.selfSigned {
			log.Warnf("no %s or %s: serving an ephemeral self-signed certificate for localhost, 127.0.0.1 and ::1", cfg.certFile, cfg.keyFile)
		}
		return tlsConfig(certs), certs, nil, nil
	}
	am, err = newACMECerts(&cfg.opsConfig, log.WithField("component", "acme"))
	if err != nil {
		return nil, nil, nil, err
	}
	tc = tlsConfig(nil) // the protocol settings; its certificate hook is replaced here
	tc.GetCertificate = am.getCertificate
	tc.NextProtos = append(tc.NextProtos, acme.ALPNProto)
	return tc, nil, am, nil
}

// acmeCerts wraps an autocert.Manager for the configured domains.
type acmeCerts struct {
	m       *autocert.Manager
	domains []string
	log     *logrus.Entry
}

func newACMECerts(o *opsConfig, log *logrus.Entry) (*acmeCerts, error) {
	hc := &http.Client{Timeout: time.Minute}
	if o.acmeCARoot != "" {
		pem, err := os.ReadFile(o.acmeCARoot)
		if err != nil {
			return nil, fmt.Errorf("--acme-ca-root: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool() // no system store (a minimal container): the file alone
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--acme-ca-root %s: no PEM certificate found", o.acmeCARoot)
		}
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
		hc.Transport = t
	}
	domains := slices.Clone(o.acmeDomains)
	return &acmeCerts{
		m: &autocert.Manager{
			// Passing --acme-domain is the operator's acceptance of the CA's
			// subscriber agreement, as with certbot's --agree-tos.
			Prompt:     autocert.AcceptTOS,
			Cache:      autocert.DirCache(o.acmeCache),
			HostPolicy: autocert.HostWhitelist(domains...),
			Email:      o.acmeEmail,
			Client: &acme.Client{
				DirectoryURL: o.acmeDirectory,
				HTTPClient:   hc,
				UserAgent:    "ja3echo/" + version,
			},
		},
		domains: domains,
		log:     log,
	}, nil
}

// getCertificate is the tls.Config hook. A fingerprint echo should complete
// the handshake for every client it can, so a hello without SNI (a client
// dialing the IP) or with a name we do not serve gets the first domain's
// certificate instead of a handshake failure; the client then sees a name
// mismatch, which `curl -k` and fingerprinting tools accept. It also keeps
// scanners' random names from reaching the CA (the whitelist would refuse
// them anyway) and from filling the log with handshake errors.
// TLS-ALPN-01 challenge hellos go to autocert untouched.
func (a *acmeCerts) getCertificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	if isChallenge(hello) {
		return a.m.GetCertificate(hello)
	}
	name := strings.ToLower(strings.TrimSuffix(hello.ServerName, "."))
	if !slices.Contains(a.domains, name) {
		h := *hello
		h.ServerName = a.domains[0]
		hello = &h
	}
	return a.m.GetCertificate(hello)
}

// isChallenge reports whether hello is a TLS-ALPN-01 validation (RFC 8737
// §3): the only protocol offered is "acme-tls/1".
func isChallenge(hello *tls.ClientHelloInfo) bool {
	return len(hello.SupportedProtos) == 1 && hello.SupportedProtos[0] == acme.ALPNProto
}

// prefetch obtains (or loads from the cache) an ECDSA certificate for every
// domain in the background, so that the first visitor does not wait for the
// CA and a misconfiguration shows up in the log at startup rather than as
// failed handshakes. It runs while the listener is up, because the CA's
// TLS-ALPN-01 validation connects to it. It stops between domains once ctx
// is done; autocert bounds each issuance itself (5 minutes).
func (a *acmeCerts) prefetch(ctx context.Context) {
	go func() {
		for _, d := range a.domains {
			if ctx.Err() != nil {
				return
			}
			start := time.Now()
			// A hello that supports ECDSA, as every current client does;
			// autocert obtains an RSA certificate lazily for one that does not.
			c, err := a.m.GetCertificate(&tls.ClientHelloInfo{
				ServerName:   d,
				CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256},
			})
			if err != nil {
				a.log.WithError(err).WithField("domain", d).Error("ACME: no certificate yet; retried on the next handshake for it")
				continue
			}
			e := a.log.WithFields(logrus.Fields{"domain": d, "took": time.Since(start).Round(time.Millisecond)})
			if c.Leaf != nil {
				e = e.WithField("not_after", c.Leaf.NotAfter.UTC().Format(time.RFC3339))
			}
			e.Info("ACME: certificate ready")
		}
	}()
}
