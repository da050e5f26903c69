package state_test

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/meshguard/meshguard/pkg/state"
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
		docs, err := state.ReadFilesContext(t.Context(), []string{p}, state.ReadOptions{})
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
		docs, err := state.ReadFiles([]string{p})
		if err != nil || len(docs) != want[name] {
			t.Errorf("%s: %d documents, %v; want %d", name, len(docs), err, want[name])
		}
	}
}
