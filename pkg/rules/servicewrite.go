package rules

import (
	"fmt"
	"slices"
	"strings"

	"github.com/meshguard/meshguard/pkg/mesh"
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
	var taken *state.ServiceEntry
	if len(fs) > 0 {
		taken = takenEntry(in, host)
	}
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
		cause, fix := serviceCause(in.Change, f, nu), serviceFix(c)
		if name, ready := unresolvedTarget(in, f, nu); ready > 0 {
			cause = fmt.Sprintf("after this change port %d of %s has no endpoint: its targetPort %q names no container port of the %d Ready %s it selects, so that port's endpoints list none",
				f.Port, f.Host, name, ready, nouns(ready, "pod", "pods"))
			fix = "name a container port the pods declare (or give the number), or move those routes first"
		}
		if taken != nil {
			cause = fmt.Sprintf("Service %s/%s takes host %s from ServiceEntry %s/%s (istiod prefers a Kubernetes Service for its host), and %s",
				in.Change.Ref.Namespace, in.Change.Ref.Name, host, taken.Namespace, taken.Name, strings.TrimPrefix(cause, "after this change "))
			fix = "give the Service what the entry served (its ports, Ready endpoints) before creating it, or move those routes first"
		}
		msg := fmt.Sprintf("%s: %s %s %s there, so %d%% of that route's traffic fails with %s — %s",
			cause, routes, verb, g.ClientText(), g.MaxShare(), code, fix)
		if action == Warn && !held {
			msg = "nothing reached that host before, so nothing breaks yet: " + msg
		}
		if c == paths.NoReady {
			if a, remote := RemoteEndpoints(in, action); remote != "" {
				action, held, msg = a, false, msg+remote
			}
		}
		missing := routesOf(g)
		if taken != nil {
			missing = append(missing, state.ObjectRef{Group: state.GroupNetworking, Kind: KindServiceEntry, Namespace: taken.Namespace, Name: taken.Name})
		}
		out = append(out, Finding{Rule: id, Action: action, Preexisting: held, Field: g.Key, Key: g.Key + "|" + host,
			Subjects: g.Clients(), Message: msg, Missing: missing})
	}
	return out
}

// takenEntry is the ServiceEntry a created Service takes its host from
// (nil: none, or not a CREATE). Istio keeps one service per host in a
// proxy's scope, and a Kubernetes Service wins over any other registry's
// whatever their ages (pilot/pkg/model/sidecar.go appendSidecarServices;
// push_context.go initServiceRegistry: "prevents domain squatting"), so an
// entry that registered the Service's name (a VM's, before the workload
// moved into the cluster) stops serving it the moment the Service exists:
// routes get the Service's ports and endpoints. That is the only path a
// Service's CREATE can break; a short name resolves by the route's
// namespace whether the Service exists or not (istiod expands it without
// looking: pilot/pkg/model/config.go ResolveShortnameToFQDN).
func takenEntry(in *Input, host string) *state.ServiceEntry {
	if in.Change.Old != nil || in.Change.New == nil {
		return nil
	}
	for _, se := range in.Prior.ServiceEntriesForHost(host) {
		if slices.Contains(se.Hosts, host) {
			return se
		}
	}
	return nil
}

// unresolvedTarget explains a routed port left with no endpoint by a named
// targetPort its pods do not declare: the name, and how many Ready pods of
// the destination (its subset's labels included) lack it (0: not that
// cause). Kubernetes' endpoint-slice controller resolves a named targetPort
// in each pod's container ports and leaves a pod without it out of that
// port's endpoints (k8s.io/endpointslice utils.go getEndpointPorts,
// FindPort), and istiod builds the port's cluster from those endpoints
// (pilot/pkg/serviceregistry/kube/controller/endpointslice.go). A numeric
// targetPort goes into the slice as it is: container ports are
// informational, so a number no pod lists is not judged.
func unresolvedTarget(in *Input, f paths.Failure, nu *state.Service) (string, int) {
	if f.Cause != paths.NoReady || nu == nil || len(nu.Selector) == 0 || f.Service == nil {
		return "", 0
	}
	i := slices.IndexFunc(nu.Ports, func(sp state.ServicePort) bool { return uint32(sp.Port) == f.Port })
	if i < 0 || nu.Ports[i].TargetPortName == "" {
		return "", 0
	}
	sp := nu.Ports[i]
	var labels map[string]string
	if f.Dest.Subset != "" {
		if sub, _ := f.Rules.Subset(f.Dest.Subset); sub != nil {
			labels = sub.Labels
		}
	}
	ready := 0
	in.State.ForEachServicePod(nu.Namespace, nu.Name, func(p *state.Pod) bool {
		if p.Ready && !p.Finished() && state.SelectorMatches(labels, p.Labels) && mesh.TargetPort(sp, p) == 0 {
			ready++
		}
		return true
	})
	return sp.TargetPortName, ready
}

func nouns(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// routesOf lists the VirtualServices a denial rests on, for the webhook to
// confirm with a direct read before it denies: `kubectl delete -f` of a
// route and then its Service reaches meshguard faster than the cache
// forgets the route (and, for a CREATE, the ServiceEntry it takes the host
// from: deleted just before the Service is created).
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
		if c.Old == nil {
			return fmt.Sprintf("after this change it has no port %d (it exposes %s: no cluster for the routed port)", f.Port, orNone(ports))
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
