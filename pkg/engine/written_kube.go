package engine

import (
	"github.com/meshguard/meshguard/pkg/paths"
	"github.com/meshguard/meshguard/pkg/rules"
	"github.com/meshguard/meshguard/pkg/state"
)

// The Kubernetes kinds reviewed on write (issue 25), beside the Istio ones
// of writtenKinds.
func init() {
	// A Service is a host: its own default route for sidecars, and every
	// route (VirtualService or HTTPRoute, on sidecars and on the gateways
	// they bind) that sends to it. The write changes no route, so one scan
	// finds them; the ports of both sides are judged (paths.Model.Ports).
	writtenKinds[rules.KindService] = writtenKind{
		after: func(s state.Snapshot, c *rules.Change) state.Snapshot {
			return state.WithService(s, c.Ref.Namespace, c.Ref.Name, service(c.New))
		},
		scope: func(m paths.Model, sc *paths.Scope, s state.Snapshot, c *rules.Change) {
			m.AddDestination(sc, s, m.Routing.Hosts.FQDN(c.Ref.Name, c.Ref.Namespace))
		},
		sameBothSides: true,
	}
	// A Namespace's labels change no path now: sidecars are injected at a
	// pod's creation, and the MG8xx rules judge what the next pods (or,
	// for ambient, istio-cni at once) make of the change.
	writtenKinds[rules.KindNamespace] = writtenKind{
		after: func(s state.Snapshot, c *rules.Change) state.Snapshot {
			return state.WithNamespace(s, c.Ref.Name, namespace(c.New))
		},
		scope:         func(paths.Model, *paths.Scope, state.Snapshot, *rules.Change) {},
		sameBothSides: true,
	}
}

// service is the Service of one side of a write (nil: none).
func service(o *state.Object) *state.Service {
	if o == nil {
		return nil
	}
	return o.Service
}

// namespace is the Namespace of one side of a write (nil: none).
func namespace(o *state.Object) *state.Namespace {
	if o == nil {
		return nil
	}
	return o.NS
}
