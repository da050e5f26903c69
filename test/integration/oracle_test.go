package integration

import (
	"fmt"
	"strings"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/meshguard/meshguard/pkg/server"
)

// A tenant allowed only to write DestinationRules in its own namespace learns
// nothing, from a dry run, about Secrets of the gateway namespace it cannot
// read: the write is still denied, without saying whether the Secret exists.
func TestNoCrossNamespaceOracle(t *testing.T) {
	createNamespace(t, "sar-tenant", map[string]string{"istio-injection": "enabled"})
	createPod(t, podSpec{ns: "istio-system", name: "egress-sar-1", labels: map[string]string{"istio": "egressgateway", "app": "egress-sar"}, sidecar: true, port: 8443})
	gw := obj(t, `{apiVersion: networking.istio.io/v1, kind: Gateway, metadata: {name: egress-sar, namespace: istio-system},
  spec: {selector: {app: egress-sar}, servers: [{port: {number: 443, name: https, protocol: HTTPS}, hosts: [api.partner.example], tls: {mode: ISTIO_MUTUAL}}]}}`)
	se := obj(t, `{apiVersion: networking.istio.io/v1, kind: ServiceEntry, metadata: {name: partner, namespace: sar-tenant},
  spec: {hosts: [api.partner.example], ports: [{number: 443, name: https, protocol: HTTPS}], resolution: DNS}}`)
	vs := obj(t, `{apiVersion: networking.istio.io/v1, kind: VirtualService, metadata: {name: partner, namespace: sar-tenant},
  spec: {hosts: [api.partner.example], gateways: [istio-system/egress-sar], tls: [{match: [{port: 443, sniHosts: [api.partner.example]}], route: [{destination: {host: api.partner.example, port: {number: 443}}}]}]}}`)
	for _, o := range []client.Object{gw, se, vs} {
		if err := k8s.Create(ctx(), o); err != nil {
			t.Fatal(err)
		}
		cleanupObject(t, o)
	}
	role := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "dr-writer", Namespace: "sar-tenant"},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{"networking.istio.io"}, Resources: []string{"destinationrules"}, Verbs: []string{"create", "get"}}}}
	binding := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "tenant", Namespace: "sar-tenant"},
		RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: "dr-writer"},
		Subjects: []rbacv1.Subject{{Kind: "User", Name: "tenant"}}}
	for _, o := range []client.Object{role, binding} {
		if err := k8s.Create(ctx(), o); err != nil {
			t.Fatal(err)
		}
		cleanupObject(t, o)
	}
	user, err := testEnv.AddUser(envtest.User{Name: "tenant"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	scheme, _ := server.Scheme()
	tenant, err := client.New(user.Config(), client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	dr := obj(t, `{apiVersion: networking.istio.io/v1, kind: DestinationRule, metadata: {name: partner, namespace: sar-tenant},
  spec: {host: api.partner.example, trafficPolicy: {tls: {mode: MUTUAL, credentialName: partner-client}}}}`)
	eventually(t, "the tenant's dry run is denied without details", func() error {
		err := tenant.Create(ctx(), dr.DeepCopy(), client.DryRunAll)
		if err == nil || strings.Contains(err.Error(), "does not exist") {
			return fmt.Errorf("want a denial that withholds the details, got %v", err)
		}
		return deniedWith(err, "[MG401] spec.trafficPolicy.tls.credentialName: the TLS material this rule uses in namespace istio-system has a problem whose details you may not see")
	})
	// The same write by an administrator names the missing Secret.
	if err := deniedWith(k8s.Create(ctx(), dr.DeepCopy(), client.DryRunAll), "Secret partner-client does not exist in istio-system"); err != nil {
		t.Error(err)
	}
}
