package manifest

import (
	"bytes"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// fastYAMLToJSON converts the block-style YAML that kubectl, PyYAML, yq and
// the API server's clients print (block mappings and sequences, plain,
// quoted, literal and folded scalars, plain and quoted scalars continued
// over several lines, empty {} and []) to JSON in one pass, without building
// a tree. It gives up (ok false) on anything else: flow collections,
// anchors, tags, keep chomping and indentation indicators, scalars whose
// YAML 1.1 type is not a plain string, decimal integer, bool or null, and
// the caller falls back to sigs.k8s.io/yaml for that input. Where it succeeds its output means what
// sigs.k8s.io/yaml's YAMLToJSON means (FuzzFastYAMLToJSON checks this):
// scalars resolve as go.yaml.in/yaml/v2 resolves them.
//
// With item set, src is one item of a block sequence at column 0 ("- a: 1
// ..."), as a List's items are split, and the item itself is returned.
func fastYAMLToJSON(src []byte, item bool) (out []byte, ok bool) {
	if !printable(src) {
		return nil, false
	}
	p := &yparser{out: make([]byte, 0, len(src)), unterminated: len(src) > 0 && src[len(src)-1] != '\n',
		lines: make([][]byte, 0, bytes.Count(src, []byte{'\n'})+1)}
	for len(src) > 0 {
		i := bytes.IndexByte(src, '\n')
		if i < 0 {
			p.lines = append(p.lines, src)
			break
		}
		p.lines = append(p.lines, src[:i])
		src = src[i+1:]
	}
	ind, content, found := p.peek()
	if !found {
		return nil, false
	}
	switch {
	case item:
		if ind != 0 || !isSeqItem(content) {
			return nil, false
		}
		p.parseSeq(0)
	case content[0] == '{' || content[0] == '[':
		// A document in flow style ({apiVersion: v1, kind: List, ...}).
		if !p.flowLines(content, len(p.lines)) {
			return nil, false
		}
	default:
		p.parseNode(ind)
	}
	if _, _, more := p.peek(); more || p.fail {
		return nil, false
	}
	if item {
		// Exactly one element: "[" + element + "]".
		if p.count != 1 {
			return nil, false
		}
		return p.out[1 : len(p.out)-1], true
	}
	return p.out, true
}

// printable reports whether src holds only what YAML allows in a stream
// (go.yaml.in/yaml/v2's is_printable), with no carriage return or byte
// order mark, which the full parser handles.
func printable(src []byte) bool {
	for i := 0; i < len(src); {
		c := src[i]
		if c < 0x80 {
			if c < 0x20 && c != '\n' && c != '\t' || c == 0x7f {
				return false
			}
			i++
			continue
		}
		r, n := utf8.DecodeRune(src[i:])
		if r == utf8.RuneError && n <= 1 || r == 0xFEFF || !(r == 0x85 || r >= 0xA0 && r <= 0xD7FF || r >= 0xE000 && r <= 0xFFFD || r >= 0x10000 && r <= 0x10FFFF) {
			return false
		}
		i += n
	}
	return true
}

type yparser struct {
	lines [][]byte
	i     int // current line
	col   int // > 0: the current line is read from this column (after "- ")
	out   []byte
	fail  bool
	count int // elements of the last top-level sequence (item mode)
	// unterminated: the input's last line has no line break.
	unterminated bool
}

// peek returns the indentation and content of the next line that holds
// something (blank and comment lines are skipped).
func (p *yparser) peek() (indent int, content []byte, ok bool) {
	for p.i < len(p.lines) {
		line := p.lines[p.i]
		start := p.col
		n := start
		for n < len(line) && line[n] == ' ' {
			n++
		}
		if n < len(line) && line[n] == '\t' && start == 0 {
			p.fail = true // tabs never indent in YAML
			return 0, nil, false
		}
		if n == len(line) || line[n] == '#' {
			if p.col > 0 {
				p.fail = true
				return 0, nil, false
			}
			p.i++
			continue
		}
		if start == 0 && n == 0 && (line[0] == '%' || bytes.HasPrefix(line, []byte("---")) || bytes.HasPrefix(line, []byte("..."))) {
			p.fail = true
			return 0, nil, false
		}
		return n, line[n:], true
	}
	return 0, nil, false
}

func (p *yparser) advance() { p.i++; p.col = 0 }

func isSeqItem(c []byte) bool { return c[0] == '-' && (len(c) == 1 || c[1] == ' ') }

// parseNode parses the mapping or sequence whose first line is at indent.
func (p *yparser) parseNode(indent int) {
	_, c, ok := p.peek()
	if !ok {
		p.fail = true
		return
	}
	if isSeqItem(c) {
		p.parseSeq(indent)
	} else {
		p.parseMap(indent)
	}
}

// parseValueBelow parses what follows a "key:" or "-" with nothing after it
// on its line: a nested block, a sequence at the key's own indent (keys
// only), or null.
func (p *yparser) parseValueBelow(indent int, key bool) {
	ind, c, ok := p.peek()
	switch {
	case p.fail:
	case ok && ind > indent:
		p.parseNode(ind)
	case ok && key && ind == indent && isSeqItem(c):
		p.parseSeq(indent)
	default:
		p.out = append(p.out, "null"...)
	}
}

func (p *yparser) parseMap(indent int) {
	p.out = append(p.out, '{')
	first := true
	for !p.fail {
		ind, c, ok := p.peek()
		if !ok || ind < indent || isSeqItem(c) && ind == indent {
			break
		}
		if ind > indent {
			p.fail = true
			return
		}
		if !first {
			p.out = append(p.out, ',')
		}
		first = false
		out, rest, ok := splitKey(p.out, c)
		if !ok {
			p.fail = true
			return
		}
		p.out = append(out, ':')
		p.parseValue(indent, rest, true)
	}
	p.out = append(p.out, '}')
}

func (p *yparser) parseSeq(indent int) {
	p.out = append(p.out, '[')
	n := 0
	for !p.fail {
		ind, c, ok := p.peek()
		if !ok || ind < indent || !isSeqItem(c) {
			break
		}
		if ind > indent {
			p.fail = true
			return
		}
		if n > 0 {
			p.out = append(p.out, ',')
		}
		n++
		rest := c[1:]
		sp := 0
		for sp < len(rest) && rest[sp] == ' ' {
			sp++
		}
		rest = rest[sp:]
		switch {
		case len(rest) == 0 || rest[0] == '#':
			p.advance()
			p.parseValueBelow(indent, false)
		case isSeqItem(rest) || p.isMapEntry(rest):
			// A compact block ("- name: x", "- - a") read from its column.
			p.col = ind + 1 + sp
			if isSeqItem(rest) {
				p.parseSeq(p.col)
			} else {
				p.parseMap(p.col)
			}
		default:
			p.parseValue(indent, rest, false)
		}
	}
	p.count = n
	p.out = append(p.out, ']')
}

// parseValue parses the value written after "key:" or "-" on the current
// line (rest), the line's block at indent.
func (p *yparser) parseValue(indent int, rest []byte, key bool) {
	if len(rest) == 0 || rest[0] == '#' {
		p.advance()
		p.parseValueBelow(indent, key)
		return
	}
	if rest[0] == '|' || rest[0] == '>' {
		p.literal(indent, rest)
		return
	}
	if end := p.continued(indent); end > p.i+1 {
		// More indented lines follow: a scalar continued over them.
		if !p.multiline(rest, end) {
			p.fail = true
		}
		return
	}
	if !p.inlineScalar(rest) {
		p.fail = true
		return
	}
	p.advance()
	// A more indented line now would continue the scalar (or be invalid).
	if ind, _, ok := p.peek(); ok && ind > indent {
		p.fail = true
	}
}

// continued returns the index of the first line after the current one that
// holds content at indent or less (or the end): the lines before it, when
// any holds content, continue the current line's scalar. Trailing blank lines
// are not counted.
func (p *yparser) continued(indent int) int {
	end := p.i + 1
	for j := p.i + 1; j < len(p.lines); j++ {
		line := p.lines[j]
		n := 0
		for n < len(line) && line[n] == ' ' {
			n++
		}
		if n == len(line) {
			continue // blank: inside the scalar only if content follows
		}
		if n <= indent {
			break
		}
		end = j + 1
	}
	return end
}

// maxContinued bounds the lines one quoted scalar may span on the fast path.
const maxContinued = 256

// multiline appends the scalar that starts with first on the current line
// and continues on the lines before end, folded as YAML folds flow scalars
// (each line trimmed; one line break becomes a space, each blank line a
// line feed; in double quotes an escaped line break joins without one), and
// moves past it. It reports false for what it leaves to the full parser: a
// comment or an indicator at the start of a plain continuation, ": " or " #"
// inside one, tabs, blank lines inside quotes, a quote not closed by the
// last line.
func (p *yparser) multiline(first []byte, end int) bool {
	if end-p.i > maxContinued {
		return false
	}
	quote := first[0]
	if quote == '{' || quote == '[' {
		return p.flowLines(first, end)
	}
	plain := quote != '"' && quote != '\''
	buf := append([]byte(nil), trimRightKeepEscape(first, quote)...)
	if plain && (bytes.Contains(buf, []byte(" #")) || bytes.IndexByte(buf, '\t') >= 0 ||
		bytes.Contains(buf, []byte(": ")) || len(buf) > 0 && buf[len(buf)-1] == ':') {
		return false // a comment ends the scalar; a colon makes a key of it
	}
	breaks, last := 0, 0 // last: where the last line starts in buf
	for j := p.i + 1; j < end; j++ {
		line := trimRightKeepEscape(trimLeft(p.lines[j]), quote)
		if len(line) == 0 {
			breaks++
			continue
		}
		if bytes.IndexByte(line, '\t') >= 0 {
			return false
		}
		if plain {
			if isIndicator(line[0]) || bytes.Contains(line, []byte(": ")) || line[len(line)-1] == ':' || bytes.Contains(line, []byte(" #")) {
				return false
			}
		} else if breaks > 0 {
			return false
		}
		switch {
		case breaks > 0:
			for ; breaks > 0; breaks-- {
				buf = append(buf, '\n')
			}
		case quote == '"' && escapedBreak(buf):
			buf = buf[:len(buf)-1]
		default:
			buf = append(buf, ' ')
		}
		last = len(buf)
		buf = append(buf, line...)
	}
	if plain {
		p.i, p.col = end, 0
		return p.inlineScalar(buf)
	}
	// The quote must close on the last line, followed by nothing or a
	// comment set off by a space.
	out, n, ok := quoted(p.out, buf)
	if !ok || n <= last || n < len(buf) && (buf[n] != ' ' || !onlyComment(buf[n:])) {
		return false
	}
	p.out = out
	p.i, p.col = end, 0
	return true
}

// trimRightKeepEscape drops a line's trailing spaces, but in double quotes
// not one a backslash escapes.
func trimRightKeepEscape(line []byte, quote byte) []byte {
	t := bytes.TrimRight(line, " ")
	if quote == '"' && len(t) < len(line) && escapedBreak(t) {
		return line[:len(t)+1]
	}
	return t
}

// flowLines appends a flow collection that starts with first on the current
// line and continues on the lines before end (line breaks inside flow
// collections fold to spaces), and moves past it. Lines holding a "#" (a
// comment, or one inside quotes) and quoted scalars broken over lines are
// left to the full parser. The lines are joined with "\n" so that flow
// can tell a break from a space: an implicit key must sit on one line with
// its ":" ("{0\n: }" is an error to YAML).
func (p *yparser) flowLines(first []byte, end int) bool {
	buf := append([]byte(nil), bytes.TrimRight(first, " ")...)
	for j := p.i + 1; j < end; j++ {
		line := bytes.Trim(p.lines[j], " ")
		if len(line) == 0 {
			continue
		}
		buf = append(append(buf, '\n'), line...)
	}
	if bytes.IndexByte(buf, '#') >= 0 || bytes.IndexByte(buf, '\t') >= 0 {
		return false
	}
	n := len(p.out)
	if !p.flowOnly(buf) {
		p.out = p.out[:n]
		return false
	}
	p.i, p.col = end, 0
	return true
}

// escapedBreak reports whether a double-quoted line ends in a backslash that
// escapes its line break (an odd number of them).
func escapedBreak(b []byte) bool {
	n := 0
	for i := len(b) - 1; i >= 0 && b[i] == '\\'; i-- {
		n++
	}
	return n%2 == 1
}

// splitKey splits "key: rest", appending the key as a JSON string to dst.
func splitKey(dst, c []byte) (out, rest []byte, ok bool) {
	switch c[0] {
	case '"', '\'':
		s, n, ok := quoted(dst, c)
		if !ok {
			return nil, nil, false
		}
		if n > 1000 {
			return nil, nil, false
		}
		dst, c = s, c[n:]
		for len(c) > 0 && c[0] == ' ' {
			c = c[1:]
		}
		if len(c) == 0 || c[0] != ':' || len(c) > 1 && c[1] != ' ' {
			return nil, nil, false
		}
		return dst, trimLeft(c[1:]), true
	}
	if isIndicator(c[0]) {
		return nil, nil, false
	}
	end := -1
	for i := 0; i < len(c); i++ {
		if c[i] == ':' && (i+1 == len(c) || c[i+1] == ' ') {
			end = i
			break
		}
		if c[i] == '#' && i > 0 && c[i-1] == ' ' {
			return nil, nil, false
		}
	}
	if end <= 0 || end > 1000 { // YAML limits implicit keys to 1024 characters
		return nil, nil, false
	}
	name := bytes.TrimRight(c[:end], " ")
	if bytes.IndexByte(name, '\t') >= 0 || string(name) == "<<" || !resolvesToString(name, true) {
		return nil, nil, false
	}
	return jsonString(dst, name), trimLeft(c[end+1:]), true
}

// isMapEntry reports whether a sequence item's content opens a mapping.
func (p *yparser) isMapEntry(c []byte) bool {
	n := len(p.out)
	_, _, ok := splitKey(p.out, c)
	p.out = p.out[:n]
	return ok
}

func trimLeft(b []byte) []byte {
	for len(b) > 0 && b[0] == ' ' {
		b = b[1:]
	}
	return b
}

func isIndicator(c byte) bool {
	switch c {
	case '-', '?', ':', ',', '[', ']', '{', '}', '#', '&', '*', '!', '|', '>', '\'', '"', '%', '@', '`':
		return true
	}
	return false
}

// inlineScalar appends the JSON of a scalar written on one line, with an
// optional trailing comment.
func (p *yparser) inlineScalar(v []byte) bool {
	switch v[0] {
	case '"', '\'':
		out, n, ok := quoted(p.out, v)
		if !ok || !onlyComment(v[n:]) {
			return false
		}
		p.out = out
		return true
	case '{', '[':
		return p.flowOnly(v)
	}
	if isIndicator(v[0]) && v[0] != '-' || v[0] == '-' && (len(v) == 1 || v[1] == ' ') {
		return false
	}
	end := len(v)
	for i := 0; i < len(v); i++ {
		switch {
		case v[i] == '#' && i > 0 && v[i-1] == ' ':
			end = i
		case v[i] == ':' && (i+1 == len(v) || v[i+1] == ' '):
			return false // "a: b" as a value is not valid in a block
		}
		if end != len(v) {
			break
		}
	}
	s := bytes.TrimRight(v[:end], " ")
	if bytes.IndexByte(s, '\t') >= 0 {
		return false // tabs around plain scalars: left to the full parser
	}
	return p.plainScalar(s)
}

// plainScalar appends the JSON of plain scalar s as go.yaml.in/yaml/v2
// resolves it (string, null, bool or decimal integer), or reports false.
func (p *yparser) plainScalar(s []byte) bool {
	switch c := s[0]; {
	case c >= 'a' && c <= 'z' && !maybeWord[c] || c >= 'A' && c <= 'Z' && !maybeWord[c] || c == '/' || c == '_':
		// Most values: a plain string no resolution can turn into anything else.
	case isNull(s):
		p.out = append(p.out, "null"...)
		return true
	case yamlTrue[string(s)]:
		p.out = append(p.out, "true"...)
		return true
	case yamlFalse[string(s)]:
		p.out = append(p.out, "false"...)
		return true
	case isDecimal(s):
		p.out = append(p.out, s...)
		return true
	case !resolvesToString(s, false):
		return false
	}
	p.out = jsonString(p.out, s)
	return true
}

// flowOnly appends the flow collection v holds, with nothing after it but a
// comment set off by a space.
func (p *yparser) flowOnly(v []byte) bool {
	n, ok := p.flow(v, 0)
	return ok && (n == len(v) || v[n] == ' ' && onlyComment(v[n:]))
}

// maxFlowDepth bounds the nesting of flow collections on the fast path.
const maxFlowDepth = 32

// flow appends the JSON of the flow mapping or sequence that starts at v[0]
// ("{name: a, ports: [{port: 80}]}", as people write YAML by hand) and
// returns how many bytes it took. Keys and scalars follow the block rules;
// what else flow YAML allows (implicit pairs in sequences, "?" keys, empty
// keys, comments inside, anchors, tags) is left to the full parser.
func (p *yparser) flow(v []byte, depth int) (int, bool) {
	if depth > maxFlowDepth {
		return 0, false
	}
	closing := byte(']')
	if v[0] == '{' {
		closing = '}'
	}
	p.out = append(p.out, v[0])
	i := 1
	for n := 0; ; n++ {
		i = skipBlanks(v, i)
		if i < len(v) && v[i] == closing {
			p.out = append(p.out, closing)
			return i + 1, true
		}
		if n > 0 {
			if i >= len(v) || v[i] != ',' {
				return 0, false
			}
			if i = skipBlanks(v, i+1); i < len(v) && v[i] == closing {
				p.out = append(p.out, closing) // a trailing comma
				return i + 1, true
			}
			p.out = append(p.out, ',')
		}
		if i >= len(v) || v[i] == ',' {
			return 0, false
		}
		if closing == '}' {
			k, ok := p.flowKey(v[i:])
			if !ok {
				return 0, false
			}
			p.out = append(p.out, ':')
			if i = skipBlanks(v, i+k); i < len(v) && (v[i] == ',' || v[i] == '}') {
				p.out = append(p.out, "null"...)
				continue
			}
			if i >= len(v) {
				return 0, false
			}
		}
		m, ok := p.flowNode(v[i:], depth)
		if !ok {
			return 0, false
		}
		i += m
	}
}

func skipSpaces(v []byte, i int) int {
	for i < len(v) && v[i] == ' ' {
		i++
	}
	return i
}

// skipBlanks skips spaces and the line breaks flowLines keeps.
func skipBlanks(v []byte, i int) int {
	for i < len(v) && (v[i] == ' ' || v[i] == '\n') {
		i++
	}
	return i
}

// flowKey appends a flow mapping's key and returns the bytes up to and
// including its ":".
func (p *yparser) flowKey(v []byte) (int, bool) {
	if v[0] == '"' || v[0] == '\'' {
		out, n, ok := quoted(p.out, v)
		if !ok || n > 1000 {
			return 0, false
		}
		if n = skipSpaces(v, n); n >= len(v) || v[n] != ':' {
			return 0, false
		}
		p.out = out
		return n + 1, true
	}
	if isIndicator(v[0]) {
		return 0, false
	}
	for i := 0; i < len(v) && i <= 1000; i++ {
		switch c := v[i]; {
		case c == ':' && (i+1 == len(v) || v[i+1] == ' ' || v[i+1] == '\n'):
			name := bytes.TrimRight(v[:i], " ")
			if len(name) == 0 || string(name) == "<<" || !resolvesToString(name, true) {
				return 0, false
			}
			p.out = jsonString(p.out, name)
			return i + 1, true
		case c == ',' || c == '[' || c == ']' || c == '{' || c == '}' || c == '#' || c == '\t' || c == ':' || c == '\n' || c == '?':
			// An implicit key ends on its line; go.yaml.in/yaml/v2 (like
			// libyaml) also ends a plain scalar in flow context at "?".
			return 0, false
		}
	}
	return 0, false
}

// flowNode appends one value of a flow collection and returns its length.
func (p *yparser) flowNode(v []byte, depth int) (int, bool) {
	switch v[0] {
	case '{', '[':
		return p.flow(v, depth+1)
	case '"', '\'':
		out, n, ok := quoted(p.out, v)
		if !ok {
			return 0, false
		}
		p.out = out
		return n, true
	}
	if isIndicator(v[0]) && v[0] != '-' || v[0] == '-' && (len(v) == 1 || v[1] == ' ' || v[1] == ',') {
		return 0, false
	}
	end := len(v)
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c == ',' || c == ']' || c == '}' {
			end = i
			break
		}
		if c == '[' || c == '{' || c == '#' || c == '\t' || c == '?' || c == ':' && (i+1 == len(v) || v[i+1] == ' ' || v[i+1] == ',' || v[i+1] == '\n') {
			return 0, false // a pair, a nested opening or a comment inside: left to the full parser
		}
	}
	s := bytes.TrimRight(v[:end], " \n")
	if bytes.IndexByte(s, '\n') >= 0 {
		// A plain scalar over lines: each break folds to a space.
		s = bytes.ReplaceAll(s, []byte{'\n'}, []byte{' '})
	}
	if len(s) == 0 || !p.plainScalar(s) {
		return 0, false
	}
	return end, true
}

