package manifest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// jsonScanner reads a JSON stream in large chunks, copying values out with
// the whitespace between tokens dropped and counting lines. It checks
// structure (strings, nesting), not grammar: each value it returns is
// parsed again, strictly, when decoded.
type jsonScanner struct {
	r         io.Reader
	buf       []byte
	pos, end  int
	line      int // 1-based line of the next byte
	eof       bool
	err       error
	scratch   []byte
	lastKind  int // line of the last top-level "kind" key seen by value()
	depthKind int // depth at which value() records "kind" keys
}

func newJSONScanner(r io.Reader) *jsonScanner {
	return &jsonScanner{r: r, buf: make([]byte, 1<<20), line: 1}
}

func (s *jsonScanner) fill() bool {
	if s.pos < s.end {
		return true
	}
	if s.eof || s.err != nil {
		return false
	}
	n, err := io.ReadFull(s.r, s.buf)
	s.pos, s.end = 0, n
	switch {
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		s.eof = true
	case err != nil:
		s.err = err
	}
	return n > 0
}

// skipSpace advances to the next byte that is not whitespace; false at EOF.
func (s *jsonScanner) skipSpace() bool {
	for s.fill() {
		for s.pos < s.end {
			switch s.buf[s.pos] {
			case '\n':
				s.line++
			case ' ', '\t', '\r':
			default:
				return true
			}
			s.pos++
		}
	}
	return false
}

func (s *jsonScanner) peek() (byte, bool) {
	if !s.skipSpace() {
		return 0, false
	}
	return s.buf[s.pos], true
}

func (s *jsonScanner) expect(c byte) error {
	b, ok := s.peek()
	if !ok {
		return s.eofErr()
	}
	if b != c {
		return fmt.Errorf("line %d: JSON: want %q, found %q", s.line, c, b)
	}
	s.pos++
	return nil
}

func (s *jsonScanner) eofErr() error {
	if s.err != nil {
		return s.err
	}
	return fmt.Errorf("line %d: JSON ends inside a value", s.line)
}

// str appends the string at the current position (quotes included).
func (s *jsonScanner) str(dst []byte) ([]byte, error) {
	dst = append(dst, '"')
	s.pos++ // the opening quote
	escaped := false
	for s.fill() {
		start := s.pos
		for s.pos < s.end {
			c := s.buf[s.pos]
			s.pos++
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				return append(dst, s.buf[start:s.pos]...), nil
			case c == '\n':
				return nil, fmt.Errorf("line %d: JSON: line break inside a string", s.line)
			}
		}
		dst = append(dst, s.buf[start:s.pos]...)
	}
	return nil, s.eofErr()
}

// value appends the value at the current position, compacted. Keys named
// "kind" at depth depthKind (1: the value's own members) record their line
// in lastKind.
func (s *jsonScanner) value(dst []byte) ([]byte, error) {
	depth := 0
	key := false // the next string at this depth is an object key
	var stack []byte
	for {
		c, ok := s.peek()
		if !ok {
			return nil, s.eofErr()
		}
		switch c {
		case '{', '[':
			dst = append(dst, c)
			s.pos++
			stack = append(stack, c)
			depth++
			key = c == '{'
			continue
		case '}', ']':
			if depth == 0 || (c == '}') != (stack[len(stack)-1] == '{') {
				return nil, fmt.Errorf("line %d: JSON: unexpected %q", s.line, c)
			}
			dst = append(dst, c)
			s.pos++
			stack = stack[:len(stack)-1]
			depth--
		case ',':
			if depth == 0 {
				return nil, fmt.Errorf("line %d: JSON: unexpected ','", s.line)
			}
			dst = append(dst, c)
			s.pos++
			key = stack[len(stack)-1] == '{'
			continue
		case ':':
			if depth == 0 {
				return nil, fmt.Errorf("line %d: JSON: unexpected ':'", s.line)
			}
			dst = append(dst, c)
			s.pos++
			continue
		case '"':
			line := s.line
			var err error
			start := len(dst)
			if dst, err = s.str(dst); err != nil {
				return nil, err
			}
			if key && depth == s.depthKind && string(dst[start:]) == `"kind"` {
				s.lastKind = line
			}
			key = false
		default:
			// A number, true, false or null: up to the next delimiter.
			for s.fill() {
				start := s.pos
				for s.pos < s.end && !isJSONDelim(s.buf[s.pos]) {
					s.pos++
				}
				dst = append(dst, s.buf[start:s.pos]...)
				if s.pos < s.end {
					break
				}
			}
			key = false
		}
		if depth == 0 {
			return dst, nil
		}
	}
}

