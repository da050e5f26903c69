package manifest_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/meshguard/meshguard/pkg/state/manifest"
)

// FuzzReadFiles: state files decode to objects or to a named InputError,
// never a panic or a hang.
func FuzzReadFiles(f *testing.F) {
	for _, pattern := range []string{"../../rules/*/testdata/*.yaml", "../../rules/*/testdata/*/*.yaml", "../../../test/fixtures/check/*.yaml"} {
		files, _ := filepath.Glob(pattern)
		if len(files) == 0 {
			f.Fatalf("no seed matches %s: has the package moved?", pattern)
		}
		for _, file := range files {
			if data, err := os.ReadFile(file); err == nil {
				f.Add(data)
			}
		}
	}
	f.Add([]byte(`{"apiVersion":"v1","kind":"List","items":[{"apiVersion":"v1","kind":"Pod","metadata":{"name":"a"}}]}`))
	// Anchors across the items of one List, and JSON then YAML after "---".
	f.Add([]byte("kind: List\nitems:\n- kind: Pod\n  metadata: &m {name: a}\n- kind: Pod\n  metadata: *m\n- kind: Pod\n  metadata: *nosuch\n"))
	f.Add([]byte("{\"kind\": \"Namespace\", \"metadata\": {\"name\": \"a\"}}\n---\nkind: Namespace\nmetadata: {name: b}\n"))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(dir, "state.yaml")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		_, _ = manifest.ReadFiles([]string{path})
	})
}
