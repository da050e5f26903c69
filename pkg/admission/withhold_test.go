package admission_test

import (
	"context"
	"strings"
	"testing"

	admissionv1 "k8s.io/api/admission/v1"
	authenticationv1 "k8s.io/api/authentication/v1"

	"github.com/meshguard/meshguard/pkg/config"
	"github.com/meshguard/meshguard/pkg/state"
	"github.com/meshguard/meshguard/pkg/trust"
)

// A tenant who may only write DestinationRules in its namespace must not
// learn, from a dry run, whether a Secret exists in the gateway namespace.
func TestFindingsAboutOtherNamespacesSecretsNeedGet(t *testing.T) {
	h := newHandler(config.Default())
	// The egress gateway in istio-system routes to api.example.com, so it reads
	// the rule's credentialName Secret there.
	h.Store.SetPod(&state.Pod{Namespace: "istio-system", Name: "egress-1", Phase: "Running", Sidecar: true, Router: true, Labels: map[string]string{"istio": "egressgateway"}})
	h.Store.SetGateway(&state.Gateway{Namespace: "istio-system", Name: "egress", Selector: map[string]string{"istio": "egressgateway"}})
	h.Store.SetVirtualService(&state.VirtualService{Namespace: "legacy", Name: "out", Hosts: []string{"api.example.com"}, Gateways: []string{"istio-system/egress"},
		HTTP: []state.HTTPRoute{{Route: []state.Destination{{Host: "api.example.com"}}}}})
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
	resp := h.Handle(context.Background(), req)
	msg := resp.Result.Message
	if resp.Allowed || !strings.Contains(msg, "[MG401]") || strings.Contains(msg, "does not exist") || !strings.Contains(msg, "details you may not see") {
		t.Errorf("a tenant without get on istio-system Secrets: allowed=%v %q", resp.Allowed, msg)
	}
	if len(asked) == 0 || asked[0].Kind != "Secret" || asked[0].Namespace != "istio-system" || asked[0].Name != "client-cert" {
		t.Errorf("asked %v", asked)
	}
	// The answer is cached briefly: a second review asks nothing new.
	n := len(asked)
	h.Handle(context.Background(), req)
	if len(asked) != n {
		t.Errorf("the access answer was not reused: %d then %d questions", n, len(asked))
	}
	// Someone who may read them gets the details.
	allow = true
	req.UserInfo = authenticationv1.UserInfo{Username: "platform"}
	h.Authorize = func(context.Context, authenticationv1.UserInfo, state.ObjectRef) (bool, error) { return true, nil }
	resp = h.Handle(context.Background(), req)
	if !strings.Contains(resp.Result.Message, "Secret client-cert does not exist in istio-system") {
		t.Errorf("the platform team should see the details: %q", resp.Result.Message)
	}
}
