package bench

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"runtime"
	"slices"
	"time"

	"golang.org/x/sys/unix"
)

// KeyExchange is what a client offers, which decides what the server has to
// compute: TLS 1.3 with Go's default groups (the server picks the hybrid
// X25519MLKEM768, as with current browsers), TLS 1.3 with X25519 only (what
// OpenSSL 3.0 clients such as curl, wrk and h2load send), or TLS 1.2 ECDHE.
type KeyExchange struct {
	Name       string        // the negotiated group (tls.CurveID's String), plus "TLS1.2 " for 1.2
	MaxVersion uint16        // client's MaxVersion
	Curves     []tls.CurveID // client's CurvePreferences; nil is Go's default
}

// The key exchanges the ceiling covers, in table order.
var (
	KexMLKEM  = KeyExchange{Name: "X25519MLKEM768", MaxVersion: tls.VersionTLS13}
	KexX25519 = KeyExchange{Name: "X25519", MaxVersion: tls.VersionTLS13, Curves: []tls.CurveID{tls.X25519}}
	KexTLS12  = KeyExchange{Name: "TLS1.2 X25519", MaxVersion: tls.VersionTLS12, Curves: []tls.CurveID{tls.X25519}}

	KeyExchanges = []KeyExchange{KexMLKEM, KexX25519, KexTLS12}
)

// KexOf names the key exchange of a negotiated connection the way
// KeyExchange.Name does, so a load result finds its ceiling.
func KexOf(version uint16, group tls.CurveID) string {
	if version < tls.VersionTLS13 {
		return "TLS1.2 " + group.String()
	}
	return group.String()
}

// ServerConfig is the server side every measurement uses, for ja3echo's
// setting: session tickets off, so every handshake is full.
func ServerConfig(cert tls.Certificate) *tls.Config {
	return &tls.Config{
		Certificates:           []tls.Certificate{cert},
		MinVersion:             tls.VersionTLS10,
		SessionTicketsDisabled: true,
		NextProtos:             []string{"http/1.1"},
	}
}

// ClientConfig is the load generator's client: no session cache (so no
// resumption), and no chain verification, because a verification the server
// never pays for would only slow down the machine both share. The server's
// CertificateVerify signature is still checked.
func ClientConfig(kex KeyExchange) *tls.Config {
	return &tls.Config{
		ServerName:         "localhost",
		InsecureSkipVerify: true,
		MaxVersion:         kex.MaxVersion,
		CurvePreferences:   kex.Curves,
		NextProtos:         []string{"http/1.1"},
	}
}

// Handshaker runs full handshakes between one client and one server config,
// each half on an OS thread of its own, and reports each half's thread CPU
// time. The two halves talk over a connected AF_UNIX socket pair, so the
// server half includes the same read and write system calls as a real server
// (less the TCP stack's share) and nothing else: this is the floor that no
// server using crypto/tls can go below.
type Handshaker struct {
	Server, Client *tls.Config
	Kex            string // the KeyExchange.Name the handshake must negotiate
}

// NewHandshaker returns a Handshaker for cert and kex.
func NewHandshaker(cert tls.Certificate, kex KeyExchange) *Handshaker {
	return &Handshaker{Server: ServerConfig(cert), Client: ClientConfig(kex), Kex: kex.Name}
}

// Errors of a handshake that must not be measured.
var (
	ErrResumed  = errors.New("bench: handshake was resumed")
	ErrWrongKex = errors.New("bench: unexpected key exchange negotiated")
)

// Once runs one handshake and returns the CPU time of its server and client
// halves.
func (h *Handshaker) Once() (server, client time.Duration, err error) {
	sc, cc, err := socketPair()
	if err != nil {
		return 0, 0, err
	}
	defer sc.Close()
	defer cc.Close()
	type half struct {
		cpu   time.Duration
		state tls.ConnectionState
		err   error
	}
	run := func(raw net.Conn, newTLS func(net.Conn) *tls.Conn, out chan<- half) {
		// Locked, the thread runs only this goroutine, so its CPU clock
		// measures the handshake and nothing else.
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		m := &meteredConn{Conn: raw}
		c := newTLS(m)
		t0 := ThreadCPU()
		err := c.Handshake()
		out <- half{cpu: ThreadCPU() - t0 - m.inRead, state: c.ConnectionState(), err: err}
	}
	sch, cch := make(chan half, 1), make(chan half, 1)
	go run(sc, func(c net.Conn) *tls.Conn { return tls.Server(c, h.Server) }, sch)
	go run(cc, func(c net.Conn) *tls.Conn { return tls.Client(c, h.Client) }, cch)
	s, c := <-sch, <-cch
	switch {
	case s.err != nil:
		return 0, 0, fmt.Errorf("bench: server handshake: %w", s.err)
	case c.err != nil:
		return 0, 0, fmt.Errorf("bench: client handshake: %w", c.err)
	case s.state.DidResume || c.state.DidResume:
		return 0, 0, ErrResumed
	case KexOf(s.state.Version, s.state.CurveID) != h.Kex:
		return 0, 0, fmt.Errorf("%w: %s, want %s", ErrWrongKex, KexOf(s.state.Version, s.state.CurveID), h.Kex)
	}
	return s.cpu, c.cpu, nil
}

