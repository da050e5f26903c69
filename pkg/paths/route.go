package paths

import (
	"fmt"
	"slices"
	"strings"

	"github.com/meshguard/meshguard/pkg/authz"
	"github.com/meshguard/meshguard/pkg/mesh"
	"github.com/meshguard/meshguard/pkg/state"
)

// examples is how many failing pods a failure names.
const examples = 3

// judge fills p: the route its client gets for the target, and what each
// destination of each route does with the traffic.
func (m Model) judge(s state.Snapshot, p *Path, t Target) {
	if t.Gateway == "" && !m.imported(s, p, t) {
		return
	}
	for _, rt := range m.routes(s, p, t, m.virtualServices(s, p.Client, t)) {
		p.Routed = true
		if why := m.gatewayRefuses(s, p, t, rt.vs); why != "" {
			p.route(rt.key, 100)
			p.FailShare = 100
			p.Failures = append(p.Failures, Failure{Cause: NoGateway, Share: 100, VS: rt.vs, Host: t.Host, Port: p.Port, Detail: why})
			continue
		}
		var total int32
		for _, d := range rt.dests {
			total += d.weight
		}
		if total == 0 {
			continue
		}
		failed := 0.0
		var fs []Failure
		for _, d := range rt.dests {
			if d.weight == 0 {
				continue
			}
			share := float64(d.weight) / float64(total)
			f, frac := m.destination(s, p, rt.vs, d)
			if m.Explain {
				p.Hops = append(p.Hops, hopOf(rt.key, share, f, frac))
			}
			if frac > 0 {
				failed += share * frac
				f.Share = max(1, int(100*share*frac+0.5))
				fs = append(fs, f)
			}
		}
		pct := 0
		if failed > 0 {
			pct = max(int(100*failed+0.5), 1)
		}
		p.route(rt.key, pct)
		p.FailShare = max(p.FailShare, pct)
		p.Failures = append(p.Failures, fs...)
	}
}

// virtualServices are the VirtualServices Istio gives the client for the
// target, in the order it applies them (push_context.go,
// VirtualServicesForGateway): those private to the client's namespace, then
// those exported to it by name, then public ones, each in creation order.
// Sidecars keep only the first VirtualService for a host (a later one for the
// same host is dropped); gateways combine the routes of all of them.
func (m Model) virtualServices(s state.Snapshot, c Client, t Target) []*state.VirtualService {
	var cands []*state.VirtualService
	if t.Gateway == "" {
		cands = s.VirtualServicesOnMesh(t.Host)
	} else {
		// Every VirtualService bound to the gateway for the host: one whose
		// host no server accepts (or whose Gateway is gone) gets no virtual
		// host there, which judge reports as NoGateway (gatewayRefuses).
		for _, vs := range s.VirtualServicesOnGateway(t.Gateway) {
			if slices.Contains(vs.Hosts, t.Host) {
				cands = append(cands, vs)
			}
		}
	}
	// A Sidecar applying to the client keeps only the VirtualServices its
	// egress hosts import (SelectVirtualServices).
	var sc *state.Sidecar
	if t.Gateway == "" {
		sc = m.Routing.SidecarFor(s, c.Namespace, c.labels())
	}
	var out []*state.VirtualService
	for _, vs := range cands {
		if vsRank(vs, c.Namespace) >= 0 && (sc == nil || mesh.VirtualServiceImported(sc, c.Namespace, vs.Namespace, m.vsHosts(vs))) &&
			(t.Gateway != "" || m.gatewayRouteApplies(s, vs, c.Namespace, t.Host)) {
			out = append(out, vs)
		}
	}
	slices.SortStableFunc(out, func(a, b *state.VirtualService) int {
		if ra, rb := vsRank(a, c.Namespace), vsRank(b, c.Namespace); ra != rb {
			return ra - rb
		}
		// Among public ones, Gateway API routes of the client's own
		// namespace come first ("consumer override" preference,
		// VirtualServicesForGateway's UseGatewaySemantics pass; the oracle's
		// judge found a producer HTTPRoute's delete handed to an older
		// VirtualService of another namespace unjudged).
		if ga, gb := ownGatewayRoute(a, c.Namespace), ownGatewayRoute(b, c.Namespace); ga != gb && vsRank(a, c.Namespace) == 2 {
			if ga {
				return -1
			}
			return 1
		}
		if older(a, b) {
			return -1
		}
		if older(b, a) {
			return 1
		}
		return 0
	})
	return out
}

// sidecarVirtualServices are the VirtualServices a sidecar applies for the
// host on the port, from those it sees in order: its HTTP virtual host
// comes from the first (a later one for the same host is dropped); its TCP
// listener takes the tcp routes of the first that has any, skipping those
// with http routes only (pilot/pkg/networking/core/listener.go
// buildSidecarOutboundTCPListenerOpts passes every VirtualService for the
// host, getConfigsForHost, to tls.go buildSidecarOutboundTCPFilterChainOpts,
// which stops at the first tcp route that matches).
func (m Model) sidecarVirtualServices(s state.Snapshot, host string, port uint32, vss []*state.VirtualService) []*state.VirtualService {
	if len(vss) <= 1 || m.httpPort(s, host, port) {
		return vss[:min(1, len(vss))]
	}
	for i, vs := range vss {
		if len(vs.TCP) > 0 {
			return vss[i : i+1]
		}
	}
	return vss[:1]
}

