package bench

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Bounds on one load run, so that no flag value can turn it into a flood.
const (
	MaxConcurrency = 4096
	MaxDuration    = 30 * time.Minute
	MaxCount       = 10_000_000
	maxBody        = 16 << 20 // a response larger than this is an error
)

// LoadConfig is one load run: Concurrency workers each open a connection,
// do a full handshake, send one GET with Connection: close, read to EOF, and
// start over, until Duration has passed or Count connections have started.
type LoadConfig struct {
	Target      string        // "127.0.0.x:port"
	Concurrency int           // workers
	Duration    time.Duration // stop starting connections after this; 0: no limit
	Count       int           // stop after this many connections started; 0: no limit
	Kex         KeyExchange   // the client's TLS version cap and groups
	Sources     []netip.Addr  // local addresses, one per worker round robin; nil: the kernel's choice
	Path        string        // request path; "" is "/"
	PID         int           // the server's PID, to read its CPU time; 0: not measured
	Timeout     time.Duration // per connection, dial start to EOF; 0 is 10 s
	VarsURL     string        // the server's expvar /debug/vars, for allocations per connection; "": none
}

// LoadResult is what a load run measured, over the window from the first
// dial to the last connection's end. CPU figures are per completed
// connection; shares are fractions of all the machine's cores.
type LoadResult struct {
	Target          string         `json:"target"`
	Concurrency     int            `json:"c"`
	ClientKex       string         `json:"client_kex"`
	ElapsedS        float64        `json:"elapsed_s"`
	Conns           int            `json:"conns"` // response read to EOF
	ConnPerS        float64        `json:"conn_per_s"`
	Errors          int            `json:"errors"`
	ErrorKinds      map[string]int `json:"error_kinds,omitempty"`
	Full            int            `json:"full_handshakes"`
	Resumed         int            `json:"resumed_handshakes"`
	Negotiated      map[string]int `json:"negotiated"` // KexOf name: count
	P50MS           float64        `json:"p50_ms"`
	P90MS           float64        `json:"p90_ms"`
	P99MS           float64        `json:"p99_ms"`
	MaxMS           float64        `json:"max_ms"`
	ClientCPUS      float64        `json:"client_cpu_s"`
	ClientUSPerConn float64        `json:"client_us_per_conn"`
	ClientShare     float64        `json:"client_share"`
	ServerPID       int            `json:"server_pid,omitempty"`
	ServerCPUS      float64        `json:"server_cpu_s,omitempty"`
	ServerUSPerConn float64        `json:"server_us_per_conn,omitempty"`
	ServerShare     float64        `json:"server_share,omitempty"`
	ServerCSPerConn float64        `json:"server_ctx_switches_per_conn,omitempty"` // of its live threads
	ServerThreads   int            `json:"server_threads,omitempty"`
	ServerMallocs   float64        `json:"server_mallocs_per_conn,omitempty"` // with VarsURL
	ServerAllocB    float64        `json:"server_alloc_bytes_per_conn,omitempty"`
	ServerGCs       uint32         `json:"server_gcs,omitempty"`
	OtherShare      float64        `json:"other_share"` // busy CPU of everything else on the machine
	StealShare      float64        `json:"steal_share"` // CPU the hypervisor gave to other guests
	NumCPU          int            `json:"ncpu"`
}

// String is the one-line human summary.
func (r *LoadResult) String() string {
	s := fmt.Sprintf("c=%d %d conns in %.2fs = %.0f conn/s, errors %d, full %d resumed %d, %s, latency p50 %.2fms p90 %.2fms p99 %.2fms max %.2fms, loadgen CPU %.0f µs/conn (%.0f%% of %d cores)",
		r.Concurrency, r.Conns, r.ElapsedS, r.ConnPerS, r.Errors, r.Full, r.Resumed, fmtCounts(r.Negotiated),
		r.P50MS, r.P90MS, r.P99MS, r.MaxMS, r.ClientUSPerConn, 100*r.ClientShare, r.NumCPU)
	if r.ServerPID != 0 {
		s += fmt.Sprintf(", server CPU %.0f µs/conn (%.0f%%), %.1f ctx switches/conn", r.ServerUSPerConn, 100*r.ServerShare, r.ServerCSPerConn)
	}
	if r.ServerMallocs > 0 {
		s += fmt.Sprintf(", server allocs %.0f/conn %.1f KiB/conn, %d GCs", r.ServerMallocs, r.ServerAllocB/1024, r.ServerGCs)
	}
	s += fmt.Sprintf(", other processes %.0f%%, steal %.0f%%", 100*r.OtherShare, 100*r.StealShare)
	if len(r.ErrorKinds) > 0 {
		s += ", error kinds: " + fmtCounts(r.ErrorKinds)
	}
	return s
}

func fmtCounts(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	s := ""
	for i, k := range keys {
		if i > 0 {
			s += " "
		}
		s += fmt.Sprintf("%s=%d", k, m[k])
	}
	return s
}

