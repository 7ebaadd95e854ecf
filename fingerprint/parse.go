package fingerprint

import (
	"fmt"

	"golang.org/x/crypto/cryptobyte"
)

// Extension types decoded by Parse.
const (
	extServerName          = 0
	extSupportedGroups     = 10
	extECPointFormats      = 11
	extSignatureAlgorithms = 13
	extALPN                = 16
	extSupportedVersions   = 43
	extKeyShare            = 51
)

// ClientHello is a parsed TLS ClientHello. Byte-slice fields (Random,
// SessionID, Extension.Data, Raw, ECPointFormats, CompressionMethods) alias
// the input given to Parse; callers must not modify it while they use the
// ClientHello.
type ClientHello struct {
	RecordVersion       uint16 // version field of the first record header (0 from ParseMessage)
	Version             uint16 // legacy_version
	Random              []byte
	SessionID           []byte
	CipherSuites        []uint16 // wire order, GREASE kept
	CompressionMethods  []uint8
	Extensions          []Extension // wire order, GREASE kept
	ServerName          string      // first host_name of server_name, "" if none
	ALPN                []string    // protocol names, as raw bytes
	SupportedGroups     []uint16
	ECPointFormats      []uint8
	SignatureAlgorithms []uint16
	SupportedVersions   []uint16
	KeyShares           []KeyShare
	Raw                 []byte // the handshake message: type, length, body
}

// Extension is one extension as sent: its type and undecoded body.
type Extension struct {
	Type uint16
	Data []byte
}

// KeyShare is one key_share entry: the group and the key's length in bytes.
type KeyShare struct {
	Group  uint16
	Length int
}

// HasExtension reports whether the hello carries an extension of type t.
func (h *ClientHello) HasExtension(t uint16) bool {
	for _, e := range h.Extensions {
		if e.Type == t {
			return true
		}
	}
	return false
}

// Parse reassembles the ClientHello from the TLS records at the start of buf
// (everything a client sent) and decodes it. Bytes after the hello are
// ignored.
func Parse(buf []byte) (*ClientHello, error) {
	msg, rv, err := Reassemble(buf)
	if err != nil {
		return nil, err
	}
	h, err := ParseMessage(msg)
	if err != nil {
		return nil, err
	}
	h.RecordVersion = rv
	return h, nil
}

// ParseMessage decodes one ClientHello handshake message (type 1, 24-bit
// length, body), with no bytes before or after it.
func ParseMessage(msg []byte) (*ClientHello, error) {
	h := new(ClientHello)
	if err := h.unmarshal(msg); err != nil {
		return nil, err
	}
	return h, nil
}

func malformed(what string) error {
	return fmt.Errorf("%w: %s", ErrMalformed, what)
}

// unmarshal follows the shape of crypto/tls's clientHelloMsg.unmarshal: one
// cryptobyte.String per length-prefixed scope, so a bad inner length cannot
// spill into the next field, and every scope must end exactly.
func (h *ClientHello) unmarshal(msg []byte) error {
	s := cryptobyte.String(msg)
	var typ uint8
	var body cryptobyte.String
	if !s.ReadUint8(&typ) {
		return malformed("empty message")
	}
	if typ != typeClientHello {
		return fmt.Errorf("%w: handshake type %d", ErrNotClientHello, typ)
	}
	if !s.ReadUint24LengthPrefixed(&body) || !s.Empty() {
		return malformed("message length does not match")
	}
	h.Raw = msg

	// One backing array for every uint16 list saves an allocation per list;
	// the lists together can never hold more values than the body has pairs.
	u16 := make([]uint16, 0, len(body)/2)
	readU16s := func(in cryptobyte.String, what string) ([]uint16, error) {
		if len(in)%2 != 0 {
			return nil, malformed(what + " has odd length")
		}
		start := len(u16)
		for !in.Empty() {
			var v uint16
			in.ReadUint16(&v)
			u16 = append(u16, v)
		}
		return u16[start:len(u16):len(u16)], nil
	}

	var random, sessionID, ciphers, compression cryptobyte.String
	if !body.ReadUint16(&h.Version) || !body.ReadBytes((*[]byte)(&random), 32) {
		return malformed("truncated version or random")
	}
	h.Random = random
	if !body.ReadUint8LengthPrefixed(&sessionID) || len(sessionID) > 32 {
		return malformed("bad session id")
	}
	h.SessionID = sessionID
	if !body.ReadUint16LengthPrefixed(&ciphers) || len(ciphers) == 0 {
		return malformed("bad cipher suites")
	}
	var err error
	if h.CipherSuites, err = readU16s(ciphers, "cipher suites"); err != nil {
		return err
	}
	if !body.ReadUint8LengthPrefixed(&compression) || len(compression) == 0 {
		return malformed("bad compression methods")
	}
	h.CompressionMethods = compression
	if body.Empty() {
		return nil // no extensions block: allowed before TLS 1.3
	}
	var exts cryptobyte.String
	if !body.ReadUint16LengthPrefixed(&exts) || !body.Empty() {
		return malformed("bad extensions block or trailing bytes")
	}
	n := countExtensions(exts)
	h.Extensions = make([]Extension, 0, n)
	// A linear duplicate scan is cheapest for real hellos (under 30
	// extensions); a crafted one with thousands gets a set instead.
	var seen map[uint16]bool
	if n > 64 {
		seen = make(map[uint16]bool, n)
	}
	for !exts.Empty() {
		var t uint16
		var data cryptobyte.String
		if !exts.ReadUint16(&t) || !exts.ReadUint16LengthPrefixed(&data) {
			return malformed("truncated extension")
		}
		if dup := seen[t] || (seen == nil && h.HasExtension(t)); dup {
			return malformed(fmt.Sprintf("duplicate extension %d", t))
		}
		if seen != nil {
			seen[t] = true
		}
		h.Extensions = append(h.Extensions, Extension{Type: t, Data: data})
		if err := h.decodeExtension(t, data, readU16s); err != nil {
			return err
		}
	}
	return nil
}

