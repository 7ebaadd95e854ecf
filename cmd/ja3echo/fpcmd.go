package main

import (
	"bufio"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/ja3sentry/ja3echo/fingerprint"
)

// fpResult is one output line of `ja3echo fingerprint`: the same keys as
// /json's fingerprints and tls object, or an error.
type fpResult struct {
	*fingerprint.Fingerprints
	TLS   *fingerprint.TLS `json:"tls,omitempty"`
	Error string           `json:"error,omitempty"`
	Pcap  *pcapWhere       `json:"pcap,omitempty"` // only for capture files
}

// fingerprintCmd reads hex lines (bytes a client sent at the start of a
// connection; empty line: nothing sent) and prints one JSON line for each,
// through the same framer and parser as the server. A pcap or pcapng file
// (on stdin too, recognised by its magic) gives one line per TCP stream
// whose client sent a ClientHello instead. Exit 1 if any line failed, 2 on
// usage or I/O errors or an unreadable capture.
func fingerprintCmd(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) != 1 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprintln(stderr, "usage: ja3echo fingerprint FILE|-\n\nEach input line is the hex of the bytes a client sent at the start of a\nconnection (TLS records; whitespace ignored). One JSON line is printed per input line.\n\nA pcap or pcapng file gives one JSON line per TCP connection whose client sent\na ClientHello, with a \"pcap\" object: stream, frame, src, dst.")
		return 2
	}
	in := stdin
	if args[0] != "-" {
		f, err := os.Open(args[0])
		if err != nil {
			fmt.Fprintln(stderr, "ja3echo:", err)
			return 2
		}
		defer f.Close()
		in = f
	}
	out := bufio.NewWriter(stdout)
	defer out.Flush()
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	br := bufio.NewReaderSize(in, 64<<10)
	if isCapture(br) {
		return fingerprintCapture(br, enc, out, stderr)
	}
	sc := bufio.NewScanner(br)
	sc.Buffer(make([]byte, 64<<10), 4*fingerprint.MaxWireBytes+1024)
	status := 0
	for sc.Scan() {
		r := fingerprintLine(sc.Text())
		if r.Error != "" {
			status = 1
		}
		if err := enc.Encode(r); err != nil {
			fmt.Fprintln(stderr, "ja3echo:", err)
			return 2
		}
	}
	if err := sc.Err(); err != nil {
		fmt.Fprintln(stderr, "ja3echo: reading input:", err)
		return 2
	}
	return status
}

func fingerprintLine(line string) fpResult {
	raw, err := hex.DecodeString(strings.Join(strings.Fields(line), ""))
	if err != nil {
		return fpResult{Error: "bad hex: " + err.Error()}
	}
	// The same decision the server's loop makes before parsing.
	if ok, err := fingerprint.Frame(raw); err != nil {
		return fpResult{Error: err.Error()}
	} else if !ok {
		return fpResult{Error: fmt.Sprintf("%v: %d bytes are not a whole ClientHello", fingerprint.ErrTruncated, len(raw))}
	}
	return parsed(raw)
}

// parsed is the line for client bytes the framer found complete.
func parsed(raw []byte) fpResult {
	h, err := fingerprint.Parse(raw)
	if err != nil {
		return fpResult{Error: err.Error()}
	}
	fp, t := h.Fingerprints(), h.TLS()
	return fpResult{Fingerprints: &fp, TLS: &t}
}

// isCapture peeks at the start of the input for a capture file's magic. A
// hex line starts with a hex digit or whitespace, never with these bytes;
// only a first byte that could start a magic makes it wait for more input.
func isCapture(br *bufio.Reader) bool {
	first, err := br.Peek(1)
	if err != nil {
		return false
	}
	switch first[0] {
	case 0xa1, 0xd4, 0x4d:
		head, _ := br.Peek(4)
		return isCaptureMagic(head)
	case 0x0a:
		head, _ := br.Peek(12)
		return isCaptureMagic(head)
	}
	return false
}

// fingerprintCapture prints the lines of a capture file as each stream's
// hello is decided, flushing each line so that a live pipe from tcpdump
// shows it at once. What was read before a structural error is printed,
// then the error, exit 2.
func fingerprintCapture(r io.Reader, enc *json.Encoder, out *bufio.Writer, stderr io.Writer) int {
	status := 0
	dropped, err := readCapture(r, func(l *fpResult) error {
		if l.Error != "" {
			status = 1
		}
		if err := enc.Encode(l); err != nil {
			return err
		}
		return out.Flush()
	})
	if dropped > 0 {
		fmt.Fprintf(stderr, "ja3echo: more than %d TCP streams in the capture; %d packets of later streams ignored\n", maxPcapStreams, dropped)
		status = max(status, 1)
	}
	if err != nil {
		fmt.Fprintln(stderr, "ja3echo:", err)
		return 2
	}
	return status
}
