package main

// TCP reassembly for `ja3echo fingerprint` on capture files: per
// connection, the client's first bytes in sequence order, fed to the same
// framer and parser as the server. Memory is bounded three ways: bytes per
// stream (fingerprint.MaxWireBytes, what the server itself would buffer),
// bytes over all unfinished streams, and the number of streams; a stream's
// buffers are dropped as soon as its line is decided.

import (
	"errors"
	"fmt"
	"io"
	"net/netip"

	"github.com/ja3sentry/ja3echo/fingerprint"
)

const (
	maxPcapStreams  = 1 << 16  // streams numbered; packets of later new ones are ignored
	maxPcapBuffered = 64 << 20 // client bytes held over all unfinished streams
	maxPcapPending  = 1024     // out-of-order segments held per stream
)

// errCaptureBuffer fails a stream when all unfinished streams together hold
// maxPcapBuffered bytes.
var errCaptureBuffer = errors.New("pcap: too many client bytes buffered over all unfinished streams")

// pcapWhere says where in the capture a line comes from. Stream numbers
// count TCP connections from 0 in the order of their first packet, as
// tshark's tcp.stream does; frame is the 1-based number of the packet that
// completed the ClientHello (or, for an error, the last one that added to
// it).
type pcapWhere struct {
	Stream int    `json:"stream"`
	Frame  int    `json:"frame"`
	Src    string `json:"src"`
	Dst    string `json:"dst"`
}

type flowKey struct{ a, b netip.AddrPort }

type pendingSeg struct {
	off  int
	data []byte
}

// tcpStream is one TCP connection. Its client is the SYN sender, or when
// the handshake was not captured, the side whose first payload starts a
// TLS handshake record holding a ClientHello.
type tcpStream struct {
	index          int
	seqSet         [2]bool   // per direction (0: from key.a): a packet was seen
	firstSeq       [2]uint32 // and its sequence number, to spot port reuse
	spoke          [2]bool   // the direction's first payload was not a hello
	known          bool
	client, server netip.AddrPort
	base           uint32 // sequence number of the client's first byte
	data           []byte // client bytes from base, without gaps
	pending        []pendingSeg
	pendingBytes   int
	frame          int
	done           bool
}

type captureStreams struct {
	byKey    map[flowKey]*tcpStream
	order    []*tcpStream
	buffered int
	dropped  int // packets of streams past maxPcapStreams
	emit     func(*fpResult) error
	emitErr  error // the first error emit returned: reading stops
}

// readCapture reads a pcap or pcapng file and passes emit one line per TCP
// stream whose client sent (the start of) a ClientHello, as soon as it is
// decided: `tcpdump -w - | ja3echo fingerprint -` prints each hello as it
// completes, and a big capture's results are never all held at once. At
// the end, the hellos that never completed follow in stream order. After
// a structural error, what was decided before it has been emitted already.
// dropped counts packets ignored because the capture had more than
// maxPcapStreams streams.
func readCapture(r io.Reader, emit func(*fpResult) error) (dropped int, err error) {
	pr, err := newPacketReader(r)
	if err != nil {
		return 0, err
	}
	cs := &captureStreams{byKey: make(map[flowKey]*tcpStream), emit: emit}
	for cs.emitErr == nil {
		pkt, err2 := pr.next()
		if err2 != nil {
			if err2 != io.EOF {
				err = err2
			}
			break
		}
		if seg, ok := decodeTCP(pkt.link, pkt.data); ok {
			cs.add(pkt.num, seg)
		}
	}
	for _, st := range cs.order {
		if !st.done && len(st.data) > 0 && st.data[0] == recordTypeHandshake {
			st.finish(cs, st.frame, &fpResult{Error: fmt.Sprintf("%v: only %d bytes of it captured in sequence (a segment is missing)", fingerprint.ErrTruncated, len(st.data))})
		}
	}
	if cs.emitErr != nil {
		return cs.dropped, cs.emitErr
	}
	return cs.dropped, err
}

const recordTypeHandshake = 0x16

