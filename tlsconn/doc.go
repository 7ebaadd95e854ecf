// Package tlsconn answers one HTTPS request on a TCP socket that an event loop
// has already accepted and partly read.
//
// The poller buffers a connection until its ClientHello is complete, removes
// the fd from its epoll (first: the dup made here would otherwise keep a stale
// registration alive) and calls [Server.Handoff] on the loop goroutine. Handoff
// never blocks; it starts a goroutine that runs Inspect, [New], one absolute
// deadline, the TLS handshake, one HTTP/1.x request, Handle, one
// "Connection: close" response, close_notify, close and Done. The response's
// TLS records and its close_notify leave in a single write(2) (batch.go).
//
// When the client negotiated h2 (the caller offers it in TLSConfig), the
// request is instead the first stream of an HTTP/2 connection (h2.go): the
// client's preface up to that stream's HEADERS is recorded in [Info.HTTP2]
// for its fingerprint, the response goes out on that stream within the
// client's flow-control windows, and GOAWAY ends the connection.
//
// # Ownership
//
// From the call to Handoff (or New) on, tlsconn owns the fd and the prefix
// slice; the caller must not touch either again. The fd is closed exactly once:
// by Handoff when it sheds the conn, by the goroutine if Inspect panics before
// New, by New when New fails, and otherwise by the net.Conn New returns. New
// wraps the number in an *os.File, dups it with net.FileConn and closes the
// file at once, so the conn holds the only descriptor and no finalizer is left
// to close a reused number later. The prefix is never copied or modified;
// [Info.Prefix] is the same slice.
//
// # Errors
//
// [Info.Err] wraps both the stage ([ErrHandshake], [ErrRequest], [ErrResponse],
// [ErrPanic]) and the cause (io.EOF, os.ErrDeadlineExceeded, ECONNRESET, …),
// so errors.Is matches either. [Reason] turns it into a short stable label.
package tlsconn
