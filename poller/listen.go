package poller

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

const (
	acceptBatch = 64 // accepts per listener wakeup, so conns' reads are not starved
	minBackoff  = 5 * time.Millisecond
	maxBackoff  = time.Second // net/http's accept backoff
)

// listen creates the non-blocking listening socket itself rather than taking
// a net.Listener's fd, which File().Fd() would have made blocking.
func listen(addr string) (int, netip.AddrPort, error) {
	ta, err := net.ResolveTCPAddr("tcp", addr)
	if err != nil {
		return -1, netip.AddrPort{}, fmt.Errorf("poller: listen %q: %w", addr, err)
	}
	ip, _ := netip.AddrFromSlice(ta.IP) // nil IP (empty host) => invalid => wildcard
	ip = ip.Unmap()
	family, sa := unix.AF_INET6, unix.Sockaddr(&unix.SockaddrInet6{Port: ta.Port, Addr: ip.As16()})
	if ip.Is4() {
		family, sa = unix.AF_INET, &unix.SockaddrInet4{Port: ta.Port, Addr: ip.As4()}
	} else if ta.Zone != "" {
		ifi, err := net.InterfaceByName(ta.Zone)
		if err != nil {
			return -1, netip.AddrPort{}, fmt.Errorf("poller: listen %q: %w", addr, err)
		}
		sa.(*unix.SockaddrInet6).ZoneId = uint32(ifi.Index)
	}
	fd, err := unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, unix.IPPROTO_TCP)
	if errors.Is(err, unix.EAFNOSUPPORT) && !ip.IsValid() {
		// Wildcard on a kernel without IPv6: fall back to IPv4 only.
		family, sa = unix.AF_INET, &unix.SockaddrInet4{Port: ta.Port}
		fd, err = unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, unix.IPPROTO_TCP)
	}
	if err != nil {
		return -1, netip.AddrPort{}, os.NewSyscallError("socket", err)
	}
	bound, err := bindListen(fd, family, sa, ip)
	if err != nil {
		_ = unix.Close(fd)
		return -1, netip.AddrPort{}, err
	}
	return fd, bound, nil
}

func bindListen(fd, family int, sa unix.Sockaddr, ip netip.Addr) (netip.AddrPort, error) {
	op, err := "setsockopt", unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1)
	if err == nil && family == unix.AF_INET6 && (!ip.IsValid() || ip.IsUnspecified()) {
		// Wildcard: serve IPv4 too, whatever net.ipv6.bindv6only says.
		err = unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, 0)
	}
	if err == nil {
		op, err = "bind", unix.Bind(fd, sa)
	}
	if err == nil {
		op, err = "listen", unix.Listen(fd, backlog())
	}
	if err != nil {
		return netip.AddrPort{}, os.NewSyscallError(op, err)
	}
	got, err := unix.Getsockname(fd)
	if err != nil {
		return netip.AddrPort{}, os.NewSyscallError("getsockname", err)
	}
	return addrPort(got), nil
}

// backlog follows the kernel's cap like net.Listen does; the kernel silently
// truncates anything larger, and a small backlog drops SYNs under bursts.
func backlog() int {
	if b, err := os.ReadFile("/proc/sys/net/core/somaxconn"); err == nil {
		if n, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && n > 0 {
			return n
		}
	}
	return 4096
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

func addrPort(sa unix.Sockaddr) netip.AddrPort {
	switch sa := sa.(type) {
	case *unix.SockaddrInet4:
		return netip.AddrPortFrom(netip.AddrFrom4(sa.Addr), uint16(sa.Port))
	case *unix.SockaddrInet6:
		ip := netip.AddrFrom16(sa.Addr).Unmap() // dual-stack peers show as plain IPv4
		if sa.ZoneId != 0 && ip.Is6() {
			ip = ip.WithZone(strconv.FormatUint(uint64(sa.ZoneId), 10))
		}
		return netip.AddrPortFrom(ip, uint16(sa.Port))
	}
	return netip.AddrPort{}
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

// rawAddrPort is addrPort for the kernel's form of the address.
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
