// Package rulestest runs rule fixtures: YAML scenarios of cluster state and
// writes, judged by the real engine, with findings compared as a set.
//
// A rule's fixtures live in testdata/<rule ID>/*.yaml beside it. Each scenario
// starts from testdata/cluster.yaml (or pkg/rules/testdata/cluster.yaml), adds its documents annotated
// `meshguard.io/fixture: state`, and judges every other reviewed object on its
// own, as a CREATE (or an UPDATE when the state holds it), or as a DELETE when
// annotated `meshguard.io/fixture: delete`.
package rulestest

import (
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/meshguard/meshguard/pkg/config"
	"github.com/meshguard/meshguard/pkg/engine"
	"github.com/meshguard/meshguard/pkg/mesh"
	"github.com/meshguard/meshguard/pkg/rules"
	"github.com/meshguard/meshguard/pkg/rules/registry"
	"github.com/meshguard/meshguard/pkg/state"
)

// FixtureAnnotation marks fixture documents that are state or deletions.
const FixtureAnnotation = "meshguard.io/fixture"

// CaseAnnotation names a write when a scenario writes one object twice.
const CaseAnnotation = "meshguard.io/case"

// Write is one judged write and the findings of the rule under test,
// rendered "deny", "warn" or "warn pre-existing".
type Write struct {
	Scenario string // file name without .yaml
	Ref      string // namespace/name
	Case     string
	Findings []string
}

// Key renders the write as expectation tables key it: "scenario ns/name",
// followed by " (case)" for writes annotated with CaseAnnotation.
func (w Write) Key() string {
	if w.Case != "" {
		return w.Scenario + " " + w.Ref + " (" + w.Case + ")"
	}
	return w.Scenario + " " + w.Ref
}

// Judge runs every scenario of testdata/<id> and returns each write with the
// findings rule id produced for it.
func Judge(t *testing.T, id string) []Write {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", id, "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures in testdata/%s: %v", id, err)
	}
	var out []Write
	for _, f := range files {
		out = append(out, judgeScenario(t, id, f)...)
	}
	return out
}

func judgeScenario(t *testing.T, id, file string) []Write {
	t.Helper()
	base, err := state.ReadFiles([]string{clusterFile()})
	if err != nil {
		t.Fatal(err)
	}
	docs, err := state.ReadFiles([]string{file})
	if err != nil {
		t.Fatal(err)
	}
	store := mesh.NewStore(mesh.DefaultClusterDomain)
	known := map[state.ObjectRef]*state.Object{}
	key := func(r state.ObjectRef) state.ObjectRef { r.Created = time.Time{}; return r }
	seq := int64(0)
	put := func(o *state.Object) {
		seq++
		switch {
		case o.PA != nil:
			o.PA.Seq = seq
		case o.DR != nil:
			o.DR.Seq = seq
		}
		store.Apply(o)
		if o.Reviewed() {
			known[key(o.Ref)] = o
		}
	}
	var writes []state.Document
	for _, d := range base {
		put(d.Object)
	}
	for _, d := range docs {
		if d.Object.Annotations[FixtureAnnotation] == "state" || !d.Object.Reviewed() {
			put(d.Object)
		} else {
			writes = append(writes, d)
		}
	}
	eng := engine.New(registry.Rules(), config.Default())
	scenario := strings.TrimSuffix(filepath.Base(file), ".yaml")
	newer := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC) // writes are newer than the state
	var out []Write
	for _, d := range writes {
		o := d.Object
		existing := known[key(o.Ref)]
		var change *rules.Change
		switch {
		case o.Annotations[FixtureAnnotation] == "delete":
			if existing == nil {
				t.Fatalf("%s: delete of %s, which the state does not hold", d.Source, o.Ref)
			}
			change = rules.NewChange(rules.Delete, o.Ref, existing, nil)
		case existing != nil:
			switch { // an update keeps the object's age
			case o.PA != nil && existing.PA != nil:
				o.PA.Created, o.PA.Seq = existing.PA.Created, existing.PA.Seq
			case o.DR != nil && existing.DR != nil:
				o.DR.Created, o.DR.Seq = existing.DR.Created, existing.DR.Seq
			}
			change = rules.NewChange(rules.Update, o.Ref, existing, o)
		default:
			switch {
			case o.PA != nil:
				o.PA.Created = newer
			case o.DR != nil:
				o.DR.Created = newer
			case o.VS != nil:
				o.VS.Created = newer
			}
			change = rules.NewChange(rules.Create, o.Ref, nil, o)
		}
		var v engine.Verdict
		_ = store.View(func(s state.Snapshot) error { v = eng.Evaluate(s, change); return nil })
		w := Write{Scenario: scenario, Ref: o.Ref.Namespace + "/" + o.Ref.Name, Case: o.Annotations[CaseAnnotation]}
		for _, r := range v.Results {
			if r.Rule != id {
				continue
			}
			f := string(r.Action)
			if r.Preexisting {
				f += " pre-existing"
			}
			w.Findings = append(w.Findings, f)
			if strings.ContainsAny(r.Message, "\n") || !strings.Contains(r.Message, " ") {
				t.Errorf("%s %s: malformed message %q", w.Key(), id, r.Message)
			}
		}
		sort.Strings(w.Findings)
		out = append(out, w)
	}
	return out
}

// clusterFile is the package's testdata/cluster.yaml, or the one the rule
// packages share in pkg/rules/testdata.
func clusterFile() string {
	own := filepath.Join("testdata", "cluster.yaml")
	if _, err := os.Stat(own); err == nil {
		return own
	}
	return filepath.Join("..", "testdata", "cluster.yaml")
}

// Expect compares the findings of the judged writes with want, keyed by
// "scenario ns/name"; writes missing from want must have no finding. It also
// requires at least one write with a finding and one without, so that every
// rule has a firing and a passing fixture.
func Expect(t *testing.T, id string, want map[string][]string) {
	t.Helper()
	writes := Judge(t, id)
	firing, passing := 0, 0
	seen := map[string]bool{}
	for _, w := range writes {
		seen[w.Key()] = true
		exp := slices.Clone(want[w.Key()])
		sort.Strings(exp)
		if !slices.Equal(exp, w.Findings) {
			t.Errorf("%s: %s findings = %v, want %v", w.Key(), id, w.Findings, exp)
		}
		if len(w.Findings) > 0 {
			firing++
		} else {
			passing++
		}
	}
	for k := range want {
		if !seen[k] {
			t.Errorf("expectation for %s names no write of the fixtures", k)
		}
	}
	if firing == 0 || passing == 0 {
		t.Errorf("%s needs at least one firing and one passing fixture (have %d and %d)", id, firing, passing)
	}
}
