package bench

import (
	"fmt"
	"net"
	"net/netip"
	"strings"

	"golang.org/x/sys/unix"
)

// maxSources bounds a source address list; 127.0.0.1-127.0.0.254 is the most
// anyone needs to spread ephemeral ports.
const maxSources = 254

// ParseSources parses a list of source addresses: "127.0.0.1",
// "127.0.0.1-127.0.0.8" or a comma-separated mix of both. Only 127.0.0.0/8
// addresses are accepted, so that no load ever leaves the machine.
func ParseSources(s string) ([]netip.Addr, error) {
	var out []netip.Addr
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		lo, hi, isRange := strings.Cut(part, "-")
		first, err := loopback4(lo)
		if err != nil {
			return nil, err
		}
		last := first
		if isRange {
			if last, err = loopback4(hi); err != nil {
				return nil, err
			}
			if last.Less(first) {
				return nil, fmt.Errorf("bench: source range %q is reversed", part)
			}
		}
		for a := first; ; a = a.Next() {
			if len(out) == maxSources {
				return nil, fmt.Errorf("bench: more than %d source addresses", maxSources)
			}
			out = append(out, a)
			if a == last {
				break
			}
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("bench: no source address in %q", s)
	}
	return out, nil
}

func loopback4(s string) (netip.Addr, error) {
	a, err := netip.ParseAddr(strings.TrimSpace(s))
	if err != nil {
		return netip.Addr{}, fmt.Errorf("bench: source address: %w", err)
	}
	if !a.Is4() || !a.IsLoopback() {
		return netip.Addr{}, fmt.Errorf("bench: source address %s is not in 127.0.0.0/8", a)
	}
	return a, nil
}

// CheckTarget refuses a target that is not an IPv4 loopback literal with a
// port, for the same reason as ParseSources.
func CheckTarget(target string) error {
	ap, err := netip.ParseAddrPort(target)
	if err != nil {
		return fmt.Errorf("bench: target must be 127.0.0.x:port: %w", err)
	}
	if !ap.Addr().Is4() || !ap.Addr().IsLoopback() {
		return fmt.Errorf("bench: target %s is not in 127.0.0.0/8", ap.Addr())
	}
	return nil
}

// RaiseNoFile raises the soft RLIMIT_NOFILE to the hard limit and returns
// the new soft limit. Go does this at start-up already (since 1.19); doing it
// explicitly keeps the tools correct when the runtime's choice changes.
func RaiseNoFile() (uint64, error) {
	var r unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &r); err != nil {
		return 0, err
	}
	if r.Cur < r.Max {
		r.Cur = r.Max
		if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &r); err != nil {
			return 0, err
		}
	}
	return r.Cur, nil
}

// FreeAddr returns a 127.0.0.1 address with a port that was free a moment
// ago, for a server flag that takes no port 0 (a debug listener). Another
// process may take it first; the server then fails to start and says so.
func FreeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}