// Load runs cfg until its duration or count is reached, or ctx ends (then
// connections in flight are abandoned and the result covers what finished).
func Load(ctx context.Context, cfg LoadConfig) (*LoadResult, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	req := fmt.Appendf(nil, "GET %s HTTP/1.1\r\nHost: localhost\r\nUser-Agent: ja3echo-loadgen\r\nAccept: */*\r\nConnection: close\r\n\r\n", cfg.Path)
	tlsCfg := ClientConfig(cfg.Kex)

	var (
		started atomic.Int64
		stop    atomic.Bool
		wg      sync.WaitGroup
		workers = make([]*worker, cfg.Concurrency)
	)
	for i := range workers {
		w := &worker{cfg: &cfg, tls: tlsCfg, req: req, buf: make([]byte, 16<<10),
			errs: map[string]int{}, negotiated: map[string]int{}}
		if len(cfg.Sources) > 0 {
			w.local = &net.TCPAddr{IP: cfg.Sources[i%len(cfg.Sources)].AsSlice()}
		}
		workers[i] = w
	}
	more := func() bool {
		if stop.Load() || ctx.Err() != nil {
			return false
		}
		if cfg.Count > 0 && started.Add(1) > int64(cfg.Count) {
			return false
		}
		return true
	}

	srv0, err := serverCPU(cfg.PID)
	if err != nil {
		return nil, err
	}
	cs0, _ := serverCtx(cfg.PID)
	var ms0 MemStats
	if cfg.VarsURL != "" {
		if ms0, err = ReadVars(cfg.VarsURL); err != nil {
			return nil, err
		}
	}
	busy0, total0, steal0, err := SystemTicks()
	if err != nil {
		return nil, err
	}
	cpu0, t0 := SelfCPU(), time.Now()
	if cfg.Duration > 0 {
		timer := time.AfterFunc(cfg.Duration, func() { stop.Store(true) })
		defer timer.Stop()
	}
	for _, w := range workers {
		wg.Go(func() { w.run(ctx, more) })
	}
	wg.Wait()
	elapsed, cpu := time.Since(t0), SelfCPU()-cpu0
	srv1, err := serverCPU(cfg.PID)
	if err != nil {
		return nil, err
	}
	var ms1 MemStats
	if cfg.VarsURL != "" {
		if ms1, err = ReadVars(cfg.VarsURL); err != nil {
			return nil, err
		}
	}
	busy1, total1, steal1, err := SystemTicks()
	if err != nil {
		return nil, err
	}
	cs1, threads := serverCtx(cfg.PID)
	r := summarize(&cfg, workers, elapsed, cpu, srv1-srv0)
	if cfg.PID != 0 && r.Conns > 0 {
		r.ServerCSPerConn, r.ServerThreads = float64(cs1-cs0)/float64(r.Conns), threads
	}
	if cfg.VarsURL != "" && r.Conns > 0 {
		r.ServerMallocs = float64(ms1.Mallocs-ms0.Mallocs) / float64(r.Conns)
		r.ServerAllocB = float64(ms1.TotalAlloc-ms0.TotalAlloc) / float64(r.Conns)
		r.ServerGCs = ms1.NumGC - ms0.NumGC
	}
	// Ticks of all CPUs over the window: the machine's own clock for shares.
	if span := float64(total1 - total0); span > 0 {
		busy := float64(busy1-busy0) / span * elapsed.Seconds() * float64(r.NumCPU)
		r.OtherShare = max(0, busy-r.ClientCPUS-r.ServerCPUS) / (elapsed.Seconds() * float64(r.NumCPU))
		r.StealShare = float64(steal1-steal0) / span
	}
	return r, nil
}

