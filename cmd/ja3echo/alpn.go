package main

import (
	"crypto/tls"
	"slices"
)

// answerAnyALPN keeps a client whose ALPN list shares no protocol with ours
// (an h2-only client, uTLS's Firefox 102 preset, a gRPC stack) from being
// refused with a no_application_protocol alert, which is what crypto/tls does
// by default. A fingerprint echo should show such a client its hello too: it
// gets a config without NextProtos, so no protocol is negotiated and the
// client decides whether to go on with HTTP/1.1. It wraps any
// GetConfigForClient already set (--kex), so it must be applied last.
func answerAnyALPN(tc *tls.Config) {
	ours := tc.NextProtos
	next := tc.GetConfigForClient
	noALPN := tc.Clone()
	noALPN.NextProtos = nil
	noALPN.GetConfigForClient = nil
	tc.GetConfigForClient = func(hi *tls.ClientHelloInfo) (*tls.Config, error) {
		shared := len(hi.SupportedProtos) == 0 || slices.ContainsFunc(hi.SupportedProtos, func(p string) bool {
			return slices.Contains(ours, p)
		})
		var c *tls.Config
		if next != nil {
			var err error
			if c, err = next(hi); err != nil {
				return nil, err
			}
		}
		switch {
		case shared:
			return c, nil
		case c == nil:
			return noALPN, nil
		}
		c = c.Clone() // rare: a policy config for a client we share no protocol with
		c.NextProtos = nil
		return c, nil
	}
}
