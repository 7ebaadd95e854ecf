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
}

// fingerprintCmd reads hex lines (bytes a client sent at the start of a
// connection; empty line: nothing sent) and prints one JSON line for each,
// through the same framer and parser as the server. Exit 1 if any line
// failed, 2 on usage or I/O errors.
func fingerprintCmd(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) != 1 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprintln(stderr, "usage: ja3echo fingerprint FILE|-\n\nEach input line is the hex of the bytes a client sent at the start of a\nconnection (TLS records; whitespace ignored). One JSON line is printed per input line.")
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
	sc := bufio.NewScanner(in)
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
	h, err := fingerprint.Parse(raw)
	if err != nil {
		return fpResult{Error: err.Error()}
	}
	fp, t := h.Fingerprints(), h.TLS()
	return fpResult{Fingerprints: &fp, TLS: &t}
}
