// Package httproute holds the rules that explain the paths a Gateway API
// HTTPRoute write breaks (MG501 to MG503). The route is judged in the one
// route form (state.FromHTTPRouteSpec) by the same path diff as a
// VirtualService; these rules only name the cause in the route's fields.
package httproute

import (
	"fmt"
	"slices"
	"strings"

	"github.com/meshguard/meshguard/pkg/mesh"
	"github.com/meshguard/meshguard/pkg/paths"
	"github.com/meshguard/meshguard/pkg/rules"
	"github.com/meshguard/meshguard/pkg/state"
)

// All returns the HTTPRoute rules.
func All() []rules.Rule {
	return []rules.Rule{
		pathRule{id: "MG501", causes: []paths.Cause{paths.Unresolved, paths.NoHost, paths.NoPort}, text: unresolvedText},
		pathRule{id: "MG502", causes: []paths.Cause{paths.NoReady}, text: noReadyText},
		pathRule{id: "MG503", causes: []paths.Cause{paths.NoGateway}, text: detachedText, warnOnly: true},
	}
}

// pathRule explains the broken paths of an HTTPRoute write with one set of
// causes; text words one group of them.
type pathRule struct {
	id     string
	causes []paths.Cause
	text   func(g rules.Group, f paths.Failure, handed bool) string
	// warnOnly: the cause never breaks a path that worked (MG503: a route
	// not attached leaves the routes serving the host as they were; the
	// path model, like for a VirtualService whose Gateway refuses its host,
	// counts it against the host's path, which would deny falsely).
	warnOnly bool
}

func (r pathRule) ID() string { return r.id }

func (pathRule) Kind() string { return rules.KindHTTPRoute }

// Reads: MG503 reads the Gateways a route names.
func (r pathRule) Reads() []state.Kind {
	switch {
	case r.warnOnly:
		return []state.Kind{state.KubeGatewayKind}
	case slices.Contains(r.causes, paths.NoReady):
		// A Service write's no Ready endpoint warns where other clusters
		// may hold them (rules.RemoteEndpoints).
		return []state.Kind{state.NamespaceKind, state.PodKind, state.GatewayKind}
	}
	return nil
}

// A Service write takes backends away (MG501) or their Ready endpoints
// (MG502) from the routes that use it; a VirtualService write that stops
// taking a host hands its clients to the Gateway API routes for it.
func (r pathRule) WriteKinds() []string {
	if r.warnOnly {
		return []string{rules.KindHTTPRoute, rules.KindGRPCRoute}
	}
	return []string{rules.KindHTTPRoute, rules.KindGRPCRoute, rules.KindService, rules.KindVirtualService}
}

func (r pathRule) Check(in *rules.Input) []rules.Finding {
	if in.Change.Ref.Kind == rules.KindService {
		var out []rules.Finding
		for _, c := range r.causes {
			out = append(out, in.ServiceWrite(r.id, c, rules.ByHTTPRoutes)...)
		}
		return out
	}
	deleted := in.Change.New == nil
	handed := in.Change.Ref.Kind == rules.KindVirtualService
	var fs []rules.PathFailure
	for _, c := range r.causes {
		for _, f := range in.Failures(c) {
			if handed && handedOver(f) || !handed && ours(in.Change, f) && !(r.warnOnly && attachedElsewhere(in.State, f)) {
				fs = append(fs, f)
			}
		}
	}
	var detached []string
	if r.warnOnly && !deleted {
		detached = detachedFrom(in, in.Change.New.Route)
	}
	var out []rules.Finding
	for _, g := range rules.GroupFailures(fs, func(f rules.PathFailure) string {
		if handed && !deleted {
			return "spec.hosts|" + f.Path.Host
		}
		return field(f.Failure, deleted) + "|" + f.Path.Host
	}) {
		action, held := g.Verdict()
		f := g.Failures[0].Failure
		fld, _, _ := strings.Cut(g.Key, "|")
		msg := r.text(g, f, handed)
		// A route refused by a listener leaves the routes serving the host
		// as they were (a warning), unless the write takes this route off
		// a Gateway that served it and attaches it there for no hostname:
		// the hosts it served there get 404, as for a VirtualService whose
		// hosts no bound server accepts (MG305).
		gw := g.Failures[0].Path.Client.Gateway
		detach := r.warnOnly && !held && slices.Contains(detached, gw)
		if action == rules.Warn && !held && !detach {
			msg = "nothing reached that host before, so nothing breaks yet: " + msg
		}
		switch {
		case detach:
			action = rules.Deny
			msg = fmt.Sprintf("%s %s/%s was attached to Gateway %s and now is for none of its hostnames, so the hosts it served there (%s) get 404: %s",
				in.Change.Ref.Kind, in.Change.Ref.Namespace, in.Change.Ref.Name, gw, strings.Join(in.Change.Old.Route.Hosts, ", "), msg)
		case r.warnOnly:
			action = rules.Warn
		}
		out = append(out, rules.Finding{Rule: r.id, Action: action, Preexisting: held, Field: fld, Key: g.Key,
			Subjects: g.Clients(), Message: msg, Missing: missing(g)})
	}
	if r.warnOnly {
		out = append(out, missingParents(in)...)
	}
	return out
}

