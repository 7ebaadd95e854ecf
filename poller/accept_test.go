package poller

import (
	"errors"
	"net"
	"net/netip"
	"strconv"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

func TestRawAddrPort(t *testing.T) {
	v4 := func(a [4]byte, port [2]byte) unix.RawSockaddrAny {
		var rsa unix.RawSockaddrAny
		sa := (*unix.RawSockaddrInet4)(unsafe.Pointer(&rsa))
		sa.Family = unix.AF_INET
		sa.Addr = a
		*(*[2]byte)(unsafe.Pointer(&sa.Port)) = port // network byte order
		return rsa
	}
	v6 := func(a string, port [2]byte, scope uint32) unix.RawSockaddrAny {
		var rsa unix.RawSockaddrAny
		sa := (*unix.RawSockaddrInet6)(unsafe.Pointer(&rsa))
		sa.Family = unix.AF_INET6
		sa.Addr = netip.MustParseAddr(a).As16()
		sa.Scope_id = scope
		*(*[2]byte)(unsafe.Pointer(&sa.Port)) = port
		return rsa
	}
	for _, tc := range []struct {
		name string
		rsa  unix.RawSockaddrAny
		want string
	}{
		{"IPv4", v4([4]byte{192, 0, 2, 1}, [2]byte{0x01, 0xbb}), "192.0.2.1:443"},
		{"IPv4 high port", v4([4]byte{127, 0, 0, 9}, [2]byte{0xff, 0xfe}), "127.0.0.9:65534"},
		{"IPv6", v6("2001:db8::1", [2]byte{0x20, 0xfb}, 0), "[2001:db8::1]:8443"},
		{"v4-mapped", v6("::ffff:192.0.2.7", [2]byte{0, 80}, 0), "192.0.2.7:80"},
		{"link-local zone", v6("fe80::1", [2]byte{0, 1}, 3), "[fe80::1%3]:1"},
	} {
		if got := rawAddrPort(&tc.rsa); got.String() != tc.want {
			t.Errorf("%s: rawAddrPort = %v, want %s", tc.name, got, tc.want)
		}
	}
	var unix1 unix.RawSockaddrAny
	unix1.Addr.Family = unix.AF_UNIX
	if got := rawAddrPort(&unix1); got.IsValid() {
		t.Errorf("AF_UNIX: rawAddrPort = %v, want the zero AddrPort", got)
	}
}

// TestAcceptAllocatesNothing: accepting must not leave garbage behind per
// conn (unix.Accept4 leaves two objects), because under the server's GOGC
// a flood of silent clients would keep it all in RSS.
func TestAcceptAllocatesNothing(t *testing.T) {
	l, err := New(Config{Addr: "127.0.0.1:0", Framer: frame, Handoff: func(int, []byte, netip.AddrPort) {}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.closeFDs() })
	const runs = 20
	var clients []net.Conn
	t.Cleanup(func() {
		for _, c := range clients {
			c.Close()
		}
	})
	for range runs + 1 { // AllocsPerRun calls f once more to warm up
		c, err := net.DialTimeout("tcp", l.Addr().String(), wait)
		if err != nil {
			t.Fatal(err)
		}
		clients = append(clients, c)
	}
	var fails []error
	var remotes []netip.AddrPort
	allocs := testing.AllocsPerRun(runs, func() {
		fd, remote, err := l.accept4()
		if err != nil {
			fails = append(fails, err)
			return
		}
		_ = unix.Close(fd)
		remotes = append(remotes[:0], remote)
	})
	if len(fails) > 0 {
		t.Fatalf("accept4: %v", fails[0])
	}
	if want := clients[runs].LocalAddr().(*net.TCPAddr).AddrPort(); remotes[0] != want {
		t.Errorf("last remote = %v, want %v", remotes[0], want)
	}
	if allocs != 0 {
		t.Errorf("accept4 allocates %.0f objects per conn, want 0", allocs)
	}
}

// TestListener: the loop's listening descriptor is non-blocking (accept
// must return EAGAIN, never wait) and close-on-exec, and the host decides
// the families served: 0.0.0.0 IPv4 only, :: both.
func TestListener(t *testing.T) {
	l, err := New(Config{Addr: "127.0.0.1:0", Framer: frame, Handoff: func(int, []byte, netip.AddrPort) {}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.closeFDs() })
	fl, err := unix.FcntlInt(uintptr(l.lfd), unix.F_GETFL, 0)
	if err != nil || fl&unix.O_NONBLOCK == 0 {
		t.Errorf("F_GETFL = %#x, %v: want O_NONBLOCK", fl, err)
	}
	fd, err := unix.FcntlInt(uintptr(l.lfd), unix.F_GETFD, 0)
	if err != nil || fd&unix.FD_CLOEXEC == 0 {
		t.Errorf("F_GETFD = %#x, %v: want FD_CLOEXEC", fd, err)
	}
	if _, _, err := l.accept4(); !errors.Is(err, unix.EAGAIN) {
		t.Errorf("accept4 on an empty queue: %v, want EAGAIN", err)
	}

	if probe, err := net.Listen("tcp6", "[::1]:0"); err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	} else {
		probe.Close()
	}
	for _, tc := range []struct {
		host string
		v6   bool // an IPv6 client gets through
	}{{"0.0.0.0", false}, {"::", true}} {
		l, err := New(Config{Addr: net.JoinHostPort(tc.host, "0"), Framer: frame, Handoff: func(int, []byte, netip.AddrPort) {}})
		if err != nil {
			t.Fatal(err)
		}
		port := strconv.Itoa(l.Addr().Port)
		c4, err := net.DialTimeout("tcp", "127.0.0.1:"+port, wait)
		if err != nil {
			t.Errorf("%s: IPv4 dial: %v", tc.host, err)
		} else {
			c4.Close()
		}
		c6, err := net.DialTimeout("tcp", "[::1]:"+port, wait)
		if got := err == nil; got != tc.v6 {
			t.Errorf("%s: IPv6 dial error %v, want success %v", tc.host, err, tc.v6)
		}
		if c6 != nil {
			c6.Close()
		}
		l.closeFDs()
	}
}
