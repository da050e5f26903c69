package integration

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/meshguard/meshguard/pkg/rules"
	"github.com/meshguard/meshguard/pkg/server"
	"github.com/meshguard/meshguard/pkg/state"
)

// partnerEgress routes host from namespace ns through an egress gateway gw
// in istio-system, so a DestinationRule for host naming a credentialName is
// judged by the Secret of that name in istio-system (the gateway reads it
// there), and returns that DestinationRule, naming partner-client.
func partnerEgress(t *testing.T, ns, gw, host string) string {
	t.Helper()
	createNamespace(t, ns, map[string]string{"istio-injection": "enabled"})
	createPod(t, podSpec{ns: "istio-system", name: gw + "-1", labels: map[string]string{"istio": "egressgateway", "app": gw}, sidecar: true, port: 8443})
	objects := []client.Object{
		obj(t, fmt.Sprintf(`{apiVersion: networking.istio.io/v1, kind: Gateway, metadata: {name: %[1]s, namespace: istio-system},
  spec: {selector: {app: %[1]s}, servers: [{port: {number: 443, name: https, protocol: HTTPS}, hosts: [%[2]s], tls: {mode: ISTIO_MUTUAL}}]}}`, gw, host)),
		obj(t, fmt.Sprintf(`{apiVersion: networking.istio.io/v1, kind: ServiceEntry, metadata: {name: partner, namespace: %s},
  spec: {hosts: [%s], ports: [{number: 443, name: https, protocol: HTTPS}], resolution: DNS}}`, ns, host)),
		obj(t, fmt.Sprintf(`{apiVersion: networking.istio.io/v1, kind: VirtualService, metadata: {name: partner, namespace: %[1]s},
  spec: {hosts: [%[3]s], gateways: [istio-system/%[2]s], tls: [{match: [{port: 443, sniHosts: [%[3]s]}], route: [{destination: {host: %[3]s, port: {number: 443}}}]}]}}`, ns, gw, host)),
	}
	for _, o := range objects {
		if err := k8s.Create(ctx(), o); err != nil {
			t.Fatal(err)
		}
		cleanupObject(t, o)
	}
	return fmt.Sprintf(`{"apiVersion":"networking.istio.io/v1","kind":"DestinationRule","metadata":{"name":"partner","namespace":%q},`+
		`"spec":{"host":%q,"trafficPolicy":{"tls":{"mode":"MUTUAL","credentialName":"partner-client"}}}}`, ns, host)
}

// A tenant allowed only to write DestinationRules in its own namespace learns
// nothing, from a dry run, about Secrets of the gateway namespace it cannot
// read: the write is still denied, without saying whether the Secret exists.
func TestNoCrossNamespaceOracle(t *testing.T) {
	dr := obj(t, partnerEgress(t, "sar-tenant", "egress-sar", "api.partner.example"))
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

// Only the API server is believed about who asks. The suite's kube-apiserver
// presents its client certificate (an AdmissionConfiguration with a
// kubeconfig, as README shows) and the suite's webhook requires it
// (--client-ca-file): through it, an administrator's dry run names the
// missing Secret. The same review posted straight to a webhook installed
// without a client CA, its userInfo claiming system:masters, is denied under
// the same rule and field without a word about the Secret; and the suite's
// webhook refuses a caller without a certificate at the handshake.
func TestOnlyTheAPIServerIsBelievedAboutWhoAsks(t *testing.T) {
	const ns = "forged-review"
	dr := partnerEgress(t, ns, "egress-forged", "api.forged.example")
	eventually(t, "an administrator's dry run through the API server names the missing Secret", func() error {
		return deniedWith(k8s.Create(ctx(), obj(t, dr), client.DryRunAll),
			"[MG401] spec.trafficPolicy.tls.credentialName: Secret partner-client does not exist in istio-system")
	})

	var review admissionv1.AdmissionReview
	if err := json.Unmarshal(reviewBody(t, "forged", "networking.istio.io", "DestinationRule", ns, "partner", dr), &review); err != nil {
		t.Fatal(err)
	}
	review.Request.UserInfo = authenticationv1.UserInfo{Username: "kubernetes-admin", Groups: []string{"system:masters", "system:authenticated"}}
	forged, err := json.Marshal(review)
	if err != nil {
		t.Fatal(err)
	}
	noCert := apiServerTLS()
	noCert.Certificates = nil
	c := &http.Client{Timeout: time.Minute, Transport: &http.Transport{TLSClientConfig: noCert}}

	port := startWebhook(t, server.Options{Config: suiteConfig()}) // no client CA: the chart's default
	resp, err := c.Post(fmt.Sprintf("https://127.0.0.1:%d/validate", port), "application/json", bytes.NewReader(forged))
	want := "[MG401] spec.trafficPolicy.tls.credentialName: " +
		rules.WithheldFromUnverifiedMessage(state.ObjectRef{Kind: "Secret", Namespace: "istio-system", Name: "partner-client"})
	if _, allowed, msg, err := answer(resp, err); err != nil || allowed || msg != want {
		t.Errorf("a forged system:masters review posted directly: allowed=%v %q (%v), want %q", allowed, msg, err, want)
	}

	wio := &testEnv.WebhookInstallOptions
	resp, err = c.Post(fmt.Sprintf("https://%s:%d/validate", wio.LocalServingHost, wio.LocalServingPort), "application/json", bytes.NewReader(forged))
	if err == nil {
		resp.Body.Close()
		t.Errorf("the suite's webhook (--client-ca-file) answered a caller without a certificate: HTTP %d", resp.StatusCode)
	}
}