// maybeWord: first letters of YAML 1.1's bool and null words.
var maybeWord = [256]bool{'y': true, 'Y': true, 'n': true, 'N': true, 't': true, 'T': true, 'f': true, 'F': true, 'o': true, 'O': true}

func isNull(s []byte) bool {
	switch string(s) {
	case "~", "null", "Null", "NULL":
		return true
	}
	return false
}

// isDecimal: a decimal integer that means the same in YAML 1.1 and JSON (no
// sign, leading zero, underscore; small enough for int64).
func isDecimal(s []byte) bool {
	neg := len(s) > 0 && s[0] == '-'
	if neg {
		s = s[1:]
	}
	if len(s) == 0 || len(s) > 18 || s[0] == '0' && (len(s) > 1 || neg) {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

var (
	yamlTrue  = map[string]bool{"y": true, "Y": true, "yes": true, "Yes": true, "YES": true, "true": true, "True": true, "TRUE": true, "on": true, "On": true, "ON": true}
	yamlFalse = map[string]bool{"n": true, "N": true, "no": true, "No": true, "NO": true, "false": true, "False": true, "FALSE": true, "off": true, "Off": true, "OFF": true}
	// yamlFloat is go.yaml.in/yaml/v2's float syntax.
	yamlFloat = regexp.MustCompile(`^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`)
)

// resolvesToString reports whether the plain scalar s is a string to
// go.yaml.in/yaml/v2 (not a bool, null, number, timestamp or merge key).
// Keys may also be decimal integers, which sigs.k8s.io/yaml renders as the
// same string.
func resolvesToString(s []byte, isKey bool) bool {
	if len(s) == 0 {
		return false
	}
	lit := string(s)
	switch c := s[0]; {
	case c == '~' || lit == "null" || lit == "Null" || lit == "NULL" || yamlTrue[lit] || yamlFalse[lit]:
		return false
	case c == '.':
		_, err := strconv.ParseFloat(lit, 64)
		return err != nil && lit != ".nan" && lit != ".NaN" && lit != ".NAN" && lit != ".inf" && lit != ".Inf" && lit != ".INF"
	case c == '+' || c == '-' || c >= '0' && c <= '9':
		if isKey && isDecimal(s) && lit[0] != '-' {
			return true
		}
		if len(lit) >= 5 && lit[4] == '-' && allDigits(lit[:4]) {
			return false // a timestamp, perhaps
		}
		plain := string(bytes.ReplaceAll(s, []byte("_"), nil))
		if _, err := strconv.ParseInt(plain, 0, 64); err == nil {
			return false
		}
		if _, err := strconv.ParseUint(plain, 0, 64); err == nil {
			return false
		}
		if yamlFloat.MatchString(plain) && parsesAsFloat(plain) || binaryInt(plain) ||
			bytes.HasPrefix(s, []byte("+.inf")) || bytes.HasPrefix(s, []byte("-.inf")) ||
			bytes.HasPrefix(s, []byte("+.Inf")) || bytes.HasPrefix(s, []byte("-.Inf")) ||
			bytes.HasPrefix(s, []byte("+.INF")) || bytes.HasPrefix(s, []byte("-.INF")) {
			return false
		}
	}
	return true
}

func parsesAsFloat(s string) bool {
	_, err := strconv.ParseFloat(s, 64)
	return err == nil
}

// binaryInt: go.yaml.in/yaml/v2 reads 0b101 and -0b101 as integers.
func binaryInt(plain string) bool {
	digits, ok := strings.CutPrefix(plain, "0b")
	if !ok {
		if digits, ok = strings.CutPrefix(plain, "-0b"); !ok {
			return false
		}
	}
	_, errInt := strconv.ParseInt(digits, 2, 64)
	_, errUint := strconv.ParseUint(digits, 2, 64)
	return errInt == nil || errUint == nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func onlyComment(b []byte) bool {
	b = trimLeft(b)
	return len(b) == 0 || b[0] == '#' && len(b) > 0
}

// quoted reads a single- or double-quoted scalar that ends on this line,
// appends it to out as a JSON string and returns the bytes it took.
func quoted(out, v []byte) (js []byte, n int, ok bool) {
	out = append(out, '"')
	if v[0] == '\'' {
		for i := 1; i < len(v); i++ {
			c := v[i]
			if c == '\'' {
				if i+1 < len(v) && v[i+1] == '\'' {
					out = append(out, '\'')
					i++
					continue
				}
				return append(out, '"'), i + 1, true
			}
			var ok bool
			if out, ok = appendJSONByte(out, c); !ok {
				return nil, 0, false
			}
		}
		return nil, 0, false
	}
	for i := 1; i < len(v); i++ {
		c := v[i]
		switch {
		case c == '"':
			return append(out, '"'), i + 1, true
		case c == '\\':
			if i+1 >= len(v) {
				return nil, 0, false
			}
			switch e := v[i+1]; e {
			case '"', '\\', 'b', 'f', 'n', 'r', 't': // not \/: YAML 1.1 has no such escape
				out = append(out, '\\', e)
				i++
			case ' ': // an escaped space (PyYAML keeps spaces at a line break so)
				out = append(out, ' ')
				i++
			case 'u':
				if i+5 >= len(v) || !isHex(v[i+2:i+6]) {
					return nil, 0, false
				}
				out = append(out, v[i:i+6]...)
				i += 5
			default:
				return nil, 0, false
			}
		default:
			var ok bool
			if out, ok = appendJSONByte(out, c); !ok {
				return nil, 0, false
			}
		}
	}
	return nil, 0, false
}

func isHex(b []byte) bool {
	for _, c := range b {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// appendJSONByte appends c as it goes in a JSON string; other control
// characters than tab are left to the full parser.
func appendJSONByte(out []byte, c byte) ([]byte, bool) {
	switch {
	case c == '"' || c == '\\':
		return append(out, '\\', c), true
	case c == '\t':
		return append(out, '\\', 't'), true
	case c < 0x20 || c == 0x7f:
		return out, false
	}
	return append(out, c), true
}

// jsonString appends s (valid UTF-8, from a plain scalar) as a JSON string.
func jsonString(out, s []byte) []byte {
	out = append(out, '"')
	for _, c := range s {
		var ok bool
		if out, ok = appendJSONByte(out, c); !ok {
			out = append(out, `\u00`...)
			out = append(out, "0123456789abcdef"[c>>4], "0123456789abcdef"[c&15])
		}
	}
	return append(out, '"')
}

// literal parses a literal ("|", "|-") or folded (">", ">-") block scalar
// of a value at indent. Folding joins adjacent lines with a space and keeps
// a line feed per blank line; a folded scalar with more indented lines
// (kept as they are) is left to the full parser.
func (p *yparser) literal(indent int, header []byte) {
	strip := false
	fold := header[0] == '>'
	switch h := bytes.TrimRight(header, " "); {
	case len(h) == 1:
	case h[1] == '-' && onlyComment(h[2:]):
		strip = true
	case onlyComment(h[1:]):
	default:
		p.fail = true // |+, >+, indentation indicators: left to the full parser
		return
	}
	p.advance()
	content := -1
	var text []byte
	pendingBreaks := 0
	for ; p.i < len(p.lines); p.i++ {
		line := p.lines[p.i]
		n := 0
		for n < len(line) && line[n] == ' ' {
			n++
		}
		if n == len(line) { // blank
			if content >= 0 && n > content {
				p.fail = true // spaces kept as content: left to the full parser
				return
			}
			if content < 0 && n > indent {
				p.fail = true
				return
			}
			pendingBreaks++
			continue
		}
		if n <= indent {
			break
		}
		if line[n] == '\t' {
			p.fail = true // a tab where indentation may continue: left to the full parser
			return
		}
		if content < 0 {
			content = n
			if pendingBreaks > 0 {
				p.fail = true // leading blank lines: left to the full parser
				return
			}
		} else if n < content || fold && n > content {
			p.fail = true
			return
		}
		switch {
		case len(text) > 0 && fold && pendingBreaks == 0:
			text = append(text, ' ')
		case len(text) > 0 && fold:
			for ; pendingBreaks > 0; pendingBreaks-- {
				text = append(text, '\n')
			}
		case len(text) > 0:
			for ; pendingBreaks > 0; pendingBreaks-- {
				text = append(text, '\n')
			}
			text = append(text, '\n')
		}
		pendingBreaks = 0
		text = append(text, line[content:]...)
	}
	p.col = 0
	if len(text) > 0 && !strip && !(p.i == len(p.lines) && pendingBreaks == 0 && p.unterminated) {
		text = append(text, '\n')
	}
	p.out = append(p.out, '"')
	for _, c := range text {
		switch c {
		case '\n':
			p.out = append(p.out, '\\', 'n')
		default:
			var ok bool
			if p.out, ok = appendJSONByte(p.out, c); !ok {
				p.fail = true
				return
			}
		}
	}
	p.out = append(p.out, '"')
}
