package main

import (
	"errors"
	"fmt"
)

// Limits of the framer. They only protect the capture tool itself; the
// project's parser enforces its own.
const (
	maxRecordLen = 1<<14 + 256 // TLSPlaintext length limit plus a margin for odd clients
	maxWireBytes = 64<<10 + 5<<10
)

var errNotHandshake = errors.New("capture: record is not a handshake record")

// helloComplete reports whether buf (every byte read from the client so far)
// holds a whole ClientHello handshake message. It walks 5-byte TLS record
// headers of content type 22 and reassembles their payloads until the 4-byte
// handshake header and its 24-bit length are satisfied. This is deliberately
// written apart from the project's parser: the capture must not depend on the
// code it is meant to test.
func helloComplete(buf []byte) (bool, error) {
	var hs []byte
	for off := 0; ; {
		if len(hs) >= 4 {
			need := 4 + (int(hs[1])<<16 | int(hs[2])<<8 | int(hs[3]))
			if len(hs) >= need {
				return true, nil
			}
		}
		if len(buf) > maxWireBytes {
			return false, fmt.Errorf("capture: hello larger than %d bytes", maxWireBytes)
		}
		if len(buf)-off < 5 {
			return false, nil
		}
		if buf[off] != 0x16 {
			return false, fmt.Errorf("%w: content type %d", errNotHandshake, buf[off])
		}
		n := int(buf[off+3])<<8 | int(buf[off+4])
		if n == 0 || n > maxRecordLen {
			return false, fmt.Errorf("capture: bad record length %d", n)
		}
		if len(buf)-off-5 < n {
			return false, nil
		}
		hs = append(hs, buf[off+5:off+5+n]...)
		off += 5 + n
	}
}
