package manifest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// sameAsSigsYAML checks that where fastYAMLToJSON succeeds it means what
// sigs.k8s.io/yaml means.
func sameAsSigsYAML(t *testing.T, src []byte, item bool) (fast bool) {
	t.Helper()
	got, ok := fastYAMLToJSON(src, item)
	if !ok {
		return false
	}
	want, err := yaml.YAMLToJSON(src)
	if err != nil {
		t.Fatalf("fast path accepted what sigs.k8s.io/yaml rejects (%v):\n%s", err, src)
	}
	var g, w any
	dec := json.NewDecoder(bytes.NewReader(got))
	dec.UseNumber()
	if err := dec.Decode(&g); err != nil {
		t.Fatalf("fast path produced invalid JSON %s: %v\nfrom:\n%s", got, err, src)
	}
	dec = json.NewDecoder(bytes.NewReader(want))
	dec.UseNumber()
	if err := dec.Decode(&w); err != nil {
		t.Fatal(err)
	}
	if item {
		items, ok := w.([]any)
		if !ok || len(items) != 1 {
			t.Fatalf("item mode on %s", want)
		}
		w = items[0]
	}
	if !reflect.DeepEqual(g, w) {
		t.Fatalf("fast path differs:\n got %s\nwant %s\nfrom:\n%s", got, want, src)
	}
	return true
}

var fastCases = []string{
	"a: 1\nb: two\nc: \"3\"\nd: '4'\ne: true\nf: null\ng:\nh: ~\n",
	"metadata:\n  labels:\n    app: x\n    version: v1\n  name: y\nspec:\n  containers:\n  - name: app\n    ports:\n    - containerPort: 8080\n      name: http\n  - name: istio-proxy\n",
	"k: |\n  line one\n  # not a comment\n\n  line three\nnext: x\n",
	"k: |-\n  abc\n  def\n\n\nz: 1\n",
	"list:\n- a\n- 'b'\n- \"c\\td\"\n- - nested\n  - seq\n- key: v\n  other: w\n-\n- {}\n- []\n",
	"podIP: 10.0.0.3\nimage: registry.example/app:1.4.2\nurl: http://x:80/y\nneg: -5\nzero: 0\nver: 1.4.2\n",
	"annotations:\n  sidecar.istio.io/status: '{\"a\":[\"b\"],\"c\":null}'\n  x: \"quote \\\" and \\\\ back\"\n",
	"portLevelMtls:\n  8080:\n    mode: DISABLE\n",
	"a: b # comment\nc: 'd' # comment\n# full line\ne: [] # x\n",
	"unicode: héllo wörld\nkey with spaces: value with spaces\n",
	// PyYAML, yq and ruamel wrap long scalars at 80 columns.
	"a: multi\n  line\n",
	"description: a plain scalar that PyYAML wrapped because it ran past eighty\n  columns, continued here\n\n  and after a blank line\nnext: x\n",
	"- first item\n  wrapped\n- second\n",
	"a: 'open\n  quote'\n",
	"msg: 'it''s single quoted and\n  wrapped'\nb: 1\n",
	"msg: \"double quoted \\\"and\\\" wrapped\n  over lines\"\n",
	"msg: \"kept space \\\n  \\ after an escaped break\"\n",
	"msg: \"joined\\\n  here\"\n",
	"a: >\n  folded\n",
	"a: >-\n  folded into\n  one line\n\n  and a paragraph\nb: x\n",
	"spec:\n  containers:\n  - args:\n    - --a long argument\n      wrapped\n    name: x\n",
	// Flow style, as people write YAML by hand.
	"{a: 1}\n", "a: {b: 1}\n", "a: [1, {b: c}]\nd: {e: [f]}\n", "a: [1, 2]\n", "a: [1, 2,]\n", "a: {}\nb: []\n",
	"metadata: {name: reviews, namespace: shop, labels: {app: reviews, \"version\": 'v1'}}\nspec: {ports: [{name: http, port: 9080}], selector: null}\n",
	"- {apiVersion: v1, kind: Namespace, metadata: {name: a}}\n- [x, y, true, ~, -5]\n",
	"spec: {hosts: [reviews], http: [{route: [{destination: {host: reviews, subset: v1}}],\n    retries: {attempts: 3}}]}\n",
	"{apiVersion: v1, kind: List,\n  items: [{kind: Pod}]}\n",
	"a: {\"k\":\"v\", \"n\": 1}\n",
	"a: {b:\n    c, d: [e\n    f,\n    g]}\n",
}

