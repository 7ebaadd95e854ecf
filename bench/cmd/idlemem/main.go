// Command idlemem measures what a pending connection costs a server: it
// starts a fresh server, reads its VmRSS, opens N connections from several
// 127.0.0.x source addresses that send nothing (or half a ClientHello), waits
// for the server's memory to settle, reads VmRSS again and reports the
// difference per connection. It does this for ja3echo and the net/http
// baseline, each with timeouts long enough to hold every connection for the
// whole measurement.
//
//	go run ./bench/cmd/idlemem -n 19500
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/ja3sentry/ja3echo/bench"
)

// maxConns keeps client and server under this machine's hard fd limit of
// 20,000 with room for their own descriptors.
const maxConns = 19_500

type options struct {
	n           int
	sources     string
	servers     []string
	modes       []string
	hello       bench.KeyExchange
	dialers     int
	settle      time.Duration
	timeout     time.Duration
	ja3echoBin  string
	baselineBin string
	ja3echoArgs []string
	out         string
}

func main() {
	o := &options{}
	var servers, modes, curves string
	flag.IntVar(&o.n, "n", maxConns, fmt.Sprintf("connections to hold (at most %d)", maxConns))
	flag.StringVar(&o.sources, "src", "127.0.0.2-127.0.0.9", "client source addresses (127.0.0.x)")
	flag.StringVar(&servers, "servers", "ja3echo,baseline", "servers to measure")
	flag.StringVar(&modes, "modes", "idle,half", "idle: send nothing; half: send the first half of a ClientHello")
	flag.StringVar(&curves, "hello", "default", "whose ClientHello to halve: default (Go's, with an X25519MLKEM768 key share) or x25519 (OpenSSL-sized)")
	flag.IntVar(&o.dialers, "dialers", 64, "concurrent dials")
	flag.DurationVar(&o.settle, "settle", 3*time.Second, "wait after the last connection before polling VmRSS until it is stable")
	flag.DurationVar(&o.timeout, "timeout", 10*time.Minute, "bound on the whole run")
	flag.StringVar(&o.ja3echoBin, "ja3echo-bin", "", "prebuilt ja3echo binary (default: go build ./cmd/ja3echo)")
	flag.StringVar(&o.baselineBin, "baseline-bin", "", "prebuilt baseline binary (default: go build ./bench/cmd/baseline)")
	ja3echoArgs := flag.String("ja3echo-flags", "", "extra ja3echo flags, space-separated (e.g. to lift a per-IP limit)")
	flag.StringVar(&o.out, "out", "bench/results/idlemem.jsonl", "append raw results here as JSON lines (empty: don't)")
	flag.Parse()
	o.servers, o.modes = strings.Split(servers, ","), strings.Split(modes, ",")
	o.ja3echoArgs = strings.Fields(*ja3echoArgs)
	var err error
	if o.hello, err = bench.ClientKex("1.3", curves); err != nil {
		fail(err)
	}
	if o.n < 1 || o.n > maxConns {
		fail(fmt.Errorf("-n %d not in 1..%d", o.n, maxConns))
	}
	if o.dialers < 1 || o.dialers > 1024 {
		fail(fmt.Errorf("-dialers %d not in 1..1024", o.dialers))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	if err := run(ctx, o); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "idlemem:", err)
	os.Exit(1)
}

// result is one measurement; it is also the raw JSON line.
type result struct {
	Type       string  `json:"type"` // "idlemem"
	RunID      string  `json:"run"`
	Server     string  `json:"server"`
	Mode       string  `json:"mode"`
	N          int     `json:"n"`
	Opened     int     `json:"opened"`
	Alive      int     `json:"alive"` // still open on the server's side when RSS was read
	SentBytes  int     `json:"sent_bytes_per_conn"`
	RSSBefore  int64   `json:"rss_before"`
	RSSAfter   int64   `json:"rss_after"`
	PerConn    float64 `json:"bytes_per_conn"`
	Threads    int     `json:"threads"`
	OpenS      float64 `json:"open_s"`
	DialErrors int     `json:"dial_errors"`
}

func run(ctx context.Context, o *options) error {
	srcs, err := bench.ParseSources(o.sources)
	if err != nil {
		return err
	}
	limit, err := bench.RaiseNoFile()
	if err != nil {
		return err
	}
	if limit < uint64(o.n)+64 {
		return fmt.Errorf("fd limit %d too low for %d connections", limit, o.n)
	}
	hello, err := bench.ClientHelloBytes(o.hello)
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "idlemem-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	cert, err := bench.NewCert(bench.KeyECDSA)
	if err != nil {
		return err
	}
	certFile, keyFile := filepath.Join(tmp, "cert.pem"), filepath.Join(tmp, "key.pem")
	if err := bench.WritePEM(cert, certFile, keyFile); err != nil {
		return err
	}
	jbin, bbin, err := bench.BuildServers(tmp, o.ja3echoBin, o.baselineBin)
	if err != nil {
		return err
	}
	meta := bench.NewMeta("idlemem")
	meta.Binaries = map[string]bench.Binary{"ja3echo": bench.DescribeBinary(jbin), "baseline": bench.DescribeBinary(bbin)}
	if o.out != "" {
		if err := bench.AppendJSONLines(o.out, meta); err != nil {
			return err
		}
	}
	fmt.Printf("idle memory per pending connection: N=%d from %s; half = %d of the %d bytes of a %s ClientHello\n",
		o.n, o.sources, len(hello)/2, len(hello), o.hello.Name)
	fmt.Printf("%s, kernel %s, %d CPUs, %s (run %s)\n\n", meta.Go, meta.Kernel, meta.NProc, meta.Time, meta.RunID)
	fmt.Printf("%-8s  %-4s  %6s  %6s  %10s  %10s  %9s  %7s  %6s\n", "server", "mode", "opened", "alive", "RSS before", "RSS after", "B/conn", "threads", "open s")
	for _, name := range o.servers {
		for _, mode := range o.modes {
			var payload []byte
			switch mode {
			case "idle":
			case "half":
				payload = hello[:len(hello)/2]
			default:
				return fmt.Errorf("unknown mode %q", mode)
			}
			var start func() (*bench.Process, error)
			switch name {
			case "ja3echo":
				start = func() (*bench.Process, error) {
					args := append([]string{"--hello-timeout", "120s", "--handshake-timeout", "120s",
						"--max-conns", "20000"}, o.ja3echoArgs...)
					return bench.StartJA3echo(jbin, tmp, certFile, keyFile, args...)
				}
			case "baseline":
				start = func() (*bench.Process, error) {
					return bench.StartBaseline(bbin, tmp, certFile, keyFile, "-read-timeout", "120s")
				}
			default:
				return fmt.Errorf("unknown server %q", name)
			}
			r, err := measure(ctx, o, start, srcs, payload)
			if err != nil {
				return fmt.Errorf("%s %s: %w", name, mode, err)
			}
			r.Type, r.RunID, r.Server, r.Mode = "idlemem", meta.RunID, name, mode
			fmt.Printf("%-8s  %-4s  %6d  %6d  %10s  %10s  %9.0f  %7d  %6.1f\n", name, mode, r.Opened, r.Alive,
				mib(r.RSSBefore), mib(r.RSSAfter), r.PerConn, r.Threads, r.OpenS)
			if o.out != "" {
				if err := bench.AppendJSONLines(o.out, r); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }
