package main

import (
	"os"
	"runtime/debug"
)

// Garbage collector defaults for the server, used when the GOGC and
// GOMEMLIMIT environment variables are unset (either one, when set, wins).
//
// Every connection is a full handshake plus a response: ~70 KB of garbage
// (~135 KB for the HTML page) against a live heap of a few MB. With Go's
// GOGC=100 the collector then runs ~100 times a second at 1,500
// connections a second, and each cycle preempts every connection
// goroutine in the middle of its handshake to scan its stack: ~15% of the
// server's CPU for GET / at 64 concurrent clients (pprof: mark workers
// 8%, async preemption 5%, scavenger 2%). At GOGC=400 it is ~4%, for a
// peak RSS ~12 MB higher (24 → 36 MB).
//
// GOGC alone would let the heap grow to 5× the live heap, which a flood
// of handshakes (up to --max-handshakes in flight) can make large: the
// soft memory limit makes the collector work harder instead once the
// process nears it, so the heap stays where GOGC=100 would have kept it
// for a live heap up to half the limit.
const (
	defaultGCPercent   = 400
	defaultMemoryLimit = 512 << 20
)

// tuneGC applies the defaults above where the environment does not say
// otherwise.
func tuneGC() {
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(defaultGCPercent)
	}
	if _, set := os.LookupEnv("GOMEMLIMIT"); !set {
		debug.SetMemoryLimit(defaultMemoryLimit)
	}
}
