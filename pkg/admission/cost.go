package admission

import (
	"github.com/meshguard/meshguard/pkg/rules"
	"github.com/meshguard/meshguard/pkg/state"
)

// The cost of an object is the work rules do for it, counted on its lean
// form before any rule runs: the pairs of things one rule judges against
// each other. The list caps alone let a product of two lists within their
// caps through (500 hosts × 666 routes took half a second of CPU).

// virtualServiceCost is hosts × (route entries + gateways): every host is
// judged against every route, match, destination and mirror (the path
// model), and against every gateway it is bound to.
func virtualServiceCost(vs *state.VirtualService) int {
	return max(1, len(vs.Hosts)) * (routeEntries(vs) + len(vs.Gateways))
}

// routeEntries counts the http, tcp and tls routes of vs with their
// matches, destinations and mirrors (what limits.routes caps).
func routeEntries(vs *state.VirtualService) int {
	n := len(vs.TCP) + len(vs.TLS)
	for _, r := range vs.HTTP {
		n += 1 + len(r.Route) + len(r.Mirrors) + len(r.Matches)
	}
	for _, rt := range vs.TCP {
		n += len(rt)
	}
	for _, rt := range vs.TLS {
		n += len(rt)
	}
	return n
}

// destinationRuleCost is (1 + subsets) × (1 + port-level settings): the
// rule's default and each subset are judged with the port settings of the
// whole rule (a subset inherits the top-level ones and adds its own), so the
// product bounds the (subset, port) policies rules resolve.
func destinationRuleCost(dr *state.DestinationRule) int {
	return (1 + len(dr.Subsets)) * (1 + portSettings(dr))
}

// portSettings counts the portLevelSettings of dr's traffic policy and of
// its subsets' policies.
func portSettings(dr *state.DestinationRule) int {
	n := 0
	if dr.Policy != nil {
		n += len(dr.Policy.Ports)
	}
	for _, s := range dr.Subsets {
		if s.Policy != nil {
			n += len(s.Policy.Ports)
		}
	}
	return n
}

// peerAuthenticationCost is 1 + portLevelMtls entries: each port's mode is
// judged against the workloads the policy selects.
func peerAuthenticationCost(pa *state.PeerAuthentication) int {
	return 1 + len(pa.PortModes)
}

// serviceEntryCost is hosts × ports × (1 + inline endpoints): each host's
// paths are judged per port, and each path tallies the entry's endpoints.
func serviceEntryCost(se *state.ServiceEntry) int {
	return max(1, len(se.Hosts)) * max(1, len(se.Ports)) * (1 + len(se.Endpoints))
}

// gatewayCost is 1 + the hosts of its servers: each bound VirtualService's
// hosts are judged per server port.
func gatewayCost(gw *state.Gateway) int {
	n := 1
	for _, srv := range gw.Servers {
		n += len(srv.Hosts)
	}
	return n
}

// sidecarCost is 1 + its egress hosts: each is matched against the
// Services and entries once, and the hosts it cuts are judged.
func sidecarCost(sc *state.Sidecar) int {
	n := 1
	for _, e := range sc.Egress {
		n += len(e.Hosts)
	}
	return n
}

// authorizationPolicyCost is 1 + its sources, operations and conditions:
// each caller class of each port is matched against every one of them.
func authorizationPolicyCost(ap *state.AuthorizationPolicy) int {
	n := 1
	for _, r := range ap.Rules {
		n += 1 + len(r.From) + len(r.To) + len(r.When)
	}
	return n
}

// Cost is the cost of the object a change writes (0 for a delete or a kind
// meshguard does not review). The object it replaces was admitted before.
func Cost(c *rules.Change) int {
	switch {
	case c.NewVS != nil:
		return virtualServiceCost(c.NewVS)
	case c.NewDR != nil:
		return destinationRuleCost(c.NewDR)
	case c.NewPA != nil:
		return peerAuthenticationCost(c.NewPA)
	case c.New != nil && c.New.ServiceEntry != nil:
		return serviceEntryCost(c.New.ServiceEntry)
	case c.New != nil && c.New.Gateway != nil:
		return gatewayCost(c.New.Gateway)
	case c.New != nil && c.New.KubeGateway != nil:
		// A listener is a server.
		return gatewayCost(c.New.KubeGateway)
	case c.New != nil && c.New.Route != nil:
		// An HTTPRoute in the one route form costs what a VirtualService does.
		return virtualServiceCost(c.New.Route)
	case c.New != nil && c.New.Sidecar != nil:
		return sidecarCost(c.New.Sidecar)
	case c.New != nil && c.New.AuthorizationPolicy != nil:
		return authorizationPolicyCost(c.New.AuthorizationPolicy)
	}
	return 0
}