// gatewayRouteApplies reports whether a route on the mesh applies to the
// sidecars of ns calling host: a VirtualService always; a Gateway API route
// (istiod's gateway semantics) only when it is in the client's namespace (a
// consumer route) or in the host's (a producer route). istiod builds no
// virtual host from it for other proxies, which then take the next route
// for the host or its default route (pilot/pkg/networking/core/route/
// route.go, buildSidecarVirtualHostsForVirtualService: "Gateway allows only
// routes from the namespace of the proxy, or namespace of the destination").
func (m Model) gatewayRouteApplies(s state.Snapshot, vs *state.VirtualService, ns, host string) bool {
	if vs.Kind == "" || vs.Namespace == ns {
		return true
	}
	return m.hostNamespace(s, host, ns) == vs.Namespace
}

// ownGatewayRoute: a Gateway API route (istiod's gateway semantics) of the
// client's namespace.
func ownGatewayRoute(vs *state.VirtualService, ns string) bool {
	return state.GatewayRouteKind(vs.Kind) && vs.Namespace == ns
}

func older(a, b *state.VirtualService) bool {
	if !a.Created.Equal(b.Created) {
		return a.Created.Before(b.Created)
	}
	if a.Namespace != b.Namespace {
		return a.Namespace < b.Namespace
	}
	return a.Name < b.Name
}

// vsRank places a VirtualService in the client namespace's index: 0 private
// to it, 1 exported to it by name, 2 public; -1 invisible. Other stands for
// namespaces no exportTo names.
func vsRank(vs *state.VirtualService, ns string) int {
	if len(vs.ExportTo) == 0 || slices.Contains(vs.ExportTo, "*") {
		return 2
	}
	rank := -1
	for _, e := range vs.ExportTo {
		switch {
		case ns == Other:
		case (e == "." || e == vs.Namespace) && ns == vs.Namespace:
			return 0
		case e == ns:
			rank = 1
		}
	}
	return rank
}

type weightedDest struct {
	d      state.Destination
	field  string
	weight int32
}

type route struct {
	vs    *state.VirtualService // nil: the host's default route
	dests []weightedDest
	// key names the route across a write (Path.Routes): its VirtualService
	// and the route's identity there, whatever its position.
	key string
}

// routes are the request classes of the path: each route of the client's
// VirtualServices that applies to it (HTTP routes on HTTP ports and
// gateways, TCP routes on other ports), or the host's default route.
func (m Model) routes(s state.Snapshot, p *Path, t Target, vss []*state.VirtualService) []route {
	gw := "mesh"
	if t.Gateway != "" {
		gw = t.Gateway
	}
	if t.Gateway == "" && !m.hasPort(s, t.Host, p.Port) && (p.Port != 80 || m.hasHTTPPort(s, t.Host)) {
		// A port the host does not have here (Ports judges the ports of both
		// sides of a write, so a ServiceEntry that drops a port or a host is
		// judged on them). istiod builds a sidecar's virtual hosts per port
		// of the registered services a VirtualService's hosts match
		// (pilot/pkg/networking/core/route/route.go,
		// buildSidecarVirtualHostsForVirtualService); only when they have no
		// HTTP port at all does the VirtualService keep a virtual host, on
		// port 80 (the "HACK" there), whose routes then name clusters that
		// no longer exist: 503, judged below. Any other call to the port has
		// no listener or virtual host for the host and leaves Istio's
		// routing (PassthroughCluster under ALLOW_ANY, BlackHoleCluster
		// under REGISTRY_ONLY), reaching something only if the name still
		// resolves: meshguard reads neither DNS nor the mesh config, so the
		// path is not judged.
		return nil
	}
	if t.Gateway == "" {
		vss = m.sidecarVirtualServices(s, t.Host, p.Port, vss)
	}
	var out []route
	routed := false
	for _, vs := range vss {
		if t.Gateway == "" && !m.meshAttached(vs, t.Host, p.Port) {
			continue
		}
		origin := vs.Namespace + "/" + vs.Name + "|"
		seen := map[string]int{}
		// A sidecar's listener for a TCP port applies tcp routes only; with
		// none, the host's default route (http routes never apply there).
		if t.Gateway != "" || m.httpPort(s, t.Host, p.Port) {
			routed = routed || len(vs.HTTP) > 0
			for i := range vs.HTTP {
				r := &vs.HTTP[i]
				if r.Terminal || !appliesTo(r, vs, gw) {
					continue
				}
				rt := weighted(r.Route, func(j int) string { return vs.DestinationField(i, j) })
				rt.vs = vs
				rt.key = fmt.Sprintf("%s%s#%d", origin, r.Identity, seen[r.Identity])
				seen[r.Identity]++
				out = append(out, rt)
			}
			continue
		}
		routed = routed || len(vs.TCP) > 0
		for i, tr := range vs.TCP {
			rt := weighted(tr, func(j int) string { return fmt.Sprintf("spec.tcp[%d].route[%d].destination", i, j) })
			rt.vs = vs
			rt.key = fmt.Sprintf("%stcp[%d]", origin, i)
			out = append(out, rt)
		}
	}
	if routed || t.Gateway != "" {
		return out // a gateway host without a route has no virtual host: nothing to judge
	}
	if !m.hasPort(s, t.Host, p.Port) {
		return nil // no listener and no VirtualService's virtual host for it: not judged (above)
	}
	return []route{{dests: []weightedDest{{d: state.Destination{Host: t.Host, Port: p.Port}, weight: 1}}, key: "default"}}
}

