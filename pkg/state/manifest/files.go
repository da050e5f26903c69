package manifest

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/meshguard/meshguard/pkg/state"
)

// Document is one object read from a file, with where it came from.
type Document struct {
	// Source names the file and the document within it ("a.yaml: document 2",
	// with the List item where there is one).
	Source string
	Object *state.Object
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
// documents and `kind: List` objects as `kubectl get -o yaml|json` prints
// them; YAML and JSON are told apart by content. Namespaced objects without
// a namespace are put in "default", as kubectl does.
func ReadFiles(paths []string) ([]Document, error) {
	return ReadFilesContext(context.Background(), paths, ReadOptions{})
}

// ReadFilesContext is ReadFiles that stops when ctx ends and honours opts.
func ReadFilesContext(ctx context.Context, paths []string, opts ReadOptions) ([]Document, error) {
	var docs []Document
	err := StreamFiles(ctx, paths, opts, func(d Document) error {
		docs = append(docs, d)
		return nil
	})
	return docs, err
}

// StreamFiles reads what ReadFiles reads and calls fn with every object, in
// input order, as it is decoded: a whole-cluster export is never held in
// memory, only the lean objects fn keeps. Only regular files are read
// (symlinks are followed): a FIFO, device or socket is bad input, named,
// never a read that blocks or never ends.
func StreamFiles(ctx context.Context, paths []string, opts ReadOptions, fn func(Document) error) error {
	if opts.MaxFileBytes <= 0 {
		opts.MaxFileBytes = DefaultMaxFileBytes
	}
	for _, root := range paths {
		files, err := expand(root)
		if err != nil {
			return &InputError{Source: root, Err: err}
		}
		for _, f := range files {
			if err := readFile(ctx, f, opts, fn); err != nil {
				return err
			}
		}
	}
	return nil
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

func readFile(ctx context.Context, path string, opts ReadOptions, fn func(Document) error) error {
	info, err := os.Stat(path) // follows symlinks: the target is what is read
	if err != nil {
		return &InputError{Source: path, Err: err}
	}
	if !info.Mode().IsRegular() {
		return &InputError{Source: path, Err: fmt.Errorf("not a regular file (%s): only files are read", fileType(info.Mode()))}
	}
	if info.Size() > opts.MaxFileBytes {
		return &InputError{Source: path, Err: fmt.Errorf("%d bytes is over the %d-byte limit per file", info.Size(), opts.MaxFileBytes)}
	}
	f, err := os.Open(path)
	if err != nil {
		return &InputError{Source: path, Err: err}
	}
	defer f.Close()
	// The file may grow after the Stat: the limit holds for what is read.
	limited := &io.LimitedReader{R: f, N: opts.MaxFileBytes + 1}
	overLimit := func(err error) error {
		if limited.N <= 0 {
			return &InputError{Source: path, Err: fmt.Errorf("over the %d-byte limit per file", opts.MaxFileBytes)}
		}
		if err != nil && ctx.Err() != nil {
			return fmt.Errorf("reading %s: %w", path, ctx.Err())
		}
		return err
	}
	br := bufio.NewReaderSize(limited, 1<<20)
	p := newPipeline(ctx, fn)
	if isJSON(br) {
		err = splitJSON(newJSONScanner(br), path, p.add)
	} else {
		err = splitYAML(&lineReader{r: br}, path, p.add)
	}
	return overLimit(p.finish(err))
}

// isJSON reports whether the stream starts with a JSON object (`kubectl get
// -o json` output, a JSON manifest): "{" then a member name or "}". A YAML
// flow mapping ("{apiVersion: v1, ...}") is not JSON.
func isJSON(br *bufio.Reader) bool {
	for n := 64; ; n *= 2 {
		b, err := br.Peek(min(n, br.Size()))
		seen := 0
		for _, c := range b {
			switch {
			case c == ' ' || c == '\t' || c == '\n' || c == '\r':
				continue
			case seen == 0 && c == '{':
				seen++
			case seen == 1:
				return c == '"' || c == '}'
			default:
				return false
			}
		}
		if err != nil || len(b) == br.Size() {
			return false
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

// decodeDocument turns one JSON document into objects, expanding a List
// (list reports that it was one).
func decodeDocument(js []byte) (objs []*state.Object, list bool, err error) {
	var env envelope
	if err := json.Unmarshal(js, &env); err != nil {
		return nil, false, fmt.Errorf("not a Kubernetes object: %w", err)
	}
	if env.Kind == "List" || (strings.HasSuffix(env.Kind, "List") && env.Items != nil) {
		out := make([]*state.Object, 0, len(env.Items))
		for i, item := range env.Items {
			o, err := decode(item, "default")
			if err != nil {
				return nil, true, fmt.Errorf("item %d: %w", i+1, err)
			}
			out = append(out, o)
		}
		return out, true, nil
	}
	o, err := build(&env, js, "default")
	if err != nil {
		return nil, false, err
	}
	return []*state.Object{o}, strings.HasSuffix(env.Kind, "List"), nil
}
