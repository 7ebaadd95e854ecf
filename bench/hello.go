package bench

import (
	"crypto/tls"
	"errors"
	"net"
	"time"
)

// errCaptured stops the handshake once the ClientHello has been written.
var errCaptured = errors.New("bench: ClientHello captured")

// ClientHelloBytes returns the first flight of the load generator's client
// for kex: the TLS record(s) of a fresh ClientHello, as sent on the wire.
// The memory test sends half of it to leave a server waiting mid-hello.
func ClientHelloBytes(kex KeyExchange) ([]byte, error) {
	c := &captureConn{}
	err := tls.Client(c, ClientConfig(kex)).Handshake()
	if len(c.out) == 0 {
		return nil, err
	}
	return c.out, nil
}

// captureConn records what is written to it and fails every call after the
// first write, which ends the handshake right after the ClientHello.
type captureConn struct {
	out []byte
}

func (c *captureConn) Write(p []byte) (int, error) {
	if c.out != nil {
		return 0, errCaptured
	}
	c.out = append([]byte{}, p...)
	return len(p), nil
}

func (c *captureConn) Read([]byte) (int, error)         { return 0, errCaptured }
func (c *captureConn) Close() error                     { return nil }
func (c *captureConn) LocalAddr() net.Addr              { return &net.TCPAddr{} }
func (c *captureConn) RemoteAddr() net.Addr             { return &net.TCPAddr{} }
func (c *captureConn) SetDeadline(time.Time) error      { return nil }
func (c *captureConn) SetReadDeadline(time.Time) error  { return nil }
func (c *captureConn) SetWriteDeadline(time.Time) error { return nil }