// meshAttached reports whether a route applies to sidecars calling host on
// port: a translated route whose parentRefs to that Service name a port
// applies on that port only (istiod adds the port to every match:
// conversion.go augmentPortMatch), and on any other port the Service's own
// routing applies (route.go builds no virtual host from a VirtualService
// without routes for the port).
func (m Model) meshAttached(vs *state.VirtualService, host string, port uint32) bool {
	for _, h := range vs.Hosts {
		if m.Routing.Hosts.FQDN(h, vs.Namespace) == host {
			return vs.Attaches(h, "", port)
		}
	}
	return true
}

func weighted(ds []state.Destination, field func(int) string) route {
	var r route
	for j, d := range ds {
		w := d.Weight
		if len(ds) == 1 {
			w = 1
		}
		r.dests = append(r.dests, weightedDest{d: d, field: field(j), weight: w})
	}
	return r
}

// appliesTo reports whether an HTTP route applies on gateway gw ("mesh" for
// sidecars): no match restricts it, or some match block names gw.
func appliesTo(r *state.HTTPRoute, vs *state.VirtualService, gw string) bool {
	if len(r.Matches) == 0 {
		return true
	}
	for _, mt := range r.Matches {
		if len(mt.Gateways) == 0 {
			return true
		}
		for _, g := range mt.Gateways {
			if state.GatewayKey(g, vs.Namespace) == gw {
				return true
			}
		}
	}
	return false
}

// hasPort reports whether a Service or a ServiceEntry registers the host
// with the port in s.
func (m Model) hasPort(s state.Snapshot, host string, port uint32) bool {
	return slices.ContainsFunc(m.hostPorts(s, host), func(sp state.ServicePort) bool { return uint32(sp.Port) == port })
}

// hasHTTPPort reports whether the host is registered with a port carrying
// HTTP (see httpPort).
func (m Model) hasHTTPPort(s state.Snapshot, host string) bool {
	return slices.ContainsFunc(m.hostPorts(s, host), func(sp state.ServicePort) bool { return m.httpPort(s, host, uint32(sp.Port)) })
}

// hostPorts are the ports of the Service a host names, or those of the
// ServiceEntries registering it (nil: neither). A Kubernetes Service wins
// its host over any ServiceEntry of the same name (pilot/pkg/model/
// sidecar.go appendSidecarServices), but without one an entry may register
// a Service-form name (name.ns.svc.cluster.local) like any other host.
func (m Model) hostPorts(s state.Snapshot, host string) []state.ServicePort {
	if ns, name, ok := m.Routing.Hosts.ServiceName(host); ok {
		if svc := s.Service(ns, name); svc != nil {
			return svc.Ports
		}
	}
	var out []state.ServicePort
	for _, se := range s.ServiceEntriesForHost(host) {
		if slices.Contains(se.Hosts, host) {
			out = append(out, se.Ports...)
		}
	}
	return out
}

// httpPort reports whether a Service port carries HTTP for Istio (name
// prefix or appProtocol), or is unnamed (protocol sniffing sends HTTP
// requests through HTTP routes).
func (m Model) httpPort(s state.Snapshot, host string, port uint32) bool {
	for _, sp := range m.hostPorts(s, host) {
		if uint32(sp.Port) != port {
			continue
		}
		proto := strings.ToLower(sp.Name)
		if sp.AppProtocol != "" {
			proto = strings.ToLower(sp.AppProtocol)
		}
		if i := strings.IndexByte(proto, '-'); i >= 0 {
			proto = proto[:i]
		}
		switch proto {
		case "http", "http2", "grpc", "grpc-web", "":
			return true
		}
		return !knownProtocol(proto)
	}
	return true
}

func knownProtocol(p string) bool {
	switch p {
	case "tcp", "tls", "https", "mongo", "mysql", "redis", "udp":
		return true
	}
	return false
}

