package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
)

// TestAppendIndented checks appendIndented against encoding/json's own
// indenter (json.Indent) on what json.Marshal writes: the echo of a real
// Chromium hello, and values chosen for the corners of string scanning
// (escaped quotes and backslashes, HTML escapes, non-ASCII) and of empty
// and nested containers.
func TestAppendIndented(t *testing.T) {
	values := map[string]any{
		"chromium echo": newEcho(chromeInfo(t)),
		"scalars":       []any{1, -2.5e10, true, false, nil, "", 0},
		"strings": []string{`"`, `\`, `\"`, `\\"`, `a\"b\\`, "\\\\\\\"", "<script>&</script>",
			"tab\there\nnewline", "\u2028\u2029", "ünïcødé 🙂", `{"not":["json"]}`, "a,b:c"},
		"containers": map[string]any{"empty object": map[string]any{}, "empty array": []int{},
			"nested":         []any{[]any{}, map[string]any{"a": []any{map[string]any{}}}, [][]int{{1, 2}, {}}},
			"key \"quoted\"": map[string]string{`k\`: `v\`}},
	}
	for name, v := range values {
		t.Run(name, func(t *testing.T) {
			compact, err := json.Marshal(v)
			if err != nil {
				t.Fatal(err)
			}
			var want bytes.Buffer
			if err := json.Indent(&want, compact, "", "  "); err != nil {
				t.Fatal(err)
			}
			got, err := appendIndented([]byte("prefix"), compact)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, append([]byte("prefix"), want.Bytes()...)) {
				t.Errorf("appendIndented differs from json.Indent:\n got %s\nwant %s", got, want.Bytes())
			}
			mi, err := json.MarshalIndent(v, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			body, err := marshalIndent(v)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(body, append(mi, '\n')) {
				t.Errorf("marshalIndent differs from json.MarshalIndent + newline:\n got %s\nwant %s", body, mi)
			}
		})
	}
}

func TestAppendIndentedUnterminated(t *testing.T) {
	for _, in := range []string{`"abc`, `{"a":"b\"}`, `["x\\\"]`} {
		if _, err := appendIndented(nil, []byte(in)); !errors.Is(err, errJSONString) {
			t.Errorf("appendIndented(%s): err = %v, want errJSONString", in, err)
		}
	}
}
