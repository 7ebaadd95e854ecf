package main

// `ja3echo fingerprint FILE|-`: one JSON line per hex input line, checked
// against goldens computed by tshark (testdata/clienthellos) and against
// what the live server's /json says for the same bytes.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	utls "github.com/refraction-networking/utls"

	"github.com/ja3sentry/ja3echo/fingerprint"
)

// golden is the part of a testdata/clienthellos/*.golden.json file the
// tests read; the values come from tshark, not from this repository's code.
type golden struct {
	Client   string   `json:"client"`
	JA3      string   `json:"ja3"`
	JA3Hash  string   `json:"ja3_hash"`
	JA3N     string   `json:"ja3n"`
	JA3NHash string   `json:"ja3n_hash"`
	SNI      string   `json:"sni"`
	ALPN     []string `json:"alpn"`
}

type helloFile struct {
	name  string
	wire  []byte // the records the client sent
	want  golden
	multi bool // the client itself sent the hello in several records
}

// loadHellos reads the recorded hellos that have a golden file.
func loadHellos(t *testing.T) []helloFile {
	t.Helper()
	const dir = "../../testdata/clienthellos"
	paths, _ := filepath.Glob(filepath.Join(dir, "*.hex"))
	var out []helloFile
	for _, p := range paths {
		gb, err := os.ReadFile(strings.TrimSuffix(p, ".hex") + ".golden.json")
		if err != nil {
			continue // no golden (randomized parrots)
		}
		var g golden
		if err := json.Unmarshal(gb, &g); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		hb, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var hexText strings.Builder
		for _, line := range strings.Split(string(hb), "\n") {
			if !strings.HasPrefix(strings.TrimSpace(line), "#") {
				hexText.WriteString(strings.Join(strings.Fields(line), ""))
			}
		}
		wire, err := hex.DecodeString(hexText.String())
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		h, _, ok := reassemble(wire)
		if !ok {
			t.Fatalf("%s: no whole ClientHello in the file", p)
		}
		out = append(out, helloFile{name: filepath.Base(p), wire: wire, want: g,
			multi: countRecords(wire, len(h.msg)) > 1})
	}
	if len(out) == 0 {
		t.Skipf("no recorded hellos with goldens in %s (testdata/tools/regen.sh makes them)", dir)
	}
	return out
}

// fpLine is one output line, with the keys the tests look at.
type fpLine struct {
	JA3      string `json:"ja3"`
	JA3Hash  string `json:"ja3_hash"`
	JA3N     string `json:"ja3n"`
	JA3NHash string `json:"ja3n_hash"`
	TLS      *struct {
		ServerName string   `json:"server_name"`
		ALPN       []string `json:"alpn"`
		RawHex     string   `json:"raw_hex"`
	} `json:"tls"`
	Error string `json:"error"`
}

// runFingerprint runs the subcommand in-process on input given on stdin.
func runFingerprint(t *testing.T, input string) (lines []string, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = fingerprintCmd([]string{"-"}, strings.NewReader(input), &out, &errOut)
	sc := bufio.NewScanner(&out)
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	return lines, errOut.String(), code
}

func decodeFP(t *testing.T, line string) fpLine {
	t.Helper()
	var f fpLine
	if err := json.Unmarshal([]byte(line), &f); err != nil {
		t.Fatalf("output line is not JSON: %v\n%s", err, line)
	}
	return f
}

// variants are the shapes one recorded hello is fed in: as sent, re-split
// into tiny records, followed by more client data, hex with spaces.
type hexVariant struct{ name, hex string }

func variants(h helloFile) []hexVariant {
	msg, used, _ := reassemble(h.wire)
	ccs := []byte{20, 3, 3, 0, 1, 1}                    // TLS 1.3 middlebox-compat ChangeCipherSpec
	appData := []byte{23, 3, 3, 0, 5, 1, 2, 3, 4, 5}    // early data
	garbage := []byte("GET / HTTP/1.1\r\n\r\n\x00\x01") // whatever follows is ignored
	spaced := hex.EncodeToString(h.wire)
	spaced = spaced[:10] + " \t " + spaced[10:20] + "  " + spaced[20:]
	return []hexVariant{
		{"as sent", hex.EncodeToString(h.wire)},
		{"1-byte records", hex.EncodeToString(fragmentRecords(msg.msg, msg.version, 1))},
		{"100-byte records", hex.EncodeToString(fragmentRecords(msg.msg, msg.version, 100))},
		{"then CCS and data", hex.EncodeToString(append(append(append([]byte(nil), h.wire[:used]...), ccs...), appData...))},
		{"then garbage", hex.EncodeToString(append(append([]byte(nil), h.wire[:used]...), garbage...))},
		{"with whitespace", spaced},
	}
}

