package state

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"sigs.k8s.io/yaml"
)

// Document is one object read from a file, with where it came from.
type Document struct {
	// Source names the file and the document within it ("a.yaml: document 2",
	// with the List item where there is one).
	Source string
	Object *Object
	// File is the path read, and Line the line of the object's `kind:` in
	// it (1-based), for findings that point at the source.
	File string
	Line int
}

// InputError is bad input: unreadable files, YAML that does not parse, an
// object without kind or name. `check` exits 2 on it.
type InputError struct {
	Source string
	Err    error
}

func (e *InputError) Error() string { return e.Source + ": " + e.Err.Error() }
func (e *InputError) Unwrap() error { return e.Err }

// DefaultMaxFileBytes caps one input file: far above a whole-cluster export
// (about 90 MB at 100k objects), far below what would exhaust memory.
const DefaultMaxFileBytes = 1 << 30

// ReadOptions bound what ReadFiles reads.
type ReadOptions struct {
	// MaxFileBytes caps each file; 0 means DefaultMaxFileBytes.
	MaxFileBytes int64
}

// ReadFiles reads YAML or JSON files, and the *.yaml, *.yml and *.json files
// of directories (recursively, in lexical order). Files may hold several
// documents and `kind: List` objects as `kubectl get -o yaml` prints them.
// Namespaced objects without a namespace are put in "default", as kubectl does.
func ReadFiles(paths []string) ([]Document, error) {
	return ReadFilesContext(context.Background(), paths, ReadOptions{})
}

// ReadFilesContext is ReadFiles that stops when ctx ends and honours opts.
// Only regular files are read (symlinks are followed): a FIFO, device or
// socket is bad input, named, never a read that blocks or never ends.
func ReadFilesContext(ctx context.Context, paths []string, opts ReadOptions) ([]Document, error) {
	if opts.MaxFileBytes <= 0 {
		opts.MaxFileBytes = DefaultMaxFileBytes
	}
	var docs []Document
	for _, root := range paths {
		files, err := expand(root)
		if err != nil {
			return nil, &InputError{Source: root, Err: err}
		}
		for _, f := range files {
			d, err := readFile(ctx, f, opts)
			if err != nil {
				return nil, err
			}
			docs = append(docs, d...)
		}
	}
	return docs, nil
}

func expand(root string) ([]string, error) {
	info, err := os.Stat(root)
	if err != nil {
		return nil, err
	}
	if !info.IsDir() {
		return []string{root}, nil
	}
	var files []string
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		switch strings.ToLower(filepath.Ext(path)) {
		case ".yaml", ".yml", ".json":
			if !d.IsDir() {
				files = append(files, path)
			}
		}
		return nil
	})
	sort.Strings(files)
	return files, err
}

func readFile(ctx context.Context, path string, opts ReadOptions) ([]Document, error) {
	info, err := os.Stat(path) // follows symlinks: the target is what is read
	if err != nil {
		return nil, &InputError{Source: path, Err: err}
	}
	if !info.Mode().IsRegular() {
		return nil, &InputError{Source: path, Err: fmt.Errorf("not a regular file (%s): only files are read", fileType(info.Mode()))}
	}
	if info.Size() > opts.MaxFileBytes {
		return nil, &InputError{Source: path, Err: fmt.Errorf("%d bytes is over the %d-byte limit per file", info.Size(), opts.MaxFileBytes)}
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, &InputError{Source: path, Err: err}
	}
	defer f.Close()
	// The file may grow after the Stat: the limit holds for what is read.
	limited := &io.LimitedReader{R: f, N: opts.MaxFileBytes + 1}
	reader := newDocReader(bufio.NewReader(limited))
	var docs []Document
	for n := 1; ; n++ {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("reading %s: %w", path, err)
		}
		raw, start, err := reader.next()
		if limited.N <= 0 {
			return nil, &InputError{Source: path, Err: fmt.Errorf("over the %d-byte limit per file", opts.MaxFileBytes)}
		}
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		source := fmt.Sprintf("%s: document %d", path, n)
		if err != nil {
			return nil, &InputError{Source: source, Err: err}
		}
		if len(bytes.TrimSpace(stripComments(raw))) == 0 {
			n-- // a separator or comments only: not a document
			continue
		}
		objs, err := decodeDocument(raw)
		if err != nil {
			return nil, &InputError{Source: source, Err: err}
		}
		list := len(objs) > 1 || isList(raw)
		lines := kindLines(raw, list)
		for i, o := range objs {
			src := source
			if list {
				src = fmt.Sprintf("%s, item %d", source, i+1)
			}
			line := start
			if i < len(lines) {
				line = start + lines[i]
			}
			docs = append(docs, Document{Source: src, Object: o, File: path, Line: line})
		}
	}
}

