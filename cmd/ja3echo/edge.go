package main

// The network edge: the PROXY protocol (behind a load balancer) and per-IP
// limits, as flags and as their wiring into the loop and the TLS server. The
// limiter itself is in limit.go.

import (
	"errors"
	"flag"
	"fmt"
	"math"
	"net/netip"
	"strings"

	"github.com/ja3sentry/ja3echo/poller"
	"github.com/ja3sentry/ja3echo/poller/proxyhdr"
	"github.com/ja3sentry/ja3echo/tlsconn"
)

// edgeConfig is what the edge flags set.
type edgeConfig struct {
	proxyProtocol bool
	trusted       prefixList
	maxPerIP      int
	ratePerIP     float64
	burstPerIP    int
}

func addEdgeFlags(fs *flag.FlagSet, e *edgeConfig) {
	fs.BoolVar(&e.proxyProtocol, "proxy-protocol", false, "behind a load balancer: read a PROXY protocol v1 or v2 header from --trusted-proxies and show the client address it carries")
	fs.Var(&e.trusted, "trusted-proxies", "`CIDR[,CIDR...]` of the load balancers allowed (and required) to send PROXY headers; a bare IP is one host")
	fs.IntVar(&e.maxPerIP, "max-per-ip", 0, "connections per client address (IPv6: per /64) from accept to close; more are closed at once (0: no limit)")
	fs.Float64Var(&e.ratePerIP, "rate-per-ip", 0, "new connections per second per client address (IPv6: per /64); more are closed at once (0: no limit)")
	fs.IntVar(&e.burstPerIP, "burst-per-ip", 0, "connections a client address may open in a burst under --rate-per-ip (0: the rate rounded up, at least 1)")
}

func checkEdge(e *edgeConfig) error {
	switch {
	case e.proxyProtocol && len(e.trusted) == 0:
		return errors.New("--proxy-protocol needs --trusted-proxies (the load balancers' addresses)")
	case !e.proxyProtocol && len(e.trusted) > 0:
		return errors.New("--trusted-proxies has no effect without --proxy-protocol")
	case e.maxPerIP < 0:
		return fmt.Errorf("--max-per-ip must not be negative, got %d", e.maxPerIP)
	case e.ratePerIP < 0 || math.IsNaN(e.ratePerIP) || math.IsInf(e.ratePerIP, 0):
		return fmt.Errorf("--rate-per-ip must be a non-negative number, got %v", e.ratePerIP)
	case e.burstPerIP < 0:
		return fmt.Errorf("--burst-per-ip must not be negative, got %d", e.burstPerIP)
	case e.burstPerIP > 0 && e.ratePerIP == 0:
		return errors.New("--burst-per-ip needs --rate-per-ip")
	}
	return nil
}

// prefixList is the --trusted-proxies value: repeatable, each a comma list.
type prefixList []netip.Prefix

func (p *prefixList) String() string {
	s := make([]string, len(*p))
	for i, pf := range *p {
		s[i] = pf.String()
	}
	return strings.Join(s, ",")
}

func (p *prefixList) Set(v string) error {
	for s := range strings.SplitSeq(v, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		pf, err := netip.ParsePrefix(s)
		if err != nil {
			a, aerr := netip.ParseAddr(s)
			if aerr != nil {
				return fmt.Errorf("%q is neither a CIDR nor an IP address", s)
			}
			pf = netip.PrefixFrom(a.WithZone(""), a.BitLen())
		}
		if a := pf.Addr(); a.Is4In6() && pf.Bits() >= 96 {
			// The loop reports IPv4 peers of a dual-stack socket unmapped.
			pf = netip.PrefixFrom(a.Unmap(), pf.Bits()-96)
		}
		*p = append(*p, pf.Masked())
	}
	return nil
}

// newLoop is poller.New with the edge settings of cfg added to pc; the
// limiter's refusals are counted in m. With --max-per-ip, a conn holds its
// slot from admission until it is closed: the loop releases the conns it
// closes, and a handed-off conn is released once tlsconn is done with it:
// in srv.Done for a served conn, right after Handoff for one it sheds
// (closed there, with no Done).
func newLoop(cfg *config, srv *tlsconn.Server, m *metrics, pc poller.Config) (*poller.Loop, error) {
	e := &cfg.edgeConfig
	if e.proxyProtocol {
		pc.Preface = (&proxyhdr.Policy{Trusted: e.trusted}).Preface
	}
	lim := newLimiter(e.maxPerIP, e.ratePerIP, e.burstPerIP)
	m.watchLimiter(lim)
	if e.maxPerIP > 0 || e.ratePerIP > 0 {
		pc.Admit = lim.admit
	}
	if e.maxPerIP > 0 {
		pc.Release = lim.release
		handoff, done := pc.Handoff, srv.Done
		pc.Handoff = func(fd int, buf []byte, remote netip.AddrPort) {
			// Shed only moves inside Handoff, and only the loop calls
			// Handoff: a change across this call is this conn.
			shed := srv.Stats().Shed
			handoff(fd, buf, remote)
			if srv.Stats().Shed != shed {
				lim.release(remote)
			}
		}
		srv.Done = func(info *tlsconn.Info) {
			lim.release(info.Remote)
			if done != nil {
				done(info)
			}
		}
	}
	loop, err := poller.New(pc)
	if err != nil {
		return nil, err
	}
	if e.proxyProtocol && pc.Log != nil {
		pc.Log.Infof("PROXY protocol: client addresses from headers sent by %s", &e.trusted)
	}
	return loop, nil
}