// handedOver reports whether a failure a VirtualService write broke is on a
// Gateway API route: the write stopped taking the host (deleted, a host
// dropped, exportTo narrowed), and its clients now take that route (the
// oracle's judge found such a write admitted). A failure on the written
// VirtualService itself, or on a default route, is the VirtualService
// rules' to explain.
func handedOver(f rules.PathFailure) bool {
	return f.Broken && f.Failure.VS != nil && state.GatewayRouteKind(f.Failure.VS.Kind)
}

// attachedElsewhere reports whether the route a gateway path refuses on one
// port is attached on another listener of the same Gateway: a route
// attaches to the listeners that accept it (istiod binds it to each
// generated server that does), and refusing the others is no fault.
func attachedElsewhere(s state.Snapshot, f rules.PathFailure) bool {
	ns, name, _ := strings.Cut(f.Path.Client.Gateway, "/")
	gw := s.KubeGateway(ns, name)
	vs := f.Failure.VS
	return gw != nil && vs != nil && mesh.GatewayServesHost(mesh.RouteServers(s, gw, f.Path.Client.Gateway, vs, 0), f.Path.Host, vs.Namespace)
}

// missingParents warns about Gateway parentRefs naming no Gateway API
// Gateway (no path is drawn through a gateway that does not exist).
func missingParents(in *rules.Input) []rules.Finding {
	vs := in.Change.NewVS
	if in.Change.New != nil {
		vs = in.Change.New.Route
	}
	if vs == nil {
		return nil
	}
	var out []rules.Finding
	for _, key := range vs.Gateways {
		ns, name, ok := strings.Cut(key, "/")
		if !ok || in.State.KubeGateway(ns, name) != nil {
			continue
		}
		held := in.Prior != nil && in.Prior.KubeGateway(ns, name) == nil && in.Change.Old != nil && in.Change.Old.Route != nil &&
			slices.Contains(in.Change.Old.Route.Gateways, key)
		action, moved := rules.Warn, ""
		if held {
			action = rules.Deny // reported as pre-existing: the route was not attached there before either
		} else if left := detachedFrom(in, vs); len(left) > 0 {
			// The write moves the route off Gateways that served it onto
			// one that does not exist: the hosts it served there lose
			// their route (404) and it attaches nowhere new, as a
			// VirtualService bound to a missing Gateway (MG305).
			action = rules.Deny
			moved = fmt.Sprintf(" and it is no longer attached to %s, which served it", strings.Join(left, ", "))
		}
		out = append(out, rules.Finding{Rule: "MG503", Action: action, Preexisting: held, Field: "spec.parentRefs", Key: "parent|" + key,
			Message: fmt.Sprintf("no Gateway %s exists: %s %s/%s is not attached there%s, so requests for %s get 404 — create the Gateway, or fix the parentRef",
				key, vs.Kind, vs.Namespace, vs.Name, moved, strings.Join(vs.Hosts, ", ")),
			Missing: []state.ObjectRef{{Group: state.GroupGatewayAPI, Kind: "Gateway", Namespace: ns, Name: name}}})
	}
	return out
}

// detachedFrom are the Gateways the route before the write was attached to
// for one of its hostnames and the route after is attached to for none:
// it no longer names them, or their listeners no longer accept it.
func detachedFrom(in *rules.Input, vs *state.VirtualService) []string {
	if in.Prior == nil || in.Change.Old == nil || in.Change.Old.Route == nil || vs == nil {
		return nil
	}
	var left []string
	for _, key := range in.Change.Old.Route.Gateways {
		if attached(in.Prior, key, in.Change.Old.Route) && !attached(in.State, key, vs) {
			left = append(left, key)
		}
	}
	return left
}

// attached reports whether the Gateway named key accepts the route for one
// of its hostnames.
func attached(s state.Snapshot, key string, vs *state.VirtualService) bool {
	ns, name, _ := strings.Cut(key, "/")
	gw := s.KubeGateway(ns, name)
	if gw == nil || !slices.Contains(vs.Gateways, key) {
		return false
	}
	servers := mesh.RouteServers(s, gw, key, vs, 0)
	return slices.ContainsFunc(vs.Hosts, func(h string) bool { return mesh.GatewayServesHost(servers, h, vs.Namespace) })
}

// field is the part of the route a failure comes from: the backendRef
// (spec.rules[i].backendRefs[j]), the parents for a route not attached,
// the whole route for a delete.
func field(f paths.Failure, deleted bool) string {
	switch {
	case deleted:
		return "spec"
	case f.Cause == paths.NoGateway:
		return "spec.parentRefs"
	case f.VS != nil && state.GatewayRouteKind(f.VS.Kind):
		return f.Field
	}
	return "spec"
}

