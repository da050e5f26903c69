package engine

import (
	"strings"

	"github.com/meshguard/meshguard/pkg/paths"
	"github.com/meshguard/meshguard/pkg/rules"
	"github.com/meshguard/meshguard/pkg/state"
)

// writtenKind is everything the engine needs to know about writes of one
// reviewed kind, in one definition (as istiod maps a changed config to the
// services it affects, its ConfigsUpdated): how the write changes the state,
// and which requested hosts' paths it can change. The engine holds no
// per-kind switch; a new reviewed kind is one more entry here, a decoder and
// the rules that explain it.
type writtenKind struct {
	// after is the state once the write is applied: the new object (none:
	// deleted) replaces the one the change names, in an overlay over before
	// whose cost is bounded by the write's namespace or name, never a copy
	// of the state.
	after func(before state.Snapshot, c *rules.Change) state.Snapshot
	// scope puts in sc the targets whose paths the write can change, read in
	// s. It is called with the state before the write and again after it
	// (what routes to a host can differ), unless sameBothSides says one call
	// finds the same targets.
	scope         func(m paths.Model, sc *paths.Scope, s state.Snapshot, c *rules.Change)
	sameBothSides bool
}

var writtenKinds = map[string]writtenKind{
	rules.KindPeerAuthentication: {
		after: func(s state.Snapshot, c *rules.Change) state.Snapshot {
			return state.WithPeerAuthentication(s, c.Ref.Namespace, c.Ref.Name, c.NewPA)
		},
		// A policy write changes no rule, Service or pod: the hosts it
		// reaches are the same in both states, so one scan finds them.
		scope: func(m paths.Model, sc *paths.Scope, s state.Snapshot, c *rules.Change) {
			m.AddPeerAuthentication(sc, s, c.OldPA, c.NewPA)
		},
		sameBothSides: true,
	},
	rules.KindDestinationRule: {
		after: func(s state.Snapshot, c *rules.Change) state.Snapshot {
			return state.WithDestinationRule(s, c.Ref.Namespace, c.Ref.Name, c.NewDR)
		},
		scope: func(m paths.Model, sc *paths.Scope, s state.Snapshot, c *rules.Change) {
			m.AddDestinationRule(sc, s, c.OldDR)
			m.AddDestinationRule(sc, s, c.NewDR)
		},
	},
	rules.KindVirtualService: {
		after: func(s state.Snapshot, c *rules.Change) state.Snapshot {
			return state.WithVirtualService(s, c.Ref.Namespace, c.Ref.Name, c.NewVS)
		},
		// The hosts a VirtualService binds and routes to are its own: the
		// state on either side adds nothing.
		scope: func(m paths.Model, sc *paths.Scope, _ state.Snapshot, c *rules.Change) {
			for _, vs := range []*state.VirtualService{c.OldVS, c.NewVS} {
				m.AddVirtualService(sc, vs)
				m.AddRoutedHosts(sc, vs)
			}
		},
		sameBothSides: true,
	},
	rules.KindGateway: {
		after: func(s state.Snapshot, c *rules.Change) state.Snapshot {
			return state.WithGateway(s, c.Ref.Namespace, c.Ref.Name, gateway(c.New))
		},
		// The hosts of every VirtualService bound to the Gateway, on that
		// gateway (a Gateway write changes no binding).
		scope: func(m paths.Model, sc *paths.Scope, s state.Snapshot, c *rules.Change) {
			for _, vs := range s.VirtualServicesOnGateway(c.Ref.Namespace + "/" + c.Ref.Name) {
				m.AddGatewayRoutes(sc, vs, c.Ref.Namespace+"/"+c.Ref.Name)
			}
		},
		sameBothSides: true,
	},
	rules.KindAuthorizationPolicy: {
		after: func(s state.Snapshot, c *rules.Change) state.Snapshot {
			return state.WithAuthorizationPolicy(s, c.Ref.Namespace, c.Ref.Name, authorizationPolicy(c.New))
		},
		// No path rule explains policy denials yet: the MG7xx rules judge
		// the callers of the selected workloads themselves (pkg/authz).
		scope:         func(paths.Model, *paths.Scope, state.Snapshot, *rules.Change) {},
		sameBothSides: true,
	},
	rules.KindServiceEntry: {
		after: func(s state.Snapshot, c *rules.Change) state.Snapshot {
			return state.WithServiceEntry(s, c.Ref.Namespace, c.Ref.Name, serviceEntry(c.New))
		},
		// Each host the entry registers, before and after: its sidecars'
		// own paths and every route that sends there, in both states (a
		// route may bind the host on one side only).
		scope: func(m paths.Model, sc *paths.Scope, s state.Snapshot, c *rules.Change) {
			for _, se := range []*state.ServiceEntry{serviceEntry(c.Old), serviceEntry(c.New)} {
				if se == nil {
					continue
				}
				for _, h := range se.Hosts {
					if !strings.Contains(h, "*") {
						m.AddDestination(sc, s, h)
					}
				}
			}
		},
	},
	// A Gateway API Gateway gives the routes bound to it their listeners:
	// the hosts of every route (HTTPRoute, or VirtualService binding it by
	// name) bound to it, on that gateway, as for an Istio Gateway.
	rules.KindKubeGateway: {
		after: func(s state.Snapshot, c *rules.Change) state.Snapshot {
			return state.WithKubeGateway(s, c.Ref.Namespace, c.Ref.Name, kubeGateway(c.New))
		},
		scope: func(m paths.Model, sc *paths.Scope, s state.Snapshot, c *rules.Change) {
			key := c.Ref.Namespace + "/" + c.Ref.Name
			for _, vs := range s.VirtualServicesOnGateway(key) {
				m.AddGatewayRoutes(sc, vs, key)
			}
		},
		sameBothSides: true,
	},
	rules.KindHTTPRoute: gatewayRouteWrite,
	rules.KindGRPCRoute: gatewayRouteWrite,
	// A ReferenceGrant decides whether routes of other namespaces resolve
	// the Services it names (all of its namespace's without a name): the
	// hosts those Services' routes serve, found by destination.
	rules.KindReferenceGrant: {
		after: func(s state.Snapshot, c *rules.Change) state.Snapshot {
			return state.WithReferenceGrant(s, c.Ref.Namespace, c.Ref.Name, referenceGrant(c.New))
		},
		scope: func(m paths.Model, sc *paths.Scope, s state.Snapshot, c *rules.Change) {
			for _, g := range []*state.ReferenceGrant{referenceGrant(c.Old), referenceGrant(c.New)} {
				if g == nil {
					continue
				}
				for _, name := range g.Services(s) {
					m.AddDestination(sc, s, m.Routing.Hosts.FQDN(name, g.Namespace))
				}
			}
		},
	},
	rules.KindSidecar: {
		after: func(s state.Snapshot, c *rules.Change) state.Snapshot {
			return state.WithSidecar(s, c.Ref.Namespace, c.Ref.Name, sidecar(c.New))
		},
		// The hosts some proxy the Sidecar governs imports differently
		// after the write (see paths.Model.AddSidecar).
		scope: func(m paths.Model, sc *paths.Scope, s state.Snapshot, c *rules.Change) {
			m.AddSidecar(sc, s, c.Ref.Namespace, c.Ref.Name, sidecar(c.Old), sidecar(c.New))
		},
		sameBothSides: true,
	},
}

