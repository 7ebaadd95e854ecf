package tlsconn

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"os"
	"syscall"
)

// Stage errors. Info.Err wraps one of them together with the cause.
var (
	ErrHandshake       = errors.New("tlsconn: handshake failed")
	ErrRequest         = errors.New("tlsconn: bad or missing request")
	ErrHeadersTooLarge = errors.New("tlsconn: request headers too large")
	ErrResponse        = errors.New("tlsconn: writing response failed")
	ErrPanic           = errors.New("tlsconn: panic")
)

// Reason labels err for counters and log fields: "" for nil, then "panic",
// "headers_too_large", "timeout", "eof", "reset", "closed", "not_tls",
// "tls_alert", "bad_request", "handshake", "write" or "other". The first match
// in that order wins, so a handshake cut short by the peer is "eof", not
// "handshake". Only errors.Is/As and typed fields are consulted, never the
// error text.
func Reason(err error) string {
	var (
		ne    net.Error
		op    *net.OpError
		alert tls.AlertError
		rhe   tls.RecordHeaderError
	)
	switch {
	case err == nil:
		return ""
	case errors.Is(err, ErrPanic):
		return "panic"
	case errors.Is(err, ErrHeadersTooLarge):
		return "headers_too_large"
	case errors.Is(err, os.ErrDeadlineExceeded), errors.Is(err, context.DeadlineExceeded),
		errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "eof"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE), errors.Is(err, syscall.ECONNABORTED):
		return "reset"
	case errors.Is(err, net.ErrClosed):
		return "closed"
	case errors.As(err, &rhe):
		return "not_tls"
	// crypto/tls reports an alert from the peer as a *net.OpError whose Op is
	// "remote error" around an unexported alert type; AlertError only shows up
	// on QUIC connections. Op is a documented struct field, not message text.
	case errors.As(err, &alert), errors.As(err, &op) && op.Op == "remote error":
		return "tls_alert"
	case errors.Is(err, ErrRequest):
		return "bad_request"
	case errors.Is(err, ErrHandshake):
		return "handshake"
	case errors.Is(err, ErrResponse):
		return "write"
	}
	return "other"
}

// Expected reports whether err is routine on a public endpoint (the peer went
// away or was too slow) and so belongs in a counter rather than a warning.
func Expected(err error) bool {
	switch Reason(err) {
	case "timeout", "eof", "reset", "closed":
		return true
	}
	return false
}

// looksLikeHTTP reports whether a TLS record header is really the start of a
// plaintext HTTP request (the same test as net/http).
func looksLikeHTTP(hdr [5]byte) bool {
	switch string(hdr[:]) {
	case "GET /", "HEAD ", "POST ", "PUT /", "OPTIO":
		return true
	}
	return false
}
