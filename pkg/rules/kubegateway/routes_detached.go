// Package kubegateway holds the rules that judge Gateway API Gateway writes
// (MG505).
package kubegateway

import (
	"fmt"
	"strings"

	"github.com/meshguard/meshguard/pkg/mesh"
	"github.com/meshguard/meshguard/pkg/paths"
	"github.com/meshguard/meshguard/pkg/rules"
	"github.com/meshguard/meshguard/pkg/state"
)

// All returns the Gateway API Gateway rules.
func All() []rules.Rule { return []rules.Rule{routesDetached{}} }

// routesDetached (MG505) explains the paths a Gateway API Gateway write
// takes from the routes attached to it: deleting it, removing a listener,
// moving it to another port or protocol, a hostname the routes' hostnames
// no longer intersect, or allowedRoutes that no longer admit their
// namespace or kind. istiod attaches a route to a listener only as
// referenceAllowed decides (pilot/pkg/config/kube/gateway/conversion.go:
// sectionName and port, hostname intersection, allowedRoutes namespaces
// and kinds); requests for a detached route's hostnames get 404, or the
// connection is refused when no listener is left on the port. The cause is
// MG503's (a route not attached), judged from the Gateway's side: there it
// breaks requests that worked, so it denies. The routes' callers are
// outside the state; the attached route is the evidence that they exist.
type routesDetached struct{}

func (routesDetached) ID() string { return "MG505" }

func (routesDetached) Kind() string { return rules.KindKubeGateway }

// Reads: the Gateway as it stands after the write, and the namespaces'
// labels its allowedRoutes selectors match.
func (routesDetached) Reads() []state.Kind {
	return []state.Kind{state.KubeGatewayKind, state.NamespaceKind}
}

func (routesDetached) WriteKinds() []string { return []string{rules.KindKubeGateway} }

func (r routesDetached) Check(in *rules.Input) []rules.Finding {
	deleted := in.Change.New == nil
	key := in.Change.Ref.Namespace + "/" + in.Change.Ref.Name
	var fs []rules.PathFailure
	for _, f := range in.Failures(paths.NoGateway) {
		// A port whose listeners never took a route attached on another
		// one is no detachment: only what the write broke counts there. A
		// route attached nowhere, before or after, stays a pre-existing
		// finding.
		if f.Path.Client.Gateway == key && (f.Broken || !attached(in.Prior, key, f) && !attached(in.State, key, f)) {
			fs = append(fs, f)
		}
	}
	var out []rules.Finding
	for _, g := range rules.GroupFailures(fs, func(f rules.PathFailure) string {
		return field(in, key, f, deleted) + "|" + f.Path.Host + "|" + fmt.Sprint(f.Path.Port)
	}) {
		why := g.Failures[0].Failure.Detail
		if deleted {
			why = "without this Gateway"
		}
		out = append(out, g.GatewayFinding(r.ID(), why, "move those routes to another listener or Gateway first, or keep a listener that accepts them"))
	}
	return out
}

// attached reports whether the route of a failure is attached to some
// listener of the Gateway key in s.
func attached(s state.Snapshot, key string, f rules.PathFailure) bool {
	ns, name, _ := strings.Cut(key, "/")
	gw, vs := s.KubeGateway(ns, name), f.Failure.VS
	return gw != nil && vs != nil && mesh.GatewayServesHost(mesh.RouteServers(s, gw, key, vs, 0), f.Path.Host, vs.Namespace)
}

// field is the part of the Gateway a failure comes from: the whole of it
// for a delete, else the listener that took the route on the path's port
// before the write (spec.listeners[i]), or the listeners.
func field(in *rules.Input, key string, f rules.PathFailure, deleted bool) string {
	if deleted {
		return "spec"
	}
	vs := f.Failure.VS
	if in.Change.Old == nil || in.Change.Old.KubeGateway == nil || vs == nil {
		return "spec.listeners"
	}
	took := mesh.RouteServers(in.Prior, in.Change.Old.KubeGateway, key, vs, f.Path.Port)
	for _, srv := range took.Servers {
		one := *took
		one.Servers = []state.GatewayServer{srv}
		if srv.Listener != nil && mesh.GatewayServesHost(&one, f.Path.Host, vs.Namespace) {
			return fmt.Sprintf("spec.listeners[%d]", srv.Listener.Index)
		}
	}
	return "spec.listeners"
}
