package diff

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/meshguard/meshguard/test/oracle/judge"
)

// ReproDir is where disagreements are written (ORACLE_REPRO, else a
// directory under the system's temp dir that outlives the test).
func ReproDir() string {
	if d := os.Getenv("ORACLE_REPRO"); d != "" {
		return d
	}
	return filepath.Join(os.TempDir(), "meshguard-oracle")
}

// WriteYAML renders objects as one multi-document stream.
func WriteYAML(path string, objs []judge.Object) error {
	var b bytes.Buffer
	for _, o := range objs {
		data, err := yaml.Marshal(o.Object)
		if err != nil {
			return err
		}
		b.WriteString("---\n")
		b.Write(data)
	}
	return os.WriteFile(path, b.Bytes(), 0o644)
}

// writeCase writes a disagreement as a case `meshguard check` and the judge
// CLI both read: state.yaml, change.yaml and verdicts.txt with the commands.
func writeCase(t *testing.T, name string, state []judge.Object, change judge.Object, del bool, meshguard string, v Verdict) string {
	t.Helper()
	dir := filepath.Join(ReproDir(), name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := WriteYAML(filepath.Join(dir, "state.yaml"), state); err != nil {
		t.Fatal(err)
	}
	if err := WriteYAML(filepath.Join(dir, "change.yaml"), []judge.Object{change}); err != nil {
		t.Fatal(err)
	}
	flag := ""
	if del {
		flag = " --delete"
	}
	note := fmt.Sprintf("meshguard: %s\nistiod:    deny=%v excused=%v\n  %s\n\nreproduce:\n  meshguard check --state %[5]s/state.yaml -f %[5]s/change.yaml%[6]s -o json\n  (cd test/oracle && go run ./cmd/judge --state %[5]s/state.yaml -f %[5]s/change.yaml%[6]s --paths)\n",
		meshguard, v.Deny, v.Excused, strings.Join(v.Reasons, "\n  "), dir, flag)
	if err := os.WriteFile(filepath.Join(dir, "verdicts.txt"), []byte(note), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}