func isJSONDelim(c byte) bool {
	switch c {
	case ',', '}', ']', ':', ' ', '\t', '\n', '\r', '"', '{', '[':
		return true
	}
	return false
}

// splitJSON splits a stream of JSON values; a List object's items are
// units of their own, the rest of it is checked to be a List.
func splitJSON(s *jsonScanner, path string, add func(unit) error) error {
	separated := false
	for n := 1; ; n++ {
		c, ok := s.peek()
		if !ok {
			if s.err != nil {
				return &InputError{Source: path, Err: s.err}
			}
			return nil
		}
		source := fmt.Sprintf("%s: document %d", path, n)
		if c == '-' && s.separator() {
			n--
			separated = true
			continue // "---" between JSON documents, as in a YAML stream
		}
		if c != '{' && separated {
			// A YAML document after "---": the rest of the stream is YAML
			// (which may hold JSON documents too).
			rest := io.MultiReader(bytes.NewReader(s.buf[s.pos:s.end]), s.r)
			return splitYAMLAfter(&lineReader{r: bufio.NewReaderSize(rest, 1<<20), line: s.line - 1}, path, n-1, add)
		}
		if c != '{' {
			return &InputError{Source: source, Err: fmt.Errorf("not a Kubernetes object: line %d: JSON value starts with %q, want an object", s.line, c)}
		}
		if err := splitJSONObject(s, path, source, add); err != nil {
			var ie *InputError
			if errors.As(err, &ie) || errors.Is(err, errStopped) {
				return err
			}
			return &InputError{Source: source, Err: err}
		}
	}
}

// separator consumes a "---" line at the current position.
func (s *jsonScanner) separator() bool {
	for i := 0; i < 3; i++ {
		if !s.fill() || s.buf[s.pos] != '-' {
			return false
		}
		s.pos++
	}
	for s.fill() && s.buf[s.pos] != '\n' {
		s.pos++
	}
	return true
}

func splitJSONObject(s *jsonScanner, path, source string, add func(unit) error) error {
	start := s.line
	s.pos++ // {
	header := []byte{'{'}
	kindLine, items := 0, false
	for first := true; ; first = false {
		c, ok := s.peek()
		if !ok {
			return s.eofErr()
		}
		if c == '}' {
			s.pos++
			break
		}
		if !first {
			if err := s.expect(','); err != nil {
				return err
			}
			header = append(header, ',')
			if c, ok = s.peek(); !ok {
				return s.eofErr()
			}
		}
		if c != '"' {
			return fmt.Errorf("line %d: JSON: want a member name, found %q", s.line, c)
		}
		keyLine := s.line
		k, err := s.str(s.scratch[:0])
		if err != nil {
			return err
		}
		s.scratch = k
		if err := s.expect(':'); err != nil {
			return err
		}
		if string(k) == `"kind"` {
			kindLine = keyLine
		}
		if string(k) == `"items"` {
			if c, ok := s.peek(); ok && c == '[' {
				items = true
				header = append(header, `"items":[]`...)
				if err := splitJSONItems(s, path, source, add); err != nil {
					return err
				}
				continue
			}
		}
		header = append(header, k...)
		header = append(header, ':')
		s.depthKind = -1
		if header, err = s.value(header); err != nil {
			return err
		}
	}
	header = append(header, '}')
	if !items {
		return add(unit{raw: header, kind: jsonDoc, source: source, file: path, line: start, kindLine: kindLine})
	}
	var head struct {
		Kind string `json:"kind"`
	}
	if err := json.Unmarshal(header, &head); err != nil {
		return fmt.Errorf("not a Kubernetes object: %w", err)
	}
	if !bytes.HasSuffix([]byte(head.Kind), []byte("List")) {
		return fmt.Errorf("top-level items in a %q object; only a List holds items", head.Kind)
	}
	return nil
}

func splitJSONItems(s *jsonScanner, path, source string, add func(unit) error) error {
	s.pos++ // [
	for i := 1; ; i++ {
		c, ok := s.peek()
		if !ok {
			return s.eofErr()
		}
		if c == ']' {
			s.pos++
			return nil
		}
		if i > 1 {
			if err := s.expect(','); err != nil {
				return err
			}
			if _, ok := s.peek(); !ok {
				return s.eofErr()
			}
		}
		line := s.line
		s.depthKind, s.lastKind = 1, 0
		raw, err := s.value(make([]byte, 0, 1024))
		if err != nil {
			return err
		}
		kindLine := s.lastKind
		if kindLine == 0 {
			kindLine = line
		}
		if err := add(unit{raw: raw, kind: jsonItem, source: fmt.Sprintf("%s, item %d", source, i), file: path, line: line, kindLine: kindLine}); err != nil {
			return err
		}
	}
}
