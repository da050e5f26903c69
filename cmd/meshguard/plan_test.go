package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCoverageAndPlanFaces(t *testing.T) {
	run := func(f func([]string, *bytes.Buffer, *bytes.Buffer) int, args ...string) (int, string, string) {
		var out, errOut bytes.Buffer
		code := f(args, &out, &errOut)
		return code, out.String(), errOut.String()
	}
	coverage := func(args []string, o, e *bytes.Buffer) int { return runCoverage(args, o, e) }
	planFace := func(args []string, o, e *bytes.Buffer) int { return runPlan(args, o, e) }

	t.Run("coverage names the owners that block STRICT", func(t *testing.T) {
		code, out, errOut := run(coverage, "--state", clusterState)
		if code != 0 || !strings.Contains(out, "StatefulSet/reporting: 1") || !strings.Contains(out, "mesh-wide STRICT safe now: no (blocked by batch, legacy)") {
			t.Errorf("exit %d\n%s%s", code, out, errOut)
		}
	})
	t.Run("coverage JSON has the contract's mesh line", func(t *testing.T) {
		code, out, _ := run(coverage, "--state", clusterState, "-o", "json")
		var doc struct {
			Mesh struct {
				Mode               string   `json:"mode"`
				StrictSafe         bool     `json:"strictSafe"`
				BlockingNamespaces []string `json:"blockingNamespaces"`
			} `json:"mesh"`
		}
		if code != 0 || json.Unmarshal([]byte(out), &doc) != nil || doc.Mesh.Mode != "PERMISSIVE" || doc.Mesh.StrictSafe ||
			strings.Join(doc.Mesh.BlockingNamespaces, ",") != "batch,legacy" {
			t.Errorf("exit %d: %s", code, out)
		}
	})
	t.Run("the plan's YAML is admitted by check on the same state", func(t *testing.T) {
		code, out, errOut := run(planFace, "strict", "--state", clusterState, "-o", "yaml")
		if code != 0 || !strings.Contains(out, "kind: PeerAuthentication") {
			t.Fatalf("exit %d\n%s%s", code, out, errOut)
		}
		f := filepath.Join(t.TempDir(), "plan.yaml")
		if err := os.WriteFile(f, []byte(out), 0o600); err != nil {
			t.Fatal(err)
		}
		if code, stdout, stderr := runCheckArgs(t, "-f", f, "--state", clusterState); code != 0 {
			t.Errorf("check of the plan exited %d\n%s%s", code, stdout, stderr)
		}
	})
	t.Run("the text plan gives the commands", func(t *testing.T) {
		code, out, _ := run(planFace, "strict", "--state", clusterState, "--holdout", "legacy")
		for _, want := range []string{"kubectl label namespace legacy istio-injection=disabled --overwrite", "legacy: held out (--holdout)", "not yet: pods outside the mesh in batch, legacy"} {
			if code != 0 || !strings.Contains(out, want) {
				t.Errorf("exit %d, want %q in:\n%s", code, want, out)
			}
		}
	})
	t.Run("bad usage and empty state exit 2", func(t *testing.T) {
		empty := filepath.Join(t.TempDir(), "empty.yaml")
		_ = os.WriteFile(empty, []byte("# nothing exported\n"), 0o600)
		for _, c := range []struct {
			f    func([]string, *bytes.Buffer, *bytes.Buffer) int
			args []string
			want string
		}{
			{planFace, []string{"lenient"}, "Usage: meshguard plan strict"},
			{planFace, []string{"strict", "--state", clusterState, "-o", "xml"}, `"xml" is not one of`},
			{coverage, []string{"--state", empty}, "export the cluster first"},
			{planFace, []string{"strict", "--state", "/does/not/exist.yaml"}, "exist.yaml"},
		} {
			code, out, errOut := run(c.f, c.args...)
			if code != 2 || out != "" || !strings.Contains(errOut, c.want) {
				t.Errorf("%v: exit %d, stdout %q, stderr %q (want %q)", c.args, code, out, errOut, c.want)
			}
		}
	})
}
