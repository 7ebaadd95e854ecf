package tlsconn

import (
	"errors"
	"net"
	"syscall"
	"testing"
	"time"
)

// recordingConn records what reaches the socket: each Write and each write
// deadline, in order.
type recordingConn struct {
	net.Conn // nil: only the methods below are called
	events   []string
	err      error
}

func (c *recordingConn) Write(p []byte) (int, error) {
	c.events = append(c.events, "write "+string(p))
	if c.err != nil {
		return 0, c.err
	}
	return len(p), nil
}

func (c *recordingConn) SetWriteDeadline(t time.Time) error {
	c.events = append(c.events, "deadline "+t.UTC().Format(time.RFC3339))
	return nil
}

func TestBatchConn(t *testing.T) {
	t1 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	t2 := t1.Add(time.Hour)
	rc := &recordingConn{}
	bc := &batchConn{Conn: rc}

	// Not holding (the handshake): straight through.
	bc.Write([]byte("flight"))
	bc.SetWriteDeadline(t1)
	// A response, then close_notify between crypto/tls's two deadlines.
	bc.hold()
	bc.Write([]byte("response"))
	bc.SetWriteDeadline(t2)
	bc.Write([]byte("+alert"))
	bc.SetWriteDeadline(t1)
	if err := bc.flush(); err != nil {
		t.Fatal(err)
	}
	bc.Write([]byte("late"))

	want := []string{"write flight", "deadline 2026-01-02T03:04:05Z",
		"write response+alert", "deadline 2026-01-02T03:04:05Z", "write late"}
	if len(rc.events) != len(want) {
		t.Fatalf("socket saw %q, want %q", rc.events, want)
	}
	for i := range want {
		if rc.events[i] != want[i] {
			t.Errorf("event %d = %q, want %q", i, rc.events[i], want[i])
		}
	}
}

func TestBatchConnFlushError(t *testing.T) {
	rc := &recordingConn{err: syscall.EPIPE}
	bc := &batchConn{Conn: rc}
	bc.hold()
	if _, err := bc.Write([]byte("response")); err != nil {
		t.Fatalf("held Write: %v", err)
	}
	if err := bc.flush(); !errors.Is(err, syscall.EPIPE) {
		t.Errorf("flush = %v, want EPIPE", err)
	}
	bc.hold() // an empty batch writes nothing
	if err := bc.flush(); err != nil || len(rc.events) != 1 {
		t.Errorf("empty flush: %v, socket saw %q", err, rc.events)
	}
}
