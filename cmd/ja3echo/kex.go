package main

import (
	"crypto/tls"
	"fmt"
	"slices"
)

// The key exchange policy (--kex): which group the server picks when a TLS
// 1.3 client offers both a post-quantum hybrid and a classical one.
//
// crypto/tls (Go 1.26) always prefers a post-quantum hybrid the client
// supports: it sorts them first whatever the order of
// Config.CurvePreferences, which is only a filter. X25519MLKEM768 costs the
// server ~80-130 µs more per handshake than X25519 (the ML-KEM-768
// encapsulation), a third of the handshake's server CPU. The classical
// policy therefore leaves the hybrids out of the config for clients that
// can do without them, chosen per hello in GetConfigForClient.
const (
	kexPQ        = "pq"        // Go's default: the post-quantum hybrid when the client supports it
	kexClassical = "classical" // X25519 (or another classical group) when the client supports one
)

// classicalGroups are crypto/tls's default classical groups, in its order.
var classicalGroups = []tls.CurveID{tls.X25519, tls.CurveP256, tls.CurveP384, tls.CurveP521}

func checkKex(kex string) error {
	switch kex {
	case kexPQ, kexClassical:
		return nil
	}
	return fmt.Errorf("--kex %q: want %s or %s", kex, kexPQ, kexClassical)
}

// applyKex sets the policy on tc, which must be complete (certificates,
// ALPN): the classical policy serves a copy of it.
//
// Under the classical policy a client that supports X25519 gets a config
// without the hybrids, so it negotiates X25519 (every current client that
// offers X25519MLKEM768 also sends an X25519 key share; one that sent only
// the hybrid share would be asked for an X25519 one by a HelloRetryRequest).
// A client that supports only post-quantum groups, or no X25519, keeps the
// full default list: nobody is refused.
func applyKex(tc *tls.Config, kex string) {
	if kex != kexClassical {
		return
	}
	classical := tc.Clone()
	classical.CurvePreferences = classicalGroups
	tc.GetConfigForClient = func(hi *tls.ClientHelloInfo) (*tls.Config, error) {
		if slices.Contains(hi.SupportedCurves, tls.X25519) {
			return classical, nil
		}
		return nil, nil // the default config: post-quantum hybrids included
	}
}
