package manifest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"

	"sigs.k8s.io/yaml"
)

// How a file is read, whole-cluster exports in mind (`kubectl get -A -o
// yaml` is one List of 100k items and 100 MB): the file is split into units
// as it is read — documents, and the items of a List, whose bytes are all a
// unit holds — and units are decoded concurrently, each straight to its
// lean object, then handed on in input order (creation-order ties depend on
// it). Neither the whole input nor full typed objects are ever held.

type unitKind int

const (
	yamlDoc  unitKind = iota // a YAML document
	yamlItem                 // one item of a block List ("- ..." at column 0)
	jsonDoc                  // a top-level JSON value
	jsonItem                 // one item of a JSON List
)

// unit is one piece of input decoded on its own.
type unit struct {
	raw    []byte
	kind   unitKind
	source string
	file   string
	// line is the 1-based line of raw's first byte in the file; kindLine,
	// when set, the line of the object's kind (JSON units).
	line, kindLine int
	// anchors are the earlier items of the same List that define YAML
	// anchors, for an item that may use them (yamlItem only).
	anchors []byte
}

// decodeUnit turns a unit into its documents (several for a YAML or JSON
// document that is a List written in flow style or on one line).
func decodeUnit(u *unit) ([]Document, error) {
	switch u.kind {
	case yamlItem, jsonItem:
		js := u.raw
		if u.kind == yamlItem {
			var err error
			if js, err = yamlItemToJSON(u.raw, u.anchors); err != nil {
				return nil, &InputError{Source: u.source, Err: err}
			}
		}
		o, err := decode(js, "default")
		if err != nil {
			return nil, &InputError{Source: u.source, Err: err}
		}
		line := u.kindLine
		if u.kind == yamlItem {
			line = u.line + itemKindLine(u.raw)
		}
		return []Document{{Source: u.source, Object: o, File: u.file, Line: line}}, nil
	}
	js := u.raw
	if u.kind == yamlDoc {
		var ok bool
		if js, ok = fastYAMLToJSON(u.raw, false); !ok {
			slowDocuments.Add(1)
			var err error
			if js, err = yaml.YAMLToJSON(u.raw); err != nil {
				return nil, &InputError{Source: u.source, Err: fmt.Errorf("YAML does not parse: %w", err)}
			}
		}
	}
	objs, list, err := decodeDocument(js)
	if err != nil {
		return nil, &InputError{Source: u.source, Err: err}
	}
	var lines []int
	if u.kind == yamlDoc {
		lines = kindLines(u.raw, list)
	}
	docs := make([]Document, 0, len(objs))
	for i, o := range objs {
		d := Document{Source: u.source, Object: o, File: u.file, Line: u.line}
		if list {
			d.Source = fmt.Sprintf("%s, item %d", u.source, i+1)
		}
		switch {
		case u.kind == jsonDoc && u.kindLine > 0 && !list:
			d.Line = u.kindLine
		case i < len(lines):
			d.Line = u.line - 1 + lines[i]
		}
		docs = append(docs, d)
	}
	return docs, nil
}

// slowDocuments counts the YAML documents and List items the fast path
// left to sigs.k8s.io/yaml (see SlowPathDocuments).
var slowDocuments atomic.Int64

// SlowPathDocuments is how many YAML documents and List items this process
// has read through sigs.k8s.io/yaml because the fast path gave up on them:
// constructs it does not take (flow collections, anchors, tags, ...). The
// benchmarks report it; it should stay near zero for what emitters print.
func SlowPathDocuments() int64 { return slowDocuments.Load() }

