package rules

import (
	"fmt"
	"slices"
	"strings"

	"github.com/meshguard/meshguard/pkg/paths"
	"github.com/meshguard/meshguard/pkg/state"
)

// Routes a rule explains on a Service write: the VirtualServices' (and the
// hosts' default routes) or the HTTPRoutes'.
var (
	ByVirtualServices = func(vs *state.VirtualService) bool { return vs == nil || !state.GatewayRouteKind(vs.Kind) }
	ByHTTPRoutes      = func(vs *state.VirtualService) bool { return vs != nil && state.GatewayRouteKind(vs.Kind) }
)

// Istio's behaviour, for the deleted host: a route keeps naming
// outbound|port|subset|host (pilot/pkg/networking/core/route/route.go,
// GetDestinationCluster, builds the name without a service), while clusters
// are built only for the services a proxy sees (pilot/pkg/networking/core/
// cluster.go, buildOutboundClusters over SidecarScope.Services()): the
// route points at no cluster and Envoy answers 503. An HTTPRoute's
// backendRef to a missing Service is dropped by the translation instead
// (pilot/pkg/config/kube/gateway/conversion.go): 500.
//
// ServiceWrite explains, in the written Service's fields, the failures of
// cause c that a Service write brings to routes (routed picks whose: a
// VirtualService's or an HTTPRoute's). A Service write changes no route:
// it takes a host away (DELETE: the routes' destination resolves to
// nothing), a port (the routes' destination port is gone), or the endpoints
// (a selector that picks no Ready pod, or pods that refuse what clients
// send). Each is the cause an existing rule already explains from the
// route's side (MG303, MG304, MG302, MG201, MG202; MG501, MG502 for
// HTTPRoutes), so that rule reports it, said where the write is. Only
// failures towards the written Service's own host are its: the routes'
// other destinations are theirs. Calls to a deleted Service's own host are
// not judged: its name no longer resolves and it has no listener
// (paths.Model.routes), which is what deleting a Service means.
func (in *Input) ServiceWrite(id string, c paths.Cause, routed func(*state.VirtualService) bool) []Finding {
	host := in.Routing.Hosts.FQDN(in.Change.Ref.Name, in.Change.Ref.Namespace)
	deleted := in.Change.New == nil
	var fs []PathFailure
	for _, f := range in.Failures(c) {
		// Deleted, the host's own callers lose it whatever serves it (its
		// name stops resolving too): a VirtualService for the host itself
		// keeps a virtual host on port 80 (route.go's HACK) that now fails,
		// but that is what deleting a Service means (and what `helm
		// uninstall` does before it deletes the route). Only other hosts'
		// routes, and the gateways', sending to it are broken by the write.
		if deleted && f.Path.Host == host {
			continue
		}
		if f.Failure.Host == host && routed(f.Failure.VS) {
			fs = append(fs, f)
		}
	}
	old, nu := serviceOf(in.Change.Old), serviceOf(in.Change.New)
	var out []Finding
	for _, g := range GroupFailures(fs, func(f PathFailure) string { return serviceField(f.Failure, old, nu) }) {
		action, held := g.Verdict()
		f := g.Failures[0].Failure
		routes, plural := g.RouteText()
		verb := "sends"
		if plural {
			verb = "send"
		}
		code := "503"
		if f.VS != nil && state.GatewayRouteKind(f.VS.Kind) && (c == paths.NoHost || c == paths.NoPort) {
			code = "500" // istiod drops a backendRef that resolves to nothing (the Gateway API's 500)
		}
		msg := fmt.Sprintf("%s: %s %s %s there, so %d%% of that route's traffic fails with %s — %s",
			serviceCause(in.Change, f, nu), routes, verb, g.ClientText(), g.MaxShare(), code, serviceFix(c))
		if action == Warn && !held {
			msg = "nothing reached that host before, so nothing breaks yet: " + msg
		}
		if c == paths.NoReady {
			if a, remote := RemoteEndpoints(in, action); remote != "" {
				action, held, msg = a, false, msg+remote
			}
		}
		out = append(out, Finding{Rule: id, Action: action, Preexisting: held, Field: g.Key, Key: g.Key + "|" + host,
			Subjects: g.Clients(), Message: msg, Missing: routesOf(g)})
	}
	return out
}

