package main

// `ja3echo fingerprint` on pcap/pcapng files: checked against FoxIO's and
// s2n-tls's captures with expectations from tshark and an independent
// implementation (shared/testdata), against the project's own captures and
// their goldens, and on hand-built files for each format variant, link
// layer, reassembly case and corruption.

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// sharedTestdataDir is the read-only reference data beside the checkout,
// as fingerprint/vectors_test.go reaches it (one level deeper here).
const sharedTestdataDir = "../../../shared/testdata"

// pcapLine is one output line of the command on a capture.
type pcapLine struct {
	JA3      string `json:"ja3"`
	JA3Hash  string `json:"ja3_hash"`
	JA3N     string `json:"ja3n"`
	JA3NHash string `json:"ja3n_hash"`
	JA4      string `json:"ja4"`
	JA4R     string `json:"ja4_r"`
	JA4O     string `json:"ja4_o"`
	JA4RO    string `json:"ja4_ro"`
	TLS      *struct {
		ServerName string `json:"server_name"`
		RawHex     string `json:"raw_hex"`
	} `json:"tls"`
	Error string `json:"error"`
	Pcap  *struct {
		Stream int    `json:"stream"`
		Frame  int    `json:"frame"`
		Src    string `json:"src"`
		Dst    string `json:"dst"`
	} `json:"pcap"`
}

// runCapture runs the subcommand in-process on FILE (or "-" with stdin).
func runCapture(t *testing.T, arg string, stdin []byte) (lines []pcapLine, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = fingerprintCmd([]string{arg}, bytes.NewReader(stdin), &out, &errOut)
	sc := bufio.NewScanner(&out)
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		var l pcapLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("output line is not JSON: %v\n%s", err, sc.Text())
		}
		if l.Pcap == nil {
			t.Fatalf("output line without a pcap object: %s", sc.Text())
		}
		lines = append(lines, l)
	}
	return lines, errOut.String(), code
}

// runCaptureBytes writes data to a file and runs the subcommand on it.
func runCaptureBytes(t *testing.T, data []byte) ([]pcapLine, string, int) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "capture")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return runCapture(t, p, nil)
}

// pcapVector is one line of the shared expected*.jsonl files: tcp_stream and
// frame as tshark numbers them, JA3 from tshark, JA4 from an independent
// implementation of the spec.
type pcapVector struct {
	Pcap       string `json:"pcap"`
	Stream     int    `json:"tcp_stream"`
	Frame      int    `json:"frame"`
	JA3        string `json:"ja3_full"`
	JA3Hash    string `json:"ja3_hash"`
	JA4        string `json:"ja4"`
	JA4R       string `json:"ja4_r"`
	JA4O       string `json:"ja4_o"`
	JA4RO      string `json:"ja4_ro"`
	ParseError string `json:"own_parse_error"` // the hello is tunnelled (SOCKS, CONNECT)
}