// yamlItemToJSON converts one "- ..." item of a block List. anchors holds
// the List's earlier items that define anchors: parsed before the item, in
// one sequence, they give its aliases their values (the item is the last).
func yamlItemToJSON(raw, anchors []byte) ([]byte, error) {
	if anchors == nil {
		if js, ok := fastYAMLToJSON(raw, true); ok {
			return js, nil
		}
	}
	slowDocuments.Add(1)
	js, err := yaml.YAMLToJSON(append(anchors[:len(anchors):len(anchors)], raw...))
	if err != nil {
		return nil, fmt.Errorf("YAML does not parse: %w", err)
	}
	var items []json.RawMessage
	if err := json.Unmarshal(js, &items); err != nil || len(items) == 0 || (anchors == nil && len(items) != 1) {
		return nil, errors.New("not a Kubernetes object: a List item must be one object")
	}
	return items[len(items)-1], nil
}

// definesAnchor and mayUseAlias tell, cheaply and erring towards yes,
// whether a List item defines a YAML anchor ("&name") or may use an alias
// ("*name"): YAML lets a later item of one List refer to an earlier one's
// anchor, so such items are parsed with the anchors before them.
func definesAnchor(item []byte) bool { return hasMarker(item, '&') }

func mayUseAlias(item []byte) bool { return hasMarker(item, '*') }

// hasMarker reports whether c follows a space, "[", "{" or "," and precedes
// a name, as an anchor or alias does in block or flow YAML.
func hasMarker(b []byte, c byte) bool {
	for i := bytes.IndexByte(b, c); i >= 0; {
		if i > 0 && i+1 < len(b) && strings.IndexByte(" [{,", b[i-1]) >= 0 && strings.IndexByte(" \t\n,]}", b[i+1]) < 0 {
			return true
		}
		j := bytes.IndexByte(b[i+1:], c)
		if j < 0 {
			break
		}
		i += 1 + j
	}
	return false
}

// itemKindLine is the 0-based line, within a "- ..." item, of its own
// `kind:` (at the item's indentation, or on the "- " line).
func itemKindLine(raw []byte) int {
	for n := 0; len(raw) > 0; n++ {
		line := raw
		if i := bytes.IndexByte(raw, '\n'); i >= 0 {
			line, raw = raw[:i], raw[i+1:]
		} else {
			raw = nil
		}
		if bytes.HasPrefix(line, []byte("- kind:")) || bytes.HasPrefix(line, []byte("  kind:")) {
			return n
		}
	}
	return 0
}

// pipeline decodes units on every core and emits their documents in order.
type pipeline struct {
	ctx    context.Context
	emit   func(Document) error
	work   chan *batch
	order  chan *batch
	cur    *batch
	failed atomic.Bool
	done   chan error
	wg     sync.WaitGroup
}

type batch struct {
	units []unit
	size  int
	docs  []Document
	err   error
	ready chan struct{}
}

const (
	batchUnits = 128
	batchBytes = 512 << 10
)

func newPipeline(ctx context.Context, emit func(Document) error) *pipeline {
	workers := runtime.GOMAXPROCS(0)
	p := &pipeline{ctx: ctx, emit: emit, work: make(chan *batch, 2*workers), order: make(chan *batch, 4*workers), done: make(chan error, 1)}
	for range workers {
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			for b := range p.work {
				for i := range b.units {
					if p.failed.Load() {
						break
					}
					docs, err := decodeUnit(&b.units[i])
					if err != nil {
						b.err = err
						break
					}
					b.docs = append(b.docs, docs...)
				}
				b.units = nil // the input bytes go as soon as they are decoded
				close(b.ready)
			}
		}()
	}
	go func() {
		var first error
		for b := range p.order {
			<-b.ready
			if first != nil {
				continue
			}
			if b.err != nil {
				first = b.err
			}
			for _, d := range b.docs {
				if first != nil {
					break
				}
				if err := p.emit(d); err != nil {
					first = err
				}
			}
			if first != nil {
				p.failed.Store(true)
			}
		}
		p.done <- first
	}()
	return p
}

// add queues a unit; it fails once decoding has failed or ctx ended.
func (p *pipeline) add(u unit) error {
	if p.failed.Load() {
		return errStopped
	}
	if err := p.ctx.Err(); err != nil {
		return err
	}
	if p.cur == nil {
		p.cur = &batch{ready: make(chan struct{})}
	}
	p.cur.units = append(p.cur.units, u)
	p.cur.size += len(u.raw)
	if len(p.cur.units) >= batchUnits || p.cur.size >= batchBytes {
		p.flush()
	}
	return nil
}

