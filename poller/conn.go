package poller

import (
	"errors"
	"fmt"
	"net/netip"
	"os"

	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"
)

// conn is a connection held by the loop. It is kept small (under 100 bytes)
// because a flood of silent clients costs one conn each; buf stays nil until
// the peer sends something.
type conn struct {
	fd         int
	deadline   int64 // on the loop's clock (Loop.now)
	buf        []byte
	remote     netip.AddrPort
	prev, next *conn // deadline FIFO
	// pending: not admitted yet (Config.Preface is not done), so remote may
	// still change and Config.Release is not owed.
	pending bool
	// registered: the fd is in the epoll interest list. A conn whose
	// message was already waiting at accept never is.
	registered bool
}

// reason says why the loop closed a conn; it indexes Loop.counts.
type reason uint8

const (
	reasonPeerClosed reason = iota
	reasonTimeout
	reasonTooLarge
	reasonRejected
	reasonPreface
	reasonRefused
	reasonShutdown
	reasonInternal
	numReasons
)

var reasonNames = [numReasons]string{"peer closed", "timeout", "too large", "rejected", "preface", "refused", "shutdown", "internal error"}

// read does one read into the shared loop buffer and appends what came to
// c.buf. It reports whether c is still held afterwards.
func (l *Loop) read(c *conn) bool {
	// Never read past the cap: bytes after it stay in the socket, and a
	// message that completes exactly at the cap is still accepted.
	n, err := unix.Read(c.fd, l.rbuf[:min(l.cfg.MaxHelloBytes-len(c.buf), len(l.rbuf))])
	switch {
	case errors.Is(err, unix.EAGAIN), errors.Is(err, unix.EINTR):
		return true // level-triggered: we will hear about it again
	case err != nil:
		l.closeConn(c, reasonPeerClosed, os.NewSyscallError("read", err))
		return false
	case n == 0:
		l.closeConn(c, reasonPeerClosed, nil)
		return false
	}
	// The first append allocates about n bytes, so the buffer tracks what the
	// peer actually sent; it never aliases rbuf, which the next read reuses.
	c.buf = append(c.buf, l.rbuf[:n]...)
	if c.pending {
		if !l.preface(c) {
			return false
		}
		if c.pending || len(c.buf) == 0 {
			return true // the message has not started yet
		}
	}
	complete, err := l.cfg.Framer(c.buf)
	switch {
	case err != nil:
		l.reject(c, err)
	case complete:
		l.handoff(c)
	case len(c.buf) >= l.cfg.MaxHelloBytes:
		l.closeConn(c, reasonTooLarge, nil)
	default:
		return true
	}
	return false
}

// preface runs Config.Preface on c's bytes. Once it is done, it strips the
// preface, adopts the remote it names and asks Config.Admit about that
// remote. It reports whether c is still held.
func (l *Loop) preface(c *conn) bool {
	n, remote, err := l.cfg.Preface(c.buf, c.remote)
	switch {
	case errors.Is(err, ErrNeedMore):
		if len(c.buf) < l.cfg.MaxHelloBytes {
			return true
		}
		// At the cap the next read would ask for 0 bytes and look like EOF.
		l.closeConn(c, reasonTooLarge, nil)
		return false
	case err != nil:
		l.closeConn(c, reasonPreface, err)
		return false
	case n < 0 || n > len(c.buf):
		l.closeConn(c, reasonInternal, fmt.Errorf("poller: Preface claimed %d of %d bytes", n, len(c.buf)))
		return false
	}
	if remote.IsValid() {
		c.remote = remote
	}
	if err := l.admit(c.remote); err != nil {
		l.closeConn(c, reasonRefused, err)
		return false
	}
	c.pending = false
	if c.buf = c.buf[n:]; len(c.buf) == 0 {
		c.buf = nil // let the next append size the buffer to the message
	}
	return true
}

// reject closes c after a Framer error, first writing OnReject's answer.
func (l *Loop) reject(c *conn, err error) {
	if l.cfg.OnReject != nil {
		if msg := l.cfg.OnReject(err, c.remote); len(msg) > 0 {
			// One non-blocking try: a short or failed write only loses the
			// courtesy message. MSG_NOSIGNAL because the peer may be gone.
			_ = unix.Sendto(c.fd, msg, unix.MSG_DONTWAIT|unix.MSG_NOSIGNAL, nil)
		}
	}
	l.closeConn(c, reasonRejected, err)
}

