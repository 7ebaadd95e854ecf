package tlsconn

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"testing"
)

func TestReason(t *testing.T) {
	stage := func(s, cause error) error { return fmt.Errorf("%w: %w", s, cause) }
	opErr := func(op string, cause error) error { return &net.OpError{Op: op, Net: "tcp", Err: cause} }
	tests := []struct {
		err      error
		want     string
		expected bool
	}{
		{nil, "", false},
		{stage(ErrHandshake, opErr("read", os.ErrDeadlineExceeded)), "timeout", true},
		{stage(ErrRequest, io.EOF), "eof", true},
		{stage(ErrHandshake, io.ErrUnexpectedEOF), "eof", true},
		{stage(ErrHandshake, opErr("read", os.NewSyscallError("read", syscall.ECONNRESET))), "reset", true},
		{stage(ErrResponse, opErr("write", os.NewSyscallError("write", syscall.EPIPE))), "reset", true},
		{opErr("read", net.ErrClosed), "closed", true},
		{stage(ErrHandshake, tls.RecordHeaderError{Msg: "first record does not look like a TLS handshake"}), "not_tls", false},
		{stage(ErrHandshake, tls.AlertError(42)), "tls_alert", false},
		{stage(ErrHandshake, opErr("remote error", errors.New("tls: bad certificate"))), "tls_alert", false},
		{stage(ErrHandshake, opErr("local error", errors.New("tls: unexpected message"))), "handshake", false},
		{stage(ErrHandshake, errors.New("tls: no cipher suite supported by both client and server")), "handshake", false},
		{stage(ErrRequest, ErrHeadersTooLarge), "headers_too_large", false},
		{stage(ErrRequest, errors.New("malformed HTTP request")), "bad_request", false},
		{stage(ErrResponse, errors.New("short write")), "write", false},
		{fmt.Errorf("%w: %v", ErrPanic, "boom"), "panic", false},
		{errors.New("something else"), "other", false},
	}
	for _, tt := range tests {
		if got := Reason(tt.err); got != tt.want {
			t.Errorf("Reason(%v) = %q, want %q", tt.err, got, tt.want)
		}
		if got := Expected(tt.err); got != tt.expected {
			t.Errorf("Expected(%v) = %v, want %v", tt.err, got, tt.expected)
		}
	}
}

func TestLooksLikeHTTP(t *testing.T) {
	for hdr, want := range map[string]bool{
		"GET /": true, "HEAD ": true, "POST ": true, "PUT /": true, "OPTIO": true,
		"\x16\x03\x01\x02\x00": false, "get /": false, "DELET": false,
	} {
		if got := looksLikeHTTP([5]byte([]byte(hdr))); got != want {
			t.Errorf("looksLikeHTTP(%q) = %v, want %v", hdr, got, want)
		}
	}
}
