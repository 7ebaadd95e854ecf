package main

import (
	"context"
	"errors"
	"expvar"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"net/netip"
	"time"

	"github.com/sirupsen/logrus"
)

// debugConfig is the profiling part of the command line, embedded in
// config. It is a debugging aid, off by default.
type debugConfig struct {
	pprofAddr string

	// pprofReady, when not nil, receives the pprof listener's address
	// (tests start it on port 0). Not a flag.
	pprofReady chan<- net.Addr
}

func addDebugFlags(fs *flag.FlagSet, d *debugConfig) {
	fs.StringVar(&d.pprofAddr, "pprof-addr", "", "debugging: serve net/http/pprof and expvar on http://`HOST:PORT`/debug/ (loopback only; off when empty)")
}

// checkDebug accepts only a loopback address for pprof: profiles and
// goroutine dumps show request data and the process's internals, and a
// CPU profile costs CPU on demand. Reach it remotely through ssh -L.
func checkDebug(d *debugConfig) error {
	if d.pprofAddr == "" {
		return nil
	}
	host, _, err := net.SplitHostPort(d.pprofAddr)
	if err != nil {
		return fmt.Errorf("--pprof-addr %q: %w", d.pprofAddr, err)
	}
	if host == "localhost" {
		return nil
	}
	if ip, err := netip.ParseAddr(host); err != nil || !ip.IsLoopback() {
		return fmt.Errorf("--pprof-addr %q: must be a loopback address (127.0.0.1, ::1 or localhost)", d.pprofAddr)
	}
	return nil
}

// servePprof serves the profiles under /debug/pprof/ and expvar (runtime
// memory statistics) at /debug/vars on their own listener and mux, never
// on the TLS port or the metrics listener. stop shuts it down.
func servePprof(addr string, log *logrus.Entry, ready chan<- net.Addr) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index) // also serves heap, allocs, goroutine, …
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.Handle("/debug/vars", expvar.Handler())
	// No WriteTimeout: a CPU profile or trace streams for as long as asked.
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := hs.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			log.WithError(err).Error("pprof listener stopped")
		}
	}()
	log.Warnf("pprof on http://%s/debug/pprof/ (debugging aid)", ln.Addr())
	if ready != nil {
		ready <- ln.Addr()
	}
	return func() {
		// Profiles in progress are cut short: shutting down must not wait
		// for a 30 s CPU profile.
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		if err := hs.Shutdown(ctx); err != nil {
			hs.Close()
		}
		<-done
	}, nil
}