func (cs *captureStreams) add(num int, seg tcpSegment) {
	k, dir := flowKey{seg.src, seg.dst}, 0
	if seg.src.Compare(seg.dst) > 0 {
		k, dir = flowKey{seg.dst, seg.src}, 1
	}
	st := cs.byKey[k]
	pureSYN := seg.flags&(tcpSYN|tcpACK) == tcpSYN
	if st != nil && pureSYN && st.seqSet[dir] && st.firstSeq[dir] != seg.seq {
		st = nil // a new connection reusing the ports, as tshark decides it
	}
	if st == nil {
		if len(cs.order) >= maxPcapStreams {
			cs.dropped++
			return
		}
		st = &tcpStream{index: len(cs.order)}
		cs.byKey[k] = st
		cs.order = append(cs.order, st)
	}
	if !st.seqSet[dir] {
		st.seqSet[dir], st.firstSeq[dir] = true, seg.seq
	}
	if st.done {
		return
	}
	if !st.known {
		switch {
		case pureSYN:
			st.client, st.server, st.base = seg.src, seg.dst, seg.seq+1
		case seg.flags&(tcpSYN|tcpACK) == tcpSYN|tcpACK:
			st.client, st.server, st.base = seg.dst, seg.src, seg.ack
		case len(seg.payload) == 0:
			return
		case !st.spoke[dir] && looksLikeHello(seg.payload):
			st.client, st.server, st.base = seg.src, seg.dst, seg.seq
		default:
			st.spoke[dir] = true
			if st.spoke[0] && st.spoke[1] {
				st.finish(cs, num, nil) // neither side starts with a hello
			}
			return
		}
		st.known = true
	}
	if seg.src == st.client && len(seg.payload) > 0 {
		st.insert(cs, num, seg)
	}
}

// looksLikeHello: a handshake record whose message is a ClientHello, when
// the segment is long enough to tell.
func looksLikeHello(p []byte) bool {
	return p[0] == recordTypeHandshake && (len(p) < 6 || p[5] == 1)
}

// insert adds a client segment at its place relative to base. The first
// copy of any byte wins; data past the first gap waits in pending.
func (st *tcpStream) insert(cs *captureStreams, num int, seg tcpSegment) {
	off, b := int64(int32(seg.seq-st.base)), seg.payload
	if off < 0 { // starts before the first byte (a retransmission)
		if -off >= int64(len(b)) {
			return
		}
		b, off = b[-off:], 0
	}
	if off >= fingerprint.MaxWireBytes {
		return
	}
	if end := off + int64(len(b)); end > fingerprint.MaxWireBytes {
		b = b[:fingerprint.MaxWireBytes-off]
	}
	if int(off) > len(st.data) {
		if len(st.pending) < maxPcapPending && cs.buffered+len(b) <= maxPcapBuffered {
			cs.buffered += len(b)
			st.pendingBytes += len(b)
			st.pending = append(st.pending, pendingSeg{int(off), append([]byte(nil), b...)})
		}
		return
	}
	before := len(st.data)
	if !st.appendAt(cs, int(off), b) {
		st.finish(cs, num, &fpResult{Error: errCaptureBuffer.Error()})
		return
	}
	for i := 0; i < len(st.pending); {
		if ps := st.pending[i]; ps.off <= len(st.data) {
			st.pending = append(st.pending[:i], st.pending[i+1:]...)
			st.pendingBytes -= len(ps.data)
			cs.buffered -= len(ps.data)
			if !st.appendAt(cs, ps.off, ps.data) {
				st.finish(cs, num, &fpResult{Error: errCaptureBuffer.Error()})
				return
			}
			i = 0 // the new end may reach segments already passed over
			continue
		}
		i++
	}
	if len(st.data) > before {
		st.frame = num
		st.check(cs, num)
	}
}

// appendAt appends the part of b (which starts at off <= len(data)) that
// lies past the end of data; false if the global budget is exhausted.
func (st *tcpStream) appendAt(cs *captureStreams, off int, b []byte) bool {
	if end := off + len(b); end > len(st.data) {
		n := end - len(st.data)
		if cs.buffered+n > maxPcapBuffered {
			return false
		}
		cs.buffered += n
		st.data = append(st.data, b[len(b)-n:]...)
	}
	return true
}

// check runs the server's framer on the contiguous client bytes.
func (st *tcpStream) check(cs *captureStreams, num int) {
	if st.data[0] != recordTypeHandshake {
		st.finish(cs, num, nil) // not TLS (HTTP, SSH, ...): no line
		return
	}
	ok, err := fingerprint.Frame(st.data)
	switch {
	case err != nil:
		st.finish(cs, num, &fpResult{Error: err.Error()})
	case ok:
		r := parsed(st.data)
		st.finish(cs, num, &r)
	case len(st.data) >= fingerprint.MaxWireBytes:
		st.finish(cs, num, &fpResult{Error: fmt.Sprintf("%v: no whole ClientHello in %d bytes", fingerprint.ErrTooLarge, len(st.data))})
	}
}

// finish decides the stream's line (nil: none), emits it and frees the
// stream's buffers.
func (st *tcpStream) finish(cs *captureStreams, num int, r *fpResult) {
	if r != nil {
		r.Pcap = &pcapWhere{Stream: st.index, Frame: num, Src: st.client.String(), Dst: st.server.String()}
		if cs.emitErr == nil {
			cs.emitErr = cs.emit(r)
		}
	}
	st.done = true
	cs.buffered -= len(st.data) + st.pendingBytes
	st.data, st.pending, st.pendingBytes = nil, nil, 0
}