func (cfg *LoadConfig) check() error {
	if err := CheckTarget(cfg.Target); err != nil {
		return err
	}
	switch {
	case cfg.Concurrency < 1 || cfg.Concurrency > MaxConcurrency:
		return fmt.Errorf("bench: concurrency %d not in 1..%d", cfg.Concurrency, MaxConcurrency)
	case cfg.Duration <= 0 && cfg.Count <= 0:
		return errors.New("bench: set a duration or a count")
	case cfg.Duration > MaxDuration || cfg.Count > MaxCount:
		return fmt.Errorf("bench: at most %v and %d connections per run", MaxDuration, MaxCount)
	}
	if cfg.Path == "" {
		cfg.Path = "/"
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	return nil
}

func serverCPU(pid int) (time.Duration, error) {
	if pid == 0 {
		return 0, nil
	}
	return ProcCPU(pid)
}

// serverCtx returns the server's context switches and thread count; zeros
// when they cannot be read (they are diagnostics, not results).
func serverCtx(pid int) (int64, int) {
	if pid == 0 {
		return 0, 0
	}
	n, _ := ProcCtxSwitches(pid)
	_, threads, _ := ProcStatus(pid)
	return n, threads
}

func summarize(cfg *LoadConfig, workers []*worker, elapsed, cpu, srvCPU time.Duration) *LoadResult {
	r := &LoadResult{
		Target: cfg.Target, Concurrency: cfg.Concurrency, ClientKex: cfg.Kex.Name,
		ElapsedS: elapsed.Seconds(), ErrorKinds: map[string]int{}, Negotiated: map[string]int{},
		ClientCPUS: cpu.Seconds(), NumCPU: runtime.NumCPU(),
	}
	var lat []time.Duration
	for _, w := range workers {
		lat = append(lat, w.lat...)
		r.Full += w.full
		r.Resumed += w.resumed
		for k, n := range w.errs {
			r.ErrorKinds[k] += n
			r.Errors += n
		}
		for k, n := range w.negotiated {
			r.Negotiated[k] += n
		}
	}
	if len(r.ErrorKinds) == 0 {
		r.ErrorKinds = nil
	}
	slices.Sort(lat)
	r.Conns = len(lat)
	r.P50MS, r.P90MS = ms(Percentile(lat, 0.5)), ms(Percentile(lat, 0.9))
	r.P99MS, r.MaxMS = ms(Percentile(lat, 0.99)), ms(Percentile(lat, 1))
	cores := elapsed.Seconds() * float64(r.NumCPU)
	r.ClientShare = cpu.Seconds() / cores
	if r.Conns > 0 {
		r.ConnPerS = float64(r.Conns) / elapsed.Seconds()
		r.ClientUSPerConn = us(cpu) / float64(r.Conns)
	}
	if cfg.PID != 0 {
		r.ServerPID, r.ServerCPUS, r.ServerShare = cfg.PID, srvCPU.Seconds(), srvCPU.Seconds()/cores
		if r.Conns > 0 {
			r.ServerUSPerConn = us(srvCPU) / float64(r.Conns)
		}
	}
	return r
}

// worker is one sequential client. Its fields are its own until Load reads
// them after the WaitGroup.
type worker struct {
	cfg        *LoadConfig
	tls        *tls.Config
	req, buf   []byte
	local      *net.TCPAddr
	lat        []time.Duration
	full       int
	resumed    int
	errs       map[string]int
	negotiated map[string]int
}

func (w *worker) run(ctx context.Context, more func() bool) {
	for more() {
		start := time.Now()
		if err := w.one(ctx, start); err != nil {
			w.errs[err.Error()]++
			continue
		}
		w.lat = append(w.lat, time.Since(start))
	}
}

// errStatus is a response that is not HTTP 2xx.
var errStatus = errors.New("status not 2xx")

// one is one connection. Its error is already a kind ("phase: cause").
func (w *worker) one(ctx context.Context, start time.Time) error {
	deadline := start.Add(w.cfg.Timeout)
	d := net.Dialer{LocalAddr: w.local, Deadline: deadline, Control: bindNoPort}
	raw, err := d.DialContext(ctx, "tcp", w.cfg.Target)
	if err != nil {
		return kind("dial", err)
	}
	// Closed without close_notify: the server has already closed its side,
	// and an alert would only draw a reset.
	defer raw.Close()
	if err := raw.SetDeadline(deadline); err != nil {
		return kind("dial", err)
	}
	c := tls.Client(raw, w.tls)
	if err := c.Handshake(); err != nil {
		return kind("handshake", err)
	}
	st := c.ConnectionState()
	if st.DidResume {
		w.resumed++
	} else {
		w.full++
	}
	w.negotiated[KexOf(st.Version, st.CurveID)]++
	if _, err := c.Write(w.req); err != nil {
		return kind("write", err)
	}
	var head []byte
	total := 0
	for {
		n, err := c.Read(w.buf)
		total += n
		if len(head) < 12 {
			head = append(head, w.buf[:min(n, 12-len(head))]...)
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return kind("read", err)
		}
		if total > maxBody {
			return kind("read", errTooLarge)
		}
	}
	if len(head) < 12 || string(head[:9]) != "HTTP/1.1 " || head[9] != '2' {
		return kind("response", errStatus)
	}
	return nil
}

var errTooLarge = errors.New("response too large")

// loadError is an error reduced to its kind, so that counting is cheap and
// two resets in different connections count as the same thing.
type loadError string

func (e loadError) Error() string { return string(e) }

func kind(phase string, err error) error {
	var (
		alert tls.AlertError
		rh    tls.RecordHeaderError
		ne    net.Error
		cause string
	)
	switch {
	case errors.Is(err, errStatus):
		cause = "bad status"
	case errors.Is(err, errTooLarge):
		cause = "too large"
	case errors.Is(err, context.Canceled):
		cause = "canceled"
	case errors.Is(err, syscall.ECONNREFUSED):
		cause = "refused"
	case errors.Is(err, syscall.ECONNRESET):
		cause = "reset"
	case errors.Is(err, syscall.EPIPE):
		cause = "broken pipe"
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		cause = "no local port"
	case errors.Is(err, syscall.EMFILE), errors.Is(err, syscall.ENFILE):
		cause = "out of fds"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		cause = "eof"
	case errors.Is(err, os.ErrDeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		cause = "timeout"
	case errors.As(err, &alert):
		cause = "tls alert " + alert.Error()
	case errors.As(err, &rh):
		cause = "not tls"
	default:
		cause = "other"
	}
	return loadError(phase + ": " + cause)
}
