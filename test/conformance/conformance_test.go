// Package conformance holds meshguard's corpus of Istio's own configuration:
// cases built from Istio's public samples and task pages, each a cluster state
// and the task's steps in order, with the verdict each step must get and why.
// A step is judged exactly as `meshguard check` judges a write (check.Session);
// admitted steps then become part of the state, denied ones do not.
//
// Layout: <case>/state.yaml (the cluster, as `kubectl get -o yaml` prints it)
// and <case>/steps.yaml. In steps.yaml, documents of kinds meshguard does not
// review (a Pod restarted with its sidecar, a relabelled Namespace) change the
// state at their place; every PeerAuthentication, DestinationRule and
// VirtualService is a step, annotated with
//
//	conformance.meshguard.io/expect: "deny MG101" | "allow" | "allow MG102,MG108"
//	conformance.meshguard.io/why:    one line, citing the page
//	conformance.meshguard.io/delete: "true"   (optional: the step is a DELETE)
//
// "deny R1,R2" means denied with exactly those rules denying; "allow R..." means
// admitted with exactly those rules warning (nothing listed: no finding at all).
// Certificates are generated per run: @@CA:name@@ is the base64 PEM of a CA
// (for a Secret), @@PEMQ:name@@ the same PEM escaped for a double-quoted YAML
// string (for a ConfigMap), @@CERT:ca:cn@@ and @@KEY:ca:cn@@ a leaf that CA
// issued and its key.
package conformance

import (
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/meshguard/meshguard/pkg/check"
	"github.com/meshguard/meshguard/pkg/config"
	"github.com/meshguard/meshguard/pkg/engine"
	"github.com/meshguard/meshguard/pkg/rules"
	"github.com/meshguard/meshguard/pkg/state/manifest"
	"github.com/meshguard/meshguard/pkg/trust/trusttest"
)

const (
	annExpect = "conformance.meshguard.io/expect"
	annWhy    = "conformance.meshguard.io/why"
	annDelete = "conformance.meshguard.io/delete"
)

// minSteps keeps the corpus from shrinking unnoticed; the README states it.
const minSteps = 200

func TestCorpus(t *testing.T) {
	cases, err := filepath.Glob("*/steps.yaml")
	if err != nil || len(cases) == 0 {
		t.Fatalf("no cases: %v", err)
	}
	total := 0
	for _, steps := range cases {
		dir := filepath.Dir(steps)
		t.Run(dir, func(t *testing.T) { total += runCase(t, dir) })
	}
	t.Logf("%d cases, %d steps", len(cases), total)
	if total < minSteps {
		t.Errorf("the corpus holds %d steps, fewer than %d", total, minSteps)
	}
}

func runCase(t *testing.T, dir string) int {
	t.Helper()
	material := newMaterial()
	stateDocs := read(t, filepath.Join(dir, "state.yaml"), material)
	stepDocs := read(t, filepath.Join(dir, "steps.yaml"), material)
	clock := time.Now() // generated certificates are valid from now on
	// A case may carry the configuration meshguard runs with (config.yaml:
	// a trust domain, say); the others run with the defaults.
	cfg := config.Default()
	if _, err := os.Stat(filepath.Join(dir, "config.yaml")); err == nil {
		if cfg, err = config.Load(filepath.Join(dir, "config.yaml")); err != nil {
			t.Fatal(err)
		}
	}
	sess := check.NewSession(cfg, func() time.Time { clock = clock.Add(time.Second); return clock })
	for _, d := range stateDocs {
		sess.AddState(d.Object)
	}
	steps := 0
	for _, d := range stepDocs {
		o := d.Object
		// Services and Namespaces, reviewed since issue 25, are steps only
		// when a step's expectation says so; elsewhere they are what the
		// corpus has always applied them as: the state the steps meet.
		kube := o.Ref.Group == "" && (o.Ref.Kind == rules.KindService || o.Ref.Kind == rules.KindNamespace) && o.Annotations[annExpect] == ""
		if !o.Reviewed() || kube {
			sess.Apply(o)
			continue
		}
		steps++
		expect, why := o.Annotations[annExpect], o.Annotations[annWhy]
		if expect == "" || why == "" {
			t.Fatalf("%s: a step needs %s and %s", d.Source, annExpect, annWhy)
		}
		wantDeny, wantRules, err := parseExpect(expect)
		if err != nil {
			t.Fatalf("%s: %v", d.Source, err)
		}
		change := sess.Change(o, o.Annotations[annDelete] == "true")
		if change == nil {
			t.Fatalf("%s: delete of an object the state does not hold", d.Source)
		}
		v := sess.Judge(change)
		var got []string
		for _, r := range v.Results {
			if (r.Action == rules.Deny) == wantDeny {
				got = appendNew(got, r.Rule)
			}
		}
		sort.Strings(got)
		if v.Denied() != wantDeny || strings.Join(got, ",") != strings.Join(wantRules, ",") {
			t.Errorf("step %d, %s %s %s/%s: got %s, want %q\n  why: %s\n%s", steps, change.Operation, o.Ref.Kind,
				o.Ref.Namespace, o.Ref.Name, verdictText(v.Denied(), got), expect, why, findings(v.Results))
		}
		if !v.Denied() {
			sess.Commit(change)
		}
	}
	return steps
}

