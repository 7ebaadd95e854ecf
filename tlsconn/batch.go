package tlsconn

import (
	"io"
	"net"
	"sync"
	"time"
)

// batchConn sits under the tls.Conn and holds back its writes between hold
// and flush, so that all the TLS records of a response leave in one
// write(2). crypto/tls writes each record with its own Write, and its
// dynamic record sizing starts application data in ~1.2 KB records that
// grow by one segment each, so a 25 KB page would otherwise take seven
// syscalls. Records keep their sizes: the client can still decrypt the
// first one as soon as its segment arrives.
//
// The response's close_notify rides along: respond sends it (CloseWrite)
// before the flush. crypto/tls brackets that alert with write deadlines
// (now+5s before, now after, so that nothing is written after it); while
// holding, a write deadline is applied only after the flush, which itself
// runs under the connection's own deadline.
//
// Outside hold/flush (the handshake) writes go straight through; crypto/tls
// already sends its handshake flight in one Write.
type batchConn struct {
	net.Conn
	buf      *[]byte // from bufPool while holding
	holding  bool
	deadline *time.Time // the last write deadline set while holding
}

func (c *batchConn) Write(p []byte) (int, error) {
	if !c.holding {
		return c.Conn.Write(p)
	}
	*c.buf = append(*c.buf, p...)
	return len(p), nil
}

// hold starts collecting writes.
func (c *batchConn) hold() {
	c.holding = true
	c.buf = getBuf()
}

func (c *batchConn) SetWriteDeadline(t time.Time) error {
	if c.holding {
		c.deadline = &t
		return nil
	}
	return c.Conn.SetWriteDeadline(t)
}

// flush writes what was collected, in one Write, stops collecting and
// applies a write deadline set meanwhile.
func (c *batchConn) flush() error {
	c.holding = false
	b := c.buf
	c.buf = nil
	defer putBuf(b)
	var err error
	if len(*b) > 0 {
		_, err = c.Conn.Write(*b)
	}
	if c.deadline != nil {
		if derr := c.Conn.SetWriteDeadline(*c.deadline); err == nil {
			err = derr
		}
		c.deadline = nil
	}
	return err
}

// bufPool recycles the two response-sized buffers of every connection
// (the plaintext HTTP message and its TLS records): at a thousand
// connections a second, allocating them afresh is most of the garbage a
// page response makes.
var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 4<<10); return &b }}

// maxPooledBuf keeps an occasional huge response from pinning its buffer.
const maxPooledBuf = 256 << 10

func getBuf() *[]byte { return bufPool.Get().(*[]byte) }

func putBuf(b *[]byte) {
	if cap(*b) > maxPooledBuf {
		return
	}
	*b = (*b)[:0]
	bufPool.Put(b)
}

// lingerTimeout and lingerBytes bound linger: a client that keeps sending
// is cut off after a second or a megabyte, whichever comes first.
const (
	lingerTimeout = time.Second
	lingerBytes   = 1 << 20
)

// linger is for a connection whose answer is written (close_notify
// included) while the client may still be sending: it half-closes the TCP
// connection under c and reads what still comes until the client's FIN,
// lingerBytes, lingerTimeout or deadline. Closing with unread bytes in the
// socket makes the kernel send a RST, which can destroy the answer before
// the client reads it (net/http's closeWriteAndWait does the same). The
// caller closes c afterwards.
func linger(c net.Conn, deadline time.Time) {
	raw := c
	if p, ok := raw.(*prefixConn); ok {
		raw = p.Conn
	}
	if tcp, ok := raw.(interface{ CloseWrite() error }); ok {
		_ = tcp.CloseWrite() // best effort: the answer is already out
	}
	if d := time.Now().Add(lingerTimeout); d.Before(deadline) {
		deadline = d
	}
	if c.SetReadDeadline(deadline) == nil {
		_, _ = io.Copy(io.Discard, io.LimitReader(c, lingerBytes)) // until FIN, an error or the deadline
	}
}
