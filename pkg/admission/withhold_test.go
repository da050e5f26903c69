package admission_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	mgadmission "github.com/meshguard/meshguard/pkg/admission"
	"github.com/meshguard/meshguard/pkg/config"
	"github.com/meshguard/meshguard/pkg/rules"
	"github.com/meshguard/meshguard/pkg/state"
	"github.com/meshguard/meshguard/pkg/trust"
	"github.com/meshguard/meshguard/pkg/trust/trusttest"
)

// fromAPIServer is the context of a review whose caller presented a client
// certificate the server verified: the API server's.
func fromAPIServer() context.Context {
	r := httptest.NewRequest(http.MethodPost, mgadmission.Path, nil)
	r.TLS = &tls.ConnectionState{VerifiedChains: [][]*x509.Certificate{{{}}}}
	return mgadmission.WithCaller(context.Background(), r)
}

// egressGateway puts an egress gateway in ns that routes legacy's
// api.example.com: it reads the rule's credentialName Secret in ns.
func egressGateway(store *state.Store, ns string) {
	store.SetPod(&state.Pod{Namespace: ns, Name: "egress-1", Phase: "Running", Sidecar: true, Router: true, Labels: map[string]string{"istio": "egressgateway"}})
	store.SetGateway(&state.Gateway{Namespace: ns, Name: "egress", Selector: map[string]string{"istio": "egressgateway"}})
	store.SetVirtualService(&state.VirtualService{Namespace: "legacy", Name: "out", Hosts: []string{"api.example.com"}, Gateways: []string{ns + "/egress"},
		HTTP: []state.HTTPRoute{{Route: []state.Destination{{Host: "api.example.com"}}}}})
}

// A tenant who may only write DestinationRules in its namespace must not
// learn, from a dry run, whether a Secret exists in the gateway namespace.
func TestFindingsAboutOtherNamespacesSecretsNeedGet(t *testing.T) {
	h := newHandler(config.Default())
	// The egress gateway in istio-system routes to api.example.com, so it reads
	// the rule's credentialName Secret there.
	egressGateway(h.Store, "istio-system")
	h.Trust = func(_ context.Context, view *trust.View, secrets [][2]string, _ []string) error {
		for _, s := range secrets {
			view.Secrets[s[0]+"/"+s[1]] = nil // confirmed absent
		}
		return nil
	}
	dr := `{"apiVersion":"networking.istio.io/v1","kind":"DestinationRule","metadata":{"name":"api","namespace":"legacy"},"spec":{"host":"api.example.com","trafficPolicy":{"tls":{"mode":"MUTUAL","credentialName":"client-cert"}}}}`
	req := request(admissionv1.Create, "DestinationRule", "networking.istio.io", "legacy", dr)
	req.UserInfo = authenticationv1.UserInfo{Username: "tenant", Groups: []string{"team-legacy"}}

	var asked []state.ObjectRef
	allow := false
	h.Authorize = func(_ context.Context, user authenticationv1.UserInfo, ref state.ObjectRef) (bool, error) {
		if user.Username != "tenant" {
			t.Errorf("asked about %q", user.Username)
		}
		asked = append(asked, ref)
		return allow, nil
	}
	resp := h.Handle(fromAPIServer(), req)
	msg := resp.Result.Message
	if resp.Allowed || !strings.Contains(msg, "[MG401]") || strings.Contains(msg, "does not exist") || !strings.Contains(msg, "details you may not see") {
		t.Errorf("a tenant without get on istio-system Secrets: allowed=%v %q", resp.Allowed, msg)
	}
	if len(asked) == 0 || asked[0].Kind != "Secret" || asked[0].Namespace != "istio-system" || asked[0].Name != "client-cert" {
		t.Errorf("asked %v", asked)
	}
	// The answer is cached briefly: a second review asks nothing new.
	n := len(asked)
	h.Handle(fromAPIServer(), req)
	if len(asked) != n {
		t.Errorf("the access answer was not reused: %d then %d questions", n, len(asked))
	}
	// Someone who may read them gets the details.
	allow = true
	req.UserInfo = authenticationv1.UserInfo{Username: "platform"}
	h.Authorize = func(context.Context, authenticationv1.UserInfo, state.ObjectRef) (bool, error) { return true, nil }
	resp = h.Handle(fromAPIServer(), req)
	if !strings.Contains(resp.Result.Message, "Secret client-cert does not exist in istio-system") {
		t.Errorf("the platform team should see the details: %q", resp.Result.Message)
	}
}

