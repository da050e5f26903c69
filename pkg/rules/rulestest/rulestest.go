// Package rulestest runs rule fixtures: YAML scenarios of cluster state and
// writes, judged by the real engine, with findings compared as a set.
//
// A rule's fixtures live in testdata/<rule ID>/*.yaml beside it. Each scenario
// starts from testdata/cluster.yaml, adds its documents annotated
// `meshguard.io/fixture: state`, and judges every other reviewed object on its
// own, as a CREATE (or an UPDATE when the state holds it), or as a DELETE when
// annotated `meshguard.io/fixture: delete`.
package rulestest

import (
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
	base, err := state.ReadFiles([]string{filepath.Join("testdata", "cluster.yaml")})
	if err != nil {
		t.Fatal(err)
	}
	docs, err := state.ReadFiles([]string{file})
	if err != nil {
		t.Fatal(err)
	}
	store := state.NewStore(mesh.Classify)
	seq := int64(0)
	put := func(o *state.Object) {
		if o.PA != nil {
			seq++
			o.PA.Seq = seq
		}
		store.Apply(o)
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
	var out []Write
	for _, d := range writes {
		o := d.Object
		change := &rules.Change{Operation: rules.Create, Ref: o.Ref}
		var existing *state.PeerAuthentication
		_ = store.View(func(s state.Snapshot) error {
			for _, pa := range s.PeerAuthentications(o.Ref.Namespace) {
				if pa.Name == o.Ref.Name && o.PA != nil {
					existing = pa
				}
			}
			return nil
		})
		if existing != nil {
			change.Operation, change.OldPA = rules.Update, existing
		}
		if o.Annotations[FixtureAnnotation] == "delete" {
			if existing == nil {
				t.Fatalf("%s: delete of %s, which the state does not hold", d.Source, o.Ref)
			}
			change.Operation = rules.Delete
		} else if o.PA != nil {
			o.PA.Created = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC) // newer than the state
			change.NewPA = o.PA
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
