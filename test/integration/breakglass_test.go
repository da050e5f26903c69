package integration

import (
	"fmt"
	"strings"
	"testing"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// as returns a client that impersonates a user in the given groups; both are
// bound to cluster-admin so that only admission decides.
func as(t *testing.T, user string, groups ...string) client.Client {
	t.Helper()
	binding := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "test-admin-" + user},
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "cluster-admin"},
		Subjects:   []rbacv1.Subject{{Kind: "User", APIGroup: "rbac.authorization.k8s.io", Name: user}},
	}
	if err := k8s.Create(ctx(), binding); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = k8s.Delete(ctx(), binding) })
	c := rest.CopyConfig(cfg)
	c.Impersonate = rest.ImpersonationConfig{UserName: user, Groups: append(groups, "system:authenticated")}
	c.WarningHandler = warnings
	cl, err := client.New(c, client.Options{Scheme: k8s.Scheme()})
	if err != nil {
		t.Fatal(err)
	}
	return cl
}

func TestBreakGlass(t *testing.T) {
	oncall := as(t, "alice", breakGlassGroup)
	dev := as(t, "bob", "developers")
	// Always dangerous: a selector in the root namespace (MG107).
	dangerous := func() client.Object {
		return peerAuth("v1", "istio-system", "emergency", "STRICT", map[string]string{"app": "ingress"})
	}

	t.Run("with meshguard up, a break-glass group skips the webhook and others are denied", func(t *testing.T) {
		if e := deniedWith(dev.Create(ctx(), dangerous(), client.DryRunAll), "[MG107]"); e != nil {
			t.Fatal(e)
		}
		if err := oncall.Create(ctx(), dangerous(), client.DryRunAll); err != nil {
			t.Fatalf("break-glass write denied: %v", err)
		}
	})

	t.Run("with meshguard scaled to zero, writes fail closed except break-glass", func(t *testing.T) {
		// The same registration, rendered from the chart, pointing at an
		// endpoint where nothing listens: meshguard with zero replicas.
		vwc, err := chartWebhook("--set", "breakGlass.groups[0]="+breakGlassGroup)
		if err != nil {
			t.Fatal(err)
		}
		port, err := freePort()
		if err != nil {
			t.Fatal(err)
		}
		down := fmt.Sprintf("https://127.0.0.1:%d/validate", port)
		vwc.Name = "meshguard-down"
		for i := range vwc.Webhooks {
			vwc.Webhooks[i].Name = "down.meshguard.io"
			if i > 0 { // the Kubernetes-writes webhook (Services, Namespaces)
				vwc.Webhooks[i].Name = fmt.Sprintf("down-%d.meshguard.io", i)
			}
			vwc.Webhooks[i].ClientConfig = admissionregistrationv1.WebhookClientConfig{URL: &down}
		}
		if err := k8s.Create(ctx(), vwc); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = k8s.Delete(ctx(), vwc) })
		safe := func() client.Object { return peerAuth("v1", "istio-system", "default", "PERMISSIVE", nil) }

		eventually(t, "a safe write fails closed", func() error {
			err := dev.Create(ctx(), safe(), client.DryRunAll)
			if err == nil || !strings.Contains(err.Error(), `failed calling webhook "down.meshguard.io"`) {
				return fmt.Errorf("want a failure calling the down webhook, got %v", err)
			}
			return nil
		})
		if err := oncall.Create(ctx(), safe(), client.DryRunAll); err != nil {
			t.Fatalf("the emergency change must pass while meshguard is down: %v", err)
		}
	})
}