// countExtensions counts the extensions in exts without validating them, to
// size the Extensions slice once. It stops at the first bad length.
func countExtensions(exts cryptobyte.String) int {
	n := 0
	for !exts.Empty() {
		var data cryptobyte.String
		if !exts.Skip(2) || !exts.ReadUint16LengthPrefixed(&data) {
			break
		}
		n++
	}
	return n
}

// decodeExtension decodes the extensions that fingerprints and the echo
// need. Each must consume its body exactly; the others stay raw.
func (h *ClientHello) decodeExtension(t uint16, data cryptobyte.String, readU16s func(cryptobyte.String, string) ([]uint16, error)) error {
	var err error
	switch t {
	case extServerName:
		// An empty body is how servers acknowledge SNI; some clients send it
		// too. Fingerprints only care that the extension is present.
		if data.Empty() {
			return nil
		}
		var list cryptobyte.String
		if !data.ReadUint16LengthPrefixed(&list) || !data.Empty() {
			return malformed("bad server_name")
		}
		for !list.Empty() {
			var nameType uint8
			var name cryptobyte.String
			if !list.ReadUint8(&nameType) || !list.ReadUint16LengthPrefixed(&name) {
				return malformed("bad server_name entry")
			}
			if nameType == 0 && h.ServerName == "" {
				h.ServerName = string(name)
			}
		}
	case extALPN:
		var list cryptobyte.String
		if !data.ReadUint16LengthPrefixed(&list) || !data.Empty() {
			return malformed("bad ALPN")
		}
		for !list.Empty() {
			var proto cryptobyte.String
			if !list.ReadUint8LengthPrefixed(&proto) {
				return malformed("bad ALPN protocol")
			}
			h.ALPN = append(h.ALPN, string(proto))
		}
	case extSupportedGroups:
		var list cryptobyte.String
		if !data.ReadUint16LengthPrefixed(&list) || !data.Empty() {
			return malformed("bad supported_groups")
		}
		h.SupportedGroups, err = readU16s(list, "supported_groups")
	case extECPointFormats:
		var list cryptobyte.String
		if !data.ReadUint8LengthPrefixed(&list) || !data.Empty() {
			return malformed("bad ec_point_formats")
		}
		h.ECPointFormats = list
	case extSignatureAlgorithms:
		var list cryptobyte.String
		if !data.ReadUint16LengthPrefixed(&list) || !data.Empty() {
			return malformed("bad signature_algorithms")
		}
		h.SignatureAlgorithms, err = readU16s(list, "signature_algorithms")
	case extSupportedVersions:
		var list cryptobyte.String
		if !data.ReadUint8LengthPrefixed(&list) || !data.Empty() {
			return malformed("bad supported_versions")
		}
		h.SupportedVersions, err = readU16s(list, "supported_versions")
	case extKeyShare:
		var list cryptobyte.String
		if !data.ReadUint16LengthPrefixed(&list) || !data.Empty() {
			return malformed("bad key_share")
		}
		for !list.Empty() {
			var group uint16
			var key cryptobyte.String
			if !list.ReadUint16(&group) || !list.ReadUint16LengthPrefixed(&key) {
				return malformed("bad key_share entry")
			}
			h.KeyShares = append(h.KeyShares, KeyShare{Group: group, Length: len(key)})
		}
	}
	return err
}
