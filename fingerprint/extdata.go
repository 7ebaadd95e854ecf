package fingerprint

import (
	"encoding/hex"

	"golang.org/x/crypto/cryptobyte"

	"github.com/ja3sentry/ja3echo/fingerprint/iana"
)

// Extension bodies decoded for the echo. Parse already rejected hellos whose
// SNI, ALPN, groups, point formats, signature algorithms, versions or key
// shares do not decode; the others are decoded here, leniently: a body that
// does not decode becomes data_hex plus an error string on that extension
// alone. Everything is read with cryptobyte, so no input can index out of
// range, and every list is cut at MaxEchoList entries.

// Limits on what the echo repeats back: a hello may legally carry tens of
// thousands of ciphers, ALPN names or key shares, and echoing them all
// would turn one 64 KiB hello into megabytes of JSON.
const (
	MaxEchoList     = 256  // entries kept per list; a longer list is cut and flagged "truncated"
	MaxEchoHexBytes = 1024 // body bytes shown as data_hex
)

// Extension type code points decoded only for the echo.
const (
	extStatusRequest           = 5
	extSignedCertTimestamp     = 18
	extPadding                 = 21
	extEncryptThenMAC          = 22
	extExtendedMasterSecret    = 23
	extRecordSizeLimit         = 28
	extDelegatedCredentials    = 34
	extSessionTicket           = 35
	extPreSharedKey            = 41
	extEarlyData               = 42
	extPostHandshakeAuth       = 49
	extSignatureAlgorithmsCert = 50
	extQUICTransportParameters = 57
	extALPSOld                 = 17513
	extALPS                    = 17613
	extECH                     = 0xfe0d
	extRenegotiationInfo       = 0xff01
)

// decodeError is why one extension body did not decode; it only ever ends up
// as the Error string of that extension.
type decodeError string

func (e decodeError) Error() string { return string(e) }

const errBody = decodeError("body does not match the extension's syntax")

// extensionInfo builds the echo of one extension.
func extensionInfo(e Extension) ExtensionInfo {
	info := ExtensionInfo{ID: e.Type, Length: len(e.Data)}
	if IsGREASE(e.Type) {
		info.Name, info.GREASE = "GREASE", true
	} else {
		info.Name = iana.ExtensionName(e.Type)
		data, err := decodeExtensionData(e.Type, e.Data)
		switch {
		case err != nil:
			info.Error = err.Error()
		case data != nil:
			info.Data = data
			return info
		}
	}
	shown := e.Data
	if len(shown) > MaxEchoHexBytes {
		shown, info.Truncated = shown[:MaxEchoHexBytes], true
	}
	info.DataHex = hex.EncodeToString(shown)
	return info
}

// decodeExtensionData decodes the body of a known extension type; every
// decoder must consume the whole body. It returns (nil, nil) for types it
// does not know.
func decodeExtensionData(t uint16, body []byte) (any, error) {
	s := cryptobyte.String(body)
	var data any
	var ok bool
	switch t {
	case extServerName:
		data, ok = decodeServerName(s)
	case extALPN, extALPSOld, extALPS:
		data, ok = decodeProtocols(s)
	case extSupportedGroups:
		var d GroupsData
		d.Groups, d.Truncated, ok = readCodes16(s, 2, iana.GroupName)
		data = &d
	case extECPointFormats:
		var d PointFormatsData
		d.Formats, d.Truncated, ok = readCodes8(s, func(v uint8) (string, bool) { return iana.ECPointFormatName(v), false })
		data = &d
	case extSignatureAlgorithms, extSignatureAlgorithmsCert, extDelegatedCredentials:
		var d SignatureAlgorithmsData
		d.Algorithms, d.Truncated, ok = readCodes16(s, 2, iana.SignatureSchemeName)
		data = &d
	case extSupportedVersions:
		var d VersionsData
		d.Versions, d.Truncated, ok = readCodes16(s, 1, iana.VersionName)
		data = &d
	case extPSKKeyExchangeModes:
		var d PSKModesData
		d.Modes, d.Truncated, ok = readCodes8(s, func(v uint8) (string, bool) {
			if isGREASE8(v) {
				return "GREASE", true
			}
			return iana.PSKModeName(v), false
		})
		data = &d
	case extKeyShare:
		data, ok = decodeKeyShare(s)
	case extCompressCertificate:
		var d CompressCertificateData
		d.Algorithms, d.Truncated, ok = readCodes16(s, 1, iana.CertCompressionName)
		data = &d
	case extRecordSizeLimit:
		var d RecordSizeLimitData
		ok = s.ReadUint16(&d.Limit) && s.Empty()
		data = &d
	case extStatusRequest:
		data, ok = decodeStatusRequest(s)
	case extSessionTicket, extPadding:
		data, ok = &LengthData{Length: len(body)}, true
	case extRenegotiationInfo:
		var conn cryptobyte.String
		ok = s.ReadUint8LengthPrefixed(&conn) && s.Empty()
		data = &LengthData{Length: len(conn)}
	case extPreSharedKey:
		data, ok = decodePreSharedKey(s)
	case extECH:
		data, ok = decodeECH(s)
	case extExtendedMasterSecret, extEarlyData, extEncryptThenMAC, extSignedCertTimestamp, extPostHandshakeAuth:
		data, ok = &PresenceData{}, s.Empty()
	case extQUICTransportParameters:
		data, ok = &PresenceData{}, true
	default:
		return nil, nil
	}
	if !ok {
		return nil, errBody
	}
	return data, nil
}

