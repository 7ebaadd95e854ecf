package main

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/sirupsen/logrus"
	"golang.org/x/crypto/acme"

	"github.com/ja3sentry/ja3echo/fingerprint"
	"github.com/ja3sentry/ja3echo/poller"
	"github.com/ja3sentry/ja3echo/tlsconn"
)

// metrics holds the Prometheus view of the server. The epoll loop never
// touches a Prometheus type: what it counts is either already an atomic in
// poller.Stats, in the limiter (written by Admit, on the loop) or one of the
// atomics below (written by OnReject, on the loop), and CounterFunc/GaugeFunc
// read them at scrape time. Everything else
// is observed in connection goroutines, where a Prometheus counter or
// histogram (atomic, lock-free on Observe) is fine.
type metrics struct {
	reg *prometheus.Registry

	// Framer rejections by kind, written on the loop.
	plaintext, notTLS, malformed, tooLarge atomic.Uint64

	handshakes     *prometheus.CounterVec // result: ok, failed
	handshakeErrs  *prometheus.CounterVec // reason: tlsconn.Reason
	requests       *prometheus.CounterVec // status
	newJA3         prometheus.Counter
	newClients     prometheus.Counter
	newJA4         prometheus.Counter
	newAkamai      prometheus.Counter
	acmeChallenges prometheus.Counter
	reloads        *prometheus.CounterVec // what, result
	handshakeTime  prometheus.Histogram
	connTime       prometheus.Histogram
}

// durationBuckets span a loopback handshake (under a millisecond) to the
// default 10 s handshake timeout and a little past it.
var durationBuckets = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}

func newMetrics() *metrics {
	const ns = "ja3echo"
	m := &metrics{
		reg: prometheus.NewRegistry(),
		handshakes: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "handshakes_total",
			Help: "TLS handshakes by result (ok or failed)."}, []string{"result"}),
		handshakeErrs: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "handshake_errors_total",
			Help: "Failed TLS handshakes by reason (timeout, eof, reset, tls_alert, handshake, ...)."}, []string{"reason"}),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "requests_total",
			Help: "HTTP responses written, by status code."}, []string{"status"}),
		newJA3: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: "new_ja3_total",
			Help: "Connections whose JA3 hash had not been seen before (new_ja3 in the log)."}),
		newClients: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: "new_clients_total",
			Help: "Connections whose (JA3N hash, User-Agent) pair had not been seen before (new_client in the log)."}),
		newJA4: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: "new_ja4_total",
			Help: "Connections whose JA4 had not been seen before (state rebuilt from the log file at start)."}),
		newAkamai: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: "new_akamai_total",
			Help: "HTTP/2 connections whose Akamai fingerprint hash had not been seen before (new_akamai in the log; state rebuilt from the log file at start)."}),
		acmeChallenges: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: "acme_tls_alpn_challenges_total",
			Help: "TLS-ALPN-01 validation handshakes from the ACME CA (not written to the log file)."}),
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "reloads_total",
			Help: "SIGHUP reloads by what (certificate, log_file) and result (ok, failed)."}, []string{"what", "result"}),
		handshakeTime: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: ns, Name: "handshake_duration_seconds",
			Help:    "Time from handoff (the complete ClientHello read by the epoll loop) to the end of the TLS handshake, for every completed handshake.",
			Buckets: durationBuckets}),
		connTime: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: ns, Name: "connection_duration_seconds",
			Help: "Time from handoff to close, for every served connection.", Buckets: durationBuckets}),
	}
	// Zero series exist from the start, so rate() and absent() work on a
	// fresh process.
	for _, r := range []string{"ok", "failed"} {
		m.handshakes.WithLabelValues(r)
		m.reloads.WithLabelValues("certificate", r)
		m.reloads.WithLabelValues("log_file", r)
	}
	info := prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Name: "build_info",
		Help: "Always 1; the version label is the build's.", ConstLabels: prometheus.Labels{"version": version}})
	info.Set(1)
	m.reg.MustRegister(m.handshakes, m.handshakeErrs, m.requests, m.newJA3, m.newClients, m.newJA4, m.newAkamai,
		m.acmeChallenges, m.reloads, m.handshakeTime, m.connTime, info,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// watch exports the loop's and the TLS server's atomic counters. They are
// read at scrape time; nothing is copied on the loop.
func (m *metrics) watch(loop func() poller.Stats, srv func() tlsconn.Stats) {
	const ns = "ja3echo"
	counter := func(name, help string, labels prometheus.Labels, f func() uint64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: ns, Name: name, Help: help, ConstLabels: labels},
			func() float64 { return float64(f()) })
	}
	gauge := func(name, help string, f func() int64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: ns, Name: name, Help: help},
			func() float64 { return float64(f()) })
	}
	const helloHelp = "Connections closed before their ClientHello was complete, by reason."
	helloErr := func(reason string, f func() uint64) prometheus.Collector {
		return counter("hello_errors_total", helloHelp, prometheus.Labels{"reason": reason}, f)
	}
	const shedHelp = "Connections closed at once for lack of capacity: at accept (--max-conns) or at handoff (--max-handshakes)."
	m.reg.MustRegister(
		counter("connections_accepted_total", "TCP connections accepted.", nil, func() uint64 { return loop().Accepted }),
		counter("hellos_total", "Complete ClientHellos handed off to TLS.", nil, func() uint64 { return loop().Handoffs }),
		counter("accept_errors_total", "accept4 or epoll registration failures.", nil, func() uint64 { return loop().AcceptErrors }),
		counter("request_errors_total", "Handshakes that ended without a usable request (includes TLS-ALPN-01 validations).", nil,
			func() uint64 { return srv().RequestErrors }),
		helloErr("timeout", func() uint64 { return loop().Timeouts }),
		helloErr("too_large", func() uint64 { return loop().TooLarge + m.tooLarge.Load() }),
		helloErr("plaintext_http", m.plaintext.Load),
		helloErr("not_tls", m.notTLS.Load),
		helloErr("malformed", m.malformed.Load),
		helloErr("peer_closed", func() uint64 { return loop().PeerClosed }),
		helloErr("proxy_header", func() uint64 { return loop().PrefaceErrors }),
		counter("connections_shed_total", shedHelp, prometheus.Labels{"stage": "accept"}, func() uint64 { return loop().OverLimit }),
		counter("connections_shed_total", shedHelp, prometheus.Labels{"stage": "handoff"}, func() uint64 { return srv().Shed }),
		gauge("connections_held", "Connections held by the epoll loop, waiting for their ClientHello.", func() int64 { return loop().Held }),
		gauge("connections_in_flight", "Connections in TLS handshake, request or response.", func() int64 { return srv().InFlight }),
	)
}

