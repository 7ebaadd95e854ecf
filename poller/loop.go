package poller

import (
	"encoding/binary"
	"errors"
	"io"
	"net"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"
)

// Loop is one epoll loop with its own listening socket. Create it with New,
// run it with Run on a goroutine of its own, and end it with Stop.
type Loop struct {
	cfg     Config
	log     *logrus.Entry
	timeout int64 // HelloTimeout in ns
	addr    net.TCPAddr
	epoch   time.Time // origin of now(); monotonic

	lfd, epfd, efd int

	mu       sync.Mutex // guards state and stopping, and so efd's lifetime for Stop
	state    int
	stopping bool

	// Counters, read by Stats from any goroutine.
	counts                                      [numReasons]atomic.Uint64
	accepted, handoffs, overLimit, acceptErrors atomic.Uint64
	held                                        atomic.Int64

	// Loop goroutine only.
	// conns is indexed by fd: descriptors are small dense integers, and a
	// slice costs 8 bytes per slot where a map costs several times that per
	// pending conn (idle memory is what this loop is for).
	conns      []*conn
	head, tail *conn // FIFO in accept order == deadline order
	rbuf       []byte
	events     []unix.EpollEvent
	rsa        unix.RawSockaddrAny // accept4's peer address, reused
	rsaLen     uint32
	quit       bool
	paused     bool          // listener out of epoll after an accept failure
	backoff    time.Duration // current accept backoff; 0 after a success
	resumeAt   int64
	nextWarn   int64
	suppressed int
	stale      int // events for fds not in the map; tests read it after Run
}

const (
	stateIdle    = iota // New returned
	stateRunning        // Run started
	stateStopped        // Stop before Run: fds already closed
	stateDone           // Run returned or is returning
)

var errRunTwice = errors.New("poller: Run called more than once")

// New creates the listening socket (bound and listening, so Addr is valid at
// once), the epoll instance and the wakeup eventfd. MaxConns defaults to
// three quarters of the soft RLIMIT_NOFILE.
func New(cfg Config) (*Loop, error) {
	if cfg.Framer == nil || cfg.Handoff == nil {
		return nil, errors.New("poller: Config.Framer and Config.Handoff are required")
	}
	if cfg.HelloTimeout <= 0 {
		cfg.HelloTimeout = 10 * time.Second
	}
	if cfg.MaxHelloBytes <= 0 {
		cfg.MaxHelloBytes = (64 + 5) << 10
	}
	if cfg.MaxConns <= 0 {
		cfg.MaxConns = defaultMaxConns()
	}
	l := &Loop{
		cfg: cfg, log: cfg.Log,
		timeout: int64(min(cfg.HelloTimeout, 1<<62)), // so now()+timeout cannot overflow
		epoch:   time.Now(), lfd: -1, epfd: -1, efd: -1,
		rbuf: make([]byte, 16<<10), events: make([]unix.EpollEvent, 256),
		// Room for every fd number the process can have (up to 1M), so
		// growing never leaves old copies behind; pages nobody indexes
		// are never touched and cost no RSS.
		conns: make([]*conn, 0, min(fdLimit(), 1<<20)),
	}
	if l.log == nil {
		lg := logrus.New()
		lg.SetOutput(io.Discard)
		lg.SetLevel(logrus.PanicLevel) // skip formatting, not just output
		l.log = logrus.NewEntry(lg)
	}
	if err := l.open(); err != nil {
		l.closeFDs()
		return nil, err
	}
	return l, nil
}

func (l *Loop) open() error {
	fd, bound, err := listen(l.cfg.Addr)
	if err != nil {
		return err
	}
	l.lfd, l.addr = fd, *net.TCPAddrFromAddrPort(bound)
	if l.epfd, err = unix.EpollCreate1(unix.EPOLL_CLOEXEC); err != nil {
		return os.NewSyscallError("epoll_create1", err)
	}
	if l.efd, err = unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC); err != nil {
		return os.NewSyscallError("eventfd", err)
	}
	for _, fd := range []int{l.lfd, l.efd} {
		ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(fd)}
		if err := unix.EpollCtl(l.epfd, unix.EPOLL_CTL_ADD, fd, &ev); err != nil {
			return os.NewSyscallError("epoll_ctl", err)
		}
	}
	return nil
}

func (l *Loop) closeFDs() {
	for _, fd := range []*int{&l.lfd, &l.epfd, &l.efd} {
		if *fd >= 0 {
			_ = unix.Close(*fd)
			*fd = -1
		}
	}
}

// Addr returns the bound address, with the real port when Config.Addr had
// port 0.
func (l *Loop) Addr() *net.TCPAddr {
	a := l.addr
	a.IP = append(net.IP(nil), a.IP...)
	return &a
}