// referenceGrant is the ReferenceGrant of one side of a write (nil: none).
func referenceGrant(o *state.Object) *state.ReferenceGrant {
	if o == nil {
		return nil
	}
	return o.ReferenceGrant
}

// gatewayRouteWrite: a Gateway API route (HTTPRoute, GRPCRoute) in the one
// route form is judged as a VirtualService is: the hosts it binds on its
// parents, and the hosts it sends to.
var gatewayRouteWrite = writtenKind{
	after: func(s state.Snapshot, c *rules.Change) state.Snapshot {
		return state.WithGatewayRoute(s, c.Ref.Kind, c.Ref.Namespace, c.Ref.Name, httpRoute(c.New))
	},
	scope: func(m paths.Model, sc *paths.Scope, _ state.Snapshot, c *rules.Change) {
		for _, vs := range []*state.VirtualService{httpRoute(c.Old), httpRoute(c.New)} {
			m.AddVirtualService(sc, vs)
			m.AddRoutedHosts(sc, vs)
		}
	},
	sameBothSides: true,
}

// httpRoute is the Gateway API route of one side of a write, in the one
// route form (nil: none).
func httpRoute(o *state.Object) *state.VirtualService {
	if o == nil {
		return nil
	}
	return o.Route
}

// sidecar is the Sidecar of one side of a write (nil: none).
func sidecar(o *state.Object) *state.Sidecar {
	if o == nil {
		return nil
	}
	return o.Sidecar
}

// gateway is the Istio Gateway of one side of a write (nil: none).
func gateway(o *state.Object) *state.Gateway {
	if o == nil {
		return nil
	}
	return o.Gateway
}

// kubeGateway is the Gateway API Gateway of one side of a write (nil: none).
func kubeGateway(o *state.Object) *state.Gateway {
	if o == nil {
		return nil
	}
	return o.KubeGateway
}

// serviceEntry is the ServiceEntry of one side of a write (nil: none).
func serviceEntry(o *state.Object) *state.ServiceEntry {
	if o == nil {
		return nil
	}
	return o.ServiceEntry
}

// authorizationPolicy is the AuthorizationPolicy of one side of a write (nil: none).
func authorizationPolicy(o *state.Object) *state.AuthorizationPolicy {
	if o == nil {
		return nil
	}
	return o.AuthorizationPolicy
}
