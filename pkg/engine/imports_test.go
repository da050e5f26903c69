package engine_test

import (
	"os/exec"
	"strings"
	"testing"
)

// Rules do no I/O, and the import graph says so: the engine, the path model,
// Istio's semantics and every rule build without client-go or
// controller-runtime (the live cluster is pkg/cluster's).
func TestRuleEngineImportsNoClusterMachinery(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}",
		"github.com/meshguard/meshguard/pkg/engine", "github.com/meshguard/meshguard/pkg/paths",
		"github.com/meshguard/meshguard/pkg/mesh", "github.com/meshguard/meshguard/pkg/rules/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	deps := strings.Fields(string(out))
	for _, d := range deps {
		for _, banned := range []string{"k8s.io/client-go", "sigs.k8s.io/controller-runtime", "github.com/meshguard/meshguard/pkg/cluster"} {
			if d == banned || strings.HasPrefix(d, banned+"/") {
				t.Errorf("the rule engine depends on %s", d)
			}
		}
	}
	t.Logf("%d packages in the rule engine's import graph", len(deps))
}
