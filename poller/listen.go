package poller

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

const (
	acceptBatch = 64 // accepts per listener wakeup, so conns' reads are not starved
	minBackoff  = 5 * time.Millisecond
	maxBackoff  = time.Second // net/http's accept backoff
)

// listen opens the listening socket with net.Listen, which already does
// what a server needs (dual-stack wildcard, zones, SO_REUSEADDR, the
// kernel's backlog cap), and takes it over: the loop keeps a close-on-exec
// dup of its descriptor, still non-blocking since O_NONBLOCK belongs to the
// shared open file, and closes the net.Listener, whose Close removes the
// socket from Go's own netpoller first.
func listen(addr string) (int, netip.AddrPort, error) {
	network := "tcp" // an empty host or "::" listens dual-stack
	if host, _, err := net.SplitHostPort(addr); err == nil {
		if ip, err := netip.ParseAddr(host); err == nil && ip.Is4() {
			network = "tcp4" // 0.0.0.0 means IPv4 only, not Go's dual-stack
		}
	}
	ln, err := net.Listen(network, addr)
	if err != nil {
		return -1, netip.AddrPort{}, fmt.Errorf("poller: %w", err)
	}
	defer ln.Close()
	tl := ln.(*net.TCPListener)
	rc, err := tl.SyscallConn()
	if err != nil {
		return -1, netip.AddrPort{}, fmt.Errorf("poller: %w", err)
	}
	fd, derr := -1, error(nil)
	if err := rc.Control(func(s uintptr) { fd, derr = unix.FcntlInt(s, unix.F_DUPFD_CLOEXEC, 0) }); err != nil {
		return -1, netip.AddrPort{}, fmt.Errorf("poller: %w", err)
	}
	if derr != nil {
		return -1, netip.AddrPort{}, os.NewSyscallError("fcntl", derr)
	}
	return fd, tl.Addr().(*net.TCPAddr).AddrPort(), nil
}

// defaultMaxConns keeps a quarter of RLIMIT_NOFILE out of the loop's reach:
// handed-off conns, the accept-and-close of over-limit conns and the
// process's own files need descriptors too, and they grow with the limit
// (a fixed reserve such as cur-256 is too small at 1M and underflows at 256).
func defaultMaxConns() int { return max(fdLimit()/4*3, 1) }

// fdLimit is the soft RLIMIT_NOFILE (Go raises it to the hard limit at
// start), capped at 16M.
func fdLimit() int {
	var rl unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &rl); err != nil {
		rl.Cur = 1024
	}
	return int(min(rl.Cur, 1<<24))
}

// accept4 is unix.Accept4 without its two heap objects per call (the raw
// address it passes to the kernel escapes, and the parsed Sockaddr is new):
// ~140 bytes of garbage per accepted conn, which the server's GOGC=400
// leaves in RSS for a long time when the loop is holding thousands of
// silent clients and nothing else allocates.
func (l *Loop) accept4() (int, netip.AddrPort, error) {
	l.rsaLen = unix.SizeofSockaddrAny
	fd, _, errno := unix.Syscall6(unix.SYS_ACCEPT4, uintptr(l.lfd),
		uintptr(unsafe.Pointer(&l.rsa)), uintptr(unsafe.Pointer(&l.rsaLen)),
		unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0, 0)
	if errno != 0 {
		return -1, netip.AddrPort{}, errno
	}
	return int(fd), rawAddrPort(&l.rsa), nil
}

// rawAddrPort is the peer's address from the kernel's form, dual-stack
// peers shown as plain IPv4.
func rawAddrPort(rsa *unix.RawSockaddrAny) netip.AddrPort {
	switch rsa.Addr.Family {
	case unix.AF_INET:
		sa := (*unix.RawSockaddrInet4)(unsafe.Pointer(rsa))
		return netip.AddrPortFrom(netip.AddrFrom4(sa.Addr), netPort(&sa.Port))
	case unix.AF_INET6:
		sa := (*unix.RawSockaddrInet6)(unsafe.Pointer(rsa))
		ip := netip.AddrFrom16(sa.Addr).Unmap()
		if sa.Scope_id != 0 && ip.Is6() {
			ip = ip.WithZone(strconv.FormatUint(uint64(sa.Scope_id), 10))
		}
		return netip.AddrPortFrom(ip, netPort(&sa.Port))
	}
	return netip.AddrPort{}
}

// netPort reads a port the kernel stored in network byte order.
func netPort(p *uint16) uint16 {
	return binary.BigEndian.Uint16((*[2]byte)(unsafe.Pointer(p))[:])
}

// accept takes up to acceptBatch conns off the listener.
func (l *Loop) accept() {
	for range acceptBatch {
		fd, remote, err := l.accept4()
		switch {
		case err == nil:
		case errors.Is(err, unix.EAGAIN):
			return
		case errors.Is(err, unix.EINTR), errors.Is(err, unix.ECONNABORTED), errors.Is(err, unix.ECONNRESET):
			continue // that one conn died in the queue; the next may be fine
		default:
			// EMFILE, ENFILE, ENOBUFS, ENOMEM or worse: retrying now would spin
			// (the listener stays readable under LT) and exiting would kill the
			// server, so step back and let closes free resources.
			l.pause(os.NewSyscallError("accept4", err))
			return
		}
		l.backoff = 0
		l.accepted.Add(1)
		if l.held.Load() >= int64(l.cfg.MaxConns) {
			l.overLimit.Add(1)
			_ = unix.Close(fd) // not a conn: nobody else knows this number
			continue
		}
		// With a Preface, Admit is asked about the address it names instead.
		if l.cfg.Preface == nil {
			if err := l.admit(remote); err != nil {
				l.drop(fd, remote, reasonRefused, 0, err) // no conn yet: nothing to release
				continue
			}
		}
		l.hold(fd, remote)
	}
}

// pause removes the listener from epoll until resumeAt; waitMillis wakes the
// loop then, so no timer or goroutine is involved.
func (l *Loop) pause(err error) {
	l.acceptErrors.Add(1)
	if !l.paused {
		_ = unix.EpollCtl(l.epfd, unix.EPOLL_CTL_DEL, l.lfd, nil)
		l.paused = true
	}
	l.backoff = min(max(2*l.backoff, minBackoff), maxBackoff)
	l.resumeAt = l.now() + int64(l.backoff)
	l.warn("poller: accept failed; pausing the listener", err)
}

// resume re-arms a paused listener once its backoff has elapsed.
func (l *Loop) resume() {
	if !l.paused || l.now() < l.resumeAt {
		return
	}
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(l.lfd)}
	if err := unix.EpollCtl(l.epfd, unix.EPOLL_CTL_ADD, l.lfd, &ev); err != nil {
		l.pause(os.NewSyscallError("epoll_ctl", err))
		return
	}
	l.paused = false
}

// warn logs at most once a second, so an accept storm cannot become a log
// storm that blocks the loop on stderr.
func (l *Loop) warn(msg string, err error) {
	now := l.now()
	if now < l.nextWarn {
		l.suppressed++
		return
	}
	l.log.WithError(err).WithField("suppressed", l.suppressed).Warn(msg)
	l.nextWarn, l.suppressed = now+int64(time.Second), 0
}
