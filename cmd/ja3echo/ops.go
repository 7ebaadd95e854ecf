package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"

	"github.com/sirupsen/logrus"
	"golang.org/x/crypto/acme"

	"github.com/ja3sentry/ja3echo/poller"
	"github.com/ja3sentry/ja3echo/tlsconn"
)

// opsConfig is the production-operations part of the command line: ACME
// certificates and the metrics listener. It is embedded in config.
type opsConfig struct {
	acmeDomains   []string
	acmeEmail     string
	acmeCache     string
	acmeDirectory string
	acmeCARoot    string
	metricsAddr   string

	// metricsReady, when not nil, receives the metrics listener's address
	// (tests start it on port 0). Not a flag.
	metricsReady chan<- net.Addr
}

// acme reports whether certificates come from an ACME CA.
func (o *opsConfig) acme() bool { return len(o.acmeDomains) > 0 }

// domainList is a repeatable flag; each value may also be a comma list.
type domainList []string

func (d *domainList) String() string { return strings.Join(*d, ",") }

func (d *domainList) Set(v string) error {
	for s := range strings.SplitSeq(v, ",") {
		if s = strings.ToLower(strings.TrimSuffix(strings.TrimSpace(s), ".")); s != "" {
			*d = append(*d, s)
		}
	}
	return nil
}

// addOpsFlags registers the ACME and metrics flags on fs.
func addOpsFlags(fs *flag.FlagSet, o *opsConfig) {
	fs.Var((*domainList)(&o.acmeDomains), "acme-domain", "get the certificate for `DOMAIN` from an ACME CA (TLS-ALPN-01 on this port, which the CA must reach as 443); repeatable; replaces --cert/--key")
	fs.StringVar(&o.acmeEmail, "acme-email", "", "contact `ADDRESS` for the ACME account (expiry and policy mail)")
	fs.StringVar(&o.acmeCache, "acme-cache", defaultACMECache(), "directory `DIR` for the ACME account key and certificates (mode 0700)")
	fs.StringVar(&o.acmeDirectory, "acme-directory", acme.LetsEncryptURL, "ACME directory `URL` (Let's Encrypt staging: https://acme-staging-v02.api.letsencrypt.org/directory)")
	fs.StringVar(&o.acmeCARoot, "acme-ca-root", "", "PEM `FILE` of extra root certificates to trust for the ACME directory (private CAs such as step-ca)")
	fs.StringVar(&o.metricsAddr, "metrics-addr", "", "serve Prometheus metrics on http://`HOST:PORT`/metrics (off when empty)")
}

// defaultACMECache follows systemd's StateDirectory= when it is set (a
// colon-separated list; the first entry is ours), else stays next to certs/.
func defaultACMECache() string {
	if dirs := os.Getenv("STATE_DIRECTORY"); dirs != "" {
		first, _, _ := strings.Cut(dirs, ":")
		return filepath.Join(first, "acme")
	}
	return filepath.Join("certs", "acme")
}

// checkOps validates the ops flags after fs.Parse. ACME and an explicit
// --cert/--key pair contradict each other, and ACME-only flags without a
// domain are almost certainly a forgotten --acme-domain: both are errors
// rather than a silent choice.
func checkOps(fs *flag.FlagSet, o *opsConfig) error {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if !o.acme() {
		for _, name := range []string{"acme-email", "acme-cache", "acme-directory", "acme-ca-root"} {
			if set[name] {
				return fmt.Errorf("--%s needs --acme-domain", name)
			}
		}
	} else {
		if set["cert"] || set["key"] {
			return errors.New("--cert/--key and --acme-domain are exclusive: ACME certificates are kept in --acme-cache")
		}
		for _, d := range o.acmeDomains {
			if err := checkDomain(d); err != nil {
				return err
			}
		}
		if o.acmeCache == "" {
			return errors.New("--acme-cache must not be empty")
		}
		if o.acmeDirectory == "" {
			return errors.New("--acme-directory must not be empty")
		}
	}
	if o.metricsAddr != "" {
		if _, _, err := net.SplitHostPort(o.metricsAddr); err != nil {
			return fmt.Errorf("--metrics-addr %q: %w", o.metricsAddr, err)
		}
	}
	return nil
}

// checkDomain rejects what no ACME CA issues for: IP literals, single
// labels, wildcards (they need DNS-01) and characters outside a hostname.
func checkDomain(d string) error {
	if _, err := netip.ParseAddr(d); err == nil {
		return fmt.Errorf("--acme-domain %q: IP addresses are not supported", d)
	}
	if !strings.Contains(d, ".") || len(d) > 253 {
		return fmt.Errorf("--acme-domain %q: not a fully qualified domain name", d)
	}
	for _, label := range strings.Split(d, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return fmt.Errorf("--acme-domain %q: bad label %q", d, label)
		}
		for _, c := range []byte(label) {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return fmt.Errorf("--acme-domain %q: character %q is not allowed (wildcards need DNS-01, which ja3echo does not do)", d, c)
			}
		}
	}
	return nil
}

// ops is what serve runs beside the loop for production: the certificate
// source, the metrics, the SIGHUP watcher and the ACME prefetch.
type ops struct {
	cfg     *config
	log     *logrus.Logger
	tls     *tls.Config
	certs   *certStore // nil with ACME
	acme    *acmeCerts // nil without ACME
	metrics *metrics
}

// newOps loads the certificate (or sets up ACME) and the metrics; nothing
// is started yet.
func newOps(cfg *config, log *logrus.Logger) (*ops, error) {
	tc, certs, am, err := serverTLS(cfg, log)
	if err != nil {
		return nil, err
	}
	offerHTTP2(tc, cfg.http2) // before the two below copy tc: http2.go
	applyKex(tc, cfg.kex)
	answerAnyALPN(tc)
	return &ops{cfg: cfg, log: log, tls: tc, certs: certs, acme: am, metrics: newMetrics()}, nil
}

// start exports the loop's and server's counters, opens the metrics (and
// pprof) listeners, watches SIGHUP and prefetches ACME certificates. stop
// must run before events is closed: it waits for a reload in progress.
func (o *ops) start(ctx context.Context, loop *poller.Loop, srv *tlsconn.Server, events *eventLog) (stop func(), err error) {
	o.metrics.watch(loop.Stats, srv.Stats)
	stopMetrics := func() {}
	if o.cfg.metricsAddr != "" {
		stopMetrics, err = o.metrics.serve(o.cfg.metricsAddr, o.log.WithField("component", "metrics"), o.cfg.metricsReady)
		if err != nil {
			return nil, fmt.Errorf("--metrics-addr: %w", err)
		}
	}
	stopPprof := func() {}
	if o.cfg.pprofAddr != "" {
		stopPprof, err = servePprof(o.cfg.pprofAddr, o.log.WithField("component", "pprof"), o.cfg.pprofReady)
		if err != nil {
			stopMetrics()
			return nil, fmt.Errorf("--pprof-addr: %w", err)
		}
	}
	r := &reloader{certFile: o.cfg.certFile, keyFile: o.cfg.keyFile, certs: o.certs, events: events,
		metrics: o.metrics, log: o.log.WithField("component", "reload")}
	stopReload := r.watch()
	if o.acme != nil {
		o.acme.prefetch(ctx)
	}
	return func() {
		stopReload()
		stopMetrics()
		stopPprof()
	}, nil
}