// Stats returns the counters.
func (l *Loop) Stats() Stats {
	return Stats{
		Accepted: l.accepted.Load(), Handoffs: l.handoffs.Load(),
		Rejected: l.counts[reasonRejected].Load(), Timeouts: l.counts[reasonTimeout].Load(),
		TooLarge: l.counts[reasonTooLarge].Load(), PeerClosed: l.counts[reasonPeerClosed].Load(),
		OverLimit: l.overLimit.Load(), AcceptErrors: l.acceptErrors.Load(), Held: l.held.Load(),
		PrefaceErrors: l.counts[reasonPreface].Load(), Refused: l.counts[reasonRefused].Load(),
	}
}

// Stop asks Run to return, from any goroutine; it is idempotent. Stop
// before Run releases the sockets at once, and Run then returns nil.
func (l *Loop) Stop() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case l.state == stateIdle:
		l.state = stateStopped
		l.closeFDs()
	case l.state == stateRunning && !l.stopping:
		var b [8]byte
		binary.NativeEndian.PutUint64(b[:], 1)
		// EAGAIN means the counter is saturated: Run has been woken anyway.
		if _, err := unix.Write(l.efd, b[:]); err != nil && !errors.Is(err, unix.EAGAIN) {
			return os.NewSyscallError("write", err)
		}
		l.stopping = true
	}
	return nil
}

// Run serves until Stop, then closes every held conn, the listener, epoll and
// the eventfd, and returns nil. It returns an error if epoll itself fails or
// if called twice. It pins the goroutine to its thread: the loop spends its
// life blocked in epoll_wait, and a thread of its own keeps it from being
// shuffled between threads at every wakeup.
func (l *Loop) Run() error {
	l.mu.Lock()
	switch l.state {
	case stateStopped:
		l.state = stateDone
		l.mu.Unlock()
		return nil
	case stateRunning, stateDone:
		l.mu.Unlock()
		return errRunTwice
	}
	l.state = stateRunning
	l.mu.Unlock()

	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	err := l.serve()
	for l.head != nil {
		l.closeConn(l.head, reasonShutdown, nil)
	}
	l.mu.Lock()
	l.state = stateDone // from here on Stop no longer writes to efd
	l.closeFDs()
	l.mu.Unlock()
	return err
}

func (l *Loop) serve() error {
	for !l.quit {
		n, err := unix.EpollWait(l.epfd, l.events, l.waitMillis())
		if errors.Is(err, unix.EINTR) {
			continue // the runtime's preemption signals make this common
		}
		if err != nil {
			return os.NewSyscallError("epoll_wait", err)
		}
		for _, ev := range l.events[:n] {
			l.dispatch(ev)
		}
		now := l.now()
		for l.head != nil && l.head.deadline <= now {
			l.closeConn(l.head, reasonTimeout, nil)
		}
		l.resume()
	}
	return nil
}

func (l *Loop) dispatch(ev unix.EpollEvent) {
	switch fd := int(ev.Fd); fd {
	case l.lfd:
		l.accept()
	case l.efd:
		var b [8]byte
		_, _ = unix.Read(l.efd, b[:])
		l.quit = true
	default:
		// A closed fd's number may already be reused within one batch, and
		// handed-off fds are gone: always look the conn up.
		var c *conn
		if fd >= 0 && fd < len(l.conns) {
			c = l.conns[fd]
		}
		if c == nil {
			l.stale++
			return
		}
		// Data before hang-up (gnet's order), so RDHUP cannot drop the last
		// bytes of a message.
		if ev.Events&unix.EPOLLIN != 0 && !l.read(c) {
			return
		}
		if ev.Events&(unix.EPOLLERR|unix.EPOLLHUP) != 0 ||
			ev.Events&(unix.EPOLLRDHUP|unix.EPOLLIN) == unix.EPOLLRDHUP {
			l.closeConn(c, reasonPeerClosed, nil)
		}
	}
}

// waitMillis is the epoll_wait timeout: until the oldest conn's deadline or
// the listener's resume time, whichever is first; -1 if neither.
func (l *Loop) waitMillis() int {
	next := int64(-1)
	if l.head != nil {
		next = l.head.deadline
	}
	if l.paused && (next < 0 || l.resumeAt < next) {
		next = l.resumeAt
	}
	if next < 0 {
		return -1
	}
	d := next - l.now()
	if d <= 0 {
		return 0
	}
	// Round up: waking a little early would find nothing due and spin.
	return int(min((d+int64(time.Millisecond)-1)/int64(time.Millisecond), 1<<30))
}

func (l *Loop) now() int64 { return int64(time.Since(l.epoch)) }
