package manifest_test

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/meshguard/meshguard/pkg/state"
	"github.com/meshguard/meshguard/pkg/state/manifest"
	"github.com/meshguard/meshguard/test/bench/statefile"
)

// The same export read as YAML documents, as `kubectl get -o yaml` (a List)
// and as `kubectl get -o json` gives the same objects in the same order.
func TestEveryFormatOfAnExportReadsAlike(t *testing.T) {
	shape := statefile.Shape{Namespaces: 7, PodsPerNS: 5, ServicesPerN: 2}
	var got [][]*state.Object
	for _, format := range []string{statefile.YAMLDocuments, statefile.YAMLList, statefile.JSONList} {
		var buf bytes.Buffer
		if err := statefile.Write(&buf, shape, format); err != nil {
			t.Fatal(err)
		}
		// No file extension: the format is told by content.
		p := filepath.Join(t.TempDir(), "export")
		if err := os.WriteFile(p, buf.Bytes(), 0o600); err != nil {
			t.Fatal(err)
		}
		docs, err := manifest.ReadFilesContext(t.Context(), []string{p}, manifest.ReadOptions{})
		if err != nil {
			t.Fatalf("%s: %v", format, err)
		}
		if len(docs) != shape.Objects() {
			t.Fatalf("%s: %d objects, want %d", format, len(docs), shape.Objects())
		}
		objs := make([]*state.Object, len(docs))
		for i, d := range docs {
			objs[i] = d.Object
		}
		got = append(got, objs)
	}
	for f := 1; f < len(got); f++ {
		for i := range got[0] {
			if !reflect.DeepEqual(got[0][i], got[f][i]) {
				t.Fatalf("object %d differs between formats:\n%+v\n%+v", i, got[0][i], got[f][i])
			}
		}
	}
}

// Told apart by content: a YAML flow mapping is YAML, JSON documents may be
// separated by "---".
func TestFormatIsToldByContent(t *testing.T) {
	cases := map[string]string{
		"flow.yaml": "{apiVersion: v1, kind: Namespace, metadata: {name: a}}\n",
		"docs.json": "{\"apiVersion\": \"v1\", \"kind\": \"Namespace\", \"metadata\": {\"name\": \"a\"}}\n---\n{\"apiVersion\": \"v1\", \"kind\": \"Namespace\", \"metadata\": {\"name\": \"b\"}}\n",
		"two.json":  "{\"apiVersion\": \"v1\", \"kind\": \"Namespace\", \"metadata\": {\"name\": \"a\"}} {\"apiVersion\": \"v1\", \"kind\": \"Namespace\", \"metadata\": {\"name\": \"b\"}}",
	}
	want := map[string]int{"flow.yaml": 1, "docs.json": 2, "two.json": 2}
	for name, content := range cases {
		p := filepath.Join(t.TempDir(), name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		docs, err := manifest.ReadFiles([]string{p})
		if err != nil || len(docs) != want[name] {
			t.Errorf("%s: %d documents, %v; want %d", name, len(docs), err, want[name])
		}
	}
}

// Layouts other tools write read like kubectl's: a List whose items are
// indented under items:, anchors in one item used by a later one, and a JSON
// document followed by YAML ones after "---".
func TestOtherEmittersLayoutsRead(t *testing.T) {
	svc := func(name, selector string) string {
		return "  - apiVersion: v1\n    kind: Service\n    metadata: {name: " + name + ", namespace: shop}\n    spec:\n      selector: " + selector + "\n      ports: [{name: http, port: 9080}]\n"
	}
	cases := map[string]struct {
		content string
		want    []string // namespace/name of each object, with reviews' selector checked
	}{
		"indented items": {"apiVersion: v1\nkind: List\nitems:\n" + svc("reviews", "{app: reviews}") + svc("ratings", "{app: ratings}"),
			[]string{"Service shop/reviews", "Service shop/ratings"}},
		"an anchor used by a later item": {"apiVersion: v1\nkind: List\nitems:\n" +
			"- apiVersion: v1\n  kind: Service\n  metadata: {name: reviews, namespace: shop}\n  spec: {selector: &sel {app: reviews}, ports: [{name: http, port: 9080}]}\n" +
			"- apiVersion: v1\n  kind: Service\n  metadata: {name: reviews-canary, namespace: shop}\n  spec:\n    selector: *sel\n    ports: [{name: http, port: 9080}]\n" +
			"- apiVersion: networking.istio.io/v1\n  kind: VirtualService\n  metadata: {name: reviews, namespace: shop}\n  spec: {hosts: [\"*.shop.svc.cluster.local\"]}\n",
			[]string{"Service shop/reviews", "Service shop/reviews-canary", "VirtualService shop/reviews"}},
		"JSON then YAML": {"{\"apiVersion\": \"v1\", \"kind\": \"Service\", \"metadata\": {\"name\": \"reviews\", \"namespace\": \"shop\"}, \"spec\": {\"selector\": {\"app\": \"reviews\"}}}\n---\n" +
			"apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n---\n{\"apiVersion\": \"v1\", \"kind\": \"Namespace\", \"metadata\": {\"name\": \"ratings\"}}\n",
			[]string{"Service shop/reviews", "Namespace /shop", "Namespace /ratings"}},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "state.yaml")
			if err := os.WriteFile(p, []byte(c.content), 0o600); err != nil {
				t.Fatal(err)
			}
			docs, err := manifest.ReadFiles([]string{p})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, d := range docs {
				r := d.Object.Ref
				got = append(got, r.Kind+" "+r.Namespace+"/"+r.Name)
				if s := d.Object.Service; s != nil && s.Name != "ratings" && s.Selector["app"] != "reviews" {
					t.Errorf("%s: selector %v, want app=reviews", r.Name, s.Selector)
				}
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("read %v, want %v", got, c.want)
			}
		})
	}
}
