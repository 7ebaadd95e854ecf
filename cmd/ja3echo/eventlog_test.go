package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
)

func discardLog() *logrus.Entry {
	l := logrus.New()
	l.SetOutput(bytes.NewBuffer(nil))
	return logrus.NewEntry(l)
}

func TestSeenSetGenerations(t *testing.T) {
	s := newSeenSet(2)
	steps := []struct {
		key  string
		new  bool
		size int // len() after the add
	}{
		{"a", true, 1},
		{"b", true, 2},
		{"a", false, 2}, // in the current generation
		{"c", true, 3},  // current full: {a b} becomes old, c starts a new one
		{"a", false, 4}, // found in old, promoted to current {c a}
		{"d", true, 3},  // current full again: old = {c a}, b is dropped
		{"b", true, 4},  // unseen for a whole generation: announced again
		{"a", false, 3}, // still remembered (old); current {d b} is full: old = {d b}, current = {a}
		{"c", true, 4},  // last seen three adds ago, more than a generation: forgotten
		{"d", false, 3}, // in old; current {a c} is full: old = {a c}, current = {d}
	}
	for i, st := range steps {
		if got := s.add(st.key); got != st.new {
			t.Errorf("step %d: add(%q) = %v, want %v", i, st.key, got, st.new)
		}
		if s.len() != st.size {
			t.Errorf("step %d: len() = %d, want %d", i, s.len(), st.size)
		}
	}
}

// TestSeenSetBounded checks the memory bound: at most 2×limit keys.
func TestSeenSetBounded(t *testing.T) {
	s := newSeenSet(100)
	for i := range 10000 {
		if !s.add(fmt.Sprint(i)) {
			t.Fatalf("key %d reported as seen", i)
		}
		if s.len() > 200 {
			t.Fatalf("len() = %d after %d keys, limit 100", s.len(), i+1)
		}
	}
}

func entry(ja3, ja3n, ua string) *logEntry {
	return &logEntry{JA3Hash: ja3, JA3NHash: ja3n, UserAgent: ua, RemoteAddr: "127.0.0.1:1"}
}

// Akamai fingerprint hashes for HTTP/2 entries: literals, any 32 hex digits
// do (akamaiChrome is Chrome's published value).
const (
	akamaiChrome = "52d84b11737d980aef856699f885ca86"
	akamaiOther  = "0123456789abcdef0123456789abcdef"
	akamaiTorn   = "fedcba9876543210fedcba9876543210"
)

// h2 turns l into the entry of an HTTP/2 connection with Akamai hash akamai.
func h2(l *logEntry, akamai string) *logEntry {
	l.AkamaiHash = akamai
	return l
}

// akamaiFlag is new_akamai as the test expects it in a line: absent (an
// HTTP/1 line), false or true.
type akamaiFlag string

const (
	akamaiAbsent akamaiFlag = ""
	akamaiSeen   akamaiFlag = "false"
	akamaiNew    akamaiFlag = "true"
)

// checkAkamaiFlag compares new_akamai in one JSON line and in the entry
// record filled with want.
func checkAkamaiFlag(t *testing.T, what string, line []byte, l *logEntry, want akamaiFlag) {
	t.Helper()
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(line, &keys); err != nil {
		t.Fatalf("%s: not one JSON object: %v\n%s", what, err, line)
	}
	raw, present := keys["new_akamai"]
	switch {
	case want == akamaiAbsent && present:
		t.Errorf("%s: new_akamai is %s on a line without akamai_hash: %s", what, raw, line)
	case want != akamaiAbsent && string(raw) != string(want):
		t.Errorf("%s: new_akamai is %q (present %v), want %s: %s", what, raw, present, want, line)
	}
	if got := l.NewAkamai != nil && *l.NewAkamai; got != (want == akamaiNew) || (l.NewAkamai == nil) != (want == akamaiAbsent) {
		t.Errorf("%s: entry NewAkamai = %v (nil %v), want %s", what, got, l.NewAkamai == nil, want)
	}
}