// watchLimiter exports the per-client limiter's refusals, read at scrape
// time like watch's counters.
func (m *metrics) watchLimiter(lim *limiter) {
	const help = "Connections closed at once by a per-client limit: --max-per-ip (per_ip) or --rate-per-ip (rate)."
	counter := func(limit string, f func() uint64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: "ja3echo", Name: "connections_limited_total",
			Help: help, ConstLabels: prometheus.Labels{"limit": limit}}, func() float64 { return float64(f()) })
	}
	m.reg.MustRegister(counter("per_ip", lim.perIPLimited.Load), counter("rate", lim.rateLimited.Load))
}

// onReject counts a Framer rejection by kind and then asks next for the
// answer. It runs on the loop: errors.Is walks a short chain, no allocation.
func (m *metrics) onReject(next func(error, netip.AddrPort) []byte) func(error, netip.AddrPort) []byte {
	return func(err error, remote netip.AddrPort) []byte {
		switch {
		case errors.Is(err, fingerprint.ErrPlaintextHTTP):
			m.plaintext.Add(1)
		case errors.Is(err, fingerprint.ErrNotHandshake), errors.Is(err, fingerprint.ErrSSLv2):
			m.notTLS.Add(1)
		case errors.Is(err, fingerprint.ErrTooLarge):
			m.tooLarge.Add(1)
		default:
			m.malformed.Add(1)
		}
		return next(err, remote)
	}
}

// onDone counts a finished connection and passes it on to next, except a
// TLS-ALPN-01 validation: that is the CA checking us, not a visitor, and it
// never sends a request, so it is counted here and not logged. The handshake
// is timed here, not in Handle, so that a client that completes it and then
// sends nothing or garbage is timed too.
func (m *metrics) onDone(next func(*tlsconn.Info)) func(*tlsconn.Info) {
	return func(info *tlsconn.Info) {
		m.connTime.Observe(time.Since(info.Start).Seconds())
		if !info.HandshakeDone.IsZero() {
			m.handshakeTime.Observe(info.HandshakeDone.Sub(info.Start).Seconds())
		}
		switch {
		case info.State != nil:
			m.handshakes.WithLabelValues("ok").Inc()
		case errors.Is(info.Err, tlsconn.ErrHandshake):
			m.handshakes.WithLabelValues("failed").Inc()
			m.handshakeErrs.WithLabelValues(tlsconn.Reason(info.Err)).Inc()
		}
		if info.Status != 0 {
			m.requests.WithLabelValues(strconv.Itoa(info.Status)).Inc()
		}
		if info.State != nil && info.State.NegotiatedProtocol == acme.ALPNProto {
			m.acmeChallenges.Inc()
			return
		}
		next(info)
	}
}

// logged counts the first-seen flags of a log line. A nil m (an app built
// without metrics) counts nothing.
func (m *metrics) logged(l *logEntry) {
	if m == nil {
		return
	}
	if l.NewJA3 {
		m.newJA3.Inc()
	}
	if l.NewClient {
		m.newClients.Inc()
	}
	if l.NewJA4 {
		m.newJA4.Inc()
	}
	if l.newAkamai() {
		m.newAkamai.Inc()
	}
}

// reloaded counts one SIGHUP action.
func (m *metrics) reloaded(what string, ok bool) {
	result := "ok"
	if !ok {
		result = "failed"
	}
	m.reloads.WithLabelValues(what, result).Inc()
}

// serve starts the plain-HTTP /metrics listener on addr, separate from the
// TLS port so that it can stay on a private interface. stop shuts it down.
func (m *metrics) serve(addr string, log *logrus.Entry, ready chan<- net.Addr) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		ErrorLog:            log,
		MaxRequestsInFlight: 4,
		Timeout:             10 * time.Second,
	}))
	hs := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		WriteTimeout:      15 * time.Second,
		IdleTimeout:       time.Minute,
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := hs.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			log.WithError(err).Error("metrics listener stopped")
		}
	}()
	log.Infof("metrics on http://%s/metrics", ln.Addr())
	if ready != nil {
		ready <- ln.Addr()
	}
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := hs.Shutdown(ctx); err != nil {
			hs.Close()
		}
		<-done
	}, nil
}
