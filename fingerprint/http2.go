package fingerprint

import (
	"strconv"
	"strings"
)

// HTTP2 is what a client sent at the start of an HTTP/2 connection, up to and
// including its first request's HEADERS, as far as the Akamai fingerprint
// (Shuster and Segal, "Passive Fingerprinting of HTTP/2 Clients", Black Hat
// EU 2017) and the echo need it. The frames are read elsewhere (tlsconn);
// this type only records and renders them, so it does no I/O.
type HTTP2 struct {
	// Settings are the parameters of the client's first SETTINGS frame in
	// wire order, unknown and repeated identifiers included.
	Settings []HTTP2Setting
	// WindowUpdate is the increment of the first connection-level (stream
	// 0) WINDOW_UPDATE sent before the first HEADERS; 0 when there was none
	// (a zero increment is a protocol error, so 0 cannot be a real value).
	WindowUpdate uint32
	// Priorities are the PRIORITY frames sent before the first HEADERS.
	Priorities []HTTP2Priority
	// PseudoHeaders are the first HEADERS block's pseudo-header names in
	// order, with their colon (":method", ":authority", ...).
	PseudoHeaders []string
	// HeadersPriority is the first HEADERS frame's own priority when its
	// PRIORITY flag was set. It is echoed but is not part of the Akamai
	// string, which tls.peet.ws and browserleaks build from PRIORITY frames
	// only.
	HeadersPriority *HTTP2Priority
}

// HTTP2Setting is one SETTINGS parameter.
type HTTP2Setting struct {
	ID    uint16
	Value uint32
}

// HTTP2Priority is a priority as RFC 7540 §6.3 encodes it. Weight is the
// byte on the wire (0–255); the effective weight is Weight+1.
type HTTP2Priority struct {
	StreamID  uint32
	Exclusive bool
	DependsOn uint32
	Weight    uint8
}

// Akamai renders the fingerprint as tls.peet.ws prints it:
// SETTINGS|WINDOW_UPDATE|PRIORITY|PSEUDO_HEADER_ORDER, where SETTINGS is
// id:value pairs joined by ";", WINDOW_UPDATE is the increment or "00" when
// none was sent, PRIORITY is stream:exclusive:dependency:weight (effective
// weight, 1–256) joined by "," or "0" when none was sent, and the pseudo-header
// order is the first letter of each name after its colon, joined by ",".
func (h *HTTP2) Akamai() string { return string(h.appendAkamai(make([]byte, 0, 128))) }

// AkamaiHash is the MD5 of Akamai, in hex.
func (h *HTTP2) AkamaiHash() string { return md5Hex(h.appendAkamai(make([]byte, 0, 128))) }

func (h *HTTP2) appendAkamai(b []byte) []byte {
	for i, s := range h.Settings {
		if i > 0 {
			b = append(b, ';')
		}
		b = strconv.AppendUint(b, uint64(s.ID), 10)
		b = append(b, ':')
		b = strconv.AppendUint(b, uint64(s.Value), 10)
	}
	b = append(b, '|')
	if h.WindowUpdate == 0 {
		b = append(b, "00"...) // the whitepaper's "none"
	} else {
		b = strconv.AppendUint(b, uint64(h.WindowUpdate), 10)
	}
	b = append(b, '|')
	if len(h.Priorities) == 0 {
		b = append(b, '0')
	}
	for i, p := range h.Priorities {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendUint(b, uint64(p.StreamID), 10)
		if p.Exclusive {
			b = append(b, ":1:"...)
		} else {
			b = append(b, ":0:"...)
		}
		b = strconv.AppendUint(b, uint64(p.DependsOn), 10)
		b = append(b, ':')
		b = strconv.AppendUint(b, uint64(p.Weight)+1, 10)
	}
	b = append(b, '|')
	for i, name := range h.PseudoHeaders {
		if i > 0 {
			b = append(b, ',')
		}
		if n := strings.TrimPrefix(name, ":"); n != "" {
			b = append(b, n[0])
		}
	}
	return b
}

// HTTP2SettingName names a SETTINGS identifier: RFC 9113 §6.5.2, RFC 8441
// (ENABLE_CONNECT_PROTOCOL) and RFC 9218 (NO_RFC7540_PRIORITIES); "" for
// any other.
func HTTP2SettingName(id uint16) string {
	switch id {
	case 1:
		return "HEADER_TABLE_SIZE"
	case 2:
		return "ENABLE_PUSH"
	case 3:
		return "MAX_CONCURRENT_STREAMS"
	case 4:
		return "INITIAL_WINDOW_SIZE"
	case 5:
		return "MAX_FRAME_SIZE"
	case 6:
		return "MAX_HEADER_LIST_SIZE"
	case 8:
		return "ENABLE_CONNECT_PROTOCOL"
	case 9:
		return "NO_RFC7540_PRIORITIES"
	}
	return ""
}