func TestFingerprintCmdGoldens(t *testing.T) {
	hellos := loadHellos(t)
	var input strings.Builder
	type expect struct {
		file    helloFile
		variant string
	}
	var want []expect
	sawMulti := false
	for _, h := range hellos {
		sawMulti = sawMulti || h.multi
		for _, v := range variants(h) {
			input.WriteString(v.hex + "\n")
			want = append(want, expect{h, v.name})
		}
	}
	lines, stderr, code := runFingerprint(t, input.String())
	if code != 0 {
		t.Errorf("exit code %d, want 0; stderr %s", code, stderr)
	}
	if len(lines) != len(want) {
		t.Fatalf("%d output lines for %d input lines", len(lines), len(want))
	}
	for i, w := range want {
		got := decodeFP(t, lines[i])
		g := w.file.want
		where := w.file.name + " (" + w.variant + ")"
		if got.Error != "" {
			t.Errorf("%s: error %q", where, got.Error)
			continue
		}
		if got.JA3 != g.JA3 || got.JA3Hash != g.JA3Hash {
			t.Errorf("%s: ja3 = %s %s\n want %s %s", where, got.JA3Hash, got.JA3, g.JA3Hash, g.JA3)
		}
		if got.JA3N != g.JA3N || got.JA3NHash != g.JA3NHash {
			t.Errorf("%s: ja3n = %s %s\n want %s %s", where, got.JA3NHash, got.JA3N, g.JA3NHash, g.JA3N)
		}
		if got.TLS == nil {
			t.Errorf("%s: no tls object", where)
			continue
		}
		if got.TLS.ServerName != g.SNI || !slicesEqualNil(got.TLS.ALPN, g.ALPN) {
			t.Errorf("%s: tls server_name %q alpn %q, want %q %q", where, got.TLS.ServerName, got.TLS.ALPN, g.SNI, g.ALPN)
		}
	}
	if !sawMulti {
		t.Log("note: no recorded hello spans several records; only the re-split variants cover that")
	}
}

func slicesEqualNil(a, b []string) bool {
	return len(a) == len(b) && (len(a) == 0 || reflect.DeepEqual(a, b))
}

