package authz_test

import (
	"slices"
	"strings"
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
			v := authz.Evaluate(c.policies, c.req, authz.TrustDomain{Name: "cluster.local"})
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
	gwLabels := map[string]string{"app": "shop", "gateway.networking.k8s.io/gateway-name": "public"}
	gw := func(name string) state.PolicyTarget {
		return state.PolicyTarget{Group: state.GroupGatewayAPI, Kind: "Gateway", Name: name}
	}
	svc := state.PolicyTarget{Kind: "Service", Name: "public"}
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
		{"targetRefs attach to gateways and waypoints, not sidecars", state.AuthorizationPolicy{Namespace: "apps", TargetRefs: []state.PolicyTarget{gw("shop")}}, false},
		{"a gateway's pods take a policy whose targetRef names their Gateway", state.AuthorizationPolicy{Namespace: "apps", TargetRefs: []state.PolicyTarget{svc, gw("public")}}, true},
		{"a gateway's pods take a selector policy too (ENABLE_SELECTOR_BASED_K8S_GATEWAY_POLICY)", state.AuthorizationPolicy{Namespace: "apps", Selector: map[string]string{"app": "shop"}}, true},
		{"not one naming another Gateway", state.AuthorizationPolicy{Namespace: "apps", TargetRefs: []state.PolicyTarget{gw("private")}}, false},
		{"nor an Istio Gateway of that name", state.AuthorizationPolicy{Namespace: "apps", TargetRefs: []state.PolicyTarget{{Group: "networking.istio.io", Kind: "Gateway", Name: "public"}}}, false},
		{"nor the Gateway from another namespace's policy", state.AuthorizationPolicy{Namespace: "edge", TargetRefs: []state.PolicyTarget{{Group: state.GroupGatewayAPI, Kind: "Gateway", Name: "public", Namespace: "apps"}}}, false},
		{"nor a root-namespace targetRef", state.AuthorizationPolicy{Namespace: "istio-system", TargetRefs: []state.PolicyTarget{gw("public")}}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			l := labels
			if len(c.ap.TargetRefs) > 0 || strings.Contains(c.name, "gateway") {
				l = gwLabels
			}
			if got := authz.Applies(&c.ap, "istio-system", "apps", l); got != c.want {
				t.Errorf("Applies = %v, want %v", got, c.want)
			}
		})
	}
}

// Namespaces of one run of NamespaceClasses get the same verdict for an
// mTLS class without service account, whatever patterns the policies use;
// the cut namespaces alone stand apart.
func TestNamespaceClassesDecideAlike(t *testing.T) {
	sorted := []string{"alpha", "alpha-dev", "alpha-prod", "beta", "beta-prod", "gamma", "shop", "zeta-dev"}
	cases := []struct {
		name  string
		rules []state.AuthzRule
		extra []string
	}{
		{"an exact namespace", []state.AuthzRule{{From: []state.AuthzSource{{Namespaces: []string{"beta"}}}}}, nil},
		{"a prefix", []state.AuthzRule{{From: []state.AuthzSource{{Namespaces: []string{"alpha*"}}}}}, nil},
		{"a suffix and a negation", []state.AuthzRule{{From: []state.AuthzSource{{Namespaces: []string{"*-prod"}, NotNamespaces: []string{"beta-prod"}}}}}, nil},
		{"a condition, a wildcard and principals", []state.AuthzRule{
			{When: []state.AuthzCondition{{Key: "source.namespace", NotValues: []string{"gamma", "zeta*"}}}},
			{From: []state.AuthzSource{{Namespaces: []string{"*"}, Principals: []string{"cluster.local/ns/shop/sa/*"}}}}}, []string{"shop"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, action := range []state.AuthzAction{state.AuthzAllow, state.AuthzDeny} {
				policies := []*state.AuthorizationPolicy{{Namespace: "shop", Name: "p", Action: action, Rules: tc.rules}}
				bounds := authz.NamespaceClasses(sorted, authz.NamespacePatterns(policies), tc.extra)
				if bounds[0] != 0 || bounds[len(bounds)-1] != len(sorted) {
					t.Fatalf("bounds %v do not cover the list", bounds)
				}
				for i := 0; i+1 < len(bounds); i++ {
					verdict := func(ns string) bool {
						return authz.Evaluate(policies, authz.Request{Caller: authz.Caller{Namespace: ns, MTLS: true}, Port: 80}, authz.TrustDomain{Name: "cluster.local"}).Denied
					}
					for _, ns := range sorted[bounds[i]+1 : bounds[i+1]] {
						if verdict(ns) != verdict(sorted[bounds[i]]) {
							t.Errorf("%s: %s and %s share a run (bounds %v) but not a verdict", action, sorted[bounds[i]], ns, bounds)
						}
					}
				}
				for _, x := range tc.extra {
					i := slices.Index(sorted, x)
					if !slices.Contains(bounds, i) || !slices.Contains(bounds, i+1) {
						t.Errorf("%s is not cut out alone: %v", x, bounds)
					}
				}
			}
		})
	}
}

// The trust-domain migration task (istio.io tasks/security/authorization/
// authz-td-migration): a policy naming old-td principals keeps matching
// once the mesh moves to new-td with old-td as an alias, and stops without
// the alias; cluster.local always means the local trust domain.
func TestTrustDomainAliases(t *testing.T) {
	sleep := authz.Caller{Namespace: "foo", ServiceAccount: "sleep", MTLS: true}
	allow := func(principal string) []*state.AuthorizationPolicy {
		return []*state.AuthorizationPolicy{{Namespace: "foo", Name: "service-httpbin.default.svc.cluster.local", Action: state.AuthzAllow,
			Rules: []state.AuthzRule{{From: []state.AuthzSource{{Principals: []string{principal}}}}}}}
	}
	cases := []struct {
		name      string
		principal string
		td        authz.TrustDomain
		denied    bool
	}{
		{"old-td principal, mesh on new-td with the alias", "old-td/ns/foo/sa/sleep", authz.TrustDomain{Name: "new-td", Aliases: []string{"old-td"}}, false},
		{"old-td principal, mesh on new-td without the alias", "old-td/ns/foo/sa/sleep", authz.TrustDomain{Name: "new-td"}, true},
		{"cluster.local principal, mesh on new-td", "cluster.local/ns/foo/sa/sleep", authz.TrustDomain{Name: "new-td"}, false},
		{"any trust domain", "*/ns/foo/sa/sleep", authz.TrustDomain{Name: "new-td"}, false},
		{"a trust-domain pattern matching the alias", "old-*/ns/foo/sa/sleep", authz.TrustDomain{Name: "new-td", Aliases: []string{"old-td"}}, false},
		{"another service account in the trust domain", "new-td/ns/foo/sa/curl", authz.TrustDomain{Name: "new-td"}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if v := authz.Evaluate(allow(c.principal), authz.Request{Caller: sleep, Port: 80}, c.td); v.Denied != c.denied {
				t.Errorf("denied = %v, want %v", v.Denied, c.denied)
			}
		})
	}
}
