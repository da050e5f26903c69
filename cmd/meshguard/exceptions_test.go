package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// writeConfig writes a configuration file for one test.
func writeConfig(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// exception is a configuration excepting MG101 in istio-system until day.
func exception(day time.Time) string {
	return fmt.Sprintf(`exceptions:
- name: mesh-migration
  rules: [MG101]
  namespaces: [istio-system]
  kinds: [PeerAuthentication]
  reason: "batch moves into the mesh this sprint; CHG-118"
  expires: %q
`, day.Format(time.DateOnly))
}

// check --config gives the verdicts the webhook gives with the same file.
func TestCheckHonoursExceptionsAndEnforcement(t *testing.T) {
	strict := fixtures + "mesh-strict.yaml"
	soon := time.Now().UTC().AddDate(0, 0, 30)

	t.Run("a live exception turns the deny into a named warning", func(t *testing.T) {
		code, stdout, stderr := runCheckArgs(t, "-f", strict, "--state", clusterState, "--config", writeConfig(t, exception(soon)))
		want := "warn PeerAuthentication istio-system/default (CREATE): [MG101] spec.mtls.mode: excepted by mesh-migration until " + soon.Format(time.DateOnly) + ": mesh-wide STRICT"
		if code != 0 || !strings.Contains(stdout, want) {
			t.Errorf("exit %d, want 0 with %q:\n%s%s", code, want, stdout, stderr)
		}
		code, stdout, _ = runCheckArgs(t, "-f", strict, "--state", clusterState, "--config", writeConfig(t, exception(soon)), "-o", "json")
		var rep struct{ Findings []map[string]any }
		if err := json.Unmarshal([]byte(stdout), &rep); err != nil || code != 0 {
			t.Fatalf("exit %d, %v:\n%s", code, err, stdout)
		}
		found := false
		for _, f := range rep.Findings {
			found = found || (f["rule"] == "MG101" && f["exception"] == "mesh-migration" && f["action"] == "warn")
		}
		if !found {
			t.Errorf("JSON lacks the excepted MG101 finding: %s", stdout)
		}
	})
	t.Run("an expired exception no longer applies and says so", func(t *testing.T) {
		code, stdout, _ := runCheckArgs(t, "-f", strict, "--state", clusterState, "--config", writeConfig(t, exception(time.Now().UTC().AddDate(0, 0, -2))))
		if code != 1 || !strings.Contains(stdout, "deny PeerAuthentication istio-system/default (CREATE): [MG101]") ||
			!strings.Contains(stdout, "exception mesh-migration expired") {
			t.Errorf("exit %d, want 1 with the deny and the lapsed exception:\n%s", code, stdout)
		}
	})
	t.Run("enforcement: warn admits with a would-deny warning", func(t *testing.T) {
		code, stdout, _ := runCheckArgs(t, "-f", strict, "--state", clusterState, "--config", writeConfig(t, "enforcement: warn\n"))
		if code != 0 || !strings.Contains(stdout, "warn PeerAuthentication istio-system/default (CREATE): [MG101] spec.mtls.mode: would deny (enforcement: warn): ") {
			t.Errorf("exit %d, want 0 with a would-deny warning:\n%s", code, stdout)
		}
	})
	for name, c := range map[string]struct{ body, stderr string }{
		"an unknown rule": {strings.Replace(exception(soon), "MG101", "MG199", 1), "exceptions[0] (mesh-migration): rules: MG199 is not a meshguard rule"},
		"no reason":       {strings.Replace(exception(soon), `  reason: "batch moves into the mesh this sprint; CHG-118"`+"\n", "", 1), "exceptions[0] (mesh-migration): reason is required"},
		"too far ahead":   {exception(time.Now().UTC().AddDate(2, 0, 0)), "exceptions[0] (mesh-migration): expires"},
	} {
		t.Run("an invalid exception is bad input: "+name, func(t *testing.T) {
			code, stdout, stderr := runCheckArgs(t, "-f", strict, "--state", clusterState, "--config", writeConfig(t, c.body))
			if code != 2 || stdout != "" || !strings.Contains(stderr, c.stderr) {
				t.Errorf("exit %d, want 2 with %q on stderr:\nstdout: %s\nstderr: %s", code, c.stderr, stdout, stderr)
			}
		})
	}
}