func (p *pipeline) flush() {
	if p.cur == nil {
		return
	}
	p.order <- p.cur
	p.work <- p.cur
	p.cur = nil
}

var errStopped = errors.New("stopped")

// finish waits for every unit and returns the first error in input order:
// a unit's, or else the splitter's (which stopped at a later point).
func (p *pipeline) finish(splitErr error) error {
	p.flush()
	close(p.work)
	close(p.order)
	err := <-p.done
	p.wg.Wait()
	if err != nil {
		return err
	}
	if errors.Is(splitErr, errStopped) {
		return nil
	}
	return splitErr
}

// lineReader reads lines of any length, counting them.
type lineReader struct {
	r    *bufio.Reader
	line int
	long []byte
}

// next returns the next line with its newline (valid until the next call).
func (l *lineReader) next() ([]byte, error) {
	b, err := l.r.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		l.long = append(l.long[:0], b...)
		for errors.Is(err, bufio.ErrBufferFull) {
			b, err = l.r.ReadSlice('\n')
			l.long = append(l.long, b...)
		}
		b = l.long
	}
	if len(b) > 0 {
		l.line++
	}
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	if len(b) == 0 {
		return nil, io.EOF
	}
	return b, nil
}

func isBlankOrComment(line []byte) bool {
	t := bytes.TrimSpace(line)
	return len(t) == 0 || t[0] == '#'
}

// splitYAML splits a YAML stream into documents at "---" lines, and a
// document whose top-level items: is a block sequence at column 0 (as
// kubectl prints a List) into its items.
func splitYAML(lr *lineReader, path string, add func(unit) error) error {
	return splitYAMLAfter(lr, path, 0, add)
}

// splitYAMLAfter splits the rest of a stream whose first docN documents
// (JSON ones) were read already.
func splitYAMLAfter(lr *lineReader, path string, docN int, add func(unit) error) error {
	sp := &yamlSplitter{path: path, docN: docN, add: add, docStart: lr.line + 1, itemsAt: -1}
	for {
		line, err := lr.next()
		if errors.Is(err, io.EOF) {
			return sp.endDoc()
		}
		if err != nil {
			return &InputError{Source: path, Err: err}
		}
		if bytes.HasPrefix(line, []byte("---")) {
			if rest := strings.TrimSpace(string(line[3:])); rest != "" && rest[0] != '#' {
				return &InputError{Source: fmt.Sprintf("%s: document %d", path, sp.docN+1), Err: fmt.Errorf("invalid YAML document separator: %s", rest)}
			}
			if err := sp.endDoc(); err != nil {
				return err
			}
			sp.docStart = lr.line + 1
			continue
		}
		if err := sp.line(line, lr.line); err != nil {
			return err
		}
	}
}

// yamlSplitter cuts one file's YAML into units: each document, and the
// items of a List in kubectl's layout each on its own.
type yamlSplitter struct {
	path string
	docN int
	add  func(unit) error

	doc       []byte // the document, or with items split off, all but the items
	docStart  int    // line of doc's first byte
	content   bool
	itemsAt   int // offset in doc of a top-level "items:" line not yet followed by an item
	splitting bool
	inItems   bool
	item      []byte
	itemStart int
	itemN     int
	anchors   []byte // this List's items that define anchors, in order
}