func share(g rules.Group) string { return fmt.Sprintf("%d%%", g.MaxShare()) }

func unresolvedText(g rules.Group, f paths.Failure, handed bool) string {
	routes, _ := g.RouteText()
	why := f.Detail
	switch f.Cause {
	case paths.NoHost:
		why = "no Service " + f.Host + " exists"
	case paths.NoPort:
		why = fmt.Sprintf("%s has no port %d", f.Backend(), f.Port)
	}
	p := g.Failures[0].Path
	fix := "create the Service (or the port) first, then the route"
	if f.Cause == paths.Unresolved && f.Dest.GrantFrom != "" {
		fix = "create the ReferenceGrant in the backend's namespace first, then the route"
	}
	switch {
	case handed:
		fix = "keep this VirtualService's host until " + routes + " sends to backends that resolve"
	case f.VS != nil && !state.GatewayRouteKind(f.VS.Kind):
		fix = "keep this route until " + routes + " sends to backends that resolve"
	}
	return fmt.Sprintf("%s, so %s of the requests %s takes for %s:%d from %s get 500 — %s",
		why, share(g), routes, p.Host, p.Port, g.ClientText(), fix)
}

func noReadyText(g rules.Group, f paths.Failure, handed bool) string {
	routes, _ := g.RouteText()
	text, _ := f.NoReady()
	p := g.Failures[0].Path
	fix := "shift weight once its pods are Ready"
	if handed {
		fix = "keep this VirtualService's host until " + routes + " sends to Ready backends"
	}
	return fmt.Sprintf("%s sends %s of the requests for %s:%d from %s to %s, which has %s: 503 — %s",
		routes, share(g), p.Host, p.Port, g.ClientText(), f.Backend(), text, fix)
}

func detachedText(g rules.Group, f paths.Failure, _ bool) string {
	routes, _ := g.RouteText()
	hint := "name an existing Gateway and a hostname one of its listeners accepts"
	if slices.ContainsFunc(g.Failures, func(pf rules.PathFailure) bool { return strings.Contains(pf.Failure.Detail, "accepts") }) {
		hint = "use a hostname a listener accepts, or allowedRoutes namespaces that admit the route"
	}
	p := g.Failures[0].Path
	return fmt.Sprintf("%s: %s is not attached for %s on port %d at %s: requests no other route takes get 404 — %s",
		f.Detail, routes, p.Host, p.Port, g.ClientText(), hint)
}

// ours reports whether a failure is the written route's to explain: on one
// of its routes, or on the default route of a host it routed (a deleted or
// narrowed GAMMA route hands its callers back to it). The default routes of
// the hosts it sends to are their own business.
func ours(c *rules.Change, f rules.PathFailure) bool {
	if vs := f.Failure.VS; vs != nil {
		if vs.Kind == c.Ref.Kind && vs.Namespace == c.Ref.Namespace && vs.Name == c.Ref.Name {
			return true
		}
		// A deleted route hands its host to the route its clients fall
		// back to (another namespace's VirtualService, say): what fails
		// there is the delete's to explain (the oracle's judge found such
		// a delete admitted).
		if c.New != nil {
			return false
		}
	}
	for _, o := range []*state.Object{c.Old, c.New} {
		if o == nil || o.Route == nil {
			continue
		}
		for _, h := range o.Route.Hosts {
			// A short name is the route's namespace's Service, whatever
			// the cluster domain.
			if h == f.Path.Host || !strings.Contains(h, ".") && strings.HasPrefix(f.Path.Host, h+"."+o.Route.Namespace+".svc.") {
				return true
			}
		}
	}
	return false
}

// missing lists what a denial of unresolved backends rests on, for the
// webhook to confirm with a direct read before it denies (the cache can lag
// a Service or a ReferenceGrant applied a moment before the route): the
// Service, or the ReferenceGrants of the backend's namespace.
func missing(g rules.Group) []state.ObjectRef {
	var out []state.ObjectRef
	for _, pf := range g.Failures {
		f := pf.Failure
		ns, name, ok := state.ServiceOfHost(f.Dest.Host)
		if !ok && f.VS != nil && !strings.Contains(f.Dest.Host, ".") {
			ns, name, ok = f.VS.Namespace, f.Dest.Host, true // a short name: the route's namespace
		}
		if !ok {
			continue
		}
		var ref state.ObjectRef
		switch {
		case f.Cause == paths.NoHost || f.Cause == paths.NoPort:
			ref = state.ObjectRef{Kind: "Service", Namespace: ns, Name: name}
		case f.Cause == paths.Unresolved && f.Dest.GrantFrom != "" && f.Dest.Invalid == "":
			ref = state.ObjectRef{Group: state.GroupGatewayAPI, Kind: "ReferenceGrant", Namespace: ns}
		default:
			continue
		}
		if !slices.Contains(out, ref) {
			out = append(out, ref)
		}
	}
	return out
}
