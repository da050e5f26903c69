package integration

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// meshguardBinary builds cmd/meshguard for tests that run it as users do.
func meshguardBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "meshguard")
	build := exec.Command("go", "build", "-o", bin, "./cmd/meshguard")
	build.Dir = repoRoot()
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// `helm test` runs `meshguard selftest`; run the real binary the same way.
func TestSelftestPassesAgainstTheLiveWebhook(t *testing.T) {
	bin := meshguardBinary(t)
	out, err := exec.Command(bin, "selftest", "--kubeconfig", kubeconfig).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "selftest passed") {
		t.Fatalf("selftest: %v\n%s", err, out)
	}
	// Against a root namespace that does not exist the dry run fails for
	// another reason, which must not count as a pass.
	out, err = exec.Command(bin, "selftest", "--kubeconfig", kubeconfig, "--root-namespace", "no-such-namespace").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "selftest FAILED") {
		t.Fatalf("selftest must fail when nothing denies: %v\n%s", err, out)
	}
}
