package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/sirupsen/logrus"
)

// logEntry is one line of the JSON-lines log file, one per fingerprinted
// connection (also when the handshake or request failed). Its keys are a
// public format: analysts `tail -f | jq` it.
type logEntry struct {
	Time           string `json:"time"`
	RemoteAddr     string `json:"remote_addr"`
	JA3            string `json:"ja3"`
	JA3Hash        string `json:"ja3_hash"`
	JA3N           string `json:"ja3n"`
	JA3NHash       string `json:"ja3n_hash"`
	JA4            string `json:"ja4"`
	JA4R           string `json:"ja4_r"`
	PeetPrintHash  string `json:"peetprint_hash"`
	AkamaiHash     string `json:"akamai_hash,omitempty"` // HTTP/2 connections only
	SNI            string `json:"sni"`
	ALPN           string `json:"alpn"`
	TLSVersion     string `json:"tls_version,omitempty"`
	CipherSuite    string `json:"cipher_suite,omitempty"`
	Method         string `json:"method,omitempty"`
	Path           string `json:"path,omitempty"`
	Status         int    `json:"status,omitempty"`
	UserAgent      string `json:"user_agent"`
	Browser        string `json:"browser"`
	BrowserVersion string `json:"browser_version"`
	OS             string `json:"os,omitempty"`
	NewJA3         bool   `json:"new_ja3"`
	NewClient      bool   `json:"new_client"`
	NewJA4         bool   `json:"new_ja4"`
	// NewAkamai is a pointer so that the key follows akamai_hash: absent
	// on HTTP/1 lines (nil, omitted), `false` or `true` on HTTP/2 lines. A
	// plain bool could only be always present (a meaningless false on
	// HTTP/1) or, with omitempty, missing whenever false. record sets it;
	// read it through newAkamai.
	NewAkamai  *bool   `json:"new_akamai,omitempty"`
	Error      string  `json:"error,omitempty"`
	DurationMS float64 `json:"duration_ms"`
}

// eventLog appends logEntry lines to a file through a buffer that a
// goroutine flushes every second, and remembers which JA3 hashes and
// (JA3N hash, User-Agent) pairs it has seen. Writers are connection
// goroutines, never the epoll loop.
type eventLog struct {
	mu      sync.Mutex
	path    string
	f       *os.File
	w       *bufio.Writer
	ja3s    seenSet
	ja4s    seenSet
	akamais seenSet // akamai_hash values (HTTP/2 only)
	clients seenSet
	log     *logrus.Entry
	stop    chan struct{}
	done    chan struct{}
	closed  bool
}

// seenLimit bounds each first-seen set; see seenSet.
const seenLimit = 1 << 18

func openEventLog(path string, log *logrus.Entry) (*eventLog, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("log file directory: %w", err)
	}
	e := &eventLog{
		path:    path,
		ja3s:    newSeenSet(seenLimit),
		ja4s:    newSeenSet(seenLimit),
		akamais: newSeenSet(seenLimit),
		clients: newSeenSet(seenLimit),
		log:     log,
		stop:    make(chan struct{}),
		done:    make(chan struct{}),
	}
	n, err := e.replay(path)
	if err != nil {
		return nil, err
	}
	if n > 0 {
		log.Infof("remembered %d JA3 hashes, %d HTTP/2 fingerprints and %d clients from %d lines of %s",
			e.ja3s.len(), e.akamais.len(), e.clients.len(), n, path)
	}
	if err := e.reopen(); err != nil {
		return nil, err
	}
	go e.flusher()
	return e, nil
}