func parseExpect(s string) (deny bool, ruleIDs []string, err error) {
	verdict, list, _ := strings.Cut(strings.TrimSpace(s), " ")
	switch verdict {
	case "deny":
		deny = true
	case "allow":
	default:
		return false, nil, fmt.Errorf("%s %q: want deny or allow first", annExpect, s)
	}
	for _, id := range strings.Split(list, ",") {
		if id = strings.TrimSpace(id); id != "" {
			ruleIDs = append(ruleIDs, id)
		}
	}
	if deny && len(ruleIDs) == 0 {
		return false, nil, fmt.Errorf("%s %q: a denial names its rules", annExpect, s)
	}
	sort.Strings(ruleIDs)
	return deny, ruleIDs, nil
}

func verdictText(denied bool, ids []string) string {
	if denied {
		return "deny " + strings.Join(ids, ",")
	}
	return strings.TrimSpace("allow " + strings.Join(ids, ","))
}

func findings(rs []engine.Result) string {
	var b strings.Builder
	for _, r := range rs {
		fmt.Fprintf(&b, "    %s %s %s: %s\n", r.Action, r.Rule, r.Field, r.Message)
	}
	return b.String()
}

func appendNew(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}

// read expands the certificate placeholders and decodes the file.
func read(t *testing.T, path string, m *material) []manifest.Document {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), filepath.Base(path))
	if err := os.WriteFile(out, []byte(m.expand(string(data))), 0o600); err != nil {
		t.Fatal(err)
	}
	docs, err := manifest.ReadFiles([]string{out})
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return docs
}

var placeholder = regexp.MustCompile(`@@(CA|PEMQ|CERT|KEY):([a-z0-9-]+)(?::([a-z0-9.-]+))?@@`)

// material generates the CAs and leaves a case's placeholders name.
type material struct {
	cas    map[string]*trusttest.CA
	leaves map[string][2][]byte
}

func newMaterial() *material {
	return &material{cas: map[string]*trusttest.CA{}, leaves: map[string][2][]byte{}}
}

func (m *material) ca(name string) *trusttest.CA {
	if m.cas[name] == nil {
		m.cas[name] = trusttest.NewRoot(name)
	}
	return m.cas[name]
}

func (m *material) expand(s string) string {
	return placeholder.ReplaceAllStringFunc(s, func(p string) string {
		g := placeholder.FindStringSubmatch(p)
		ca := m.ca(g[2])
		var pem []byte
		switch g[1] {
		case "CA":
			pem = ca.PEM
		case "PEMQ": // the CA's PEM for a double-quoted YAML string (a ConfigMap's data)
			return strings.ReplaceAll(string(ca.PEM), "\n", `\n`)
		default:
			key := g[2] + ":" + g[3]
			if _, ok := m.leaves[key]; !ok {
				cert, k := ca.ValidLeaf(g[3])
				m.leaves[key] = [2][]byte{cert, k}
			}
			if g[1] == "CERT" {
				pem = m.leaves[key][0]
			} else {
				pem = m.leaves[key][1]
			}
		}
		return base64.StdEncoding.EncodeToString(pem)
	})
}
