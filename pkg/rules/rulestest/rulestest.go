// Package rulestest runs rule fixtures: YAML scenarios of cluster state and
// writes, judged by the real engine, with findings compared as a set.
//
// A rule's fixtures live in testdata/<rule ID>/*.yaml beside it. Each scenario
// starts from testdata/cluster.yaml (or pkg/rules/testdata/cluster.yaml), adds its documents annotated
// `meshguard.io/fixture: state`, and judges every other reviewed object on its
// own, as a CREATE (or an UPDATE when the state holds it), or as a DELETE when
// annotated `meshguard.io/fixture: delete`. Services and Namespaces are state
// unless annotated `meshguard.io/fixture: write` or `delete`.
package rulestest

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/meshguard/meshguard/pkg/check"
	"github.com/meshguard/meshguard/pkg/config"
	"github.com/meshguard/meshguard/pkg/paths"
	"github.com/meshguard/meshguard/pkg/rules"
	"github.com/meshguard/meshguard/pkg/rules/registry"
	"github.com/meshguard/meshguard/pkg/state"
	"github.com/meshguard/meshguard/pkg/state/manifest"
)

// FixtureAnnotation marks fixture documents that are state or deletions.
const FixtureAnnotation = "meshguard.io/fixture"

// CaseAnnotation names a write when a scenario writes one object twice.
const CaseAnnotation = "meshguard.io/case"

// Write is one judged write and the findings of the rule under test.
type Write struct {
	Scenario string // file name without .yaml
	Ref      string // namespace/name
	Case     string
	Findings []Got
}

// Got is one finding as a fixture sees it.
type Got struct {
	Action  string // "deny", "warn" or "warn pre-existing"
	Field   string
	Message string
}

func (g Got) String() string { return fmt.Sprintf("%s %s %q", g.Action, g.Field, g.Message) }

// Want is one expected finding: `deny spec.subsets[1].labels "selects no running pod"`,
// the action ("deny", "warn" or "warn pre-existing"), the field path and a
// fragment the message must contain; a fragment starting with "^" must
// start the message.
type Want struct {
	Action, Field, Fragment string
}

// ParseWant reads an expectation written as `action [pre-existing] field "fragment"`.
func ParseWant(s string) (Want, error) {
	head, quoted, ok := strings.Cut(s, ` "`)
	frag, err := strconv.Unquote(`"` + quoted)
	if !ok || err != nil || frag == "" {
		return Want{}, fmt.Errorf("expectation %q: want `action field \"message fragment\"`", s)
	}
	parts := strings.Fields(head)
	w := Want{Fragment: frag}
	switch {
	case len(parts) == 2 && (parts[0] == "deny" || parts[0] == "warn"):
		w.Action, w.Field = parts[0], parts[1]
	case len(parts) == 3 && parts[0] == "warn" && parts[1] == "pre-existing":
		w.Action, w.Field = "warn pre-existing", parts[2]
	default:
		return Want{}, fmt.Errorf("expectation %q: want `deny|warn [pre-existing] field \"fragment\"`", s)
	}
	return w, nil
}

func (w Want) matches(g Got) bool {
	if w.Action != g.Action || w.Field != g.Field {
		return false
	}
	if prefix, anchored := strings.CutPrefix(w.Fragment, "^"); anchored {
		return strings.HasPrefix(g.Message, prefix)
	}
	return strings.Contains(g.Message, w.Fragment)
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
	reads := Reads{}
	for _, f := range files {
		out = append(out, judgeScenario(t, id, f, reads)...)
	}
	CheckReads(t, id, reads)
	// And every kind the rule declares is read by some fixture of it, so
	// that a declaration does not outlive the code that needed it.
	if r := lookup(id); r != nil {
		for _, k := range r.Reads() {
			if !reads[id][k.String()] {
				t.Errorf("%s declares it reads %s, but none of its fixtures makes it read one", id, k)
			}
		}
	}
	return out
}

func lookup(id string) rules.Rule {
	for _, r := range registry.Rules() {
		if r.ID() == id {
			return r
		}
	}
	return nil
}

func judgeScenario(t *testing.T, id, file string, reads Reads) []Write {
	t.Helper()
	base, err := manifest.ReadFiles([]string{clusterFile()})
	if err != nil {
		t.Fatal(err)
	}
	docs, err := manifest.ReadFiles([]string{file})
	if err != nil {
		t.Fatal(err)
	}
	// The writes go through check's Session, as `check` and the webhook's
	// semantics have them: an object the state holds is an UPDATE keeping
	// its age, any other a CREATE newer than the state, "delete" a DELETE.
	// Each write is judged against the fixture's state, not after the others.
	newer := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	sess := check.NewSession(config.Default(), func() time.Time { return newer })
	sess.Engine().Watch = reads.Watch
	var writes []manifest.Document
	for _, d := range base {
		sess.AddState(d.Object)
	}
	for _, d := range docs {
		if d.Object.Annotations[FixtureAnnotation] == "state" || !d.Object.Reviewed() || stateByDefault(d.Object) {
			sess.AddState(d.Object)
		} else {
			writes = append(writes, d)
		}
	}
	scenario := strings.TrimSuffix(filepath.Base(file), ".yaml")
	var out []Write
	for _, d := range writes {
		o := d.Object
		change := sess.Change(o, o.Annotations[FixtureAnnotation] == "delete")
		if change == nil {
			t.Fatalf("%s: delete of %s, which the state does not hold", d.Source, o.Ref)
		}
		v := sess.Judge(change)
		w := Write{Scenario: scenario, Ref: o.Ref.Namespace + "/" + o.Ref.Name, Case: o.Annotations[CaseAnnotation]}
		for _, r := range v.Results {
			if r.Rule != id {
				continue
			}
			g := Got{Action: string(r.Action), Field: r.Field, Message: r.Message}
			if r.Preexisting {
				g.Action += " pre-existing"
			}
			w.Findings = append(w.Findings, g)
			if strings.ContainsAny(r.Message, "\n") || !strings.Contains(r.Message, " ") {
				t.Errorf("%s %s: malformed message %q", w.Key(), id, r.Message)
			}
			// The catalogue's default bounds what a rule may ask for: a warn
			// rule never denies (a deny rule may warn: pre-existing, fresh
			// installs, advice).
			if e, ok := rules.Lookup(id); !ok || e.Retired {
				t.Errorf("%s: %s is not a live catalogue rule", w.Key(), id)
			} else if e.Default == rules.Warn && r.Action == rules.Deny {
				t.Errorf("%s %s: a warn rule denied: %q", w.Key(), id, r.Message)
			}
		}
		sort.Slice(w.Findings, func(i, j int) bool { return w.Findings[i].String() < w.Findings[j].String() })
		out = append(out, w)
	}
	return out
}