// closeConn is one of the two exits of a conn; it is the only code that
// closes a conn's fd, and the only caller of Config.Release. Counting happens
// before the close so that a peer that sees the close also sees the counter.
func (l *Loop) closeConn(c *conn, why reason, err error) {
	// Closing would drop the registration too, but only when no other
	// descriptor shares the socket; deleting first keeps both exits alike.
	if c.registered {
		_ = unix.EpollCtl(l.epfd, unix.EPOLL_CTL_DEL, c.fd, nil)
	}
	l.forget(c)
	if !c.pending && l.cfg.Release != nil {
		l.cfg.Release(c.remote)
	}
	l.drop(c.fd, c.remote, why, len(c.buf), err)
}

// drop counts and closes fd, then logs it at Debug. It serves closeConn
// and the refusals at accept, which never become a conn.
func (l *Loop) drop(fd int, remote netip.AddrPort, why reason, buffered int, err error) {
	l.counts[why].Add(1)
	_ = unix.Close(fd)
	if l.log.Logger.IsLevelEnabled(logrus.DebugLevel) { // the fields allocate
		e := l.log.WithFields(logrus.Fields{"fd": fd, "remote": remote.String(),
			"reason": reasonNames[why], "buffered": buffered})
		if err != nil {
			e = e.WithError(err)
		}
		e.Debug("poller: closed conn")
	}
}

// admit asks Config.Admit, if set, about a conn from remote.
func (l *Loop) admit(remote netip.AddrPort) error {
	if l.cfg.Admit == nil {
		return nil
	}
	return l.cfg.Admit(remote)
}

// handoff is the other exit: the conn leaves epoll and the loop, and its fd
// and buffer go to Handoff. It never closes the fd.
func (l *Loop) handoff(c *conn) {
	// DEL must come first: a registration outlives close(2) when the new
	// owner dups the fd (net.FileConn does), and would then spin the loop
	// with events for a number it no longer owns.
	if c.registered {
		if err := unix.EpollCtl(l.epfd, unix.EPOLL_CTL_DEL, c.fd, nil); err != nil {
			l.closeConn(c, reasonInternal, os.NewSyscallError("epoll_ctl", err))
			return
		}
	}
	l.forget(c)
	l.handoffs.Add(1)
	l.cfg.Handoff(c.fd, c.buf, c.remote)
}

// hold makes a freshly accepted fd a conn. Without a Preface, the conn was
// admitted already; with one, it is admitted once the Preface is done.
//
// A client usually sends its hello right behind the handshake's last ACK,
// so it is often waiting by the time accept4 returns: hold reads once
// before registering, and a conn whose message is already complete is
// handed off without an epoll_ctl ADD/DEL pair or another loop wakeup.
func (l *Loop) hold(fd int, remote netip.AddrPort) {
	c := &conn{fd: fd, remote: remote, deadline: l.now() + l.timeout, pending: l.cfg.Preface != nil}
	if fd >= len(l.conns) {
		l.conns = append(l.conns, make([]*conn, fd+1-len(l.conns))...)
	}
	l.conns[fd] = c
	l.held.Add(1)
	// HelloTimeout is the same for every conn, so appending in accept order
	// keeps the list sorted by deadline.
	c.prev = l.tail
	if l.tail != nil {
		l.tail.next = c
	} else {
		l.head = c
	}
	l.tail = c
	if !l.read(c) {
		return // closed or handed off already
	}
	ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLRDHUP, Fd: int32(fd)}
	if err := unix.EpollCtl(l.epfd, unix.EPOLL_CTL_ADD, fd, &ev); err != nil {
		l.acceptErrors.Add(1)
		l.warn("poller: epoll_ctl add failed", os.NewSyscallError("epoll_ctl", err))
		l.closeConn(c, reasonInternal, err)
		return
	}
	c.registered = true
}

// forget removes c from the map and the FIFO.
func (l *Loop) forget(c *conn) {
	l.conns[c.fd] = nil
	l.held.Add(-1)
	if c.prev != nil {
		c.prev.next = c.next
	} else {
		l.head = c.next
	}
	if c.next != nil {
		c.next.prev = c.prev
	} else {
		l.tail = c.prev
	}
	c.prev, c.next = nil, nil
}
