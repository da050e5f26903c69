package integration

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

func TestMeshWideStrict(t *testing.T) {
	createNamespace(t, "it-shop", map[string]string{"istio-injection": "enabled"})
	createNamespace(t, "it-legacy", nil)
	createPod(t, podSpec{ns: "it-shop", name: "web-1", labels: map[string]string{"app": "web"}, sidecar: true, port: 8080})
	createPod(t, podSpec{ns: "it-legacy", name: "api-1", labels: map[string]string{"app": "api"}, sidecar: true, port: 9090})
	// Neither of these blocks STRICT: a finished Job pod calls nobody, and a
	// hostNetwork agent can never get a proxy (a deliberate outsider, MG102).
	createPod(t, podSpec{ns: "it-legacy", name: "export-1", port: 8080, phase: corev1.PodSucceeded, ownerKind: "Job", ownerName: "export"})
	createPod(t, podSpec{ns: "it-legacy", name: "node-agent-1", port: 9100, hostNetwork: true, ownerKind: "DaemonSet", ownerName: "node-agent"})
	// Created last: once the webhook names it, it has seen the two above too.
	createPod(t, podSpec{ns: "it-legacy", name: "reporting-0", port: 8080, ownerKind: "StatefulSet", ownerName: "reporting"})

	const want = deniedPrefix + "[MG101] spec.mtls.mode: mesh-wide STRICT would reject plaintext from 1 pod outside the mesh in 1 namespace (it-legacy) that may call meshed workloads: it-legacy/reporting-0 (StatefulSet reporting) — inject or enroll them (label the namespace, then kubectl rollout restart their owners), keep the mesh-wide policy PERMISSIVE until then, or, if they never call meshed workloads, opt them out with sidecar.istio.io/inject: \"false\""

	t.Run("mesh-wide STRICT is denied and names the pod outside the mesh", func(t *testing.T) {
		eventually(t, "STRICT denied", func() error {
			return deniedWith(k8s.Create(ctx(), peerAuth("v1", "istio-system", "default", "STRICT", nil)), want)
		})
	})
	t.Run("a server-side dry run gets the same verdict", func(t *testing.T) {
		err := k8s.Create(ctx(), peerAuth("v1", "istio-system", "default", "STRICT", nil), client.DryRunAll)
		if e := deniedWith(err, want); e != nil {
			t.Fatal(e)
		}
	})
	t.Run("v1beta1 is reviewed like v1", func(t *testing.T) {
		if e := deniedWith(k8s.Create(ctx(), peerAuth("v1beta1", "istio-system", "default", "STRICT", nil)), want); e != nil {
			t.Fatal(e)
		}
	})
	t.Run("kubectl apply prints the denial", func(t *testing.T) {
		out := kubectlApply(t, peerAuthYAML("istio-system", "default", "STRICT"))
		if !strings.Contains(out, `Error from server (Forbidden): error when creating "STDIN": `+want) {
			t.Fatalf("kubectl printed:\n%s", out)
		}
	})
	t.Run("PERMISSIVE mesh-wide is allowed", func(t *testing.T) {
		pa := peerAuth("v1beta1", "istio-system", "default", "PERMISSIVE", nil)
		if err := k8s.Create(ctx(), pa); err != nil {
			t.Fatal(err)
		}
		if err := k8s.Delete(ctx(), pa); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("once the unmeshed pod is gone the same write is allowed, without a restart", func(t *testing.T) {
		deletePod(t, "it-legacy", "reporting-0")
		pa := peerAuth("v1", "istio-system", "default", "STRICT", nil)
		eventually(t, "STRICT allowed", func() error { return k8s.Create(ctx(), pa) })
		if err := k8s.Delete(ctx(), pa); err != nil {
			t.Fatal(err)
		}
	})
}

func TestDeletingNamespaceOverrideUnderMeshStrict(t *testing.T) {
	createNamespace(t, "it-migrating", nil)
	createPod(t, podSpec{ns: "it-migrating", name: "api-1", labels: map[string]string{"app": "api"}, sidecar: true, port: 9090})

	override := peerAuth("v1", "it-migrating", "migration", "PERMISSIVE", nil)
	if err := k8s.Create(ctx(), override); err != nil {
		t.Fatal(err)
	}
	cleanupObject(t, override)
	meshStrict := peerAuth("v1", "istio-system", "default", "STRICT", nil)
	eventually(t, "mesh STRICT allowed once the override is seen", func() error { return k8s.Create(ctx(), meshStrict) })
	cleanupObject(t, meshStrict)
	// A pod without a proxy arrives after mesh-wide STRICT was admitted (pods
	// are not reviewed); the override is what lets it still call api-1 in plaintext.
	createPod(t, podSpec{ns: "it-migrating", name: "billing-0", port: 8080, ownerKind: "StatefulSet", ownerName: "billing"})

	want := "[MG101] spec.mtls.mode: the mesh-wide STRICT of istio-system/default now reaching it-migrating would reject plaintext from 1 pod outside the mesh in it-migrating that may call its meshed workloads: it-migrating/billing-0 (StatefulSet billing)"
	eventually(t, "deleting the override is denied", func() error {
		return deniedWith(k8s.Delete(ctx(), override, client.DryRunAll), want)
	})
	if e := deniedWith(k8s.Delete(ctx(), override), want); e != nil {
		t.Fatal(e)
	}
}

func TestUpdateKeepingPreexistingBreakageWarns(t *testing.T) {
	createNamespace(t, "it-drift", nil)
	createPod(t, podSpec{ns: "it-drift", name: "api-1", labels: map[string]string{"app": "api"}, sidecar: true, port: 9090})
	strict := peerAuth("v1", "it-drift", "default", "STRICT", nil)
	eventually(t, "namespace STRICT allowed while covered", func() error { return k8s.Create(ctx(), strict) })
	cleanupObject(t, strict)
	// A pod outside the mesh arrives afterwards (pods are not reviewed).
	createPod(t, podSpec{ns: "it-drift", name: "cron-1", port: 8080})

	// The pod is not reviewed, so wait (with dry runs that persist nothing)
	// until the webhook's cache has it; then make one real edit.
	edit := func(opts ...client.UpdateOption) ([]string, error) {
		cur := &unstructured.Unstructured{}
		cur.SetGroupVersionKind(strict.GroupVersionKind())
		if err := k8s.Get(ctx(), client.ObjectKeyFromObject(strict), cur); err != nil {
			return nil, err
		}
		cur.SetLabels(map[string]string{"edited": "yes"})
		warnings.take()
		if err := k8s.Update(ctx(), cur, opts...); err != nil {
			return nil, fmt.Errorf("update denied: %w", err)
		}
		return warnings.take(), nil
	}
	const want = "[MG101] pre-existing: STRICT would reject plaintext from 1 pod outside the mesh in it-drift"
	preexisting := func(ws []string) error {
		for _, w := range ws {
			if strings.HasPrefix(w, want) {
				if len([]rune(w)) > 120 {
					return fmt.Errorf("warning longer than 120 characters: %q", w)
				}
				return nil
			}
		}
		return fmt.Errorf("no pre-existing MG101 warning in %q", ws)
	}
	eventually(t, "the webhook sees the pod outside the mesh", func() error {
		ws, err := edit(client.DryRunAll)
		if err != nil {
			return err
		}
		return preexisting(ws)
	})
	ws, err := edit()
	if err != nil {
		t.Fatal(err)
	}
	if err := preexisting(ws); err != nil {
		t.Fatal(err)
	}
}

func TestEveryServedVersionReachesTheWebhook(t *testing.T) {
	createNamespace(t, "it-routing", nil)
	for _, kind := range []string{"DestinationRule", "VirtualService"} {
		for _, version := range []string{"v1alpha3", "v1beta1", "v1"} {
			t.Run(kind+" "+version, func(t *testing.T) {
				before := reviewsOf(kind)
				u := &unstructured.Unstructured{Object: map[string]any{
					"apiVersion": "networking.istio.io/" + version, "kind": kind,
					"metadata": map[string]any{"namespace": "it-routing", "name": strings.ToLower(kind) + "-" + version},
					"spec":     map[string]any{"hosts": []any{"reviews"}},
				}}
				if kind == "DestinationRule" {
					u.Object["spec"] = map[string]any{"host": "reviews"}
				}
				if err := k8s.Create(ctx(), u); err != nil {
					t.Fatal(err)
				}
				u.SetLabels(map[string]string{"edited": "yes"})
				if err := k8s.Update(ctx(), u); err != nil {
					t.Fatal(err)
				}
				if err := k8s.Delete(ctx(), u); err != nil {
					t.Fatal(err)
				}
				if got := reviewsOf(kind) - before; got != 3 {
					t.Errorf("webhook reviewed %v writes, want CREATE, UPDATE and DELETE", got)
				}
			})
		}
	}
	t.Run("PeerAuthentication v1beta1 DELETE", func(t *testing.T) {
		before := reviewsOf("PeerAuthentication")
		pa := peerAuth("v1beta1", "it-routing", "plain", "PERMISSIVE", nil)
		if err := k8s.Create(ctx(), pa); err != nil {
			t.Fatal(err)
		}
		if err := k8s.Delete(ctx(), pa); err != nil {
			t.Fatal(err)
		}
		if got := reviewsOf("PeerAuthentication") - before; got != 2 {
			t.Errorf("webhook reviewed %v writes, want 2", got)
		}
	})
}

// reviewsOf reads meshguard_admission_reviews_total for a kind from the
// metrics registry the server exports, all other labels summed.
func reviewsOf(kind string) float64 {
	families, err := metrics.Registry.Gather()
	if err != nil {
		return -1
	}
	total := 0.0
	for _, f := range families {
		if f.GetName() != "meshguard_admission_reviews_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "kind" && l.GetValue() == kind {
					total += m.GetCounter().GetValue()
				}
			}
		}
	}
	return total
}

func peerAuthYAML(ns, name, mode string) string {
	return fmt.Sprintf("apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata:\n  name: %s\n  namespace: %s\nspec:\n  mtls:\n    mode: %s\n", name, ns, mode)
}

// kubectlApply runs the envtest kubectl against the test API server.
func kubectlApply(t *testing.T, manifest string) string {
	t.Helper()
	dir, err := assets()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(filepath.Join(dir, "kubectl"), "--kubeconfig", kubeconfig, "apply", "-f", "-")
	cmd.Stdin = strings.NewReader(manifest)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+kubeconfig)
	out, _ := cmd.CombinedOutput()
	return string(out)
}
