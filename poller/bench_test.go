package poller

import (
	"testing"

	"golang.org/x/sys/unix"
)

// BenchmarkAcceptHandoff measures one connection's whole stay in the loop:
// accept, register, read a 1 KiB hello in two records, frame, DEL, handoff.
// The client uses raw syscalls so that its allocations stay out of the count.
func BenchmarkAcceptHandoff(b *testing.B) {
	h := start(b, Config{})
	addr := h.l.Addr()
	msg := hello(1024, 600)
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for b.Loop() {
		fd := rawDial(b, addr)
		if _, err := unix.Write(fd, msg); err != nil {
			b.Fatal(err)
		}
		h.handoff(b)
		// Reset instead of FIN: no TIME_WAIT, so a long run cannot exhaust
		// ephemeral ports.
		_ = unix.SetsockoptLinger(fd, unix.SOL_SOCKET, unix.SO_LINGER, &unix.Linger{Onoff: 1})
		_ = unix.Close(fd)
	}
}
