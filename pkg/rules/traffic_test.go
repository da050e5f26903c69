package rules_test

import (
	"testing"

	"github.com/meshguard/meshguard/pkg/paths"
	"github.com/meshguard/meshguard/pkg/rules"
)

func group(clients ...paths.Client) rules.Group {
	var g rules.Group
	for _, c := range clients {
		g.Failures = append(g.Failures, rules.PathFailure{Path: &paths.Path{Client: c}})
	}
	return g
}

func TestClientTextNamesSidecarsByNamespaceThenGateways(t *testing.T) {
	sidecars := func(ns string) paths.Client { return paths.Client{Namespace: ns} }
	other := paths.Client{Namespace: paths.Other}
	gateway := paths.Client{Gateway: "istio-system/public", Namespace: "istio-system"}
	for _, c := range []struct {
		g    rules.Group
		want string
	}{
		{group(sidecars("shop")), "sidecars in shop"},
		{group(sidecars("web"), sidecars("shop"), sidecars("web")), "sidecars in shop, web"},
		{group(other), "sidecars in every namespace without a route or rule of its own for the host"},
		{group(other, sidecars("shop")), "sidecars in shop and in every other namespace without a route or rule of its own for the host"},
		{group(gateway), "gateway istio-system/public (istio-system)"},
		{group(gateway, sidecars("shop")), "sidecars in shop and gateway istio-system/public (istio-system)"},
		{group(sidecars("a"), sidecars("b"), sidecars("c"), sidecars("d"), sidecars("e")), "sidecars in a, b, c and 2 more"},
	} {
		if got := c.g.ClientText(); got != c.want {
			t.Errorf("ClientText() = %q, want %q", got, c.want)
		}
	}
}