// destination judges one destination of a route: the failure and the
// fraction of its traffic that fails (0: it works).
func (m Model) destination(s state.Snapshot, p *Path, vs *state.VirtualService, wd weightedDest) (Failure, float64) {
	ns := p.Client.Namespace
	written := ns
	if vs != nil {
		written = vs.Namespace
	}
	d := wd.d
	res := m.Routing.Hosts.Resolve(s, d.Host, written)
	f := Failure{VS: vs, Field: wd.field, Dest: d, Host: res.FQDN, Service: res.Service}
	if d.Invalid != "" {
		f.Cause, f.Detail = Unresolved, d.Invalid
		return f, 1
	}
	// Only gateways enforce ReferenceGrants: istiod converts a route's
	// rules for its mesh (Service) parents with enforceRefGrant false
	// (pilot/pkg/config/kube/gateway/route_collections.go,
	// HTTPRouteCollection: convertHTTPRoute(ctx, r, obj, n, !mesh); the
	// same for GRPCRoute), so sidecars send to another namespace's backend
	// without one.
	if d.GrantFrom != "" && p.Client.Gateway != "" {
		if bns, name, ok := state.ServiceOfHost(d.Host); ok && !state.BackendPermitted(s, vs.Kind, d.GrantFrom, bns, name) {
			f.Cause = Unresolved
			f.Detail = fmt.Sprintf("no ReferenceGrant in %s lets %ss of %s refer to Service %s", bns, vs.Kind, d.GrantFrom, name)
			return f, 1
		}
	}
	if res.Service == nil {
		if res.Entry != nil {
			return m.entryDestination(s, p, f, res.Entry, d)
		}
		f.Cause = NoHost
		return f, 1
	}
	svc := res.Service
	port := destinationPort(d, svc.Ports, p.Port)
	f.Port = port
	sp, ok := servicePort(svc, port)
	if !ok {
		f.Cause = NoPort
		return f, 1
	}
	f.Rules = m.Routing.LookupFor(s, res.FQDN, ns, svc.Namespace, m.workloadLabels(s, p.Client))
	var labels map[string]string
	if d.Subset != "" {
		sub, _ := f.Rules.Subset(d.Subset)
		if sub == nil {
			f.Cause = NoSubset
			return f, 1
		}
		labels = sub.Labels
	}
	tls := m.clientTLS(s, f.Rules, svc, d.Subset, port)
	f.TLS = tls
	if len(svc.Selector) == 0 && !m.hasEndpoints(s, svc) {
		// Endpoints nobody exported (hand-managed ones behind a Service
		// without selector, the API server behind kubernetes.default) are
		// taken to be outside the mesh: they cannot terminate Istio mTLS.
		if tls != nil && tls.Setting.TLS.Mode == "ISTIO_MUTUAL" {
			f.Cause = MTLSToPlain
			return f, 1
		}
		p.reach(res.FQDN)
		return f, 0
	}
	if !mesh.JudgedByPods(labels) {
		p.reach(res.FQDN)
		return f, 0 // endpoint labels Istio adds (cluster, zone): not judged from pods
	}
	return m.endpoints(s, p, f, res.FQDN, svc, sp, labels, tls)
}

// entryDestination judges a destination a ServiceEntry registers, as istiod
// builds its cluster (pilot/pkg/serviceregistry/serviceentry/conversion.go):
// the port must be one of the entry's; with resolution STATIC its endpoints
// are its inline endpoints (always healthy: no health checks), or, with a
// workloadSelector, the Ready pods (the pod cache hands istiod only Ready
// pods: kube/controller/pod.go) and the WorkloadEntries of the entry's
// namespace the selector matches, each on the entry port's targetPort, the
// workload's port of that name, or the port's number. Endpoints of DNS
// resolution are names the proxy resolves and NONE forwards to the
// original destination: neither is judged. Auto mTLS goes only to
// MESH_INTERNAL entries (cluster_builder.go, buildAutoMtlsSettings).
func (m Model) entryDestination(s state.Snapshot, p *Path, f Failure, se *state.ServiceEntry, d state.Destination) (Failure, float64) {
	f.Entry = se
	port := destinationPort(d, se.Ports, p.Port)
	f.Port = port
	i := slices.IndexFunc(se.Ports, func(sp state.ServicePort) bool { return uint32(sp.Port) == port })
	if i < 0 {
		f.Cause = NoPort
		return f, 1
	}
	sp := se.Ports[i]
	f.Rules = m.Routing.LookupFor(s, f.Host, p.Client.Namespace, se.Namespace, m.workloadLabels(s, p.Client))
	var labels map[string]string
	if d.Subset != "" {
		sub, _ := f.Rules.Subset(d.Subset)
		if sub == nil {
			f.Cause = NoSubset
			return f, 1
		}
		labels = sub.Labels
	}
	if se.Resolution != state.ResolutionStatic || (len(se.Endpoints) == 0 && se.WorkloadSelector == nil) {
		p.reach(f.Host)
		return f, 0
	}
	tls := m.ruleTLS(f.Rules, d.Subset, port)
	if tls == nil && !se.External {
		tls = m.inferredTLS(s, se.Namespace)
	}
	f.TLS = tls
	t := tally{m: m, s: s, f: f, tls: tls}
	if se.WorkloadSelector == nil {
		for _, we := range se.Endpoints {
			if state.SelectorMatches(labels, we.Labels) {
				t.addEntry(we, entryPort(sp, we), true)
			}
		}
		return t.result(p, f.Host)
	}
	s.ForEachPod(se.Namespace, func(pod *state.Pod) bool {
		if !pod.Finished() && state.SelectorMatches(se.WorkloadSelector, pod.Labels) && state.SelectorMatches(labels, pod.Labels) {
			t.add(pod.Name, pod, pod.Ready, podEntryPort(sp, pod))
		}
		return true
	})
	s.ForEachWorkloadEntry(se.Namespace, func(we *state.WorkloadEntry) bool {
		if state.SelectorMatches(se.WorkloadSelector, we.Labels) && state.SelectorMatches(labels, we.Labels) {
			t.addEntry(we, entryPort(sp, we), false)
		}
		return true
	})
	return t.result(p, f.Host)
}

// destinationPort is the port a destination calls (pilot/pkg/networking/
// core/route: GetDestinationCluster): its own, else the host's only port,
// else the listener's.
func destinationPort(d state.Destination, ports []state.ServicePort, listener uint32) uint32 {
	switch {
	case d.Port != 0:
		return d.Port
	case len(ports) == 1:
		return uint32(ports[0].Port)
	}
	return listener
}