// logFileLines returns the file's lines, without the final newline.
func logFileLines(t *testing.T, path string) [][]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Split(bytes.TrimSuffix(b, []byte("\n")), []byte("\n"))
}

func TestEventLogFirstSeen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "dir", "events.log") // parents are created
	e, err := openEventLog(path, discardLog())
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		l                 *logEntry
		newJA3, newClient bool
		newAkamai         akamaiFlag
	}{
		{entry("j1", "n1", "curl/8"), true, true, akamaiAbsent},
		{entry("j1", "n1", "curl/8"), false, false, akamaiAbsent},
		{entry("j1", "n1", "Wget/1"), false, true, akamaiAbsent}, // same TLS stack, other UA
		{entry("j2", "n1", "curl/8"), true, false, akamaiAbsent}, // JA3 changed (extension order), JA3N did not
		{entry("", "", "x"), false, false, akamaiAbsent},         // not fingerprinted: never new
		// HTTP/2: the Akamai hash is tracked on its own, whatever the TLS side.
		{h2(entry("j1", "n1", "curl/8"), akamaiChrome), false, false, akamaiNew},
		{h2(entry("j3", "n3", "h2load"), akamaiChrome), true, true, akamaiSeen},
		{h2(entry("j1", "n1", "curl/8"), akamaiOther), false, false, akamaiNew},
		{entry("j1", "n1", "curl/8"), false, false, akamaiAbsent}, // HTTP/1 again: still no key
	}
	for i, st := range steps {
		e.record(st.l)
		if st.l.NewJA3 != st.newJA3 || st.l.NewClient != st.newClient {
			t.Errorf("step %d: new_ja3, new_client = %v, %v; want %v, %v", i, st.l.NewJA3, st.l.NewClient, st.newJA3, st.newClient)
		}
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	lines := readLog(t, path)
	if len(lines) != len(steps) {
		t.Fatalf("%d lines, want %d", len(lines), len(steps))
	}
	for i, st := range steps {
		if *lines[i].NewJA3 != st.newJA3 || *lines[i].NewClient != st.newClient {
			t.Errorf("line %d: new_ja3, new_client = %v, %v; want %v, %v", i, *lines[i].NewJA3, *lines[i].NewClient, st.newJA3, st.newClient)
		}
	}
	for i, line := range logFileLines(t, path) {
		checkAkamaiFlag(t, fmt.Sprintf("line %d", i), line, steps[i].l, steps[i].newAkamai)
	}
}