// Inputs the fast path must leave to sigs.k8s.io/yaml.
var slowCases = []string{
	"a: {b: 1: 2}\n", "a: [b: c]\n", "a: {? b: c}\n", "a: {b: 1} # x\n  c\n", "a: &x 1\nb: *x\n", "a: !!str 1\n", "a: 1.5\n", "a: 0777\n",
	"a: 2024-01-01\n", "a: |+\n  keep\n", "a: >+\n  keep\n", "a: >\n  folded\n    more indented\n",
	"a: plain\n  # comment inside\n", "a: plain\n  - dash\n", "a: plain\n  b: c\n", "a: 'quoted\n\n  blank'\n",
	"? complex\n: key\n",
	// An implicit key and its ":" share a line, in flow as in block.
	"{0\n: }\n", "a: {b\n  c: d}\n", "a: {\"b\"\n  : c}\n",
	// In flow context "?" ends a plain scalar, as in libyaml.
	"{0?: }\n", "a: [b?c]\n", "a: \"\\x41\"\n", "<<: {}\n", "y: 1\n", "a: .inf\n", "a:\tb\n", "a: -0\n", "a: 1_000\n",
}

func TestFastYAMLAgreesWithSigsYAML(t *testing.T) {
	for _, c := range fastCases {
		if !sameAsSigsYAML(t, []byte(c), false) {
			t.Errorf("fast path gave up on:\n%s", c)
		}
	}
	for _, c := range slowCases {
		if _, ok := fastYAMLToJSON([]byte(c), false); ok {
			t.Errorf("fast path accepted, want it left to sigs.k8s.io/yaml:\n%s", c)
		}
	}
	item := "- apiVersion: v1\n  kind: Pod\n  metadata:\n    name: x\n"
	if !sameAsSigsYAML(t, []byte(item), true) {
		t.Error("item mode gave up")
	}
}

// Every YAML file of the repository's fixtures and demo, document by
// document: wherever the fast path answers, it agrees.
func TestFastYAMLOnTheRepositoryFixtures(t *testing.T) {
	var files []string
	for _, dir := range []string{"../../../test", "../../../hack", "../../../pkg"} {
		_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() && (strings.HasSuffix(p, ".yaml") || strings.HasSuffix(p, ".yml")) {
				files = append(files, p)
			}
			return nil
		})
	}
	if len(files) < 50 {
		t.Fatalf("found %d YAML files under the repository: has the package moved?", len(files))
	}
	fast, total := 0, 0
	for _, f := range files {
		data, _ := os.ReadFile(f)
		for _, doc := range strings.Split(string(data), "\n---") {
			if _, err := yaml.YAMLToJSON([]byte(doc)); err != nil {
				continue
			}
			total++
			if sameAsSigsYAML(t, []byte(doc), false) {
				fast++
			}
		}
	}
	t.Logf("%d of %d documents converted by the fast path", fast, total)
}

func FuzzFastYAMLToJSON(f *testing.F) {
	for _, c := range append(fastCases, slowCases...) {
		f.Add([]byte(c), false)
	}
	f.Add([]byte("- apiVersion: v1\n  kind: Pod\n  metadata:\n    name: x\n"), true)
	if export, err := os.ReadFile(filepath.Join("testdata", "kubectl-get-A-o-yaml.yaml")); err == nil {
		f.Add(export, false)
	}
	f.Fuzz(func(t *testing.T, src []byte, item bool) {
		sameAsSigsYAML(t, src, item)
	})
}

func TestFastYAMLReadsBinaryLookalikesAsStrings(t *testing.T) {
	for _, c := range []string{"uid: 0b7e4c2d-1111-4a2b\n", "x: 0b12\n", "x: 0b101\n", "x: -0b1\n"} {
		sameAsSigsYAML(t, []byte(c), false)
	}
	if _, ok := fastYAMLToJSON([]byte("uid: 0b7e4c2d-1111-4a2b\n"), false); !ok {
		t.Error("a UID starting with 0b is a string, not left to the slow path")
	}
}

// Real `kubectl get -A -o yaml` output (the demo's mesh, exported by kubectl
// v1.37 from envtest): every item takes the fast path, and agrees with
// sigs.k8s.io/yaml.
func TestFastYAMLTakesKubectlOutput(t *testing.T) {
	f, err := os.Open(filepath.Join("testdata", "kubectl-get-A-o-yaml.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	units := 0
	err = splitYAML(&lineReader{r: bufio.NewReader(f)}, f.Name(), func(u unit) error {
		units++
		if u.kind != yamlItem {
			t.Errorf("%s: not split as a List item", u.source)
		}
		if !sameAsSigsYAML(t, u.raw, true) {
			t.Errorf("%s: left to the slow path:\n%s", u.source, u.raw)
		}
		return nil
	})
	if err != nil || units < 10 {
		t.Fatalf("%d units, %v", units, err)
	}
}
