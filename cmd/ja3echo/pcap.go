package main

// Packet capture files for `ja3echo fingerprint`: a small reader for
// classic pcap and pcapng, written by hand so the command needs no capture
// library (and no cgo). It yields each packet's bytes and link type; the
// decoding is in pcapnet.go, the TCP reassembly in pcaptcp.go. Every length
// read from the file is checked before use and bounded by maxPcapBlock, so
// a corrupt or hostile file gives an error, never a panic or a huge
// allocation.

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// errPcapFormat marks a capture file whose structure cannot be read
// (truncated, bad lengths, unknown version): the command exits 2 on it.
var errPcapFormat = errors.New("pcap: unreadable capture file")

const (
	// maxPcapBlock bounds one packet record or pcapng block that is read
	// into memory. Packets are at most 64 KiB (256 KiB with the largest
	// snaplens tcpdump uses); anything larger is corruption.
	maxPcapBlock = 256 << 10
	// maxPcapSkip bounds a pcapng block that is skipped without being read
	// into memory (name resolution, decryption secrets, custom blocks).
	maxPcapSkip = 64 << 20
	// maxPcapInterfaces bounds the Interface Description Blocks of a section.
	maxPcapInterfaces = 1 << 16

	pcapngSHB         = 0x0a0d0d0a
	pcapngBOM         = 0x1a2b3c4d
	pcapngIDB         = 1
	pcapngOPB         = 2 // obsolete Packet Block
	pcapngSPB         = 3
	pcapngEPB         = 6
	linkTypeFieldMask = 0x0fffffff // the upper bits of a classic linktype carry FCS info
)

// capPacket is one packet of a capture: its 1-based number (Wireshark's
// frame number), link type and captured bytes. data is only valid until
// the next call to next.
type capPacket struct {
	num  int
	link uint32
	data []byte
}

// packetReader yields the packets of a capture file; io.EOF at a clean end.
type packetReader interface {
	next() (capPacket, error)
}

// isCaptureMagic reports whether head, the first bytes of an input, start a
// classic pcap (4 bytes needed) or pcapng (12 bytes needed) file.
func isCaptureMagic(head []byte) bool {
	if len(head) >= 4 {
		switch binary.BigEndian.Uint32(head) {
		case 0xa1b2c3d4, 0xd4c3b2a1, 0xa1b23c4d, 0x4d3cb2a1:
			return true
		}
	}
	return len(head) >= 12 && binary.BigEndian.Uint32(head) == pcapngSHB &&
		(binary.BigEndian.Uint32(head[8:]) == pcapngBOM || binary.LittleEndian.Uint32(head[8:]) == pcapngBOM)
}

// newPacketReader reads the file header of r and returns the reader for its
// format.
func newPacketReader(r io.Reader) (packetReader, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	head, err := br.Peek(4)
	if err != nil {
		return nil, fmt.Errorf("%w: file header: %v", errPcapFormat, err)
	}
	if binary.BigEndian.Uint32(head) == pcapngSHB {
		return &pcapngReader{r: br}, nil
	}
	var hdr [24]byte
	if _, err := io.ReadFull(br, hdr[:]); err != nil {
		return nil, fmt.Errorf("%w: file header: %v", errPcapFormat, err)
	}
	c := &classicReader{r: br}
	switch magic := binary.BigEndian.Uint32(hdr[:]); magic {
	case 0xa1b2c3d4, 0xa1b23c4d:
		c.order = binary.BigEndian
	case 0xd4c3b2a1, 0x4d3cb2a1:
		c.order = binary.LittleEndian
	default:
		return nil, fmt.Errorf("%w: magic %#08x", errPcapFormat, magic)
	}
	if major := c.order.Uint16(hdr[4:]); major != 2 {
		return nil, fmt.Errorf("%w: pcap version %d", errPcapFormat, major)
	}
	c.link = c.order.Uint32(hdr[20:]) & linkTypeFieldMask
	return c, nil
}

// classicReader reads libpcap files. The timestamp resolution (µs or ns)
// does not matter here: only the order of packets is used.
type classicReader struct {
	r     *bufio.Reader
	order binary.ByteOrder
	link  uint32
	num   int
	buf   []byte
}

func (c *classicReader) next() (capPacket, error) {
	var hdr [16]byte
	if _, err := io.ReadFull(c.r, hdr[:]); err == io.EOF {
		return capPacket{}, io.EOF
	} else if err != nil {
		return capPacket{}, fmt.Errorf("%w: record %d header: %v", errPcapFormat, c.num+1, err)
	}
	n := c.order.Uint32(hdr[8:])
	if n > maxPcapBlock {
		return capPacket{}, fmt.Errorf("%w: record %d length %d over %d", errPcapFormat, c.num+1, n, maxPcapBlock)
	}
	c.buf = grow(c.buf, int(n))
	if _, err := io.ReadFull(c.r, c.buf); err != nil {
		return capPacket{}, fmt.Errorf("%w: record %d: %v", errPcapFormat, c.num+1, err)
	}
	c.num++
	return capPacket{num: c.num, link: c.link, data: c.buf}, nil
}

// pcapngReader reads pcapng files: any number of sections, each with its
// own byte order and interfaces.
type pcapngReader struct {
	r      *bufio.Reader
	order  binary.ByteOrder // nil before the first Section Header Block
	ifaces []pcapngIface
	num    int
	buf    []byte
}

type pcapngIface struct {
	link    uint32
	snaplen uint32
}