// TestEventLogReplay reopens a log whose last line was torn by a crash:
// the whole lines are remembered, the torn one is skipped, and the next
// line written starts on a line of its own (so it is remembered in turn).
func TestEventLogReplay(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.log")
	whole := []string{
		`{"ja3_hash":"j1","ja3n_hash":"n1","user_agent":"curl/8","new_ja3":true}`,
		`not json at all`,
		`{"ja3_hash":"","ja3n_hash":"","user_agent":"unparsed"}`,
		`{"ja3_hash":"j2","ja3n_hash":"n2","akamai_hash":"` + akamaiChrome + `","user_agent":"Wget/1","new_akamai":true}`,
	}
	const torn = `{"ja3_hash":"j3","ja3n_hash":"n3","akamai_hash":"` + akamaiTorn + `","user_a`
	if err := os.WriteFile(path, []byte(strings.Join(whole, "\n")+"\n"+torn), 0o644); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		l                 *logEntry
		newJA3, newClient bool
		newAkamai         akamaiFlag
	}{
		{entry("j4", "n4", "new"), true, true, akamaiAbsent}, // the first line after the torn one
		{entry("j1", "n1", "curl/8"), false, false, akamaiAbsent},
		{h2(entry("j2", "n2", "Wget/1"), akamaiChrome), false, false, akamaiSeen}, // remembered from the j2 line
		{entry("j2", "n2", "curl/8"), false, true, akamaiAbsent},
		{h2(entry("j3", "n3", "x"), akamaiTorn), true, true, akamaiNew}, // only in the torn line
	}
	e, err := openEventLog(path, discardLog())
	if err != nil {
		t.Fatal(err)
	}
	for i, st := range steps {
		e.record(st.l)
		if st.l.NewJA3 != st.newJA3 || st.l.NewClient != st.newClient {
			t.Errorf("step %d (%s): new_ja3, new_client = %v, %v; want %v, %v", i, st.l.JA3Hash, st.l.NewJA3, st.l.NewClient, st.newJA3, st.newClient)
		}
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}

	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if len(lines) != len(whole)+1+len(steps) {
		t.Fatalf("%d lines, want %d old + %d new:\n%s", len(lines), len(whole)+1, len(steps), b)
	}
	if strings.Join(lines[:len(whole)+1], "\n") != strings.Join(whole, "\n")+"\n"+torn {
		t.Errorf("the existing lines were changed:\n%s", b)
	}
	for i, l := range lines[len(whole)+1:] {
		var got logLine
		if err := json.Unmarshal([]byte(l), &got); err != nil || got.JA3Hash != steps[i].l.JA3Hash {
			t.Errorf("new line %d is not the entry for %s: %q", i, steps[i].l.JA3Hash, l)
		}
		checkAkamaiFlag(t, fmt.Sprintf("new line %d", i), []byte(l), steps[i].l, steps[i].newAkamai)
	}

	// A second restart remembers everything written after the torn line.
	e, err = openEventLog(path, discardLog())
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	for _, st := range steps {
		l := h2(entry(st.l.JA3Hash, st.l.JA3NHash, st.l.UserAgent), st.l.AkamaiHash)
		if e.record(l); l.NewJA3 || l.NewClient {
			t.Errorf("after a second restart %s/%s is announced again", l.JA3Hash, l.UserAgent)
		}
		want := akamaiAbsent
		if l.AkamaiHash != "" {
			want = akamaiSeen
		}
		line, err := json.Marshal(l)
		if err != nil {
			t.Fatal(err)
		}
		checkAkamaiFlag(t, "after a second restart "+l.JA3Hash, line, l, want)
	}
}

func TestEventLogCloseIdempotent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.log")
	e, err := openEventLog(path, discardLog())
	if err != nil {
		t.Fatal(err)
	}
	e.record(entry("j1", "n1", "a"))
	if err := e.Close(); err != nil {
		t.Fatalf("first Close: %v", err)
	}
	if err := e.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	e.record(entry("j2", "n2", "b")) // dropped, must not panic or write
	if lines := readLog(t, path); len(lines) != 1 || lines[0].JA3Hash != "j1" {
		t.Errorf("after Close the file has %+v, want only the j1 line", lines)
	}
}

// TestEventLogConcurrent records from many goroutines, as connection
// goroutines do; -race checks the locking.
func TestEventLogConcurrent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.log")
	e, err := openEventLog(path, discardLog())
	if err != nil {
		t.Fatal(err)
	}
	const workers, each = 8, 200
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				// 10 JA3s and 20 clients shared by all workers.
				e.record(entry(fmt.Sprintf("j%d", i%10), "n", fmt.Sprintf("ua%d", (i+w)%20)))
				if i%50 == 0 {
					e.flush()
				}
			}
		}()
	}
	wg.Wait()
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	lines := readLog(t, path)
	if len(lines) != workers*each {
		t.Fatalf("%d lines, want %d", len(lines), workers*each)
	}
	checkFirstSeen(t, lines)
}

// TestEventLogPeriodicFlush checks that lines reach the file while the log
// is open (the flusher runs every second), not only at Close.
func TestEventLogPeriodicFlush(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.log")
	e, err := openEventLog(path, discardLog())
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	e.record(entry("j1", "n1", "a"))
	deadline := time.Now().Add(testTimeout)
	for {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte(`"ja3_hash":"j1"`)) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the line never reached the file while the log was open")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestEventLogOpenErrors(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{
		filepath.Join(file, "events.log"), // parent is a file
		dir,                               // the log is a directory
	} {
		if e, err := openEventLog(path, discardLog()); err == nil {
			e.Close()
			t.Errorf("openEventLog(%s) succeeded", path)
		}
	}
}
