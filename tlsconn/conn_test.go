package tlsconn

import (
	"errors"
	"io"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// socketpair returns a connected non-blocking pair of stream sockets.
func socketpair(tb testing.TB) (int, int) {
	tb.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		tb.Fatal(err)
	}
	return fds[0], fds[1]
}

// isOpen reports whether fd is an open descriptor.
func isOpen(fd int) bool {
	_, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
	return !errors.Is(err, unix.EBADF)
}

func TestNewReplaysPrefix(t *testing.T) {
	for _, prefix := range []string{"", "a", "abcdefgh"} {
		t.Run("prefix="+prefix, func(t *testing.T) {
			fd, peer := socketpair(t)
			defer unix.Close(peer)
			c, err := New(fd, []byte(prefix))
			if err != nil {
				t.Fatal(err)
			}
			if isOpen(fd) {
				t.Errorf("fd %d still open after New: net.FileConn's dup should be the only descriptor", fd)
			}
			if _, err := unix.Write(peer, []byte("XYZ")); err != nil {
				t.Fatal(err)
			}
			unix.Shutdown(peer, unix.SHUT_WR)
			// 3-byte reads split the prefix and cross from prefix to socket.
			c.SetDeadline(time.Now().Add(wait))
			var got []byte
			buf := make([]byte, 3)
			for {
				n, err := c.Read(buf)
				got = append(got, buf[:n]...)
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			if string(got) != prefix+"XYZ" {
				t.Errorf("read %q, want %q", got, prefix+"XYZ")
			}
			if pc, ok := c.(*prefixConn); ok && pc.prefix != nil {
				t.Error("drained prefix still referenced")
			}
			if err := c.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		})
	}
}

func TestNewClosesFDOnError(t *testing.T) {
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_NONBLOCK|unix.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	defer unix.Close(p[1])
	// A pipe is not a socket, so net.FileConn fails; New still owns the fd.
	if c, err := New(p[0], []byte("x")); err == nil {
		c.Close()
		t.Fatal("New on a pipe succeeded")
	}
	if isOpen(p[0]) {
		t.Errorf("fd %d still open after New failed", p[0])
	}
	if _, err := New(-1, nil); err == nil {
		t.Error("New(-1) succeeded")
	}
}

// BenchmarkNew measures New against the socketpair setup it runs on: the
// difference is the cost of os.NewFile + net.FileConn (a dup and a few
// syscalls) + the prefix wrapper.
func BenchmarkNew(b *testing.B) {
	b.Run("socketpair-only", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			fd, peer := socketpair(b)
			unix.Close(fd)
			unix.Close(peer)
		}
	})
	b.Run("New", func(b *testing.B) {
		b.ReportAllocs()
		prefix := []byte("hello")
		for b.Loop() {
			fd, peer := socketpair(b)
			c, err := New(fd, prefix)
			if err != nil {
				b.Fatal(err)
			}
			c.Close()
			unix.Close(peer)
		}
	})
}
