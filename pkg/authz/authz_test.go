package authz_test

import (
	"testing"

	"github.com/meshguard/meshguard/pkg/authz"
	"github.com/meshguard/meshguard/pkg/state"
)

func TestEvaluate(t *testing.T) {
	sleep := authz.Caller{Namespace: "foo", ServiceAccount: "sleep", MTLS: true}
	plain := authz.Caller{Namespace: "legacy"}
	fooNS := []state.AuthzSource{{Namespaces: []string{"foo"}}}
	get := []state.AuthzOperation{{HTTPOnly: []string{"methods"}}}
	allow := func(rules ...state.AuthzRule) *state.AuthorizationPolicy {
		return &state.AuthorizationPolicy{Namespace: "shop", Name: "a", Action: state.AuthzAllow, Rules: rules}
	}
	deny := func(rules ...state.AuthzRule) *state.AuthorizationPolicy {
		return &state.AuthorizationPolicy{Namespace: "shop", Name: "d", Action: state.AuthzDeny, Rules: rules}
	}
	cases := []struct {
		name     string
		policies []*state.AuthorizationPolicy
		req      authz.Request
		denied   bool
		rule     int
	}{
		{"no policy allows everything", nil, authz.Request{Caller: plain, Port: 80}, false, 0},
		{"an ALLOW policy without rules allows nothing", []*state.AuthorizationPolicy{allow()}, authz.Request{Caller: sleep, Port: 80}, true, -1},
		{"a namespace in an ALLOW rule matches an mTLS caller", []*state.AuthorizationPolicy{allow(state.AuthzRule{From: fooNS})}, authz.Request{Caller: sleep, Port: 80}, false, 0},
		{"a namespace in an ALLOW rule never matches a plaintext caller", []*state.AuthorizationPolicy{allow(state.AuthzRule{From: []state.AuthzSource{{Namespaces: []string{"legacy"}}}})}, authz.Request{Caller: plain, Port: 80}, true, -1},
		{"notPrincipals in a DENY rule match a plaintext caller", []*state.AuthorizationPolicy{deny(state.AuthzRule{From: []state.AuthzSource{{NotPrincipals: []string{"cluster.local/ns/foo/sa/sleep"}}}})}, authz.Request{Caller: plain, Port: 80}, true, 0},
		{"notPrincipals in a DENY rule spare the named principal", []*state.AuthorizationPolicy{deny(state.AuthzRule{From: []state.AuthzSource{{NotPrincipals: []string{"cluster.local/ns/foo/sa/sleep"}}}})}, authz.Request{Caller: sleep, Port: 80}, false, 0},
		{"methods in an ALLOW rule on a TCP port: the rule is skipped", []*state.AuthorizationPolicy{allow(state.AuthzRule{From: fooNS, To: get})}, authz.Request{Caller: sleep, Port: 9000, TCP: true}, true, -1},
		{"methods in an ALLOW rule on an HTTP port allow some requests", []*state.AuthorizationPolicy{allow(state.AuthzRule{From: fooNS, To: get})}, authz.Request{Caller: sleep, Port: 9080}, false, 0},
		{"methods in a DENY rule on a TCP port are dropped: everything is denied", []*state.AuthorizationPolicy{deny(state.AuthzRule{To: get})}, authz.Request{Caller: sleep, Port: 9000, TCP: true}, true, 0},
		{"methods in a DENY rule on an HTTP port deny only some requests", []*state.AuthorizationPolicy{deny(state.AuthzRule{To: get})}, authz.Request{Caller: sleep, Port: 9080}, false, 0},
		{"a dry-run DENY changes nothing", []*state.AuthorizationPolicy{{Namespace: "shop", Name: "d", Action: state.AuthzDeny, DryRun: true, Rules: []state.AuthzRule{{}}}}, authz.Request{Caller: sleep, Port: 80}, false, 0},
		{"AUDIT changes nothing", []*state.AuthorizationPolicy{{Namespace: "shop", Name: "au", Action: state.AuthzAudit, Rules: []state.AuthzRule{{}}}}, authz.Request{Caller: sleep, Port: 80}, false, 0},
		{"a port outside to.ports is not allowed", []*state.AuthorizationPolicy{allow(state.AuthzRule{To: []state.AuthzOperation{{Ports: []string{"9000"}}}})}, authz.Request{Caller: sleep, Port: 9001, TCP: true}, true, -1},
		{"a principal prefix matches", []*state.AuthorizationPolicy{allow(state.AuthzRule{From: []state.AuthzSource{{Principals: []string{"cluster.local/ns/foo/*"}}}})}, authz.Request{Caller: sleep, Port: 80}, false, 0},
		{"a namespace class does not know its principal: not cut off", []*state.AuthorizationPolicy{allow(state.AuthzRule{From: []state.AuthzSource{{Principals: []string{"cluster.local/ns/foo/sa/other"}}}})}, authz.Request{Caller: authz.Caller{Namespace: "foo", MTLS: true}, Port: 80}, false, 0},
		{"ipBlocks are not judged: an ALLOW rule with them may match", []*state.AuthorizationPolicy{allow(state.AuthzRule{From: []state.AuthzSource{{Other: []string{"ipBlocks"}}}})}, authz.Request{Caller: plain, Port: 80}, false, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := authz.Evaluate(c.policies, c.req, "cluster.local")
			if v.Denied != c.denied {
				t.Fatalf("denied = %v, want %v (%s)", v.Denied, c.denied, v.Why)
			}
			if v.Denied && v.Rule != c.rule {
				t.Errorf("rule = %d, want %d", v.Rule, c.rule)
			}
		})
	}
}

func TestApplies(t *testing.T) {
	labels := map[string]string{"app": "shop"}
	for _, c := range []struct {
		name string
		ap   state.AuthorizationPolicy
		want bool
	}{
		{"a root-namespace policy without selector applies mesh-wide", state.AuthorizationPolicy{Namespace: "istio-system"}, true},
		{"a root-namespace policy with a selector applies in every namespace", state.AuthorizationPolicy{Namespace: "istio-system", Selector: labels}, true},
		{"a namespace policy applies in its namespace", state.AuthorizationPolicy{Namespace: "apps"}, true},
		{"another namespace's policy does not", state.AuthorizationPolicy{Namespace: "other"}, false},
		{"a selector that does not match does not", state.AuthorizationPolicy{Namespace: "apps", Selector: map[string]string{"app": "web"}}, false},
		{"targetRefs attach to gateways and waypoints, not sidecars", state.AuthorizationPolicy{Namespace: "apps", TargetRefs: true}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := authz.Applies(&c.ap, "istio-system", "apps", labels); got != c.want {
				t.Errorf("Applies = %v, want %v", got, c.want)
			}
		})
	}
}
