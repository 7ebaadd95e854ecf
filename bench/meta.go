package bench

import (
	"crypto/sha256"
	"debug/buildinfo"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"time"
)

// Meta identifies the machine and moment of a measurement; every raw JSON
// line file starts with one, because figures from different runs on a
// shared host are not comparable.
type Meta struct {
	Type   string   `json:"type"` // "meta"
	RunID  string   `json:"run"`
	Tool   string   `json:"tool"`
	Args   []string `json:"args"`
	Go     string   `json:"go"`
	Kernel string   `json:"kernel"`
	NProc  int      `json:"nproc"`
	Time   string   `json:"time"`
	// Binaries are the measured servers, by name, once they are built.
	Binaries map[string]Binary `json:"binaries,omitempty"`
}

// NewMeta describes the current process and machine.
func NewMeta(tool string) Meta {
	now := time.Now().UTC()
	return Meta{
		Type: "meta", RunID: now.Format("20060102T150405Z"), Tool: tool, Args: os.Args[1:],
		Go: runtime.Version(), Kernel: Kernel(), NProc: runtime.NumCPU(), Time: now.Format(time.RFC3339),
	}
}

// AppendJSONLines appends one JSON line per value to path, creating the
// file and its directory if needed.
func AppendJSONLines(path string, values ...any) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(f)
	for _, v := range values {
		if err := enc.Encode(v); err != nil {
			f.Close()
			return err
		}
	}
	return f.Close()
}

// Binary identifies a server binary that was measured: its hash and the
// version control state the go command stamped into it, since the tree
// under measurement may change between runs.
type Binary struct {
	SHA256   string `json:"sha256"`
	Revision string `json:"vcs_revision,omitempty"`
	Modified string `json:"vcs_modified,omitempty"` // "true": built from a tree with uncommitted changes
	Built    string `json:"built"`                  // the file's modification time
}

// DescribeBinary returns path's Binary; what cannot be read stays empty.
func DescribeBinary(path string) Binary {
	var b Binary
	if data, err := os.ReadFile(path); err == nil {
		b.SHA256 = fmt.Sprintf("%x", sha256.Sum256(data))
	}
	if fi, err := os.Stat(path); err == nil {
		b.Built = fi.ModTime().UTC().Format(time.RFC3339)
	}
	if info, err := buildinfo.ReadFile(path); err == nil {
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				b.Revision = s.Value
			case "vcs.modified":
				b.Modified = s.Value
			}
		}
	}
	return b
}
