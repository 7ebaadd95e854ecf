// Command loadgen opens a new TCP+TLS connection per request against a
// server on 127.0.0.x, with no session cache so that every handshake is
// full, sends one GET with Connection: close and reads the answer to EOF.
// It reports conn/s, errors by kind, full and resumed handshakes, latency
// from dial start to EOF, its own CPU and, with -pid, the server's CPU per
// connection over the same window.
//
//	loadgen -target 127.0.0.1:4443 -c 64 -d 10s -pid $(pgrep -n ja3echo)
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"

	"github.com/ja3sentry/ja3echo/bench"
)

func main() {
	var (
		cfg    bench.LoadConfig
		tlsVer = flag.String("tls", "1.3", "highest TLS version offered: 1.2 or 1.3")
		curves = flag.String("curves", "default", "groups offered: default (Go's, X25519MLKEM768 first) or x25519 (as OpenSSL 3.0 clients)")
		src    = flag.String("src", "127.0.0.1", "source addresses: 127.0.0.1-127.0.0.8 or a comma list, one per worker round robin")
		asJSON = flag.Bool("json", false, "print a JSON line instead of the human line")
	)
	flag.StringVar(&cfg.Target, "target", "", "server host:port (127.0.0.x only)")
	flag.IntVar(&cfg.Concurrency, "c", 8, "concurrent connections")
	flag.DurationVar(&cfg.Duration, "d", 0, "run this long (with -n: whichever comes first)")
	flag.IntVar(&cfg.Count, "n", 0, "run this many connections")
	flag.StringVar(&cfg.Path, "path", "/", "request path")
	flag.IntVar(&cfg.PID, "pid", 0, "server PID: report its CPU per connection (from /proc/PID/stat)")
	flag.DurationVar(&cfg.Timeout, "timeout", 0, "per connection, dial to EOF (default 10s)")
	flag.StringVar(&cfg.VarsURL, "vars", "", "server's expvar URL (http://127.0.0.1:PORT/debug/vars): report its allocations per connection")
	flag.Parse()

	var err error
	if cfg.Kex, err = bench.ClientKex(*tlsVer, *curves); err != nil {
		fail(err)
	}
	if cfg.Sources, err = bench.ParseSources(*src); err != nil {
		fail(err)
	}
	if cfg.Duration == 0 && cfg.Count == 0 {
		fail(fmt.Errorf("set -d or -n"))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	r, err := bench.Load(ctx, cfg)
	if err != nil {
		fail(err)
	}
	if *asJSON {
		_ = json.NewEncoder(os.Stdout).Encode(r)
	} else {
		fmt.Println(r)
	}
	if r.Errors > 0 || r.Resumed > 0 {
		os.Exit(1)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "loadgen:", err)
	os.Exit(2)
}