// docReader splits a YAML stream at "---" lines, counting lines so that each
// document knows where it starts.
type docReader struct {
	r    *bufio.Reader
	line int // lines consumed so far
}

func newDocReader(r *bufio.Reader) *docReader { return &docReader{r: r} }

// next returns the next document and the 0-based line it starts on.
func (d *docReader) next() ([]byte, int, error) {
	var buf bytes.Buffer
	start := d.line
	for {
		line, err := d.r.ReadBytes('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, 0, err
		}
		if len(line) > 0 {
			d.line++
		}
		if bytes.HasPrefix(line, []byte("---")) {
			if rest := strings.TrimSpace(string(line[3:])); rest != "" && rest[0] != '#' {
				return nil, 0, fmt.Errorf("invalid YAML document separator: %s", rest)
			}
			if buf.Len() > 0 {
				return buf.Bytes(), start, nil
			}
			start = d.line
		} else {
			buf.Write(line)
		}
		if errors.Is(err, io.EOF) {
			if buf.Len() > 0 {
				return buf.Bytes(), start, nil
			}
			return nil, 0, io.EOF
		}
	}
}

// kindLines returns, 1-based within raw, the line of each object's `kind:`:
// the top-level one, or for a List the kind of each item (the least indented
// `kind:` lines after `items:`). JSON on one line gives line 1.
func kindLines(raw []byte, list bool) []int {
	lines := strings.Split(string(raw), "\n")
	if !list {
		for i, l := range lines {
			if strings.HasPrefix(l, "kind:") || strings.HasPrefix(strings.TrimSpace(l), `"kind"`) {
				return []int{i + 1}
			}
		}
		return []int{1}
	}
	items := -1
	for i, l := range lines {
		if strings.HasPrefix(l, "items:") {
			items = i
			break
		}
	}
	if items < 0 {
		return nil
	}
	// Item starts are the least indented "- " lines after items:.
	var starts []int
	itemIndent := -1
	for i := items + 1; i < len(lines); i++ {
		t := strings.TrimLeft(lines[i], " ")
		if !strings.HasPrefix(t, "- ") && t != "-" {
			continue
		}
		indent := len(lines[i]) - len(t)
		switch {
		case itemIndent < 0 || indent < itemIndent:
			itemIndent, starts = indent, []int{i}
		case indent == itemIndent:
			starts = append(starts, i)
		}
	}
	out := make([]int, len(starts))
	for n, st := range starts {
		end := len(lines)
		if n+1 < len(starts) {
			end = starts[n+1]
		}
		out[n] = st + 1
		for i := st; i < end; i++ {
			if t := strings.TrimLeft(strings.TrimPrefix(strings.TrimLeft(lines[i], " "), "- "), " "); strings.HasPrefix(t, "kind:") || strings.Contains(t, " kind:") || strings.Contains(t, "{kind:") {
				out[n] = i + 1
				break
			}
		}
	}
	return out
}

func fileType(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "a FIFO"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeDevice != 0 || m&fs.ModeCharDevice != 0:
		return "a device"
	case m.IsDir():
		return "a directory"
	default:
		return "not a regular file"
	}
}

func stripComments(raw []byte) []byte {
	var out bytes.Buffer
	for _, line := range bytes.Split(raw, []byte("\n")) {
		if t := bytes.TrimSpace(line); len(t) > 0 && t[0] != '#' && !bytes.Equal(t, []byte("---")) {
			out.Write(line)
			out.WriteByte('\n')
		}
	}
	return out.Bytes()
}

func isList(raw []byte) bool {
	var head struct {
		Kind string `json:"kind"`
	}
	js, err := yaml.YAMLToJSON(raw)
	return err == nil && json.Unmarshal(js, &head) == nil && strings.HasSuffix(head.Kind, "List")
}

// decodeDocument turns one YAML document into objects, expanding lists.
func decodeDocument(raw []byte) ([]*Object, error) {
	js, err := yaml.YAMLToJSON(raw)
	if err != nil {
		return nil, fmt.Errorf("YAML does not parse: %w", err)
	}
	var head struct {
		Kind  string            `json:"kind"`
		Items []json.RawMessage `json:"items"`
	}
	if err := json.Unmarshal(js, &head); err != nil {
		return nil, fmt.Errorf("not a Kubernetes object: %w", err)
	}
	if head.Kind == "List" || (strings.HasSuffix(head.Kind, "List") && head.Items != nil) {
		out := make([]*Object, 0, len(head.Items))
		for i, item := range head.Items {
			o, err := decode(item, "default")
			if err != nil {
				return nil, fmt.Errorf("item %d: %w", i+1, err)
			}
			out = append(out, o)
		}
		return out, nil
	}
	o, err := decode(js, "default")
	if err != nil {
		return nil, err
	}
	return []*Object{o}, nil
}
