package main

// Decoding of captured packets down to TCP segments for `ja3echo
// fingerprint` on pcap files. Only what a ClientHello needs: link layers
// seen in practice, IPv4/IPv6 without reassembly, TCP. Anything else
// (ARP, UDP/QUIC, ICMP, non-first fragments) is skipped silently.

import (
	"encoding/binary"
	"net/netip"
)

// Link types (https://www.tcpdump.org/linktypes.html).
const (
	linkNull     = 0
	linkEthernet = 1
	linkRaw      = 101
	linkSLL      = 113
	linkIPv4     = 228
	linkIPv6     = 229
	linkSLL2     = 276
)

// TCP flags reassembly looks at.
const (
	tcpSYN = 0x02
	tcpACK = 0x10
)

// tcpSegment is the part of a TCP segment reassembly needs. payload
// aliases the packet data.
type tcpSegment struct {
	src, dst netip.AddrPort
	seq, ack uint32
	flags    uint8
	payload  []byte
}

// decodeTCP returns the TCP segment in a packet, ok false if the packet is
// not one this command looks at.
func decodeTCP(link uint32, b []byte) (tcpSegment, bool) {
	switch link {
	case linkEthernet:
		if len(b) < 14 {
			return tcpSegment{}, false
		}
		return decodeEtherType(binary.BigEndian.Uint16(b[12:]), b[14:])
	case linkSLL:
		if len(b) < 16 {
			return tcpSegment{}, false
		}
		return decodeEtherType(binary.BigEndian.Uint16(b[14:]), b[16:])
	case linkSLL2:
		if len(b) < 20 {
			return tcpSegment{}, false
		}
		return decodeEtherType(binary.BigEndian.Uint16(b), b[20:])
	case linkNull:
		// The address family is in the capturing host's byte order; IPv6
		// has a different value on each BSD, so look at the IP version.
		if len(b) < 4 {
			return tcpSegment{}, false
		}
		fam := binary.LittleEndian.Uint32(b)
		if fam > 0xffff {
			fam = binary.BigEndian.Uint32(b)
		}
		switch fam {
		case 2, 10, 24, 28, 30: // AF_INET, AF_INET6 (Linux, NetBSD/OpenBSD, FreeBSD, macOS)
			return decodeIP(b[4:])
		}
		return tcpSegment{}, false
	case linkRaw, linkIPv4, linkIPv6:
		return decodeIP(b)
	}
	return tcpSegment{}, false
}

// decodeEtherType follows 802.1Q/802.1ad VLAN tags to the IP header.
func decodeEtherType(typ uint16, b []byte) (tcpSegment, bool) {
	for typ == 0x8100 || typ == 0x88a8 || typ == 0x9100 {
		if len(b) < 4 {
			return tcpSegment{}, false
		}
		typ, b = binary.BigEndian.Uint16(b[2:]), b[4:]
	}
	if typ != 0x0800 && typ != 0x86dd {
		return tcpSegment{}, false
	}
	return decodeIP(b)
}

func decodeIP(b []byte) (tcpSegment, bool) {
	if len(b) == 0 {
		return tcpSegment{}, false
	}
	switch b[0] >> 4 {
	case 4:
		return decodeIPv4(b)
	case 6:
		return decodeIPv6(b)
	}
	return tcpSegment{}, false
}

func decodeIPv4(b []byte) (tcpSegment, bool) {
	if len(b) < 20 {
		return tcpSegment{}, false
	}
	hl, total := int(b[0]&0x0f)*4, int(binary.BigEndian.Uint16(b[2:]))
	if hl < 20 || total < hl || len(b) < hl || b[9] != 6 {
		return tcpSegment{}, false
	}
	if binary.BigEndian.Uint16(b[6:])&0x1fff != 0 {
		return tcpSegment{}, false // a non-first fragment: no TCP header
	}
	if total < len(b) {
		b = b[:total] // Ethernet padding; a snaplen cut leaves b shorter
	}
	src, dst := netip.AddrFrom4([4]byte(b[12:16])), netip.AddrFrom4([4]byte(b[16:20]))
	return decodeTCPHeader(src, dst, b[hl:])
}

func decodeIPv6(b []byte) (tcpSegment, bool) {
	if len(b) < 40 {
		return tcpSegment{}, false
	}
	if n := 40 + int(binary.BigEndian.Uint16(b[4:])); n < len(b) {
		b = b[:n]
	}
	src, dst := netip.AddrFrom16([16]byte(b[8:24])), netip.AddrFrom16([16]byte(b[24:40]))
	next, p := b[6], b[40:]
	for {
		switch next {
		case 6:
			return decodeTCPHeader(src, dst, p)
		case 0, 43, 60: // hop-by-hop, routing, destination options
			if len(p) < 8 {
				return tcpSegment{}, false
			}
			n := (int(p[1]) + 1) * 8
			if len(p) < n {
				return tcpSegment{}, false
			}
			next, p = p[0], p[n:]
		default: // fragment (44), ESP, no next header, UDP, ...
			return tcpSegment{}, false
		}
	}
}

func decodeTCPHeader(src, dst netip.Addr, b []byte) (tcpSegment, bool) {
	if len(b) < 20 {
		return tcpSegment{}, false
	}
	off := int(b[12]>>4) * 4
	if off < 20 || off > len(b) {
		return tcpSegment{}, false
	}
	return tcpSegment{
		src:     netip.AddrPortFrom(src, binary.BigEndian.Uint16(b)),
		dst:     netip.AddrPortFrom(dst, binary.BigEndian.Uint16(b[2:])),
		seq:     binary.BigEndian.Uint32(b[4:]),
		ack:     binary.BigEndian.Uint32(b[8:]),
		flags:   b[13],
		payload: b[off:],
	}, true
}
