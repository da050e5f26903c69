package state_test

import (
	"strings"
	"testing"

	"github.com/meshguard/meshguard/pkg/mesh"
	"github.com/meshguard/meshguard/pkg/state"
)

// The hosts whose callers configuration proves outside their namespace
// follow route and DestinationRule writes: a route of another namespace, a
// route bound to a gateway, a rule of another namespace or a wildcard one
// count; a route or rule of the host's own namespace on the mesh does not.
func TestHostsCalledAcrossFollowWrites(t *testing.T) {
	s := mesh.NewStore(mesh.DefaultClusterDomain)
	route := func(ns, name, host string, gateways ...string) *state.VirtualService {
		return &state.VirtualService{Namespace: ns, Name: name, Hosts: []string{host}, Gateways: gateways,
			HTTP: []state.HTTPRoute{{Route: []state.Destination{{Host: host}}}}}
	}
	s.SetVirtualService(route("shop", "reviews", "reviews"))
	s.SetVirtualService(route("shop", "own-mesh", "ratings", "mesh"))
	s.SetVirtualService(route("frontend", "details", "details.shop.svc.cluster.local"))
	s.SetVirtualService(route("shop", "ingress", "productpage", "istio-system/public-gw"))
	s.SetDestinationRule(&state.DestinationRule{Namespace: "shop", Name: "reviews", Host: "reviews"})
	s.SetDestinationRule(&state.DestinationRule{Namespace: "frontend", Name: "ratings", Host: "ratings.shop.svc.cluster.local"})
	s.SetDestinationRule(&state.DestinationRule{Namespace: "istio-system", Name: "all", Host: "*.local"})
	got := func() string {
		var out []string
		_ = s.View(func(v state.Snapshot) error { out = v.HostsCalledAcross(); return nil })
		return strings.Join(out, ",")
	}
	if want := "*.local,details.shop.svc.cluster.local,productpage.shop.svc.cluster.local,ratings.shop.svc.cluster.local"; got() != want {
		t.Errorf("indexed %q, want %q", got(), want)
	}
	s.DeleteVirtualService("frontend", "details")
	s.DeleteDestinationRule("frontend", "ratings")
	s.SetVirtualService(route("shop", "ingress", "productpage"))
	s.DeleteDestinationRule("istio-system", "all")
	if got() != "" {
		t.Errorf("after the writes that take them away: %q", got())
	}
	_ = s.View(func(v state.Snapshot) error {
		after := state.WithVirtualService(v, "frontend", "details", route("frontend", "details", "details.shop.svc.cluster.local"))
		if got := strings.Join(after.HostsCalledAcross(), ","); got != "details.shop.svc.cluster.local" {
			t.Errorf("an overlay adding a route of another namespace: %q", got)
		}
		return nil
	})
}