func (p *pcapngReader) next() (capPacket, error) {
	for {
		typ, body, err := p.block()
		if err != nil {
			return capPacket{}, err
		}
		var (
			iface uint32
			data  []byte
		)
		switch typ {
		case pcapngIDB:
			if len(body) < 8 {
				return capPacket{}, fmt.Errorf("%w: short interface description block", errPcapFormat)
			}
			if len(p.ifaces) >= maxPcapInterfaces {
				return capPacket{}, fmt.Errorf("%w: more than %d interfaces", errPcapFormat, maxPcapInterfaces)
			}
			p.ifaces = append(p.ifaces, pcapngIface{link: uint32(p.order.Uint16(body)), snaplen: p.order.Uint32(body[4:])})
			continue
		case pcapngEPB, pcapngOPB:
			if len(body) < 20 {
				return capPacket{}, fmt.Errorf("%w: short packet block", errPcapFormat)
			}
			if typ == pcapngEPB {
				iface = p.order.Uint32(body)
			} else {
				iface = uint32(p.order.Uint16(body))
			}
			caplen := p.order.Uint32(body[12:])
			if caplen > uint32(len(body)-20) {
				return capPacket{}, fmt.Errorf("%w: packet length %d over its block", errPcapFormat, caplen)
			}
			data = body[20 : 20+caplen]
		case pcapngSPB:
			if len(body) < 4 {
				return capPacket{}, fmt.Errorf("%w: short simple packet block", errPcapFormat)
			}
			data = body[4:]
			if orig := p.order.Uint32(body); orig < uint32(len(data)) {
				data = data[:orig] // the rest is padding
			}
			if len(p.ifaces) > 0 && p.ifaces[0].snaplen != 0 && p.ifaces[0].snaplen < uint32(len(data)) {
				data = data[:p.ifaces[0].snaplen]
			}
		default:
			continue
		}
		if iface >= uint32(len(p.ifaces)) {
			return capPacket{}, fmt.Errorf("%w: packet on undeclared interface %d", errPcapFormat, iface)
		}
		p.num++
		return capPacket{num: p.num, link: p.ifaces[iface].link, data: data}, nil
	}
}

// block reads one block and returns its type and body (without the type
// and the two length fields). Bodies of blocks other than packets and
// interfaces are skipped unread and returned empty.
func (p *pcapngReader) block() (uint32, []byte, error) {
	var hdr [8]byte
	if _, err := io.ReadFull(p.r, hdr[:]); err == io.EOF {
		return 0, nil, io.EOF
	} else if err != nil {
		return 0, nil, fmt.Errorf("%w: block header: %v", errPcapFormat, err)
	}
	if binary.BigEndian.Uint32(hdr[:]) == pcapngSHB { // same in both byte orders
		var bom [4]byte
		if _, err := io.ReadFull(p.r, bom[:]); err != nil {
			return 0, nil, fmt.Errorf("%w: section header: %v", errPcapFormat, err)
		}
		switch {
		case binary.BigEndian.Uint32(bom[:]) == pcapngBOM:
			p.order = binary.BigEndian
		case binary.LittleEndian.Uint32(bom[:]) == pcapngBOM:
			p.order = binary.LittleEndian
		default:
			return 0, nil, fmt.Errorf("%w: section header byte-order magic %x", errPcapFormat, bom)
		}
		p.ifaces = p.ifaces[:0] // interface ids are per section
		n := p.order.Uint32(hdr[4:])
		if n < 28 || n%4 != 0 || n > maxPcapBlock {
			return 0, nil, fmt.Errorf("%w: section header length %d", errPcapFormat, n)
		}
		body, err := p.body(n-12, n)
		if err != nil {
			return 0, nil, err
		}
		if major := p.order.Uint16(body); major != 1 {
			return 0, nil, fmt.Errorf("%w: pcapng version %d", errPcapFormat, major)
		}
		return pcapngSHB, nil, nil
	}
	if p.order == nil {
		return 0, nil, fmt.Errorf("%w: no section header", errPcapFormat)
	}
	typ, n := p.order.Uint32(hdr[:]), p.order.Uint32(hdr[4:])
	if n < 12 || n%4 != 0 {
		return 0, nil, fmt.Errorf("%w: block length %d", errPcapFormat, n)
	}
	switch typ {
	case pcapngIDB, pcapngOPB, pcapngSPB, pcapngEPB:
		if n > maxPcapBlock {
			return 0, nil, fmt.Errorf("%w: block length %d over %d", errPcapFormat, n, maxPcapBlock)
		}
		body, err := p.body(n-8, n)
		return typ, body, err
	}
	if n > maxPcapSkip {
		return 0, nil, fmt.Errorf("%w: block length %d over %d", errPcapFormat, n, maxPcapSkip)
	}
	if _, err := p.r.Discard(int(n - 12)); err != nil {
		return 0, nil, fmt.Errorf("%w: block of type %#x: %v", errPcapFormat, typ, err)
	}
	if _, err := p.body(4, n); err != nil {
		return 0, nil, err
	}
	return typ, nil, nil
}

// body reads the rest of a block, n bytes ending with the trailing copy of
// the block length, checks that copy against total, and returns the bytes
// before it.
func (p *pcapngReader) body(n, total uint32) ([]byte, error) {
	if n < 4 {
		return nil, fmt.Errorf("%w: block too short", errPcapFormat)
	}
	p.buf = grow(p.buf, int(n))
	if _, err := io.ReadFull(p.r, p.buf); err != nil {
		return nil, fmt.Errorf("%w: block body: %v", errPcapFormat, err)
	}
	if trailer := p.order.Uint32(p.buf[n-4:]); trailer != total {
		return nil, fmt.Errorf("%w: block length %d, trailing length %d", errPcapFormat, total, trailer)
	}
	return p.buf[:n-4], nil
}

// grow returns b resized to n bytes, reusing its memory when it can.
func grow(b []byte, n int) []byte {
	if cap(b) < n {
		return make([]byte, n)
	}
	return b[:n]
}
