package main

import (
	"bytes"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// helloReadTimeout bounds how long a client may take to send its hello.
const helloReadTimeout = 10 * time.Second

// replayConn reads the client's first flight itself before crypto/tls sees
// the connection, hands the bytes to onHello, and then replays them to
// crypto/tls so the handshake completes as if nothing had been in between.
type replayConn struct {
	net.Conn
	onHello func(wire []byte, framingErr error) bool // returns true if this conn was recorded
	onClose func()                                   // called once, only for the recorded conn

	once      sync.Once
	pending   *bytes.Reader
	readErr   error
	recorded  atomic.Bool
	closeOnce sync.Once
}

func (c *replayConn) Read(p []byte) (int, error) {
	c.once.Do(c.capture)
	if c.pending != nil && c.pending.Len() > 0 {
		return c.pending.Read(p)
	}
	if c.readErr != nil {
		return 0, c.readErr
	}
	return c.Conn.Read(p)
}

// capture runs on the first Read, i.e. before the server has written
// anything, so every byte buffered here was sent ahead of our first reply.
func (c *replayConn) capture() {
	_ = c.Conn.SetReadDeadline(time.Now().Add(helloReadTimeout))
	var (
		buf      []byte
		chunk    = make([]byte, 4096)
		frameErr error
	)
	for {
		n, err := c.Conn.Read(chunk)
		buf = append(buf, chunk[:n]...)
		complete, ferr := helloComplete(buf)
		if complete {
			break
		}
		if ferr != nil {
			frameErr = ferr
			break
		}
		if err != nil {
			frameErr = err
			c.readErr = err
			break
		}
	}
	_ = c.Conn.SetReadDeadline(time.Time{})
	c.pending = bytes.NewReader(buf)
	if len(buf) > 0 {
		c.recorded.Store(c.onHello(buf, frameErr))
	}
}

func (c *replayConn) Close() error {
	err := c.Conn.Close()
	if c.recorded.Load() {
		c.closeOnce.Do(c.onClose)
	}
	return err
}

// replayListener wraps every accepted connection in a replayConn.
type replayListener struct {
	net.Listener
	wrap func(net.Conn) net.Conn
}

func (l *replayListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return l.wrap(c), nil
}
