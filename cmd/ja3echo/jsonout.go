package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"sync"
)

// The JSON answers (/json, /api/*) are indented for people reading them
// with curl. json.MarshalIndent does that with json.Indent, a byte-at-a-time
// state machine that costs three times the marshalling itself (~110 µs for
// a browser's /json); appendIndented gives the same bytes for the compact,
// valid JSON that encoding/json produces, in a few µs.

// jsonEncoder is a pooled compact encoder and its buffer: marshalling into
// a reused buffer allocates nothing.
type jsonEncoder struct {
	buf bytes.Buffer
	enc *json.Encoder
}

var jsonEncoders = sync.Pool{New: func() any {
	e := &jsonEncoder{}
	e.enc = json.NewEncoder(&e.buf) // HTML-safe escaping, as json.Marshal
	return e
}}

// marshalIndent is json.MarshalIndent(v, "", "  ") followed by a newline.
func marshalIndent(v any) ([]byte, error) { return appendMarshalIndent(nil, v) }

// appendMarshalIndent appends marshalIndent(v) to dst.
func appendMarshalIndent(dst []byte, v any) ([]byte, error) {
	e := jsonEncoders.Get().(*jsonEncoder)
	defer func() {
		if e.buf.Cap() <= 1<<20 { // do not keep a rare huge buffer
			e.buf.Reset()
			jsonEncoders.Put(e)
		}
	}()
	if err := e.enc.Encode(v); err != nil {
		return nil, err
	}
	compact := bytes.TrimSuffix(e.buf.Bytes(), []byte("\n"))
	// Indenting a browser's echo adds about a third.
	dst = slices.Grow(dst, len(compact)*3/2+1)
	out, err := appendIndented(dst, compact)
	if err != nil {
		return nil, err
	}
	return append(out, '\n'), nil
}

// jsonBufs holds response bodies between JSON answers (~20 KB for a
// browser's /json), which tlsconn hands back through Response.Done.
var jsonBufs = sync.Pool{New: func() any { return new([]byte) }}

// maxPooledJSON keeps a rare huge answer from pinning its buffer.
const maxPooledJSON = 256 << 10

// pooledJSON is marshalIndent(v) in a pooled buffer, and the function
// that gives the buffer back once the body is no longer used.
func pooledJSON(v any) (body []byte, done func(), err error) {
	p := jsonBufs.Get().(*[]byte)
	body, err = appendMarshalIndent((*p)[:0], v)
	done = func() {
		if cap(body) <= maxPooledJSON {
			*p = body[:0]
			jsonBufs.Put(p)
		}
	}
	if err != nil {
		done()
		return nil, nil, err
	}
	return body, done, nil
}

var errJSONString = errors.New("json: unterminated string")

// appendIndented appends src, compact JSON as encoding/json writes it (no
// insignificant whitespace), indented like json.Indent(dst, src, "", "  "):
// a newline and two spaces per level after '{', '[' and ',', before a
// closing '}' or ']', ": " after keys, and empty objects and arrays kept as
// {} and []. Strings are copied whole, found with bytes.IndexByte.
func appendIndented(dst, src []byte) ([]byte, error) {
	depth := 0
	open := false // after '{' or '[': indent unless it closes at once
	for i := 0; i < len(src); i++ {
		c := src[i]
		if open && c != '}' && c != ']' {
			open = false
			depth++
			dst = appendNewline(dst, depth)
		}
		switch c {
		case '"':
			end, err := stringEnd(src, i)
			if err != nil {
				return nil, err
			}
			dst = append(dst, src[i:end]...)
			i = end - 1
		case '{', '[':
			open = true
			dst = append(dst, c)
		case ',':
			dst = append(dst, c)
			dst = appendNewline(dst, depth)
		case ':':
			dst = append(dst, c, ' ')
		case '}', ']':
			if open {
				open = false
			} else {
				depth--
				dst = appendNewline(dst, depth)
			}
			dst = append(dst, c)
		default:
			dst = append(dst, c)
		}
	}
	return dst, nil
}

// stringEnd returns the index just past the string that starts with the
// quote at src[start]: the first quote not escaped by an odd run of
// backslashes.
func stringEnd(src []byte, start int) (int, error) {
	for j := start + 1; ; j++ {
		k := bytes.IndexByte(src[j:], '"')
		if k < 0 {
			return 0, errJSONString
		}
		j += k
		backslashes := 0
		for p := j - 1; p > start && src[p] == '\\'; p-- {
			backslashes++
		}
		if backslashes%2 == 0 {
			return j + 1, nil
		}
	}
}

func appendNewline(dst []byte, depth int) []byte {
	dst = append(dst, '\n')
	for range depth {
		dst = append(dst, ' ', ' ')
	}
	return dst
}