// meteredConn counts the thread CPU time spent inside Read, which is mostly
// the scheduler parking the locked thread until the peer's flight arrives and
// waking it again: a real server amortizes that over many connections, so it
// is not part of the handshake's floor. The read system calls themselves
// (about a microsecond each, a few per handshake) go with it.
type meteredConn struct {
	net.Conn
	inRead time.Duration
}

func (c *meteredConn) Read(p []byte) (int, error) {
	t0 := ThreadCPU()
	n, err := c.Conn.Read(p)
	c.inRead += ThreadCPU() - t0
	return n, err
}

// socketPair returns the two ends of a connected AF_UNIX stream socket as
// net.Conns on the runtime poller.
func socketPair() (net.Conn, net.Conn, error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil, os.NewSyscallError("socketpair", err)
	}
	var conns [2]net.Conn
	for i, fd := range fds {
		f := os.NewFile(uintptr(fd), "socketpair")
		conns[i], err = net.FileConn(f) // dups the fd
		f.Close()
		if err != nil {
			if i == 1 {
				conns[0].Close()
			} else {
				unix.Close(fds[1])
			}
			return nil, nil, err
		}
	}
	return conns[0], conns[1], nil
}

// CeilingResult is the CPU cost of one full handshake's halves.
type CeilingResult struct {
	Key       string  `json:"key"`
	Kex       string  `json:"kex"`
	N         int     `json:"n"`
	ServerUS  float64 `json:"server_us"` // median
	ClientUS  float64 `json:"client_us"` // median
	ServerP10 float64 `json:"server_p10_us"`
	ServerP90 float64 `json:"server_p90_us"`
}

// Ceiling runs n measured handshakes (after a few unmeasured ones that warm
// up caches and the runtime) and returns the medians.
func Ceiling(cert tls.Certificate, key string, kex KeyExchange, n int) (CeilingResult, error) {
	h := NewHandshaker(cert, kex)
	n = max(n, 1)
	srv := make([]time.Duration, 0, n)
	cli := make([]time.Duration, 0, n)
	for i := -3; i < n; i++ {
		s, c, err := h.Once()
		if err != nil {
			return CeilingResult{}, err
		}
		if i >= 0 {
			srv, cli = append(srv, s), append(cli, c)
		}
	}
	slices.Sort(srv)
	slices.Sort(cli)
	return CeilingResult{
		Key: key, Kex: kex.Name, N: n,
		ServerUS: us(Percentile(srv, 0.5)), ClientUS: us(Percentile(cli, 0.5)),
		ServerP10: us(Percentile(srv, 0.1)), ServerP90: us(Percentile(srv, 0.9)),
	}, nil
}

func us(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

// ClientKex maps the load generator's -tls and -curves flags to a
// KeyExchange: tls is "1.2" or "1.3", curves "default" or "x25519".
func ClientKex(tlsVersion, curves string) (KeyExchange, error) {
	var k KeyExchange
	switch curves {
	case "default":
		k = KexMLKEM
	case "x25519":
		k = KexX25519
	default:
		return KeyExchange{}, fmt.Errorf("bench: -curves %q: want default or x25519", curves)
	}
	switch tlsVersion {
	case "1.3":
	case "1.2":
		// Go's default groups offered over TLS 1.2 settle on X25519 too: the
		// hybrid exists in TLS 1.3 only.
		k.Name, k.MaxVersion = KexTLS12.Name, tls.VersionTLS12
	default:
		return KeyExchange{}, fmt.Errorf("bench: -tls %q: want 1.2 or 1.3", tlsVersion)
	}
	return k, nil
}
