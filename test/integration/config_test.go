package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// config/ is the chart rendered with its defaults; regenerate it with
// `make config` when this fails.
func TestConfigBaseIsRenderedFromTheChart(t *testing.T) {
	want, err := exec.Command("bash", filepath.Join(repoRoot(), "hack", "render-config.sh")).Output()
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(repoRoot(), "config", "meshguard.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Error("config/meshguard.yaml differs from the chart's rendering; run `make config`")
	}
}
