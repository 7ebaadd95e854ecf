package bench

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/ja3sentry/ja3echo/fingerprint"
	"github.com/ja3sentry/ja3echo/poller"
	"github.com/ja3sentry/ja3echo/tlsconn"
)

// BenchmarkEndToEnd serves the project's pipeline in-process (poller.Loop
// framing the hello with fingerprint.Frame, then tlsconn.Server) on
// 127.0.0.1:0, and runs the load generator's full-handshake client against
// it: one op is one connection, dial to EOF, client half included. Use
// cmd/sidebyside for server-only CPU figures; this one is for allocation
// regressions and for keeping the pipeline's benchmark compiling.
func BenchmarkEndToEnd(b *testing.B) {
	cert, err := NewCert(KeyECDSA)
	if err != nil {
		b.Fatal(err)
	}
	srv := &tlsconn.Server{
		TLSConfig: ServerConfig(cert),
		Handle: func(*tlsconn.Info) tlsconn.Response {
			return tlsconn.Response{Status: http.StatusOK, Body: []byte("ok\n")}
		},
	}
	loop, err := poller.New(poller.Config{Addr: "127.0.0.1:0", Framer: fingerprint.Frame, Handoff: srv.Handoff})
	if err != nil {
		b.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- loop.Run() }()
	defer func() {
		_ = loop.Stop()
		<-done
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}()

	b.ReportAllocs()
	start := time.Now()
	r, err := Load(context.Background(), LoadConfig{Target: loop.Addr().String(), Concurrency: 8, Count: b.N, Kex: KexMLKEM})
	if err != nil {
		b.Fatal(err)
	}
	if r.Errors > 0 || r.Resumed > 0 {
		b.Fatalf("errors %v, resumed %d", r.ErrorKinds, r.Resumed)
	}
	b.ReportMetric(float64(r.Conns)/time.Since(start).Seconds(), "conn/s")
	b.ReportMetric(r.P50MS, "p50-ms")
}