// podEntryPort is the port a pod selected by a ServiceEntry serves the
// entry's port sp on: its container port of that name, else the target
// port, else the number (serviceentry/conversion.go,
// convertWorkloadInstanceToServiceInstance).
func podEntryPort(sp state.ServicePort, pod *state.Pod) uint32 {
	for _, cp := range pod.Ports {
		if sp.Name != "" && cp.Name == sp.Name {
			return uint32(cp.Port)
		}
	}
	if sp.TargetPort != 0 {
		return uint32(sp.TargetPort)
	}
	return uint32(sp.Port)
}

// hasEndpoints reports whether the state holds EndpointSlices of a Service
// without selector (Knative's serverless Services, mirrored Endpoints).
func (m Model) hasEndpoints(s state.Snapshot, svc *state.Service) bool {
	found := false
	s.ForEachEndpoint(svc.Namespace, svc.Name, func(*state.EndpointSlice, *state.Endpoint) bool {
		found = true
		return false
	})
	return found
}

// endpoints judges the Ready endpoints of svc's port sp that the subset's
// labels select: the failing share of them, what their servers refuse of the
// client's tls, and whether the host is reached at all. They are what istiod
// builds the cluster from: the pods a Service's selector picks (the
// endpoint-slice controller's slices, with the pods' readiness), or for a
// Service without selector the endpoints of its EndpointSlices — a pod they
// target is judged as that pod, an address no pod holds as a server outside
// the mesh.
func (m Model) endpoints(s state.Snapshot, p *Path, f Failure, fqdn string, svc *state.Service, sp state.ServicePort,
	labels map[string]string, tls *TLSChoice) (Failure, float64) {
	t := tally{m: m, s: s, f: f, tls: tls, caller: &authz.Caller{Namespace: p.Client.Namespace}, tcp: authz.TCPPort(sp.Name, sp.AppProtocol)}
	if len(svc.Selector) > 0 {
		s.ForEachServicePod(svc.Namespace, svc.Name, func(pod *state.Pod) bool {
			if !pod.Finished() && state.SelectorMatches(labels, pod.Labels) {
				t.add(pod.Name, pod, pod.Ready, mesh.TargetPort(sp, pod))
			}
			return true
		})
		// WorkloadEntries the selector matches are endpoints too (VMs): a
		// proxy on one is a sidecar that intercepts every port.
		s.ForEachWorkloadEntry(svc.Namespace, func(we *state.WorkloadEntry) bool {
			if state.SelectorMatches(svc.Selector, we.Labels) && state.SelectorMatches(labels, we.Labels) {
				t.addEntry(we, entryPort(sp, we), false)
			}
			return true
		})
	} else {
		s.ForEachEndpoint(svc.Namespace, svc.Name, func(es *state.EndpointSlice, e *state.Endpoint) bool {
			var pod *state.Pod
			name := "an address no pod holds"
			if e.Pod != "" {
				pod = s.Pod(e.PodNamespace, e.Pod)
				name = e.PodNamespace + "/" + e.Pod
			}
			var podLabels map[string]string
			if pod != nil {
				podLabels = pod.Labels
			}
			if (pod != nil && pod.Finished()) || !state.SelectorMatches(labels, podLabels) {
				return true
			}
			t.add(name, pod, e.Ready, es.TargetPort(sp))
			if pod == nil {
				t.f.Addresses++
			}
			return true
		})
	}
	return t.result(p, fqdn)
}

// tally counts the endpoints of one destination as they are judged: how
// many run, are Ready, and refuse what the client sends (and why).
type tally struct {
	m     Model
	s     state.Snapshot
	f     Failure
	tls   *TLSChoice
	bad   []string
	cause Cause
	// accepts counts the Ready endpoints by what they accept (Explain only).
	accepts map[string]int
	// caller is the client class as a server's AuthorizationPolicies see it
	// (its namespace; Other: unknown), tcp whether the port is TCP only;
	// nil: policies not judged.
	caller *authz.Caller
	tcp    bool
}

// add judges one endpoint: pod is the pod behind it (nil: an address no pod
// holds, a server outside the mesh), target its port (0: none serves it).
func (t *tally) add(name string, pod *state.Pod, ready bool, target uint32) {
	t.f.Live++
	if !ready || target == 0 {
		return
	}
	t.f.Ready++
	if t.m.Explain {
		t.accept(pod, target)
	}
	var c Cause
	var pa *state.PeerAuthentication
	if pod != nil {
		c, pa = t.m.accepts(t.s, pod, target, t.tls)
	} else if t.tls != nil && t.tls.Setting.TLS.Mode == "ISTIO_MUTUAL" {
		c = MTLSToPlain
	}
	if c == 0 && pod != nil && t.caller != nil {
		if v := t.m.authorizes(t.s, pod, target, t.tls, *t.caller, t.tcp); v.Denied {
			c = DeniedByPolicy
			if t.f.Denier == nil {
				t.f.Denier, t.f.Detail = v.Policy, v.Why
			}
		}
	}
	if c == 0 {
		return
	}
	t.cause = c
	t.bad = append(t.bad, name)
	if pa != nil {
		if t.f.Policy == nil {
			t.f.Policy = pa
		}
		t.f.PolicyBad++
	}
}

