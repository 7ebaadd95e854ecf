package tlsconn

import (
	"fmt"
	"net"
	"os"
)

// New turns fd, a connected non-blocking stream socket, into a net.Conn whose
// reads first replay prefix (every byte already read from the socket) and then
// continue on the socket.
//
// New takes ownership of fd whatever happens: the returned conn's Close closes
// it, and on error it is already closed when New returns. prefix is kept, not
// copied, and must not be modified by the caller afterwards.
func New(fd int, prefix []byte) (net.Conn, error) {
	if fd < 0 {
		return nil, fmt.Errorf("tlsconn: invalid fd %d", fd)
	}
	// os.NewFile registers a non-blocking fd with the runtime poller, and
	// net.FileConn dups it (F_DUPFD_CLOEXEC) into a *net.TCPConn of its own.
	// The original is closed through f, never with unix.Close: f's finalizer
	// would otherwise close the number again once someone else reuses it.
	f := os.NewFile(uintptr(fd), "tlsconn")
	c, err := net.FileConn(f)
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("tlsconn: %w", err)
	}
	if len(prefix) == 0 {
		return c, nil
	}
	return &prefixConn{Conn: c, prefix: prefix}, nil
}

// prefixConn replays bytes the poller consumed from the socket before reading
// the socket itself (tailscale's drainBufConn). Only Read is overridden; Write,
// Close, deadlines and addresses come from the embedded conn. There is no lock:
// crypto/tls serializes reads of its underlying conn.
type prefixConn struct {
	net.Conn
	prefix []byte
}

func (c *prefixConn) Read(p []byte) (int, error) {
	if len(c.prefix) == 0 {
		return c.Conn.Read(p)
	}
	n := copy(p, c.prefix)
	c.prefix = c.prefix[n:]
	if len(c.prefix) == 0 {
		c.prefix = nil // drained: stop pinning the poller's buffer
	}
	return n, nil
}

var _ net.Conn = (*prefixConn)(nil)