// routesOf lists the VirtualServices a denial rests on, for the webhook to
// confirm with a direct read before it denies: `kubectl delete -f` of a
// route and then its Service reaches meshguard faster than the cache
// forgets the route.
func routesOf(g Group) []state.ObjectRef {
	var out []state.ObjectRef
	for _, f := range g.Failures {
		vs := f.Failure.VS
		if vs == nil || vs.Kind != "" {
			continue
		}
		ref := state.ObjectRef{Group: state.GroupNetworking, Kind: KindVirtualService, Namespace: vs.Namespace, Name: vs.Name}
		if !slices.Contains(out, ref) {
			out = append(out, ref)
		}
	}
	return out
}

func serviceOf(o *state.Object) *state.Service {
	if o == nil {
		return nil
	}
	return o.Service
}

// serviceField is the part of the Service a failure comes from: the whole
// Service when it is deleted, its ports when a routed port is gone, its
// selector when it picks other endpoints, else its ports (a targetPort).
func serviceField(f paths.Failure, old, nu *state.Service) string {
	switch {
	case nu == nil:
		return "spec"
	case f.Cause == paths.NoPort:
		return "spec.ports"
	case old == nil || !sameLabels(old.Selector, nu.Selector):
		return "spec.selector"
	}
	return "spec.ports"
}

func sameLabels(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// serviceCause says what the write leaves the routed destination with.
func serviceCause(c *Change, f paths.Failure, nu *state.Service) string {
	svc := "Service " + c.Ref.Namespace + "/" + c.Ref.Name
	dest := f.Host
	if f.Dest.Subset != "" {
		dest = "subset " + f.Dest.Subset + " of " + f.Host
	}
	switch f.Cause {
	case paths.NoHost:
		if f.VS != nil && state.GatewayRouteKind(f.VS.Kind) {
			return "without " + svc + " the backendRef to " + f.Host + " resolves to nothing (istiod drops it)"
		}
		return "without " + svc + " its host " + f.Host + " resolves to nothing (no Service or ServiceEntry: istiod keeps the routes, but builds no cluster for them)"
	case paths.NoPort:
		var ports []string
		if nu != nil {
			for _, p := range nu.Ports {
				ports = append(ports, fmt.Sprint(p.Port))
			}
		}
		return fmt.Sprintf("port %d is no longer a port of %s (it exposes %s: no cluster for the routed port)", f.Port, svc, orNone(ports))
	case paths.NoReady:
		if f.Live == 0 {
			return "after this change " + dest + " has no endpoint left"
		}
		text, _ := f.NoReady()
		return "after this change " + dest + " has " + text
	case paths.MTLSToPlain:
		return fmt.Sprintf("after this change the endpoints of %s cannot terminate the Istio mTLS clients send (%s)", dest, strings.Join(f.Pods, ", "))
	default:
		return fmt.Sprintf("after this change the endpoints of %s enforce STRICT against the plaintext clients send (%s)", dest, strings.Join(f.Pods, ", "))
	}
}

func orNone(ss []string) string {
	if len(ss) == 0 {
		return "no port"
	}
	return strings.Join(ss, ", ")
}

func serviceFix(c paths.Cause) string {
	switch c {
	case paths.NoHost:
		return "move those routes off the host first, then delete the Service"
	case paths.NoPort:
		return "point those routes at a port the Service keeps first, then change the port"
	case paths.NoReady:
		return "keep the selector on Ready pods, or move those routes elsewhere first"
	}
	return "select pods that accept what those clients send, or change the clients' TLS first"
}
