package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

const (
	clusterState = "../../pkg/rules/peerauthentication/testdata/cluster.yaml"
	routingState = "../../pkg/rules/testdata/cluster.yaml"
	fixtures     = "../../test/fixtures/check/"
)

func runCheckArgs(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = runCheck(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestCheckExitCodes(t *testing.T) {
	cases := []struct {
		name   string
		args   []string
		code   int
		stdout string // substring
		stderr string // substring
	}{
		{name: "mesh-wide STRICT while pods outside the mesh may call in is denied",
			args: []string{"-f", fixtures + "mesh-strict.yaml", "--state", clusterState}, code: 1,
			stdout: "deny PeerAuthentication istio-system/default (CREATE): [MG101] spec.mtls.mode: mesh-wide STRICT would reject plaintext from 2 pods outside the mesh in 2 namespaces (batch, legacy) that may call meshed workloads: batch/cleanup-1, legacy/reporting-0 (StatefulSet reporting)"},
		{name: "the safe path is allowed",
			args: []string{"-f", fixtures + "safe-path.yaml", "--state", clusterState}, code: 0},
		{name: "objects apply in order, each against the state the previous one left",
			args: []string{"-f", fixtures + "subset-then-route.yaml", "--state", routingState}, code: 0},
		{name: "a PERMISSIVE override does not cover its namespace's own plaintext calls",
			args: []string{"-f", fixtures + "permissive-then-strict.yaml", "--state", clusterState}, code: 1,
			stdout: "deny PeerAuthentication istio-system/default (CREATE): [MG101]"},
		{name: "other kinds in -f count as state first",
			args: []string{"-f", fixtures + "with-sidecar-pod.yaml", "--state", clusterState}, code: 0},
		{name: "a rule turned off in the config file does not deny",
			args: []string{"-f", fixtures + "mesh-strict.yaml", "--state", clusterState, "--config", fixtures + "../config-mg101-warn.yaml"}, code: 0,
			stdout: "warn PeerAuthentication istio-system/default (CREATE): [MG101]"},
		{name: "another root namespace makes the policy namespace-wide",
			args: []string{"-f", fixtures + "mesh-strict.yaml", "--state", clusterState, "--root-namespace", "mesh-root"}, code: 0},
		{name: "malformed YAML is bad input naming file and document",
			args: []string{"-f", fixtures + "malformed.yaml", "--state", clusterState}, code: 2,
			stderr: "malformed.yaml: document 1: YAML does not parse"},
		{name: "an unreadable file is bad input",
			args: []string{"-f", fixtures + "nope.yaml", "--state", clusterState}, code: 2, stderr: "nope.yaml"},
		{name: "no -f is bad usage", args: []string{"--state", clusterState}, code: 2, stderr: "-f"},
		{name: "an unknown output format is bad usage",
			args: []string{"-f", fixtures + "safe-path.yaml", "--state", clusterState, "-o", "yaml"}, code: 2, stderr: "-o"},
		{name: "deleting what the state does not hold is bad input",
			args: []string{"-f", fixtures + "mesh-strict.yaml", "--state", clusterState, "--delete"}, code: 2, stderr: "does not hold"},
		{name: "a Service, Pod and Gateway in the same commit count before the route is judged",
			args: []string{"-f", fixtures + "route-with-service.yaml", "--state", routingState}, code: 0},
		{name: "a ServiceEntry in the same commit is judged before the route that uses it",
			args: []string{"-f", fixtures + "route-before-entry.yaml", "--state", routingState}, code: 0, stdout: "allowed"},
		{name: "deleting a route and its ServiceEntry together deletes the route first",
			args: []string{"-f", fixtures + "route-before-entry.yaml", "--state", routingState, "--state", fixtures + "route-before-entry.yaml", "--delete"}, code: 0, stdout: "allowed"},
		{name: "deleting the ServiceEntry alone under its route is denied",
			args: []string{"-f", fixtures + "partner-entry.yaml", "--state", routingState, "--state", fixtures + "route-before-entry.yaml", "--delete"}, code: 1,
			stdout: "[MG601] spec: without this entry partner.example.org is registered by nothing"},
		{name: "a ReferenceGrant in the same commit is judged before the HTTPRoute that needs it",
			args: []string{"-f", fixtures + "gamma-route.yaml", "--state", fixtures + "gamma-state.yaml"}, code: 0, stdout: "allowed"},
		{name: "deleting an HTTPRoute and its ReferenceGrant together deletes the route first",
			args: []string{"-f", fixtures + "gamma-route.yaml", "--state", fixtures + "gamma-state.yaml", "--state", fixtures + "gamma-route.yaml", "--delete"}, code: 0, stdout: "allowed"},
		{name: "deleting the ReferenceGrant alone under its route is denied",
			args: []string{"-f", fixtures + "gamma-grant.yaml", "--state", fixtures + "gamma-state.yaml", "--state", fixtures + "gamma-route.yaml", "--delete"}, code: 1,
			stdout: "[MG504] spec: without this ReferenceGrant HTTPRoute shop/ratings no longer resolves its backendRef to Service billing/billing"},
		{name: "deleting a VirtualService leaves its namespace's sidecars their own class, not new callers",
			args: []string{"-f", fixtures + "own-class-route.yaml", "--state", fixtures + "own-class-state.yaml", "--delete"}, code: 0, stdout: "allowed"},
		{name: "a GRPCRoute to a Service that does not exist is denied",
			args: []string{"-f", fixtures + "grpc-route.yaml", "--state", fixtures + "gamma-state.yaml"}, code: 1,
			stdout: "[MG501] spec.rules[0].backendRefs[1]: no Service billing-v2.billing.svc.cluster.local exists, so 10% of the requests GRPCRoute billing/billing-grpc takes"},
		{name: "deleting that GRPCRoute hands its callers back to the Service",
			args: []string{"-f", fixtures + "grpc-route.yaml", "--state", fixtures + "gamma-state.yaml", "--state", fixtures + "grpc-route.yaml", "--delete"}, code: 0, stdout: "allowed"},
		{name: "the HTTPRoute without its grant is denied",
			args: []string{"-f", fixtures + "gamma-route-alone.yaml", "--state", fixtures + "gamma-state.yaml"}, code: 1,
			stdout: "[MG501] spec.rules[0].backendRefs[1]: no ReferenceGrant in billing lets HTTPRoutes of shop refer to Service billing, so 10% of the requests"},
		{name: "deleting a Service a route sends to is denied",
			args: []string{"-f", fixtures + "reviews-service.yaml", "--state", routingState, "--state", fixtures + "frontend-route.yaml", "--delete"}, code: 1,
			stdout: "[MG303] spec: without Service shop/reviews its host reviews.shop.svc.cluster.local resolves to nothing"},
		{name: "deleting the route and its Service together deletes the route first",
			args: []string{"-f", fixtures + "reviews-service.yaml", "-f", fixtures + "frontend-route.yaml", "--state", routingState, "--state", fixtures + "frontend-route.yaml", "--delete"}, code: 0, stdout: "allowed"},
		{name: "deleting a Service nothing routes to is allowed",
			args: []string{"-f", fixtures + "reviews-service.yaml", "--state", routingState, "--delete"}, code: 0, stdout: "allowed"},
		{name: "a Gateway API Gateway in the same commit is judged before the HTTPRoute attached to it",
			args: []string{"-f", fixtures + "ingress-gateway.yaml", "--state", fixtures + "gamma-state.yaml"}, code: 0, stdout: "allowed"},
		{name: "deleting a Gateway API Gateway and its route together deletes the route first",
			args: []string{"-f", fixtures + "ingress-gateway.yaml", "--state", fixtures + "gamma-state.yaml", "--state", fixtures + "ingress-gateway.yaml", "--delete"}, code: 0, stdout: "allowed"},
		{name: "deleting the Gateway API Gateway alone under its route is denied",
			args: []string{"-f", fixtures + "ingress-gateway-only.yaml", "--state", fixtures + "gamma-state.yaml", "--state", fixtures + "ingress-gateway.yaml", "--delete"}, code: 1,
			stdout: "[MG505] spec: without this Gateway, HTTPRoute shop/ratings-web bound to it gets no requests for ratings.example.com on port 80"},
		{name: "the same route without them is denied for the missing Service and Gateway",
			args: []string{"-f", fixtures + "route-alone.yaml", "--state", routingState}, code: 1,
			stdout: "[MG305] spec.gateways[0]: Gateway shop/details-gw does not exist"},
		{name: "a Sidecar without a mode of its own is not judged when the mesh config's mode is not given",
			args: []string{"-f", fixtures + "sidecar-docs-default.yaml", "--state", "../../test/conformance/sidecar-scoping/state.yaml"}, code: 0, stdout: "allowed"},
		{name: "the same Sidecar under a mesh configured REGISTRY_ONLY is denied for the host it cuts",
			args: []string{"-f", fixtures + "sidecar-docs-default.yaml", "--state", "../../test/conformance/sidecar-scoping/state.yaml", "--config", fixtures + "mesh-registry-only.yaml"}, code: 1,
			stdout: "[MG603] spec.egress: Sidecar prod-us1/default imports no catalog.prod-apis.svc.cluster.local on port 9080 for sidecars in prod-us1 and the mesh config's outboundTrafficPolicy (configuration outboundTrafficPolicy) is REGISTRY_ONLY"},
		{name: "deleting the legacy override under a mesh STRICT is denied",
			args: []string{"-f", fixtures + "../check-delete/override.yaml", "--state", clusterState, "--state", fixtures + "../check-delete/mesh-strict-state.yaml", "--delete"}, code: 1,
			stdout: "deny PeerAuthentication legacy/migration (DELETE): [MG101]"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, stdout, stderr := runCheckArgs(t, c.args...)
			if code != c.code {
				t.Errorf("exit code = %d, want %d\nstdout: %s\nstderr: %s", code, c.code, stdout, stderr)
			}
			if !strings.Contains(stdout, c.stdout) {
				t.Errorf("stdout lacks %q:\n%s", c.stdout, stdout)
			}
			if !strings.Contains(stderr, c.stderr) {
				t.Errorf("stderr lacks %q:\n%s", c.stderr, stderr)
			}
			if code == 2 && stdout != "" {
				t.Errorf("exit 2 must print nothing on stdout, got %q", stdout)
			}
		})
	}
}

func TestCheckJSON(t *testing.T) {
	code, stdout, _ := runCheckArgs(t, "-f", fixtures+"mesh-strict.yaml", "--state", clusterState, "-o", "json")
	if code != 1 {
		t.Fatalf("exit code = %d, want 1", code)
	}
	var report struct {
		Findings []map[string]any `json:"findings"`
		Denied   *bool            `json:"denied"`
	}
	dec := json.NewDecoder(strings.NewReader(stdout))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&report); err != nil {
		t.Fatalf("not the contract's JSON: %v\n%s", err, stdout)
	}
	if report.Denied == nil || !*report.Denied {
		t.Errorf("denied = %v, want true", report.Denied)
	}
	want := map[string]any{"rule": "MG101", "action": "deny", "operation": "CREATE", "kind": "PeerAuthentication",
		"namespace": "istio-system", "name": "default", "field": "spec.mtls.mode", "preexisting": false}
	found := false
	for _, f := range report.Findings {
		if f["rule"] != "MG101" {
			continue
		}
		found = true
		for k, v := range want {
			if f[k] != v {
				t.Errorf("%s = %v, want %v", k, f[k], v)
			}
		}
		// The contract's keys plus message, and the additive file and line.
		if len(f) != len(want)+3 || f["message"] == "" || f["file"] != fixtures+"mesh-strict.yaml" || f["line"] != float64(3) {
			t.Errorf("finding has keys %v; want exactly the contract's, with file and line", f)
		}
	}
	if !found {
		t.Errorf("no MG101 finding in %s", stdout)
	}

	code, stdout, _ = runCheckArgs(t, "-f", fixtures+"safe-path.yaml", "--state", clusterState, "-o", "json")
	if code != 0 || !strings.HasPrefix(stdout, `{"findings":[`) || !strings.Contains(stdout, `"denied":false`) {
		t.Errorf("allowed report = %d %s", code, stdout)
	}
}

func TestCheckPreexistingIsReportedAsWarning(t *testing.T) {
	// The mesh is already STRICT over legacy's unmeshed pod; re-applying it is an UPDATE.
	code, stdout, _ := runCheckArgs(t, "-f", fixtures+"mesh-strict.yaml",
		"--state", clusterState, "--state", fixtures+"mesh-strict.yaml", "-o", "json")
	if code != 0 {
		t.Fatalf("an edit that keeps a pre-existing breakage must pass, exit %d: %s", code, stdout)
	}
	if !strings.Contains(stdout, `"rule":"MG101","action":"warn","operation":"UPDATE"`) || !strings.Contains(stdout, `"preexisting":true`) {
		t.Errorf("want MG101 as a pre-existing warning: %s", stdout)
	}
}