// readCodes16 reads a list of 16-bit code points behind a length prefix of
// prefixLen bytes (1 or 2), which must be all of s.
func readCodes16(s cryptobyte.String, prefixLen int, name func(uint16) string) (out []CodePoint, truncated, ok bool) {
	var list cryptobyte.String
	if prefixLen == 1 {
		ok = s.ReadUint8LengthPrefixed(&list)
	} else {
		ok = s.ReadUint16LengthPrefixed(&list)
	}
	if !ok || !s.Empty() || len(list)%2 != 0 {
		return nil, false, false
	}
	out = make([]CodePoint, 0, min(len(list)/2, MaxEchoList))
	for !list.Empty() {
		var v uint16
		list.ReadUint16(&v)
		if len(out) == MaxEchoList {
			truncated = true
			break
		}
		out = append(out, codePoint16(v, name))
	}
	return out, truncated, true
}

// readCodes8 reads a u8-length-prefixed list of 8-bit code points, which
// must be all of s.
func readCodes8(s cryptobyte.String, name func(uint8) (string, bool)) (out []CodePoint, truncated, ok bool) {
	var list cryptobyte.String
	if !s.ReadUint8LengthPrefixed(&list) || !s.Empty() {
		return nil, false, false
	}
	out = make([]CodePoint, 0, min(len(list), MaxEchoList))
	for _, v := range list {
		if len(out) == MaxEchoList {
			truncated = true
			break
		}
		n, grease := name(v)
		out = append(out, CodePoint{ID: uint16(v), Name: n, GREASE: grease})
	}
	return out, truncated, true
}

// codePoint16 names a 16-bit value, marking GREASE.
func codePoint16(v uint16, name func(uint16) string) CodePoint {
	if IsGREASE(v) {
		return CodePoint{ID: v, Name: "GREASE", GREASE: true}
	}
	return CodePoint{ID: v, Name: name(v)}
}

// isGREASE8 reports the 8-bit GREASE values RFC 8701 reserves for
// PskKeyExchangeModes: 0x0b + 0x1f*n.
func isGREASE8(v uint8) bool { return v >= 0x0b && (v-0x0b)%0x1f == 0 }

func decodeServerName(s cryptobyte.String) (any, bool) {
	d := &ServerNameData{Names: []ServerName{}}
	if s.Empty() {
		return d, true
	}
	var list cryptobyte.String
	if !s.ReadUint16LengthPrefixed(&list) || !s.Empty() {
		return nil, false
	}
	for !list.Empty() {
		var typ uint8
		var name cryptobyte.String
		if !list.ReadUint8(&typ) || !list.ReadUint16LengthPrefixed(&name) {
			return nil, false
		}
		if len(d.Names) == MaxEchoList {
			d.Truncated = true
			continue // keep validating the rest
		}
		d.Names = append(d.Names, ServerName{Type: typ, Name: string(name)})
	}
	return d, true
}