// line takes the next line of the document (n is its line number).
func (sp *yamlSplitter) line(line []byte, n int) error {
	if !sp.content && !isBlankOrComment(line) {
		sp.content = true
		sp.docN++
	}
	switch {
	case sp.inItems && isSequenceEntry(line):
		if err := sp.flushItem(); err != nil {
			return err
		}
		sp.itemN++
		sp.startItem(line, n)
	case sp.inItems && (line[0] == ' ' || isBlankOrComment(line)):
		if sp.item != nil {
			sp.item = append(sp.item, line...)
		}
	case sp.inItems:
		// Back at the top level after the items (kind: List, metadata).
		if err := sp.flushItem(); err != nil {
			return err
		}
		sp.inItems = false
		sp.doc = append(sp.doc, line...)
	case sp.itemsAt >= 0 && !isBlankOrComment(line):
		if isSequenceEntry(line) {
			// kubectl's layout: split the items off.
			sp.doc = append(sp.doc[:sp.itemsAt], "items: []\n"...)
			sp.splitting, sp.inItems, sp.itemsAt = true, true, -1
			sp.itemN = 1
			sp.startItem(line, n)
			return nil
		}
		sp.itemsAt = -1 // another layout: the document is read whole
		sp.doc = append(sp.doc, line...)
	default:
		if !sp.splitting && isItemsKey(line) {
			sp.itemsAt = len(sp.doc)
		}
		sp.doc = append(sp.doc, line...)
	}
	return nil
}

// isSequenceEntry: a top-level "- " (or a bare "-").
func isSequenceEntry(line []byte) bool {
	return line[0] == '-' && (len(line) == 1 || line[1] == ' ' || line[1] == '\n')
}

func (sp *yamlSplitter) startItem(line []byte, n int) {
	sp.itemStart = n
	sp.item = append(make([]byte, 0, 1024), line...)
}

// flushItem hands on the List item read so far, with the anchors earlier
// items define when it may use them.
func (sp *yamlSplitter) flushItem() error {
	if sp.item == nil {
		return nil
	}
	u := unit{raw: sp.item, kind: yamlItem, source: fmt.Sprintf("%s: document %d, item %d", sp.path, sp.docN, sp.itemN), file: sp.path, line: sp.itemStart}
	if sp.anchors != nil && mayUseAlias(sp.item) {
		u.anchors = sp.anchors
	}
	if definesAnchor(sp.item) {
		// A fresh slice each time: units already handed on keep theirs.
		sp.anchors = append(sp.anchors[:len(sp.anchors):len(sp.anchors)], sp.item...)
	}
	sp.item = nil
	return sp.add(u)
}

// endDoc hands on the document (or checks the List header its items were
// split from) and starts the next.
func (sp *yamlSplitter) endDoc() error {
	if err := sp.flushItem(); err != nil {
		return err
	}
	doc, content, splitting := sp.doc, sp.content, sp.splitting
	sp.doc, sp.content, sp.itemsAt, sp.splitting, sp.inItems, sp.itemN, sp.anchors = nil, false, -1, false, false, 0, nil
	source := fmt.Sprintf("%s: document %d", sp.path, sp.docN)
	if splitting {
		return checkListHeader(doc, source)
	}
	if !content {
		return nil
	}
	return sp.add(unit{raw: doc, kind: yamlDoc, source: source, file: sp.path, line: sp.docStart})
}

func isItemsKey(line []byte) bool {
	if !bytes.HasPrefix(line, []byte("items:")) {
		return false
	}
	rest := bytes.TrimSpace(line[len("items:"):])
	return len(rest) == 0 || rest[0] == '#'
}

// checkListHeader makes sure a document whose items were split off is a
// List (a *List kind): other kinds have no top-level items.
func checkListHeader(header []byte, source string) error {
	js, ok := fastYAMLToJSON(header, false)
	if !ok {
		var err error
		if js, err = yaml.YAMLToJSON(header); err != nil {
			return &InputError{Source: source, Err: fmt.Errorf("YAML does not parse: %w", err)}
		}
	}
	var head struct {
		Kind string `json:"kind"`
	}
	if err := json.Unmarshal(js, &head); err != nil {
		return &InputError{Source: source, Err: fmt.Errorf("not a Kubernetes object: %w", err)}
	}
	if !strings.HasSuffix(head.Kind, "List") {
		return &InputError{Source: source, Err: fmt.Errorf("top-level items: in a %q document; only a List holds items", head.Kind)}
	}
	return nil
}
