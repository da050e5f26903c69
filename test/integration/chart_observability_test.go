package integration

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

var metricName = regexp.MustCompile(`\bmeshguard_[a-z_]+`)

// exportedMetrics are the metric names meshguard's code registers (a vector
// with no series yet is absent from /metrics, so they are read from the
// source rather than scraped).
func exportedMetrics(t *testing.T) map[string]bool {
	t.Helper()
	decl := regexp.MustCompile(`(?:Name:\s*|NewDesc\()"(meshguard_[a-z_]+)"`)
	names := map[string]bool{}
	err := filepath.WalkDir(filepath.Join(repoRoot(), "pkg"), func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		src, err := os.ReadFile(path)
		for _, m := range decl.FindAllSubmatch(src, -1) {
			names[string(m[1])] = true
		}
		return err
	})
	if err != nil || len(names) == 0 {
		t.Fatalf("no metric declarations found: %v", err)
	}
	return names
}

// The alerts and the dashboard query only metrics meshguard exports, so
// that a renamed metric cannot leave an alert that never fires.
func TestAlertsAndDashboardQueryExportedMetrics(t *testing.T) {
	objs, err := renderChart("-f", filepath.Join(repoRoot(), "charts", "meshguard", "ci", "observability-values.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var exprs []string
	var alerts []string
	var dashboard map[string]any
	for _, o := range objs {
		switch o.GetKind() {
		case "PrometheusRule":
			groups, _, _ := unstructured.NestedSlice(o.Object, "spec", "groups")
			for _, g := range groups {
				rules, _, _ := unstructured.NestedSlice(g.(map[string]any), "rules")
				for _, r := range rules {
					r := r.(map[string]any)
					alerts = append(alerts, r["alert"].(string))
					exprs = append(exprs, r["expr"].(string))
				}
			}
		case "ConfigMap":
			if o.GetLabels()["grafana_dashboard"] != "1" {
				continue
			}
			raw, _, _ := unstructured.NestedString(o.Object, "data", "meshguard.json")
			if err := json.Unmarshal([]byte(raw), &dashboard); err != nil {
				t.Fatalf("the dashboard is not JSON: %v", err)
			}
		}
	}
	want := []string{"MeshguardAuditViolations", "MeshguardAuditStale", "MeshguardReviewLatencyHigh", "MeshguardReviewErrors", "MeshguardExceptionExpiringSoon"}
	if strings.Join(alerts, ",") != strings.Join(want, ",") {
		t.Errorf("alerts: want %v, got %v", want, alerts)
	}
	if dashboard == nil {
		t.Fatal("no ConfigMap labelled grafana_dashboard=1 holding meshguard.json")
	}
	var titles []string
	for _, p := range dashboard["panels"].([]any) {
		p := p.(map[string]any)
		titles = append(titles, p["title"].(string))
		for _, target := range p["targets"].([]any) {
			exprs = append(exprs, target.(map[string]any)["expr"].(string))
		}
	}
	for _, title := range []string{"Reviews by decision and kind", "Denials and warnings by rule", "Review latency",
		"Audit violations by rule and namespace", "Audit duration"} {
		if !strings.Contains(strings.Join(titles, "\n"), title) {
			t.Errorf("the dashboard has no panel %q (panels: %v)", title, titles)
		}
	}
	exported := exportedMetrics(t)
	for _, e := range exprs {
		for _, name := range metricName.FindAllString(e, -1) {
			base := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(name, "_bucket"), "_sum"), "_count")
			if !exported[name] && !exported[base] {
				t.Errorf("%q queries %s, which meshguard does not export", e, name)
			}
		}
	}
}