// TestFingerprintCmdErrors: every line gives exactly one line, in order;
// failures are {"error": ...}; one failure makes the exit code 1.
func TestFingerprintCmdErrors(t *testing.T) {
	hellos := loadHellos(t)
	good := hex.EncodeToString(hellos[0].wire)
	truncated := hex.EncodeToString(hellos[0].wire[:len(hellos[0].wire)/2])
	inputs := []struct {
		name, hex string
		ok        bool
	}{
		{"valid", good, true},
		{"empty line: nothing sent", "", false},
		{"bad hex", "16030zz", false},
		{"odd hex", "160", false},
		{"plaintext HTTP", hex.EncodeToString([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n")), false},
		{"truncated hello", truncated, false},
		{"only a record header", "1603010200", false},
		{"application data first", "17030300050102030405", false},
		{"SSLv2 hello", "802e0103010015000000100000", false},
		{"not a ClientHello", "16030300040200000000", false},
		{"valid again", good, true},
	}
	var in strings.Builder
	for _, c := range inputs {
		in.WriteString(c.hex + "\n")
	}
	lines, _, code := runFingerprint(t, in.String())
	if code != 1 {
		t.Errorf("exit code %d, want 1", code)
	}
	if len(lines) != len(inputs) {
		t.Fatalf("%d output lines for %d input lines:\n%s", len(lines), len(inputs), strings.Join(lines, "\n"))
	}
	for i, c := range inputs {
		got := decodeFP(t, lines[i])
		switch {
		case c.ok && (got.Error != "" || got.JA3Hash != hellos[0].want.JA3Hash):
			t.Errorf("line %d (%s): %s", i+1, c.name, lines[i])
		case !c.ok && (got.Error == "" || got.JA3 != "" || got.TLS != nil):
			t.Errorf("line %d (%s): want only an error, got %s", i+1, c.name, lines[i])
		}
	}

	// All lines good: exit 0. No lines: exit 0, no output.
	if lines, _, code := runFingerprint(t, good+"\n"+good); code != 0 || len(lines) != 2 {
		t.Errorf("two good lines (last without newline): exit %d, %d lines", code, len(lines))
	}
	if lines, _, code := runFingerprint(t, ""); code != 0 || len(lines) != 0 {
		t.Errorf("empty input: exit %d, %d lines", code, len(lines))
	}
}

// TestFingerprintCmdMatchesJSON feeds the bytes live clients sent to the
// subcommand and compares its line with what /json told the same clients:
// every fingerprint key and the tls object must be equal.
func TestFingerprintCmdMatchesJSON(t *testing.T) {
	srv := startServer(t, nil)
	clients := []struct {
		name     string
		fragment int
		run      func(t *testing.T, addr string) clientResult
	}{
		{"go", 0, func(t *testing.T, addr string) clientResult { return runGo(t, addr, "x") }},
		{"go, hello in 3-byte records", 3, func(t *testing.T, addr string) clientResult { return runGo(t, addr, "x") }},
		{"utls chrome", 0, func(t *testing.T, addr string) clientResult {
			return runUTLS(t, addr, utls.HelloChrome_Auto, "x")
		}},
		{"utls firefox", 200, func(t *testing.T, addr string) clientResult {
			return runUTLS(t, addr, utls.HelloFirefox_Auto, "x")
		}},
	}
	// The fingerprint keys are those of fingerprint.Fingerprints, which /json
	// embeds; both outputs must carry all of them, plus the tls object.
	keys := []string{"tls"}
	var zero map[string]any
	if b, err := json.Marshal(fingerprint.Fingerprints{}); err != nil || json.Unmarshal(b, &zero) != nil {
		t.Fatal("cannot list the fingerprint keys")
	}
	for k := range zero {
		keys = append(keys, k)
	}
	for _, c := range clients {
		t.Run(c.name, func(t *testing.T) {
			rec := newFragmentingRecorder(t, srv.addr, c.fragment)
			res := c.run(t, rec.addr())
			got := rec.next(t)
			var echo map[string]any
			if err := json.Unmarshal(res.body, &echo); err != nil {
				t.Fatal(err)
			}
			lines, stderr, code := runFingerprint(t, hex.EncodeToString(got.sent)+"\n")
			if code != 0 || len(lines) != 1 {
				t.Fatalf("exit %d, %d lines, stderr %s", code, len(lines), stderr)
			}
			var fp map[string]any
			if err := json.Unmarshal([]byte(lines[0]), &fp); err != nil {
				t.Fatal(err)
			}
			for _, k := range keys {
				v, ok := fp[k]
				if !ok {
					t.Errorf("the fingerprint line has no %q", k)
				} else if !reflect.DeepEqual(v, echo[k]) {
					t.Errorf("%q: fingerprint says %v\n/json says %v", k, v, echo[k])
				}
			}
			if len(fp) != len(keys) {
				t.Errorf("the fingerprint line has %d keys, want %d (%v): %s", len(fp), len(keys), keys, lines[0])
			}
		})
	}
}

// TestFingerprintBinary runs the built command: FILE and - give the same
// lines; exit codes 0, 1 and 2 at the process level.
func TestFingerprintBinary(t *testing.T) {
	hellos := loadHellos(t)
	dir := t.TempDir()
	var good strings.Builder
	for _, h := range hellos {
		good.WriteString(hex.EncodeToString(h.wire) + "\n")
	}
	goodFile := filepath.Join(dir, "good.hex")
	if err := os.WriteFile(goodFile, []byte(good.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	run := func(stdin string, args ...string) (string, string, int) {
		ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
		defer cancel()
		cmd := binaryCommand(ctx, t, append([]string{"fingerprint"}, args...)...)
		cmd.Stdin = strings.NewReader(stdin)
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return out.String(), errOut.String(), code
	}

	fromFile, stderr, code := run("", goodFile)
	if code != 0 || strings.Count(fromFile, "\n") != len(hellos) {
		t.Fatalf("fingerprint FILE: exit %d, %d lines for %d hellos; stderr %s", code, strings.Count(fromFile, "\n"), len(hellos), stderr)
	}
	for i, line := range strings.Split(strings.TrimSuffix(fromFile, "\n"), "\n") {
		if got := decodeFP(t, line); got.JA3NHash != hellos[i].want.JA3NHash {
			t.Errorf("line %d: ja3n_hash %s, want %s (%s)", i+1, got.JA3NHash, hellos[i].want.JA3NHash, hellos[i].name)
		}
	}
	fromStdin, _, code := run(good.String(), "-")
	if code != 0 || fromStdin != fromFile {
		t.Errorf("fingerprint -: exit %d, output differs from FILE's", code)
	}
	out, _, code := run(good.String()+"\n", "-") // a trailing empty line: nothing sent
	if code != 1 || strings.Count(out, "\n") != len(hellos)+1 || !strings.Contains(out, `"error"`) {
		t.Errorf("with an empty line: exit %d, output:\n%s", code, out)
	}
	if _, stderr, code := run("", filepath.Join(dir, "absent.hex")); code != 2 || !strings.Contains(stderr, "absent.hex") {
		t.Errorf("missing FILE: exit %d, stderr %q; want 2 naming the file", code, stderr)
	}
	if _, stderr, code := run(""); code != 2 || !strings.Contains(stderr, "usage") {
		t.Errorf("no argument: exit %d, stderr %q; want 2 with usage", code, stderr)
	}
}