// addEntry judges a WorkloadEntry (or a ServiceEntry's inline endpoint) as
// the workload it stands for: a proxy on it, when istiod says there is one,
// is a sidecar that intercepts every port.
// inline marks a ServiceEntry's own endpoint; the failure counts each kind,
// so that messages name what the endpoints are.
func (t *tally) addEntry(we *state.WorkloadEntry, target uint32, inline bool) {
	vm := &state.Pod{Namespace: we.Namespace, Name: "WorkloadEntry " + we.Name, Labels: we.Labels, Sidecar: we.Meshed, Ready: we.Healthy}
	t.add(vm.Name, vm, we.Healthy, target)
	if inline {
		t.f.Inline++
	} else {
		t.f.Entries++
	}
}

// result is the destination's failure and failing share once every endpoint
// is counted; the host is reached when some Ready endpoint takes the traffic.
func (t *tally) result(p *Path, fqdn string) (Failure, float64) {
	f := t.f
	f.Accepts = t.accepts
	if f.Ready == 0 {
		f.Cause = NoReady
		return f, 1
	}
	if len(t.bad) == 0 {
		p.reach(fqdn)
		return f, 0
	}
	if len(t.bad) < f.Ready {
		p.reach(fqdn)
	}
	slices.Sort(t.bad)
	f.Cause, f.Bad, f.Pods = t.cause, len(t.bad), t.bad[:min(len(t.bad), examples)]
	return f, float64(len(t.bad)) / float64(f.Ready)
}

// workloadLabels are the labels standing for a client class's proxies in a
// DestinationRule's workloadSelector: a sidecar class's selectors; for a
// gateway, the labels its Gateway selects its pods by (an Istio Gateway's
// selector, the gateway-name label of the pods Istio deploys for a Gateway
// API Gateway), so that a rule selecting the gateway applies to it.
func (m Model) workloadLabels(s state.Snapshot, c Client) map[string]string {
	if c.Gateway == "" {
		return c.labels()
	}
	gw := m.gateway(s, c.Gateway)
	switch {
	case gw == nil:
		return nil
	case gw.Kubernetes:
		return map[string]string{"gateway.networking.k8s.io/gateway-name": gw.Name}
	}
	return gw.Selector
}

// entryPort is the port of a WorkloadEntry behind Service port sp: the
// entry's port named like sp, else the Service's numeric target port, else
// its port (a target port named for pods names nothing on a VM: 0).
func entryPort(sp state.ServicePort, we *state.WorkloadEntry) uint32 {
	if p, ok := we.Ports[sp.Name]; ok && sp.Name != "" {
		return p
	}
	switch {
	case sp.TargetPortName != "":
		return 0
	case sp.TargetPort != 0:
		return uint32(sp.TargetPort)
	}
	return uint32(sp.Port)
}

func servicePort(svc *state.Service, port uint32) (state.ServicePort, bool) {
	for _, sp := range svc.Ports {
		if uint32(sp.Port) == port {
			return sp, true
		}
	}
	return state.ServicePort{}, false
}

// clientTLS is the TLS setting the client's rule applies to a subset and
// port: the subset's own policy over the rule's, port-level over top-level
// (pilot/pkg/networking/core/cluster_traffic_policy.go); nil: auto mTLS.
//
// Without one, auto mTLS decides; but istiod first infers the Service's mode
// from the PeerAuthentication of its namespace (or the mesh), ignoring
// workload policies (push_context.go BestEffortInferServiceMTLSMode): when
// that is DISABLE, the client's cluster sends plaintext to every endpoint.
func (m Model) clientTLS(s state.Snapshot, rs mesh.RuleSet, svc *state.Service, subset string, port uint32) *TLSChoice {
	if choice := m.ruleTLS(rs, subset, port); choice != nil {
		return choice
	}
	return m.inferredTLS(s, svc.Namespace)
}

// inferredTLS is the plaintext clients' auto mTLS infers from a namespace
// (or mesh) mode DISABLE over the destination's namespace, or nil.
func (m Model) inferredTLS(s state.Snapshot, ns string) *TLSChoice {
	if eff := m.Policies.NamespaceMode(s, ns); eff.Mode == state.ModeDisable {
		return &TLSChoice{Inferred: eff.Source, Setting: mesh.TLSSetting{TLS: &state.ClientTLS{Mode: "DISABLE"}}}
	}
	return nil
}

func (m Model) ruleTLS(rs mesh.RuleSet, subset string, port uint32) *TLSChoice {
	if !rs.Found() {
		return nil
	}
	var choice *TLSChoice
	owner := rs.PolicyOwner()
	for _, dr := range rs.Rules {
		for _, t := range mesh.TLSSettings(dr) {
			switch {
			case t.Subset == "" && dr != owner:
				continue // only the oldest rule's top-level policy survives the merge
			case t.Subset != "" && t.Subset != subset:
				continue
			case t.Subset != "":
				if _, from := rs.Subset(subset); from != dr {
					continue
				}
			}
			if t.Port != 0 && t.Port != port {
				continue
			}
			if choice == nil || rank(t) > rank(choice.Setting) {
				choice = &TLSChoice{Rule: dr, Setting: t}
			}
		}
	}
	return choice
}

// rank orders settings by precedence: subset over top level, port-level
// over the whole host.
func rank(t mesh.TLSSetting) int {
	r := 0
	if t.Subset != "" {
		r += 2
	}
	if t.Port != 0 {
		r++
	}
	return r
}

