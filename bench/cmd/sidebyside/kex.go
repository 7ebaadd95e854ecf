package main

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/ja3sentry/ja3echo/bench"
)

// Why a server's key exchange could not be decided.
var (
	errNoneNegotiated = errors.New("no connection completed a handshake")
	errUnknownKex     = errors.New("negotiated a key exchange with no ceiling")
)

// serverKex decides which key exchange a server negotiates with the load
// generator's client from the counts of a load run: the server, not the
// client, picks the group (ja3echo --kex classical takes X25519 where Go's
// default server takes X25519MLKEM768), and the ceiling a server is held to
// must be that of the group it computes. The most frequent name wins (ties by
// name, so the choice does not depend on map order); it maps to client (the
// client's own key exchange, as the ceiling measured it before this choice
// existed) or else to the bench.KeyExchanges entry of that name.
func serverKex(client bench.KeyExchange, negotiated map[string]int) (bench.KeyExchange, error) {
	name, most := "", 0
	for k, n := range negotiated {
		if n > most || (n == most && k < name) {
			name, most = k, n
		}
	}
	if most == 0 {
		return bench.KeyExchange{}, errNoneNegotiated
	}
	if name == client.Name {
		return client, nil
	}
	if i := slices.IndexFunc(bench.KeyExchanges, func(k bench.KeyExchange) bool { return k.Name == name }); i >= 0 {
		return bench.KeyExchanges[i], nil
	}
	known := make([]string, len(bench.KeyExchanges))
	for i, k := range bench.KeyExchanges {
		known[i] = k.Name
	}
	return bench.KeyExchange{}, fmt.Errorf("%w: %s in %d of %d connections (ceilings exist for %s)",
		errUnknownKex, name, most, total(negotiated), strings.Join(known, ", "))
}

func total(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// distinctKexes returns the servers' key exchanges without repeats, in
// server order: the ceilings to measure around every run.
func distinctKexes(servers []server) []bench.KeyExchange {
	var out []bench.KeyExchange
	for _, s := range servers {
		if !slices.ContainsFunc(out, func(k bench.KeyExchange) bool { return k.Name == s.kex.Name }) {
			out = append(out, s.kex)
		}
	}
	return out
}

// findCeiling returns the measurement of kex among cs.
func findCeiling(cs []bench.CeilingResult, kex string) (bench.CeilingResult, bool) {
	i := slices.IndexFunc(cs, func(c bench.CeilingResult) bool { return c.Kex == kex })
	if i < 0 {
		return bench.CeilingResult{}, false
	}
	return cs[i], true
}

// kexOrder lists names without repeats, first appearance first.
func kexOrder(names ...string) []string {
	var out []string
	for _, n := range names {
		if !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out
}
