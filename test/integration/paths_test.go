package integration

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/meshguard/meshguard/pkg/check"
	"github.com/meshguard/meshguard/pkg/cluster"
	"github.com/meshguard/meshguard/pkg/pathview"
	"github.com/meshguard/meshguard/pkg/state"
)

// `meshguard paths` without --state reads the live cluster as check does:
// the paths to reviews as they stand work; a canary to its unready v2,
// given with -f, breaks the sidecars' path, and the picture says so.
func TestPathsFromTheLiveCluster(t *testing.T) {
	routingMesh(t)
	canary := filepath.Join(t.TempDir(), "canary.yaml")
	if err := os.WriteFile(canary, []byte(`apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews-canary, namespace: rt-shop}
spec:
  hosts: [reviews]
  http:
  - route:
    - destination: {host: reviews, subset: v1}
      weight: 90
    - destination: {host: reviews, subset: v2}
      weight: 10
`), 0o600); err != nil {
		t.Fatal(err)
	}
	run := func(format string, files ...string) (int, string) {
		t.Helper()
		c, cancel := context.WithTimeout(ctx(), 30*time.Second)
		defer cancel()
		var out bytes.Buffer
		code, err := check.RunPaths(c, check.PathsOptions{Host: "rt-shop/reviews", Files: files, Output: format, Config: suiteConfig(),
			LoadCluster: func(c context.Context, s *state.Store) error { return cluster.LoadCluster(c, k8s, s) }}, &out)
		if err != nil {
			t.Fatal(err)
		}
		return code, out.String()
	}
	if code, out := run(pathview.Text); code != check.ExitOK || !strings.Contains(out, "outbound|9080||reviews.rt-shop.svc.cluster.local") || strings.Contains(out, "BROKEN") {
		t.Errorf("as it stands: exit %d\n%s", code, out)
	}
	code, out := run(pathview.Text, canary)
	if code != check.ExitDenied || !strings.Contains(out, "BROKEN 10% no-ready-endpoint") || !strings.Contains(out, "outbound|9080|v2|reviews.rt-shop.svc.cluster.local") {
		t.Errorf("with the canary: exit %d\n%s", code, out)
	}
	if _, dot := run(pathview.DOT, canary); !strings.Contains(dot, `"0/1 Ready"`) || !strings.Contains(dot, `color="#d62728"`) {
		t.Errorf("the DOT picture lacks v2's unready endpoint or a red edge:\n%s", dot)
	}
}