// accepts reports why the server pod refuses what the client sends to its
// target port, if it does: Istio mTLS to a pod without a proxy, plaintext to
// a proxy enforcing STRICT (a gateway or waypoint enforces none). Auto mTLS sends mTLS exactly to pods with a
// sidecar (their endpoints carry tlsMode istio), which always works.
//
// A port left out of interception (traffic.sidecar.istio.io/
// excludeInboundPorts) reaches the application around Envoy: it takes
// plaintext, and Istio mTLS to it fails — auto mTLS included, since the
// endpoint still carries tlsMode istio (unless its mode there is DISABLE,
// for which istiod drops that label: endpoints/mtls_checker.go).
func (m Model) accepts(s state.Snapshot, pod *state.Pod, target uint32, tls *TLSChoice) (Cause, *state.PeerAuthentication) {
	if pod.Router {
		// A gateway's listeners are its Gateway's servers (plaintext or TLS
		// as they say), not PeerAuthentication's: neither cause applies.
		return 0, nil
	}
	meshed := pod.Sidecar || mesh.Ambient(pod, s.Namespace(pod.Namespace))
	intercepted := !pod.Sidecar || pod.InboundIntercepted(target)
	if tls == nil {
		if pod.Sidecar && !intercepted && m.Policies.WorkloadMode(s, pod.Namespace, pod.Labels, target).Mode != state.ModeDisable {
			return MTLSToPlain, nil
		}
		return 0, nil
	}
	switch tls.Setting.TLS.Mode {
	case "ISTIO_MUTUAL":
		if !meshed || !intercepted {
			return MTLSToPlain, nil
		}
		// A port whose mode is DISABLE gets only a plaintext filter chain:
		// the proxy cannot terminate mTLS there. (Auto mTLS never meets
		// this: istiod drops the endpoint's tlsMode label for it.)
		if pod.Sidecar {
			if eff := m.Policies.WorkloadMode(s, pod.Namespace, pod.Labels, target); eff.Mode == state.ModeDisable {
				return MTLSToPlain, eff.Source
			}
		}
	case "DISABLE":
		if !meshed || !intercepted {
			return 0, nil
		}
		if eff := m.Policies.WorkloadMode(s, pod.Namespace, pod.Labels, target); eff.Mode == state.ModeStrict {
			return PlainToStrict, eff.Source
		}
	}
	return 0, nil
}

// authorizes decides whether the server pod's AuthorizationPolicies let
// the client class through on its target port, as the caller arrives: with
// its peer identity when it sends Istio mTLS the sidecar terminates (auto
// mTLS to an endpoint whose port is not DISABLE, or ISTIO_MUTUAL), else
// with none (tls DISABLE, SIMPLE or MUTUAL with certificates of its own,
// or auto mTLS turned off by a DISABLE port: istiod drops the endpoint's
// tlsMode label, pilot/pkg/xds/endpoints/mtls_checker.go checkMtlsEnabled).
// The RBAC filter matches principals and namespaces against the
// connection's authenticated peer principal only (pilot/pkg/security/authz/
// model/generator.go srcPrincipalGenerator and srcNamespaceGenerator, the
// latter as ".*/ns/<ns>/.*", both through principalAuthenticated), so a
// caller without mTLS matches no principals or namespaces. Only sidecars
// that intercept the port run the filter (the listener builder's
// authzBuilder, pilot/pkg/networking/core/listener_builder.go); ambient
// pods are left to ztunnel, not judged.
func (m Model) authorizes(s state.Snapshot, pod *state.Pod, target uint32, tls *TLSChoice, c authz.Caller, tcp bool) authz.Verdict {
	if !pod.Sidecar || pod.Router || !pod.InboundIntercepted(target) {
		return authz.Verdict{}
	}
	policies := authz.ApplyingTo(s, m.Routing.RootNamespace(), pod)
	if !authz.Enforcing(policies) {
		return authz.Verdict{}
	}
	if tls == nil {
		c.MTLS = m.Policies.WorkloadMode(s, pod.Namespace, pod.Labels, target).Mode != state.ModeDisable
	} else {
		c.MTLS = tls.Setting.TLS.Mode == "ISTIO_MUTUAL"
	}
	return authz.Evaluate(policies, authz.Request{Caller: c, Port: target, TCP: tcp}, m.TrustDomain)
}

// gatewayRefuses says why the gateway of a gateway path no longer takes the
// route's requests for the host on the path's port ("": it does). istiod
// gives a gateway proxy the servers of the Gateways whose selector matches
// it, and a route's virtual host only on servers whose hosts accept the
// VirtualService's host for its namespace (pilot/pkg/networking/core/
// gateway.go, buildGatewayHTTPRouteConfig; pilot/pkg/model/gateway.go
// MergeGateways): without one, requests get 404 (another server on the
// port) or the connection is refused (none).
func (m Model) gatewayRefuses(s state.Snapshot, p *Path, t Target, vs *state.VirtualService) string {
	if t.Gateway == "" || vs == nil {
		return ""
	}
	gw := m.gateway(s, t.Gateway)
	if gw == nil {
		return "Gateway " + t.Gateway + " does not exist"
	}
	if !slices.Contains(m.gatewayNamespaces(s, t.Gateway), p.Client.Namespace) {
		return fmt.Sprintf("Gateway %s selects no gateway pod in %s", t.Gateway, p.Client.Namespace)
	}
	onPort := mesh.RouteServers(s, gw, t.Gateway, vs, p.Port)
	if !mesh.GatewayServesHost(onPort, t.Host, vs.Namespace) {
		switch {
		case gw.Kubernetes && vs.Kind != "" && len(onPort.Servers) == 0:
			return listenerRefuses(gw, t.Gateway, vs, p.Port)
		case gw.Kubernetes:
			return fmt.Sprintf("no listener of Gateway %s accepts %s on port %d for routes of %s", t.Gateway, t.Host, p.Port, vs.Namespace)
		}
		return fmt.Sprintf("no server of Gateway %s accepts %s on port %d", t.Gateway, t.Host, p.Port)
	}
	return ""
}