func decodeProtocols(s cryptobyte.String) (any, bool) {
	var list cryptobyte.String
	if !s.ReadUint16LengthPrefixed(&list) || !s.Empty() {
		return nil, false
	}
	d := &ProtocolsData{Protocols: []string{}}
	for !list.Empty() {
		var p cryptobyte.String
		if !list.ReadUint8LengthPrefixed(&p) {
			return nil, false
		}
		if len(d.Protocols) == MaxEchoList {
			d.Truncated = true
			continue
		}
		d.Protocols = append(d.Protocols, string(p))
	}
	return d, true
}

func decodeKeyShare(s cryptobyte.String) (any, bool) {
	var list cryptobyte.String
	if !s.ReadUint16LengthPrefixed(&list) || !s.Empty() {
		return nil, false
	}
	d := &KeyShareData{Entries: []KeyShareEntry{}}
	for !list.Empty() {
		var group uint16
		var key cryptobyte.String
		if !list.ReadUint16(&group) || !list.ReadUint16LengthPrefixed(&key) {
			return nil, false
		}
		if len(d.Entries) == MaxEchoList {
			d.Truncated = true
			continue
		}
		d.Entries = append(d.Entries, KeyShareEntry{Group: codePoint16(group, iana.GroupName), KeyLength: len(key)})
	}
	return d, true
}

func decodeStatusRequest(s cryptobyte.String) (any, bool) {
	var typ uint8
	var ids, exts cryptobyte.String
	if !s.ReadUint8(&typ) || !s.ReadUint16LengthPrefixed(&ids) || !s.ReadUint16LengthPrefixed(&exts) || !s.Empty() {
		return nil, false
	}
	return &StatusRequestData{
		StatusType:              CodePoint{ID: uint16(typ), Name: iana.CertificateStatusTypeName(typ)},
		ResponderIDListLength:   len(ids),
		RequestExtensionsLength: len(exts),
	}, true
}

func decodePreSharedKey(s cryptobyte.String) (any, bool) {
	var ids, binders cryptobyte.String
	if !s.ReadUint16LengthPrefixed(&ids) || !s.ReadUint16LengthPrefixed(&binders) || !s.Empty() {
		return nil, false
	}
	d := &PreSharedKeyData{}
	for !ids.Empty() {
		var id cryptobyte.String
		if !ids.ReadUint16LengthPrefixed(&id) || !ids.Skip(4) { // identity, obfuscated_ticket_age
			return nil, false
		}
		d.Identities++
	}
	for !binders.Empty() {
		var b cryptobyte.String
		if !binders.ReadUint8LengthPrefixed(&b) {
			return nil, false
		}
		d.Binders++
	}
	return d, true
}

// decodeECH decodes draft-ietf-tls-esni-18+/RFC 9849 ECHClientHello.
func decodeECH(s cryptobyte.String) (any, bool) {
	var typ uint8
	if !s.ReadUint8(&typ) {
		return nil, false
	}
	switch typ {
	case 1: // inner: nothing follows
		if !s.Empty() {
			return nil, false
		}
		return &ECHData{Type: typ, TypeName: "inner"}, true
	case 0:
	default: // a future type: say which, keep the body opaque
		return &ECHData{Type: typ}, true
	}
	var kdf, aead uint16
	var configID uint8
	var enc, payload cryptobyte.String
	if !s.ReadUint16(&kdf) || !s.ReadUint16(&aead) || !s.ReadUint8(&configID) ||
		!s.ReadUint16LengthPrefixed(&enc) || !s.ReadUint16LengthPrefixed(&payload) || !s.Empty() {
		return nil, false
	}
	return &ECHData{Type: typ, TypeName: "outer", ECHOuter: &ECHOuter{
		KDF:           CodePoint{ID: kdf, Name: iana.HPKEKDFName(kdf)},
		AEAD:          CodePoint{ID: aead, Name: iana.HPKEAEADName(aead)},
		ConfigID:      configID,
		EncLength:     len(enc),
		PayloadLength: len(payload),
	}}, true
}