// stateByDefault: Services and Namespaces are the state of every fixture;
// they are writes only when annotated `meshguard.io/fixture: write` (or
// delete).
func stateByDefault(o *state.Object) bool {
	core := o.Ref.Group == "" && (o.Ref.Kind == rules.KindService || o.Ref.Kind == rules.KindNamespace)
	return core && o.Annotations[FixtureAnnotation] != "write" && o.Annotations[FixtureAnnotation] != "delete"
}

// matchSet reports whether every finding is matched by exactly one
// expectation and every expectation by one finding (compared as a set).
func matchSet(want []Want, got []Got) bool {
	if len(want) != len(got) {
		return false
	}
	used := make([]bool, len(got))
	var try func(i int) bool
	try = func(i int) bool { // tiny sets: backtracking is fine
		if i == len(want) {
			return true
		}
		for j, g := range got {
			if !used[j] && want[i].matches(g) {
				used[j] = true
				if try(i + 1) {
					return true
				}
				used[j] = false
			}
		}
		return false
	}
	return try(0)
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
	if os.Getenv("RULESTEST_DUMP") != "" {
		dump(t, id, writes)
	}
	firing, passing := 0, 0
	seen := map[string]bool{}
	for _, w := range writes {
		seen[w.Key()] = true
		var exp []Want
		for _, s := range want[w.Key()] {
			e, err := ParseWant(s)
			if err != nil {
				t.Fatalf("%s: %v", w.Key(), err)
			}
			exp = append(exp, e)
		}
		if !matchSet(exp, w.Findings) {
			t.Errorf("%s: %s findings =\n\t%v\nwant\n\t%v", w.Key(), id, w.Findings, want[w.Key()])
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

// dump logs the judged writes as expectation lines (RULESTEST_DUMP=1), to be
// read and trimmed by hand when a rule's messages change on purpose.
func dump(t *testing.T, id string, writes []Write) {
	t.Helper()
	for _, w := range writes {
		if len(w.Findings) == 0 {
			continue
		}
		var lines []string
		for _, g := range w.Findings {
			frag, _, _ := strings.Cut(g.Message, " — ")
			if len(frag) > 60 {
				frag = frag[:strings.LastIndex(frag[:60], " ")]
			}
			lines = append(lines, fmt.Sprintf("%s %s %q", g.Action, g.Field, frag))
		}
		t.Logf("%s %q: {%s},", id, w.Key(), strings.Join(quoteAll(lines), ", "))
	}
}

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = "`" + s + "`"
	}
	return out
}

// RequirePreexisting fails unless every rule of rs whose catalogue default is
// deny has a fixture expecting "warn pre-existing": an UPDATE that keeps a
// breakage the state already had must warn, never deny, or nobody could edit
// (and so fix) an already-broken object.
func RequirePreexisting(t *testing.T, rs []rules.Rule, want map[string]map[string][]string) {
	t.Helper()
	for _, r := range rs {
		if !denyByDefault(r.ID()) {
			continue
		}
		found := false
		for _, exps := range want[r.ID()] {
			for _, e := range exps {
				found = found || strings.HasPrefix(e, "warn pre-existing ")
			}
		}
		if !found {
			t.Errorf("%s denies by default but no fixture keeps a pre-existing breakage (want a `warn pre-existing` expectation)", r.ID())
		}
	}
}

func denyByDefault(id string) bool {
	for _, e := range rules.Catalogue {
		if e.ID == id {
			return e.Default == rules.Deny
		}
	}
	return false
}

// CheckReads fails when rule id read a kind it does not declare (Reads), or
// the path model one that paths.Reads does not list.
func CheckReads(t *testing.T, id string, reads Reads) {
	t.Helper()
	for _, reader := range []string{id, "paths"} {
		var declared []state.Kind
		if reader == "paths" {
			declared = paths.Reads
		} else if r := lookup(id); r != nil {
			declared = r.Reads()
		}
		for _, k := range reads.Of(reader) {
			if !slices.ContainsFunc(declared, func(d state.Kind) bool { return d.String() == k }) {
				t.Errorf("%s read %s, which it does not declare in Reads", reader, k)
			}
		}
	}
}

// Package runs a rule package's fixture suite: each rule's expectations
// (Expect), a pre-existing case for each rule that denies by default
// (RequirePreexisting), and expectations for every rule of all.
func Package(t *testing.T, all []rules.Rule, want map[string]map[string][]string) {
	t.Helper()
	for id, w := range want {
		t.Run(id, func(t *testing.T) { Expect(t, id, w) })
	}
	RequirePreexisting(t, all, want)
	for _, r := range all {
		if _, ok := want[r.ID()]; !ok {
			t.Errorf("rule %s has no fixture expectations", r.ID())
		}
	}
}
