package integration

import (
	"path/filepath"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Every manifest the chart renders, with the defaults and with each ci/
// values file, is accepted by a server-side dry run against the API server.
func TestChartManifestsPassServerSideDryRun(t *testing.T) {
	createNamespace(t, releaseNamespace, nil)
	createNamespace(t, "monitoring", nil) // where ci/observability-values.yaml puts the dashboard
	variants := map[string][]string{"defaults": nil}
	files, _ := filepath.Glob(filepath.Join(repoRoot(), "charts", "meshguard", "ci", "*-values.yaml"))
	for _, f := range files {
		variants[filepath.Base(f)] = []string{"-f", f}
	}
	for name, args := range variants {
		t.Run(name, func(t *testing.T) {
			objs, err := renderChart(args...)
			if err != nil {
				t.Fatal(err)
			}
			for _, o := range objs {
				if o.GetKind() == "ValidatingWebhookConfiguration" {
					// The suite's own registration is this same object; a second
					// live copy would intercept the other tests' writes.
					o.SetName(o.GetName() + "-dryrun")
				}
				if err := k8s.Create(ctx(), o, client.DryRunAll); err != nil {
					t.Errorf("%s %s/%s: %v", o.GetKind(), o.GetNamespace(), o.GetName(), err)
				}
			}
		})
	}
}
