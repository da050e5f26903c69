package integration

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/meshguard/meshguard/pkg/check"
	"github.com/meshguard/meshguard/pkg/cluster"
	"github.com/meshguard/meshguard/pkg/plan"
	"github.com/meshguard/meshguard/pkg/state"
)

// The staged STRICT migration against a real API server: the plan's YAML is
// applied with kubectl under the webhook and every object is admitted; once
// the listed workload runs with a proxy, the next plan's mesh-wide STRICT is
// admitted too. The outsiders gauge follows along.
func TestPlanStrictAppliedUnderTheWebhook(t *testing.T) {
	createNamespace(t, "pl-covered", map[string]string{"istio-injection": "enabled"})
	createNamespace(t, "pl-legacy", nil)
	createPod(t, podSpec{ns: "pl-covered", name: "api-1", labels: map[string]string{"app": "api"}, sidecar: true, port: 9090})
	createPod(t, podSpec{ns: "pl-legacy", name: "billing-0", labels: map[string]string{"app": "billing"}, port: 8080, ownerKind: "StatefulSet", ownerName: "billing"})
	for _, name := range []string{"istio-system/default", "pl-covered/default"} {
		ns, n, _ := strings.Cut(name, "/")
		t.Cleanup(func() { _ = k8s.Delete(ctx(), peerAuth("v1", ns, n, "PERMISSIVE", nil)) })
	}

	first := livePlan(t)
	if first.Mesh.Ready || !strings.Contains(strings.Join(first.Mesh.Blocking, ","), "pl-legacy") {
		t.Fatalf("mesh-wide STRICT must wait for pl-legacy: %+v", first.Mesh)
	}
	if !hasInjection(first, "pl-legacy", "kubectl rollout restart statefulset/billing -n pl-legacy") {
		t.Errorf("the plan does not restart billing: %+v", first.Inject)
	}
	eventually(t, "the gauge counts billing-0 as an accidental outsider", func() error {
		if v := outsiders("pl-legacy", "accidental"); v != 1 {
			return fmt.Errorf("meshguard_mesh_outsiders{namespace=pl-legacy,kind=accidental} = %v", v)
		}
		return nil
	})
	if out := kubectlApply(t, yamlOf(t, first)); strings.Contains(out, "denied") || !strings.Contains(out, "peerauthentication.security.istio.io/default") {
		t.Fatalf("applying the plan:\n%s", out)
	}

	// As `kubectl rollout restart` would: billing-0 comes back with a sidecar.
	deletePod(t, "pl-legacy", "billing-0")
	createPod(t, podSpec{ns: "pl-legacy", name: "billing-0", labels: map[string]string{"app": "billing"}, sidecar: true, port: 8080, ownerKind: "StatefulSet", ownerName: "billing"})
	second := livePlan(t)
	if !second.Mesh.Ready || second.Mesh.Policy == nil {
		t.Fatalf("after the restart, mesh-wide STRICT should be ready: %+v", second.Mesh)
	}
	// The webhook's cache follows the pod through its watch; kubectl apply is
	// idempotent, so repeating it until the cache has caught up is safe.
	eventually(t, "mesh-wide STRICT admitted", func() error {
		out := kubectlApply(t, yamlOf(t, second))
		if strings.Contains(out, "denied") || strings.Contains(out, "Error") {
			return fmt.Errorf("%s", out)
		}
		return nil
	})
	eventually(t, "the gauge drops pl-legacy", func() error {
		if v := outsiders("pl-legacy", "accidental"); v != 0 {
			return fmt.Errorf("still %v", v)
		}
		return nil
	})
}

// livePlan plans from one listing of the live cluster, as `meshguard plan strict` does without --state.
func livePlan(t *testing.T) plan.Plan {
	t.Helper()
	cfg := suiteConfig()
	c, cancel := context.WithTimeout(ctx(), 30*time.Second)
	defer cancel()
	sess, err := check.LoadState(c, cfg, nil, func(c context.Context, s *state.Store) error { return cluster.LoadCluster(c, k8s, s) }, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	p := plan.Strict(sess, cfg, nil)
	if len(p.Skipped) > 0 {
		t.Fatalf("the plan proposed writes the engine denies: %v", p.Skipped)
	}
	return p
}

func yamlOf(t *testing.T, p plan.Plan) string {
	t.Helper()
	var b bytes.Buffer
	if err := plan.WritePlan(&b, "yaml", p); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func hasInjection(p plan.Plan, ns, command string) bool {
	for _, in := range p.Inject {
		for _, c := range in.Commands {
			if in.Namespace == ns && c == command {
				return true
			}
		}
	}
	return false
}

// outsiders reads meshguard_mesh_outsiders for one namespace and kind (0 when absent).
func outsiders(ns, kind string) float64 {
	return gauge("meshguard_mesh_outsiders", map[string]string{"namespace": ns, "kind": kind})
}

// gauge reads the series of a gauge whose labels include want (0 when absent).
func gauge(name string, want map[string]string) float64 {
	families, err := metrics.Registry.Gather()
	if err != nil {
		return -1
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			match := true
			for k, v := range want {
				match = match && labels[k] == v
			}
			if match {
				return m.GetGauge().GetValue()
			}
		}
	}
	return 0
}
