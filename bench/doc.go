// Package bench measures ja3echo against the two numbers that matter for a
// server whose every connection is a full TLS handshake: the physical limit
// (the server's half of one handshake, timed alone: [Ceiling]) and the
// net/http + crypto/tls server a Go user would write instead (cmd/baseline).
//
// The load generator ([Load], cmd/loadgen) opens a new TCP+TLS connection per
// request with no session cache, so every handshake is full, and reads the
// answer to EOF. Because it shares the machine's cores with the server and
// Go's client half of a handshake costs more than the server half, conn/s
// cannot show much of a server's efficiency; the primary figure is the
// server's CPU per completed connection, read from /proc/PID/stat over the
// same window ([ProcCPU]).
//
// The mains hold everything heavy: cmd/sidebyside (the interleaved A B B A
// protocol of docs/performance.md §4), cmd/idlemem (memory per pending
// connection), cmd/loadgen and cmd/baseline. The tests in this package are
// quick; the handshake benchmarks run only with -bench. See README.md.
package bench
