package diff

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/meshguard/meshguard/test/oracle/judge"
)

// The conformance corpus (test/conformance) pins meshguard's verdict on each
// step in its expect annotation (TestCorpus in the root module holds
// meshguard to it), so here each step is judged by istiod alone and the two
// verdicts compared, in the corpus's own order: admitted steps become state,
// denied ones do not.
func TestConformanceAgainstIstiod(t *testing.T) {
	judge.Quiet()
	cases, err := filepath.Glob("../../conformance/*/steps.yaml")
	if err != nil || len(cases) == 0 {
		t.Fatalf("no conformance cases: %v", err)
	}
	var judged, skipped int
	why := map[string]int{}
	for _, steps := range cases {
		dir := filepath.Dir(steps)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			j, s := conformanceCase(t, dir, why)
			judged += j
			skipped += s
		})
	}
	t.Logf("%d steps judged by istiod, %d not (outside what it models)", judged, skipped)
	var reasons []string
	for r, n := range why {
		reasons = append(reasons, fmt.Sprintf("  %-40s %d", r, n))
	}
	sort.Strings(reasons)
	t.Logf("steps not judged, by what their worlds hold first:\n%s", strings.Join(reasons, "\n"))
}

// placeholder is the corpus's generated-certificate syntax; istiod never
// reads certificate contents, so any base64 stands in.
var placeholder = regexp.MustCompile(`@@[A-Z]+:[a-z0-9.:-]+@@`)

func readCorpus(t *testing.T, path string) []judge.Object {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	objs, err := judge.ReadBytes(path, placeholder.ReplaceAll(data, []byte("eA==")))
	if err != nil {
		t.Fatal(err)
	}
	return objs
}

func conformanceCase(t *testing.T, dir string, why map[string]int) (judged, skipped int) {
	state := readCorpus(t, filepath.Join(dir, "state.yaml"))
	for i, o := range readCorpus(t, filepath.Join(dir, "steps.yaml")) {
		if !judge.Reviewed(o) {
			state = upsert(state, o)
			continue
		}
		ann := o.GetAnnotations()
		expect := ann["conformance.meshguard.io/expect"]
		del := ann["conformance.meshguard.io/delete"] == "true"
		mg := fromExpect(expect)
		steps, err := judge.Judge(judge.Input{State: state, Change: []judge.Object{o}, Delete: del})
		if err != nil {
			t.Fatalf("step %d (%s): %v", i+1, o.Source, err)
		}
		step := steps[0]
		if len(step.Unjudged) > 0 {
			skipped++
			why[unjudgedKind(step.Unjudged[0])]++
		} else {
			judged++
			v := Expect(step, ScopeOf(old(state, o), &o))
			if !Agree(mg, v) {
				repro := writeCase(t, filepath.Base(dir)+"-"+strconv.Itoa(i+1), state, o, del, expect, v)
				t.Errorf("step %s %s %s/%s: meshguard %q, istiod deny=%v\n  %s\n  why: %s\n  case: %s",
					step.Operation, step.Kind, step.Namespace, step.Name, expect, v.Deny, strings.Join(v.Reasons, "\n  "), ann["conformance.meshguard.io/why"], repro)
			}
		}
		if !strings.HasPrefix(expect, "deny") {
			if del {
				state = removeKey(state, o.Key())
			} else {
				state = upsert(state, o)
			}
		}
	}
	return judged, skipped
}

// unjudgedKind is the family of an Unjudged reason: its words up to the
// first object name.
func unjudgedKind(reason string) string {
	words := strings.Fields(reason)
	var out []string
	for _, w := range words {
		if strings.Contains(w, "/") {
			break
		}
		out = append(out, w)
	}
	return strings.Join(out, " ")
}

func fromExpect(expect string) Meshguard {
	verdict, list, _ := strings.Cut(strings.TrimSpace(expect), " ")
	var m Meshguard
	if verdict == "deny" {
		for _, r := range strings.Split(list, ",") {
			m.Denying = append(m.Denying, strings.TrimSpace(r))
		}
	}
	return m
}

func old(state []judge.Object, o judge.Object) *judge.Object {
	for i := range state {
		if state[i].Key() == o.Key() {
			return &state[i]
		}
	}
	return nil
}

func upsert(objs []judge.Object, o judge.Object) []judge.Object {
	out := append([]judge.Object(nil), objs...)
	for i := range out {
		if out[i].Key() == o.Key() {
			out[i] = o
			return out
		}
	}
	return append(out, o)
}

func removeKey(objs []judge.Object, key string) []judge.Object {
	var out []judge.Object
	for _, o := range objs {
		if o.Key() != key {
			out = append(out, o)
		}
	}
	return out
}