// In the requester's own namespace too, a Secret it may not get is not
// described: a certificate expiring soon draws a warning (its subject and
// expiry) only for those who may read it; for the others it draws nothing,
// since a warning would say the Secret exists.
func TestWarningsAboutSecretsNeedGetInTheOwnNamespace(t *testing.T) {
	h := newHandler(config.Default())
	// The tenant's own egress gateway routes to api.example.com: it reads
	// the credential Secret in the tenant's namespace.
	egressGateway(h.Store, "legacy")
	cert, key := trusttest.NewRoot("partner CA").Leaf("client.legacy", time.Now().Add(-time.Hour), time.Now().Add(10*24*time.Hour))
	h.Trust = func(_ context.Context, view *trust.View, secrets [][2]string, _ []string) error {
		for _, s := range secrets {
			view.Secrets[s[0]+"/"+s[1]] = state.InspectSecret(&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: s[0], Name: s[1]},
				Data: map[string][]byte{"tls.crt": cert, "tls.key": key}})
		}
		return nil
	}
	dr := `{"apiVersion":"networking.istio.io/v1","kind":"DestinationRule","metadata":{"name":"api","namespace":"legacy"},"spec":{"host":"api.example.com","trafficPolicy":{"tls":{"mode":"MUTUAL","credentialName":"client-cert"}}}}`
	req := request(admissionv1.Create, "DestinationRule", "networking.istio.io", "legacy", dr)
	for _, c := range []struct {
		who    string
		mayGet bool
	}{{"tenant", false}, {"platform", true}} {
		var asked []state.ObjectRef
		h.Authorize = func(_ context.Context, _ authenticationv1.UserInfo, ref state.ObjectRef) (bool, error) {
			asked = append(asked, ref)
			return c.mayGet, nil
		}
		req.UserInfo = authenticationv1.UserInfo{Username: c.who}
		resp := h.Handle(fromAPIServer(), req)
		warned := slices.ContainsFunc(resp.Warnings, func(w string) bool { return strings.HasPrefix(w, "[MG406]") })
		if !resp.Allowed || warned != c.mayGet {
			t.Errorf("%s (may get: %v): allowed=%v warnings %q", c.who, c.mayGet, resp.Allowed, resp.Warnings)
		}
		if !slices.Contains(asked, state.ObjectRef{Kind: "Secret", Namespace: "legacy", Name: "client-cert"}) {
			t.Errorf("%s: asked %v, want the Secret legacy/client-cert", c.who, asked)
		}
	}
}

// A review whose caller presented no verified client certificate may carry
// any userInfo: a direct POST claiming system:masters learns nothing about
// Secrets, in any namespace, and nobody is asked about it. The verdict
// stands: a missing Secret still denies, a certificate expiring soon draws
// no warning (only material that exists can draw one).
func TestForgedReviewsGetNoDetailsWhateverTheyClaim(t *testing.T) {
	h := newHandler(config.Default())
	egressGateway(h.Store, "legacy")
	soon, key := trusttest.NewRoot("partner CA").Leaf("client.legacy", time.Now().Add(-time.Hour), time.Now().Add(10*24*time.Hour))
	secret := map[string][]byte{}
	h.Trust = func(_ context.Context, view *trust.View, secrets [][2]string, _ []string) error {
		for _, s := range secrets {
			view.Secrets[s[0]+"/"+s[1]] = nil // confirmed absent
			if secret != nil {
				view.Secrets[s[0]+"/"+s[1]] = state.InspectSecret(&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: s[0], Name: s[1]}, Data: secret})
			}
		}
		return nil
	}
	h.Authorize = func(context.Context, authenticationv1.UserInfo, state.ObjectRef) (bool, error) {
		t.Error("asked whether a forged user may read a Secret")
		return true, nil
	}
	dr := `{"apiVersion":"networking.istio.io/v1","kind":"DestinationRule","metadata":{"name":"api","namespace":"legacy"},"spec":{"host":"api.example.com","trafficPolicy":{"tls":{"mode":"MUTUAL","credentialName":"client-cert"}}}}`
	req := request(admissionv1.Create, "DestinationRule", "networking.istio.io", "legacy", dr)
	req.UserInfo = authenticationv1.UserInfo{Username: "kubernetes-admin", Groups: []string{"system:masters", "system:authenticated"}}

	secret = nil
	resp := h.Handle(context.Background(), req)
	if msg := resp.Result.Message; resp.Allowed || msg != "[MG401] spec.trafficPolicy.tls.credentialName: "+rules.WithheldFromUnverifiedMessage(state.ObjectRef{Kind: "Secret", Namespace: "legacy", Name: "client-cert"}) {
		t.Errorf("a forged review of a missing Secret: allowed=%v %q", resp.Allowed, msg)
	}
	secret = map[string][]byte{"tls.crt": soon, "tls.key": key}
	resp = h.Handle(context.Background(), req)
	if !resp.Allowed || slices.ContainsFunc(resp.Warnings, func(w string) bool { return strings.HasPrefix(w, "[MG406]") }) {
		t.Errorf("a forged review of a certificate expiring soon: allowed=%v warnings %q", resp.Allowed, resp.Warnings)
	}
}