// listenerRefuses says why no listener of a Gateway API Gateway on port
// admits a translated route (see mesh.RouteServers).
func listenerRefuses(gw *state.Gateway, key string, vs *state.VirtualService, port uint32) string {
	var names []string
	for _, srv := range gw.Servers {
		if srv.Port == port && srv.Listener != nil {
			names = append(names, srv.Listener.Name)
		}
	}
	if len(names) == 0 {
		return fmt.Sprintf("Gateway %s has no listener on port %d", key, port)
	}
	return fmt.Sprintf("no listener of Gateway %s on port %d (%s) admits %s %s/%s: its parentRef's sectionName or port, or the listener's protocol or allowedRoutes, exclude it",
		key, port, strings.Join(names, ", "), vs.Kind, vs.Namespace, vs.Name)
}

// vsHosts are a VirtualService's hosts as istiod indexes them (short names
// expanded in its namespace).
func (m Model) vsHosts(vs *state.VirtualService) []string {
	out := make([]string, len(vs.Hosts))
	for i, h := range vs.Hosts {
		out[i] = m.Routing.Hosts.FQDN(h, vs.Namespace)
	}
	return out
}

// hostNamespace is the namespace of what registers a sidecar's target host:
// its Service's, or that of the first ServiceEntry visible to clientNS
// (Other: exported everywhere) that names it; "" when nothing does.
func (m Model) hostNamespace(s state.Snapshot, host, clientNS string) string {
	if ns, _, ok := m.Routing.Hosts.ServiceName(host); ok {
		return ns
	}
	for _, se := range s.ServiceEntries() {
		if slices.Contains(se.Hosts, host) && mesh.EntryVisible(se.ExportTo, se.Namespace, clientNS) {
			return se.Namespace
		}
	}
	return ""
}

// imported applies the Sidecar that governs the path's client, if any, to
// the target (pilot/pkg/model/sidecar.go; see mesh.SidecarFor and
// mesh.SidecarImport). A host its egress listeners import is judged as
// before. A host they do not import has no outbound listener or virtual host
// on that proxy: under REGISTRY_ONLY the call goes to the BlackHoleCluster
// (502), a failure of the whole path (NotImported, false). Under ALLOW_ANY
// it goes to the PassthroughCluster, to the original destination address,
// in plaintext and past every VirtualService and DestinationRule; whether
// it arrives depends on DNS and the server, which meshguard does not judge,
// nor when the mode is the mesh config's and meshguard is not told it, nor
// when only port-bound egress listeners could import the host, nor when an
// imported VirtualService names the host (istiod may still build it a
// virtual host): the path is left without routes, not judged (false).
func (m Model) imported(s state.Snapshot, p *Path, t Target) bool {
	c := p.Client
	sc := m.Routing.SidecarFor(s, c.Namespace, c.labels())
	if sc == nil {
		return true
	}
	hostNS := m.hostNamespace(s, t.Host, c.Namespace)
	if hostNS == "" {
		return true // nothing registers the host: routes judges it
	}
	switch mesh.SidecarImport(sc, c.Namespace, hostNS, t.Host, p.Port) {
	case mesh.Imported:
		return true
	case mesh.ImportUnjudged:
		return false
	}
	// An imported VirtualService for a host whose service is not imported
	// gets virtual hosts only from the egress listener's services
	// (route/route.go buildSidecarVirtualHostsForVirtualService, whose
	// serviceRegistry is egressListener.Services()): none, except on port
	// 80 (the "HACK" there), where its routes still apply: not judged.
	if p.Port == 80 {
		for _, vs := range s.VirtualServicesOnMesh(t.Host) {
			if vsRank(vs, c.Namespace) >= 0 && mesh.VirtualServiceImported(sc, c.Namespace, vs.Namespace, m.vsHosts(vs)) {
				return false
			}
		}
	}
	if mesh.Outbound(sc, m.MeshOutbound) != state.RegistryOnly || (sc.Outbound == "" && m.MeshOutbound == "") {
		return false
	}
	p.Routed = true
	p.FailShare = 100
	p.route("sidecar", 100)
	res := m.Routing.Hosts.Resolve(s, t.Host, c.Namespace)
	f := Failure{Cause: NotImported, Share: 100, Host: t.Host, Dest: state.Destination{Host: t.Host, Port: p.Port}, Port: p.Port,
		Sidecar: sc, Service: res.Service, Entry: res.Entry}
	p.Failures = append(p.Failures, f)
	if m.Explain {
		p.Hops = append(p.Hops, hopOf("sidecar", 1, f, 1))
	}
	return false
}