func loadPcapVectors(t *testing.T, file string) map[string][]pcapVector {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Skipf("shared test data not available (%v): it sits beside the checkout in ../shared", err)
	}
	defer f.Close()
	out := map[string][]pcapVector{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		var v pcapVector
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		out[v.Pcap] = append(out[v.Pcap], v)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// checkCaptureVectors runs every capture in pcapDir and compares its lines
// with the vectors: same stream numbers and frames as tshark, same
// fingerprints; tunnelled hellos give no line; no line without a vector.
func checkCaptureVectors(t *testing.T, pcapDir, expected string) {
	vectors := loadPcapVectors(t, expected)
	paths, _ := filepath.Glob(filepath.Join(pcapDir, "*.pcap*"))
	if len(paths) == 0 {
		t.Skipf("no captures in %s", pcapDir)
	}
	total := 0
	for _, p := range paths {
		name := filepath.Base(p)
		lines, stderr, code := runCapture(t, p, nil)
		if code != 0 {
			t.Errorf("%s: exit %d, stderr %s", name, code, stderr)
		}
		byStream := map[int]pcapLine{}
		for _, l := range lines {
			byStream[l.Pcap.Stream] = l
		}
		matched := 0
		for _, v := range vectors[name] {
			got, ok := byStream[v.Stream]
			delete(byStream, v.Stream)
			if v.ParseError != "" {
				if ok {
					t.Errorf("%s stream %d: the hello is tunnelled (%s), got a line %+v", name, v.Stream, v.ParseError, got)
				}
				continue
			}
			switch {
			case !ok:
				t.Errorf("%s stream %d: no line", name, v.Stream)
			case got.Error != "":
				t.Errorf("%s stream %d: error %s", name, v.Stream, got.Error)
			case got.Pcap.Frame != v.Frame:
				t.Errorf("%s stream %d: frame %d, tshark says %d", name, v.Stream, got.Pcap.Frame, v.Frame)
			case got.JA3 != v.JA3 || got.JA3Hash != v.JA3Hash:
				t.Errorf("%s stream %d: ja3 %s %s\n want %s %s", name, v.Stream, got.JA3Hash, got.JA3, v.JA3Hash, v.JA3)
			case got.JA4 != v.JA4 || got.JA4R != v.JA4R || got.JA4O != v.JA4O || got.JA4RO != v.JA4RO:
				t.Errorf("%s stream %d: ja4 %s %s %s %s\n want %s %s %s %s", name, v.Stream,
					got.JA4, got.JA4R, got.JA4O, got.JA4RO, v.JA4, v.JA4R, v.JA4O, v.JA4RO)
			default:
				matched++
			}
		}
		for s, l := range byStream {
			t.Errorf("%s: stream %d has a line but no expected vector: %+v", name, s, l)
		}
		t.Logf("%s: %d/%d vectors match, %d lines", name, matched, len(vectors[name]), len(lines))
		total += matched
	}
	if total == 0 {
		t.Error("no vector matched at all")
	}
}

// TestPcapFoxIOVectors covers FoxIO's captures, QUIC ones included (no
// line: QUIC is UDP).
func TestPcapFoxIOVectors(t *testing.T) {
	checkCaptureVectors(t, filepath.Join(sharedTestdataDir, "ja4/foxio/pcap"),
		filepath.Join(sharedTestdataDir, "ja4/foxio/expected-own-tshark.jsonl"))
}

// TestPcapS2NVectors covers the s2n-tls edge cases (fragmented hellos, TCP
// fragmentation, several connections).
func TestPcapS2NVectors(t *testing.T) {
	checkCaptureVectors(t, filepath.Join(sharedTestdataDir, "ja3/s2n-tls"),
		filepath.Join(sharedTestdataDir, "ja3/s2n-tls/expected.jsonl"))
}

// pcapGolden is the part of a testdata/clienthellos golden file checked here.
type pcapGolden struct {
	golden
	JA4   string `json:"ja4"`
	JA4R  string `json:"ja4_r"`
	JA4O  string `json:"ja4_o"`
	JA4RO string `json:"ja4_ro"`
}

// TestPcapOwnCaptures: each recorded client's pcap gives its golden for the
// hello whose bytes are in the .hex file; other connections in the pcap
// (Chromium opens two) must parse too.
func TestPcapOwnCaptures(t *testing.T) {
	for _, h := range loadHellos(t) {
		name := strings.TrimSuffix(h.name, ".hex")
		p := filepath.Join("../../testdata/clienthellos/pcap", name+".pcap")
		if _, err := os.Stat(p); err != nil {
			t.Errorf("%s: no pcap: %v", name, err)
			continue
		}
		gb, err := os.ReadFile(filepath.Join("../../testdata/clienthellos", name+".golden.json"))
		if err != nil {
			t.Fatal(err)
		}
		var g pcapGolden
		if err := json.Unmarshal(gb, &g); err != nil {
			t.Fatal(err)
		}
		msg, _, _ := reassemble(h.wire)
		lines, stderr, code := runCapture(t, p, nil)
		if code != 0 {
			t.Errorf("%s: exit %d, stderr %s", name, code, stderr)
		}
		found := 0
		for _, l := range lines {
			if l.Error != "" || l.TLS == nil {
				t.Errorf("%s stream %d: %q", name, l.Pcap.Stream, l.Error)
				continue
			}
			if l.TLS.RawHex != hex.EncodeToString(msg.msg) {
				continue
			}
			found++
			if l.JA3 != g.JA3 || l.JA3Hash != g.JA3Hash || l.JA3N != g.JA3N || l.JA3NHash != g.JA3NHash {
				t.Errorf("%s: ja3 %s ja3n %s, want %s %s", name, l.JA3Hash, l.JA3NHash, g.JA3Hash, g.JA3NHash)
			}
			if l.JA4 != g.JA4 || l.JA4R != g.JA4R || l.JA4O != g.JA4O || l.JA4RO != g.JA4RO {
				t.Errorf("%s: ja4 %s %s, want %s %s", name, l.JA4, l.JA4O, g.JA4, g.JA4O)
			}
			if l.TLS.ServerName != g.SNI {
				t.Errorf("%s: server_name %q, want %q", name, l.TLS.ServerName, g.SNI)
			}
		}
		if found != 1 {
			t.Errorf("%s: %d lines carry the recorded hello, want 1 (of %d lines)", name, found, len(lines))
		}
	}
}

// TestPcapCLI: a real capture prints one line per hello stream with exit 0,
// the same from a FILE and from stdin.
func TestPcapCLI(t *testing.T) {
	p := filepath.Join(sharedTestdataDir, "ja3/s2n-tls/multiple_hellos.pcap")
	data, err := os.ReadFile(p)
	if err != nil {
		t.Skipf("shared test data not available: %v", err)
	}
	var fromFile, fromStdin, errOut bytes.Buffer
	if code := fingerprintCmd([]string{p}, nil, &fromFile, &errOut); code != 0 {
		t.Fatalf("exit %d, stderr %s", code, errOut.String())
	}
	if n := strings.Count(fromFile.String(), "\n"); n != 5 { // expected.jsonl has 5 lines for it
		t.Errorf("%d lines, want 5:\n%s", n, fromFile.String())
	}
	if code := fingerprintCmd([]string{"-"}, bytes.NewReader(data), &fromStdin, &errOut); code != 0 || fromStdin.String() != fromFile.String() {
		t.Errorf("stdin: exit %d, output differs from FILE's", code)
	}
}

// --- hand-built captures ---

type testSeg struct {
	src, dst string // "ip:port"
	seq, ack uint32
	flags    byte
	payload  []byte
}

func (s testSeg) ip() []byte {
	src, dst := netip.MustParseAddrPort(s.src), netip.MustParseAddrPort(s.dst)
	tcp := make([]byte, 20, 20+len(s.payload))
	binary.BigEndian.PutUint16(tcp, src.Port())
	binary.BigEndian.PutUint16(tcp[2:], dst.Port())
	binary.BigEndian.PutUint32(tcp[4:], s.seq)
	binary.BigEndian.PutUint32(tcp[8:], s.ack)
	tcp[12], tcp[13] = 5<<4, s.flags
	binary.BigEndian.PutUint16(tcp[14:], 65535)
	tcp = append(tcp, s.payload...)
	if src.Addr().Is4() {
		h := make([]byte, 20)
		h[0], h[6], h[8], h[9] = 0x45, 0x40, 64, 6
		binary.BigEndian.PutUint16(h[2:], uint16(20+len(tcp)))
		a, b := src.Addr().As4(), dst.Addr().As4()
		copy(h[12:], a[:])
		copy(h[16:], b[:])
		return append(h, tcp...)
	}
	// IPv6 with a hop-by-hop options header (PadN) before TCP.
	h := make([]byte, 48)
	h[0], h[6], h[7] = 0x60, 0, 64
	binary.BigEndian.PutUint16(h[4:], uint16(8+len(tcp)))
	a, b := src.Addr().As16(), dst.Addr().As16()
	copy(h[8:], a[:])
	copy(h[24:], b[:])
	h[40], h[41], h[42], h[43] = 6, 0, 1, 4 // next TCP, 8 bytes, PadN of 4
	return append(h, tcp...)
}

func etherType(ip []byte) uint16 {
	if ip[0]>>4 == 6 {
		return 0x86dd
	}
	return 0x0800
}

// ether frames ip, with a VLAN tag for each TPID in tags (outermost first).
func ether(ip []byte, tags ...uint16) []byte {
	b := []byte{2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2}
	for _, tpid := range tags {
		b = binary.BigEndian.AppendUint16(b, tpid)
		b = binary.BigEndian.AppendUint16(b, 100) // TCI: VLAN 100
	}
	b = binary.BigEndian.AppendUint16(b, etherType(ip))
	return append(b, ip...)
}

func sll(ip []byte) []byte {
	b := []byte{0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0}
	b = binary.BigEndian.AppendUint16(b, etherType(ip))
	return append(b, ip...)
}

func sll2(ip []byte) []byte {
	b := binary.BigEndian.AppendUint16(nil, etherType(ip))
	b = append(b, 0, 0, 0, 0, 0, 1, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0)
	return append(b, ip...)
}

func loopback(ip []byte) []byte {
	fam := uint32(2)
	if ip[0]>>4 == 6 {
		fam = 30 // macOS AF_INET6
	}
	return append(binary.LittleEndian.AppendUint32(nil, fam), ip...)
}

// byteOrder is binary.BigEndian or binary.LittleEndian.
type byteOrder interface {
	binary.ByteOrder
	binary.AppendByteOrder
}

// classicPcap writes a libpcap file (nano: the ns magic).
func classicPcap(order byteOrder, nano bool, link uint32, pkts ...[]byte) []byte {
	magic := uint32(0xa1b2c3d4)
	if nano {
		magic = 0xa1b23c4d
	}
	b := order.AppendUint32(nil, magic)
	b = order.AppendUint16(b, 2)
	b = order.AppendUint16(b, 4)
	b = append(b, make([]byte, 8)...)
	b = order.AppendUint32(b, 262144)
	b = order.AppendUint32(b, link)
	for i, p := range pkts {
		b = order.AppendUint32(b, 1700000000+uint32(i))
		b = order.AppendUint32(b, 0)
		b = order.AppendUint32(b, uint32(len(p)))
		b = order.AppendUint32(b, uint32(len(p)))
		b = append(b, p...)
	}
	return b
}

func ngBlock(order byteOrder, typ uint32, body []byte) []byte {
	body = append([]byte(nil), body...)
	for len(body)%4 != 0 {
		body = append(body, 0)
	}
	b := order.AppendUint32(nil, typ)
	b = order.AppendUint32(b, uint32(12+len(body)))
	b = append(b, body...)
	return order.AppendUint32(b, uint32(12+len(body)))
}

// ngSection writes one pcapng section: header, a block of a type the
// reader must skip, one interface, and the packets as Enhanced (or Simple)
// Packet Blocks.
func ngSection(order byteOrder, link uint16, simple bool, pkts ...[]byte) []byte {
	shb := order.AppendUint32(nil, 0x1a2b3c4d)
	shb = order.AppendUint16(shb, 1)
	shb = order.AppendUint16(shb, 0)
	shb = append(shb, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff)
	b := ngBlock(order, 0x0a0d0d0a, shb)
	b = append(b, ngBlock(order, 0x00000BAD, []byte("custom block to skip"))...)
	idb := order.AppendUint16(nil, link)
	idb = order.AppendUint16(idb, 0)
	idb = order.AppendUint32(idb, 262144)
	b = append(b, ngBlock(order, 1, idb)...)
	for _, p := range pkts {
		var body []byte
		if simple {
			body = append(order.AppendUint32(nil, uint32(len(p))), p...)
			b = append(b, ngBlock(order, 3, body)...)
			continue
		}
		body = order.AppendUint32(nil, 0)
		body = append(body, make([]byte, 8)...)
		body = order.AppendUint32(body, uint32(len(p)))
		body = order.AppendUint32(body, uint32(len(p)))
		body = append(body, p...)
		b = append(b, ngBlock(order, 6, body)...)
	}
	return b
}

// testHello is a recorded hello with its golden (computed by tshark).
func testHello(t *testing.T, i int) helloFile {
	t.Helper()
	hs := loadHellos(t)
	if len(hs) < 2 {
		t.Skip("need two recorded hellos")
	}
	return hs[i]
}

const (
	cli  = "10.0.0.1:40000"
	srv  = "10.0.0.2:443"
	cli6 = "[2001:db8::1]:40001"
	srv6 = "[2001:db8::2]:443"
)

// handshake is a whole connection start: SYN, SYN-ACK, then the hello split
// into the given segment sizes (client ISN 1000, so data starts at 1001).
func handshake(c, s string, hello []byte, sizes ...int) [][]byte {
	pkts := [][]byte{
		testSeg{c, s, 1000, 0, tcpSYN, nil}.ip(),
		testSeg{s, c, 5000, 1001, tcpSYN | tcpACK, nil}.ip(),
	}
	seq := uint32(1001)
	for _, n := range append(sizes, len(hello)) {
		n = min(n, len(hello))
		if n == 0 {
			break
		}
		pkts = append(pkts, testSeg{c, s, seq, 5001, tcpACK, hello[:n]}.ip())
		seq += uint32(n)
		hello = hello[n:]
	}
	return pkts
}

func mapPkts(pkts [][]byte, f func([]byte) []byte) [][]byte {
	out := make([][]byte, len(pkts))
	for i, p := range pkts {
		out[i] = f(p)
	}
	return out
}

// wantLine checks a line against a recorded hello's golden and position.
func wantLine(t *testing.T, what string, l pcapLine, h helloFile, stream, frame int, src, dst string) {
	t.Helper()
	switch {
	case l.Error != "":
		t.Errorf("%s: error %s", what, l.Error)
	case l.JA3Hash != h.want.JA3Hash || l.JA3NHash != h.want.JA3NHash:
		t.Errorf("%s: ja3 %s ja3n %s, want %s %s", what, l.JA3Hash, l.JA3NHash, h.want.JA3Hash, h.want.JA3NHash)
	}
	if p := l.Pcap; p.Stream != stream || p.Frame != frame || p.Src != src || p.Dst != dst {
		t.Errorf("%s: pcap %+v, want stream %d frame %d %s -> %s", what, *p, stream, frame, src, dst)
	}
}

func TestPcapHandBuilt(t *testing.T) {
	h0, h1 := testHello(t, 0), testHello(t, 1)
	w := h0.wire
	third := len(w) / 3
	seg := func(off, n int) []byte { return w[off : off+n] }
	corrupt := bytes.Repeat([]byte{0xee}, third)

	type want struct {
		h             helloFile
		stream, frame int
		src, dst      string
	}
	cases := []struct {
		name string
		file []byte
		want []want
	}{
		{"classic big-endian µs, Ethernet", classicPcap(binary.BigEndian, false, 1, mapPkts(handshake(cli, srv, w), func(b []byte) []byte { return ether(b) })...),
			[]want{{h0, 0, 3, cli, srv}}},
		{"classic little-endian ns, raw IP, hello in 2 segments", classicPcap(binary.LittleEndian, true, 101, handshake(cli, srv, w, 100)...),
			[]want{{h0, 0, 4, cli, srv}}},
		{"classic big-endian ns, IPv4 link type", classicPcap(binary.BigEndian, true, 228, handshake(cli, srv, w)...),
			[]want{{h0, 0, 3, cli, srv}}},
		{"pcapng, two sections of different byte order", append(
			ngSection(binary.LittleEndian, 1, false, mapPkts(handshake(cli, srv, w), func(b []byte) []byte { return ether(b) })...),
			ngSection(binary.BigEndian, 101, true, handshake("10.0.0.3:50000", srv, h1.wire)...)...),
			[]want{{h0, 0, 3, cli, srv}, {h1, 1, 6, "10.0.0.3:50000", srv}}},
		{"out of order, with a corrupt retransmission", classicPcap(binary.LittleEndian, false, 101,
			testSeg{cli, srv, 1000, 0, tcpSYN, nil}.ip(),
			testSeg{srv, cli, 5000, 1001, tcpSYN | tcpACK, nil}.ip(),
			testSeg{cli, srv, 1001 + 2*uint32(third), 5001, tcpACK, w[2*third:]}.ip(),
			testSeg{cli, srv, 1001, 5001, tcpACK, seg(0, third)}.ip(),
			testSeg{cli, srv, 1001, 5001, tcpACK, corrupt}.ip(), // first copy wins
			testSeg{srv, cli, 5001, 1001 + uint32(third), tcpACK, nil}.ip(),
			testSeg{cli, srv, 1001 + uint32(third), 5001, tcpACK, seg(third, third)}.ip(),
		), []want{{h0, 0, 7, cli, srv}}},
		{"no SYN, server speaks first, 802.1ad+802.1Q tags", classicPcap(binary.BigEndian, false, 1,
			ether(testSeg{srv, cli, 9000, 77, tcpACK, []byte("SSH-2.0-x\r\n")}.ip(), 0x88a8, 0x8100),
			ether(testSeg{cli, srv, 77, 9011, tcpACK, w}.ip(), 0x88a8, 0x8100),
		), []want{{h0, 0, 2, cli, srv}}},
		{"IPv6 with hop-by-hop over SLL2", ngSection(binary.LittleEndian, 276, false, mapPkts(handshake(cli6, srv6, w, 200), sll2)...),
			[]want{{h0, 0, 4, cli6, srv6}}},
		{"Linux SLL", classicPcap(binary.LittleEndian, false, 113, mapPkts(handshake(cli, srv, w), sll)...),
			[]want{{h0, 0, 3, cli, srv}}},
		{"BSD loopback, IPv6", classicPcap(binary.LittleEndian, false, 0, mapPkts(handshake(cli6, srv6, w), loopback)...),
			[]want{{h0, 0, 3, cli6, srv6}}},
		{"plain HTTP stream, then a TLS stream", classicPcap(binary.LittleEndian, false, 101, append(
			handshake("10.0.0.9:1234", "10.0.0.2:80", []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n")),
			handshake(cli, srv, w)...)...),
			[]want{{h0, 1, 6, cli, srv}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			lines, stderr, code := runCaptureBytes(t, c.file)
			if code != 0 {
				t.Errorf("exit %d, stderr %s", code, stderr)
			}
			if len(lines) != len(c.want) {
				t.Fatalf("%d lines, want %d: %+v", len(lines), len(c.want), lines)
			}
			for i, wl := range c.want {
				wantLine(t, c.name, lines[i], wl.h, wl.stream, wl.frame, wl.src, wl.dst)
			}
		})
	}
}

// TestPcapIncomplete: a hello whose middle segment was never captured, and
// one cut short by the end of the capture, each give an error line (exit 1);
// the complete stream between them still gives its fingerprint, first,
// because lines come out as streams are decided and the incomplete ones
// are only decided at the end of the capture.
func TestPcapIncomplete(t *testing.T) {
	h := testHello(t, 0)
	w := h.wire
	third := uint32(len(w) / 3)
	file := classicPcap(binary.BigEndian, false, 101,
		testSeg{cli, srv, 1000, 0, tcpSYN, nil}.ip(),
		testSeg{cli, srv, 1001, 0, tcpACK, w[:third]}.ip(),
		testSeg{cli, srv, 1001 + 2*third, 0, tcpACK, w[2*third:]}.ip(),
		testSeg{"10.0.0.5:2000", srv, 1, 0, tcpACK, w}.ip(),
		testSeg{"10.0.0.6:2000", srv, 1, 0, tcpACK, w[:third]}.ip(),
	)
	lines, _, code := runCaptureBytes(t, file)
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	if len(lines) != 3 {
		t.Fatalf("%d lines, want 3: %+v", len(lines), lines)
	}
	for i, want := range []struct {
		stream, frame int
		ok            bool
	}{{1, 4, true}, {0, 2, false}, {2, 5, false}} {
		l := lines[i]
		if l.Pcap.Stream != want.stream || l.Pcap.Frame != want.frame {
			t.Errorf("line %d: pcap %+v, want stream %d frame %d", i, *l.Pcap, want.stream, want.frame)
		}
		if want.ok && (l.Error != "" || l.JA3Hash != h.want.JA3Hash) {
			t.Errorf("line %d: %+v, want ja3 %s", i, l, h.want.JA3Hash)
		}
		if !want.ok && (l.Error == "" || l.JA3 != "" || l.TLS != nil) {
			t.Errorf("line %d: %+v, want only an error", i, l)
		}
	}
}

// badCaptures are files whose structure is broken; each must give exit 2
// and a message, never a panic.
func badCaptures(t *testing.T) map[string][]byte {
	h := testHello(t, 0)
	good := classicPcap(binary.LittleEndian, false, 101, handshake(cli, srv, h.wire)...)
	hugeRecord := classicPcap(binary.LittleEndian, false, 101, []byte{1})
	binary.LittleEndian.PutUint32(hugeRecord[24+8:], 1<<30)
	ng := ngSection(binary.BigEndian, 101, false, handshake(cli, srv, h.wire)...)
	badTrailer := append([]byte(nil), ng...)
	badTrailer[len(badTrailer)-1] ^= 4
	oddLength := append(append([]byte(nil), ng...), ngBlock(binary.BigEndian, 6, make([]byte, 24))...)
	binary.BigEndian.PutUint32(oddLength[len(ng)+4:], 13)
	noIface := append(ng[:28:28], ngBlock(binary.BigEndian, 6, make([]byte, 24))...)
	hugeBlock := append(ng[:28:28], 0, 0, 0, 6, 0x40, 0, 0, 0)
	return map[string][]byte{
		"classic header cut":      good[:10],
		"classic record cut":      good[:len(good)-7],
		"classic record too long": hugeRecord,
		"classic version 9":       append(append([]byte{0xd4, 0xc3, 0xb2, 0xa1, 9, 0}, good[6:24]...), 0, 0),
		"pcapng header cut":       ng[:14],
		"pcapng trailer mismatch": badTrailer,
		"pcapng length not x4":    oddLength,
		"pcapng no interface":     noIface,
		"pcapng block too long":   hugeBlock,
		"pcapng garbage after":    append(append([]byte(nil), ng...), "garbage!"...),
	}
}

func TestPcapBadFiles(t *testing.T) {
	for name, data := range badCaptures(t) {
		_, stderr, code := runCaptureBytes(t, data)
		if code != 2 || !strings.Contains(stderr, "ja3echo:") {
			t.Errorf("%s: exit %d, stderr %q; want 2 and a message", name, code, stderr)
		}
		if _, err := readCapture(bytes.NewReader(data), func(*fpResult) error { return nil }); !errors.Is(err, errPcapFormat) {
			t.Errorf("%s: error %v, want errPcapFormat", name, err)
		}
	}
	// What was read before the damage is still printed.
	h := testHello(t, 0)
	file := classicPcap(binary.BigEndian, false, 101, append(handshake(cli, srv, h.wire), []byte{0x45, 0})...)
	lines, _, code := runCaptureBytes(t, file[:len(file)-1])
	if code != 2 || len(lines) != 1 || lines[0].JA3Hash != h.want.JA3Hash {
		t.Errorf("last record cut: exit %d, lines %+v; want 2 and the hello", code, lines)
	}
}

// FuzzPcap: the reader, decoder and reassembly never panic, and whatever
// they emit is well-formed: at most one line per stream, each with a packet
// number, either fingerprints or an error.
func FuzzPcap(f *testing.F) {
	for _, p := range []string{
		filepath.Join(sharedTestdataDir, "ja4/foxio/pcap/tls12.pcap"),
		filepath.Join(sharedTestdataDir, "ja4/foxio/pcap/tls-non-ascii-alpn.pcapng"),
		filepath.Join(sharedTestdataDir, "ja3/s2n-tls/tcp_fragmentation.pcap"),
		"../../testdata/clienthellos/pcap/openssl_fragmented.pcap",
	} {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	// Hand-built seeds carry a real hello when the recording is there.
	hello := []byte{0x16, 3, 1, 0, 4, 1, 0, 0, 0}
	if b, err := os.ReadFile("../../testdata/clienthellos/go_tls12.hex"); err == nil {
		var hx strings.Builder
		for _, line := range strings.Split(string(b), "\n") {
			if !strings.HasPrefix(line, "#") {
				hx.WriteString(strings.TrimSpace(line))
			}
		}
		if w, err := hex.DecodeString(hx.String()); err == nil {
			hello = w
		}
	}
	f.Add(classicPcap(binary.BigEndian, true, 1, mapPkts(handshake(cli, srv, hello, 3), func(b []byte) []byte { return ether(b, 0x8100) })...))
	f.Add(ngSection(binary.LittleEndian, 276, true, mapPkts(handshake(cli6, srv6, hello, 2), sll2)...))
	f.Fuzz(func(t *testing.T, data []byte) {
		seen := map[int]bool{}
		_, err := readCapture(bytes.NewReader(data), func(l *fpResult) error {
			switch {
			case l.Pcap == nil || seen[l.Pcap.Stream] || l.Pcap.Stream < 0 || l.Pcap.Frame < 1:
				t.Fatalf("bad or repeated position %+v", l.Pcap)
			case (l.Error == "") == (l.Fingerprints == nil):
				t.Fatalf("a line must have fingerprints or an error: %+v", l)
			}
			seen[l.Pcap.Stream] = true
			return nil
		})
		if err != nil && !errors.Is(err, errPcapFormat) {
			t.Fatalf("error %v is not errPcapFormat", err)
		}
	})
}

// TestPcapStreamsLines: on a live pipe (tcpdump -w - | ja3echo fingerprint -)
// a hello's line comes out as soon as its last segment is read, not when
// the input ends.
func TestPcapStreamsLines(t *testing.T) {
	h := testHello(t, 0)
	file := classicPcap(binary.LittleEndian, false, 101, handshake(cli, srv, h.wire)...)
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	done := make(chan int, 1)
	go func() {
		done <- fingerprintCmd([]string{"-"}, inR, outW, io.Discard)
		outW.Close()
	}()
	go func() { _, _ = inW.Write(file) }() // the pipe stays open: more packets could follow
	line := make(chan string, 1)
	go func() {
		l, _ := bufio.NewReader(outR).ReadString('\n')
		line <- l
	}()
	select {
	case l := <-line:
		var got pcapLine
		if err := json.Unmarshal([]byte(l), &got); err != nil || got.JA3Hash != h.want.JA3Hash {
			t.Errorf("first line %q (%v), want ja3_hash %s", l, err, h.want.JA3Hash)
		}
	case <-time.After(10 * time.Second): // a hang guard, not a timing assertion
		t.Fatal("no line while the input is still open")
	}
	inW.Close()
	if code := <-done; code != 0 {
		t.Errorf("exit %d, want 0", code)
	}
}
