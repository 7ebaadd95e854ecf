package fingerprint

import (
	"bytes"
	"errors"
	"fmt"
)

// Sentinel errors. Every error returned by this package wraps exactly one.
var (
	ErrNotHandshake   = errors.New("fingerprint: not a TLS handshake record")
	ErrPlaintextHTTP  = errors.New("fingerprint: plaintext HTTP sent to a TLS port")
	ErrSSLv2          = errors.New("fingerprint: SSLv2-format ClientHello is not supported")
	ErrRecord         = errors.New("fingerprint: bad TLS record")
	ErrNotClientHello = errors.New("fingerprint: first handshake message is not a ClientHello")
	ErrTooLarge       = errors.New("fingerprint: ClientHello too large")
	ErrTruncated      = errors.New("fingerprint: ClientHello incomplete")
	ErrMalformed      = errors.New("fingerprint: malformed ClientHello")
)

const (
	recordHeaderLen = 5
	// maxRecordPayload is the TLSPlaintext limit of RFC 8446 §5.1 (2^14). A
	// ClientHello is always sent in plaintext records.
	maxRecordPayload = 1 << 14
	// MaxHelloBytes caps the handshake message (4-byte header + body), the
	// same bound crypto/tls puts on any handshake message (maxHandshake).
	MaxHelloBytes = 1 << 16
	// MaxWireBytes bounds what a reader should buffer while waiting for a
	// hello: the largest message plus the headers of records averaging five
	// payload bytes. Real hellos take 200 bytes to 2 KiB in one to a few
	// records; a sender of tinier records is not worth waiting for.
	MaxWireBytes = 2 * MaxHelloBytes

	typeHandshake   = 22
	typeClientHello = 1
)

// httpMethods are the request-line starts that mark plaintext HTTP sent to
// the TLS port (a browser or curl pointed at http:// by mistake).
var httpMethods = [][]byte{
	[]byte("GET "), []byte("HEAD "), []byte("POST "), []byte("PUT "),
	[]byte("DELETE "), []byte("OPTIONS "), []byte("PATCH "), []byte("CONNECT "),
	[]byte("TRACE "), []byte("PRI "),
}

// Frame reports whether buf, everything a client has sent so far, holds a
// complete ClientHello handshake message. It returns (false, nil) while more
// bytes are needed and an error as soon as buf cannot become one. Bytes after
// the record that completes the hello (0-RTT data, a pipelined request) are
// allowed and ignored.
func Frame(buf []byte) (complete bool, err error) {
	_, _, err = walk(buf, nil)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, ErrTruncated):
		return false, nil
	}
	return false, err
}

// Reassemble extracts the ClientHello handshake message (type, length and
// body) from the records at the start of buf. The result aliases buf when the
// message sits in a single record and is a fresh copy otherwise. It also
// returns the version field of the first record header.
func Reassemble(buf []byte) (msg []byte, recordVersion uint16, err error) {
	var dst []byte
	n, rv, err := walk(buf, &dst)
	if err != nil {
		return nil, 0, err
	}
	if dst == nil { // one record: no copy needed
		return buf[recordHeaderLen : recordHeaderLen+n], rv, nil
	}
	return dst, rv, nil
}

// walk scans records from the start of buf until a whole ClientHello message
// is collected. It returns the message length and the first record version.
// If dst is not nil and the message spans several records, the message bytes
// are appended to *dst; a message inside one record leaves *dst nil.
func walk(buf []byte, dst *[]byte) (msgLen int, recordVersion uint16, err error) {
	if err := sniff(buf); err != nil {
		return 0, 0, err
	}
	var (
		hdr       [4]byte // handshake header; it may itself be split across records
		got       int     // message bytes collected so far, header included
		want      = -1    // message length once the header is known
		firstUsed int     // message bytes taken from the first record
	)
	for off, records := 0, 0; ; records++ {
		if len(buf)-off < recordHeaderLen {
			return 0, 0, ErrTruncated
		}
		typ, vers, n := buf[off], uint16(buf[off+1])<<8|uint16(buf[off+2]), int(buf[off+3])<<8|int(buf[off+4])
		switch {
		case typ != typeHandshake:
			return 0, 0, fmt.Errorf("%w: record %d has content type %d before the ClientHello ended", ErrRecord, records, typ)
		case vers>>8 != 3:
			return 0, 0, fmt.Errorf("%w: record version %#04x", ErrRecord, vers)
		case n == 0:
			return 0, 0, fmt.Errorf("%w: empty handshake record", ErrRecord)
		case n > maxRecordPayload:
			return 0, 0, fmt.Errorf("%w: record length %d over %d", ErrRecord, n, maxRecordPayload)
		}
		if records == 0 {
			recordVersion = vers
		}
		off += recordHeaderLen
		avail := min(n, len(buf)-off)
		p := buf[off : off+avail]
		for len(p) > 0 && got != want {
			if got < 4 {
				hdr[got] = p[0]
				p = p[1:]
				got++
				if got == 4 {
					if hdr[0] != typeClientHello {
						return 0, 0, fmt.Errorf("%w: handshake type %d", ErrNotClientHello, hdr[0])
					}
					want = 4 + (int(hdr[1])<<16 | int(hdr[2])<<8 | int(hdr[3]))
					if want > MaxHelloBytes {
						return 0, 0, fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, want, MaxHelloBytes)
					}
				}
				continue
			}
			k := min(len(p), want-got)
			got += k
			p = p[k:]
		}
		used := avail - len(p)
		if records == 0 {
			firstUsed = used
		} else if dst != nil {
			if *dst == nil {
				*dst = make([]byte, 0, max(want, 4*got))
				*dst = append(*dst, buf[recordHeaderLen:recordHeaderLen+firstUsed]...)
			}
			*dst = append(*dst, buf[off:off+used]...)
		}
		if got == want {
			return want, recordVersion, nil
		}
		if avail < n {
			return 0, 0, ErrTruncated
		}
		off += n
	}
}

// sniff classifies the first bytes of a connection before record parsing, so
// that plaintext HTTP and SSLv2 get errors of their own.
func sniff(buf []byte) error {
	if len(buf) == 0 {
		return ErrTruncated
	}
	switch b := buf[0]; {
	case b == typeHandshake:
		return nil
	case b >= 'A' && b <= 'Z':
		for _, m := range httpMethods {
			n := min(len(buf), len(m))
			if bytes.Equal(buf[:n], m[:n]) {
				if n == len(m) {
					return ErrPlaintextHTTP
				}
				return ErrTruncated // could still become a request line
			}
		}
	case b&0x80 != 0: // SSLv2 record: 2-byte length with the high bit set, then msg type 1
		if len(buf) < 3 {
			return ErrTruncated
		}
		if buf[2] == typeClientHello {
			return ErrSSLv2
		}
	}
	return fmt.Errorf("%w: first byte %#02x", ErrNotHandshake, buf[0])
}