// replay rebuilds the first-seen sets from an existing log so that a restart
// does not announce known fingerprints again. Lines it cannot read (a torn
// last line after a crash, another format) are skipped.
func (e *eventLog) replay(path string) (int, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("reading log file: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	n := 0
	for sc.Scan() {
		var l struct {
			JA3Hash    string `json:"ja3_hash"`
			JA3NHash   string `json:"ja3n_hash"`
			JA4        string `json:"ja4"`
			AkamaiHash string `json:"akamai_hash"`
			UserAgent  string `json:"user_agent"`
		}
		if json.Unmarshal(sc.Bytes(), &l) != nil || l.JA3Hash == "" {
			continue
		}
		e.ja3s.add(l.JA3Hash)
		if l.JA4 != "" { // lines written before JA4 existed have none
			e.ja4s.add(l.JA4)
		}
		if l.AkamaiHash != "" { // HTTP/1 lines and lines written before it existed have none
			e.akamais.add(l.AkamaiHash)
		}
		e.clients.add(l.JA3NHash + "\x00" + l.UserAgent)
		n++
	}
	if err := sc.Err(); err != nil && !errors.Is(err, bufio.ErrTooLong) {
		return n, fmt.Errorf("reading log file: %w", err)
	}
	return n, nil
}

// reopen (re)opens the file for appending; used at start and on SIGHUP so
// that logrotate's create mode works.
func (e *eventLog) reopen() error {
	f, err := os.OpenFile(e.path, os.O_RDWR|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("opening log file: %w", err)
	}
	if err := endTornLine(f); err != nil {
		f.Close()
		return fmt.Errorf("opening log file: %w", err)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.f != nil {
		if err := e.w.Flush(); err != nil {
			e.log.WithError(err).Error("flushing log file")
		}
		e.f.Close()
	}
	e.f, e.w = f, bufio.NewWriterSize(f, 64<<10)
	return nil
}

// endTornLine ends a last line cut short by a crash, so that the next entry
// starts on a line of its own instead of being glued to the fragment.
func endTornLine(f *os.File) error {
	fi, err := f.Stat()
	if err != nil || fi.Size() == 0 {
		return err
	}
	var last [1]byte
	if _, err := f.ReadAt(last[:], fi.Size()-1); err != nil {
		return err
	}
	if last[0] == '\n' {
		return nil
	}
	_, err = f.Write([]byte{'\n'})
	return err
}

// record marks the entry's JA3, JA4, client and (HTTP/2) Akamai hash as
// seen, fills NewJA3, NewJA4, NewClient and NewAkamai, and appends the line.
func (e *eventLog) record(l *logEntry) {
	l.NewAkamai = nil
	if l.AkamaiHash != "" {
		l.NewAkamai = new(false) // the key is on every HTTP/2 line; set below if new
	}
	line, err := json.Marshal(l) // before the lock; only flags change below
	if err != nil {
		e.log.WithError(err).Error("encoding log line")
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if l.JA3Hash != "" {
		l.NewJA3 = e.ja3s.add(l.JA3Hash)
		l.NewClient = e.clients.add(l.JA3NHash + "\x00" + l.UserAgent)
		l.NewJA4 = l.JA4 != "" && e.ja4s.add(l.JA4) // as replay, which skips empty ones
		if l.NewAkamai != nil {
			*l.NewAkamai = e.akamais.add(l.AkamaiHash)
		}
		if l.NewJA3 || l.NewClient || l.NewJA4 || l.newAkamai() {
			line, _ = json.Marshal(l) // cannot fail: it just did
		}
	}
	if e.closed {
		return
	}
	line = append(line, '\n')
	if _, err := e.w.Write(line); err != nil {
		e.log.WithError(err).Error("writing log file")
	}
}

// newAkamai reports whether record found the line's Akamai hash new; false
// on HTTP/1 lines.
func (l *logEntry) newAkamai() bool { return l.NewAkamai != nil && *l.NewAkamai }

func (e *eventLog) flusher() {
	defer close(e.done)
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			e.flush()
		case <-e.stop:
			return
		}
	}
}

func (e *eventLog) flush() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return
	}
	if err := e.w.Flush(); err != nil {
		e.log.WithError(err).Error("flushing log file")
	}
}

// Close flushes and closes the file; later records are dropped. It is safe
// to call more than once.
func (e *eventLog) Close() error {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil
	}
	e.closed = true
	err := e.w.Flush()
	if cerr := e.f.Close(); err == nil {
		err = cerr
	}
	e.mu.Unlock()
	close(e.stop)
	<-e.done
	return err
}

var _ io.Closer = (*eventLog)(nil)

// seenSet is a bounded set with two generations: lookups check both, adds go
// to the current one, and when it fills up the older generation is dropped.
// Memory stays under 2×limit keys and a key seen recently is never
// forgotten; a key unseen for a full generation may be announced again.
type seenSet struct {
	cur, old map[string]struct{}
	limit    int
}

func newSeenSet(limit int) seenSet {
	return seenSet{cur: make(map[string]struct{}), limit: limit}
}

// add inserts k and reports whether it was new.
func (s *seenSet) add(k string) bool {
	if _, ok := s.cur[k]; ok {
		return false
	}
	_, inOld := s.old[k]
	if len(s.cur) >= s.limit {
		s.old, s.cur = s.cur, make(map[string]struct{})
	}
	s.cur[k] = struct{}{}
	return !inOld
}

func (s *seenSet) len() int { return len(s.cur) + len(s.old) }
