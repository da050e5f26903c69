// Package paths models who can reach what: for a set of hosts, every class
// of client proxy (sidecars per namespace whose view can differ, one class
// for every other namespace with sidecars, each gateway) and every port,
// the route istiod would give that client, the clusters it sends to, whether
// the client's DestinationRule lookup defines them, how much of the traffic
// reaches a Ready endpoint, and whether what the client sends (its rule's
// TLS mode, or auto mTLS by the endpoint's sidecar) is what the server
// accepts (its effective PeerAuthentication mode per port).
//
// A write is judged by the paths of the hosts it touches, before and after
// (Diff): a path that worked and fails, or whose failing share grows, is
// broken by the write. This is what istiod generates for the proxies, and
// test/oracle checks it against istiod itself.
package paths

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/meshguard/meshguard/pkg/authz"
	"github.com/meshguard/meshguard/pkg/mesh"
	"github.com/meshguard/meshguard/pkg/state"
)

// Cause is why traffic on a path fails.
type Cause int

// Causes, each the family of a catalogue rule.
const (
	// NoHost: the destination host resolves to no Service or ServiceEntry;
	// the proxy has no such cluster (503).
	NoHost Cause = iota + 1
	// NoPort: the destination Service has no such port (503).
	NoPort
	// NoSubset: the client's DestinationRule lookup does not define the
	// subset, so its proxy has no such cluster (503 NC).
	NoSubset
	// NoReady: no Ready endpoint behind the cluster (503 UH).
	NoReady
	// MTLSToPlain: the client sends Istio mTLS (ISTIO_MUTUAL) to servers
	// without a proxy to terminate it.
	MTLSToPlain
	// PlainToStrict: the client sends plaintext (tls DISABLE) to servers
	// whose proxies enforce STRICT on that port.
	PlainToStrict
	// NoGateway: the gateway a route is bound to no longer accepts the host
	// on the port (no such Gateway, no gateway pod it selects, no server for
	// the host there): requests get 404, or the connection is refused.
	NoGateway
	// Unresolved: an HTTPRoute's backendRef resolves to nothing Istio can
	// send to (a kind other than Service, no port, or another namespace's
	// Service no ReferenceGrant there permits): istiod drops it and the
	// requests it would have taken get 500, as the Gateway API requires
	// (pilot/pkg/config/kube/gateway/conversion.go, buildDestination).
	Unresolved
	// NotImported: the Sidecar that applies to the client imports no such
	// host on the port and its outbound policy is REGISTRY_ONLY: the call
	// goes to the BlackHoleCluster (502).
	NotImported
	// DeniedByPolicy: the server's AuthorizationPolicies refuse every
	// request of the client class as it now arrives (403, or the
	// connection closed on a TCP port): typically mTLS turned off under a
	// policy that requires a principal or namespace (see pkg/authz).
	DeniedByPolicy
)

func (c Cause) String() string {
	return [...]string{"", "no-host", "no-port", "no-subset", "no-ready-endpoint", "mtls-to-no-proxy", "plaintext-to-strict", "no-gateway-server", "backend-not-resolved", "not-imported", "denied-by-policy"}[c]
}

// Client is one class of proxies that see the same configuration for the
// hosts judged.
type Client struct {
	// Gateway is "ns/name" of the gateway the proxies run; empty for sidecars.
	Gateway string
	// Namespace is where the proxies run (their DestinationRule lookup and
	// exportTo visibility). For sidecars, Other stands for every namespace
	// with sidecars that holds no rule or route of its own for the hosts.
	Namespace string
	// Workload is the union of the workloadSelectors ("app=a,version=v1")
	// of the DestinationRules that select these sidecars, where the
	// namespace holds such rules for the host: its proxies then split into
	// one class per set of selecting rules and one (empty) for those no rule
	// selects.
	Workload string
}

// labels are the workload labels standing for the class: the union of the
// selectors of the rules that select its pods, nil for sidecars no rule
// selects.
func (c Client) labels() map[string]string {
	if c.Workload == "" {
		return nil
	}
	out := map[string]string{}
	for _, kv := range strings.Split(c.Workload, ",") {
		k, v, _ := strings.Cut(kv, "=")
		out[k] = v
	}
	return out
}

// selectorKey renders a workloadSelector as a Client's Workload.
func selectorKey(sel map[string]string) string {
	keys := make([]string, 0, len(sel))
	for k := range sel {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for i, k := range keys {
		keys[i] = k + "=" + sel[k]
	}
	return strings.Join(keys, ",")
}

// Other is the namespace of the class of all other sidecars.
const Other = ""

func (c Client) String() string {
	switch {
	case c.Gateway != "":
		return "gateway " + c.Gateway + " (" + c.Namespace + ")"
	case c.Namespace == Other:
		return "sidecars in namespaces without a route or rule of their own for it"
	case c.Workload != "":
		return "sidecars in " + c.Namespace + " selected by " + c.Workload
	default:
		return "sidecars in " + c.Namespace
	}
}

// Failure is one destination of a route that fails for some of its traffic.
type Failure struct {
	Cause Cause
	// Share is the percentage of the route's traffic that fails here.
	Share int
	// VS routes there (nil: the default route of the host); Field is the
	// destination's path in it.
	VS    *state.VirtualService
	Field string
	Dest  state.Destination
	// Host is the destination as Istio resolves it; Service is its Service,
	// or Entry the ServiceEntry that registers it (one of them is set when
	// the host resolves).
	Host    string
	Service *state.Service
	Entry   *state.ServiceEntry
	Port    uint32
	// Rules is what the client's lookup found for the host.
	Rules mesh.RuleSet
	// TLS is the rule setting that decided what the client sends (nil: auto
	// mTLS), Policy the policy that made a refusing server's port STRICT (or
	// DISABLE, against ISTIO_MUTUAL): the first one met, and PolicyBad how
	// many of the Bad pods a policy explains (the others have no proxy that
	// takes the traffic).
	TLS       *TLSChoice
	Policy    *state.PeerAuthentication
	PolicyBad int
	// Live and Ready count the endpoints, Bad the Ready ones that refuse
	// the traffic; Pods names the first few of those. Entries, Inline and
	// Addresses count the live endpoints that are WorkloadEntries, a
	// ServiceEntry's inline endpoints and EndpointSlice addresses no pod
	// holds; the others are pods.
	Live, Ready, Bad           int
	Entries, Inline, Addresses int
	Pods                       []string
	// Sidecar is the Sidecar that applies to the client (NotImported: the
	// one that does not import the host).
	Sidecar *state.Sidecar
	// Detail is the evidence of a cause no object field names (NoGateway:
	// what the gateway lacks; DeniedByPolicy: why the policies refuse).
	Detail string
	// Denier is the AuthorizationPolicy that decides a DeniedByPolicy.
	Denier *state.AuthorizationPolicy
	// Accepts counts the Ready endpoints by what their server accepts on
	// the port (see Accepts*); set only when Model.Explain is.
	Accepts map[string]int
}

// NoReady says what the destination's endpoints are when none is Ready, for
// messages: "no Ready pod (2 running, none Ready)" when they are pods (or
// there are none), else "no Ready endpoint (1 WorkloadEntry, none Ready)",
// naming each kind; noun is what must turn Ready ("pods", "endpoints").
func (f Failure) NoReady() (text, noun string) {
	pods := f.Live - f.Entries - f.Inline - f.Addresses
	if pods == f.Live {
		return fmt.Sprintf("no Ready pod (%d running, none Ready)", f.Live), "pods"
	}
	var parts []string
	if pods > 0 {
		parts = append(parts, count(pods, "pod", "pods")+" running")
	}
	if f.Entries > 0 {
		parts = append(parts, count(f.Entries, "WorkloadEntry", "WorkloadEntries"))
	}
	if f.Inline > 0 {
		parts = append(parts, count(f.Inline, "endpoint", "endpoints")+" of the ServiceEntry")
	}
	if f.Addresses > 0 {
		parts = append(parts, count(f.Addresses, "EndpointSlice address", "EndpointSlice addresses"))
	}
	return "no Ready endpoint (" + strings.Join(parts, ", ") + ", none Ready)", f.Endpoints()
}

// Endpoints names what the destination's endpoints are, for messages:
// "pods", "WorkloadEntries" (VMs), or "endpoints" when they are of several
// kinds or are addresses.
func (f Failure) Endpoints() string {
	switch f.Live - f.Entries - f.Inline - f.Addresses {
	case f.Live:
		return "pods"
	case 0:
		if f.Entries == f.Live {
			return "WorkloadEntries"
		}
	}
	return "endpoints"
}

func count(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// Backend names what the destination host resolves to, for messages:
// "Service ns/name" or "ServiceEntry ns/name" (empty: nothing).
func (f Failure) Backend() string {
	switch {
	case f.Service != nil:
		return "Service " + f.Service.Namespace + "/" + f.Service.Name
	case f.Entry != nil:
		return "ServiceEntry " + f.Entry.Namespace + "/" + f.Entry.Name
	}
	return ""
}

// BackendRef is "ns/name" of the Service or ServiceEntry.
func (f Failure) BackendRef() string {
	ns, name := f.backend()
	return ns + "/" + name
}

// BackendNamespace is the namespace of the Service or ServiceEntry.
func (f Failure) BackendNamespace() string {
	ns, _ := f.backend()
	return ns
}

// BackendPorts are the ports of the Service or ServiceEntry.
func (f Failure) BackendPorts() []state.ServicePort {
	switch {
	case f.Service != nil:
		return f.Service.Ports
	case f.Entry != nil:
		return f.Entry.Ports
	}
	return nil
}

func (f Failure) backend() (ns, name string) {
	switch {
	case f.Service != nil:
		return f.Service.Namespace, f.Service.Name
	case f.Entry != nil:
		return f.Entry.Namespace, f.Entry.Name
	}
	return "", ""
}

// TLSChoice is a client TLS setting and where it is written: a rule's
// setting, or plaintext istiod infers from a namespace or mesh policy with
// mode DISABLE (Rule nil, Inferred that policy).
type TLSChoice struct {
	Rule     *state.DestinationRule
	Inferred *state.PeerAuthentication
	Setting  mesh.TLSSetting
}

// key identifies the failing destination across before and after, whatever
// the cause: traffic that failed one way before (a subset undefined) and
// fails another way after (its pods not Ready) is not newly broken.
// Two VirtualServices on one gateway have the same field paths, so the
// origin object is part of the key.
func (f Failure) key() failureKey {
	k := failureKey{field: f.Field, host: f.Host, subset: f.Dest.Subset, port: f.Port}
	if f.VS != nil {
		k.routed, k.originNS, k.origin = true, f.VS.Namespace, f.VS.Name
	}
	return k
}

// failureKey identifies a failing destination (Failure.key).
type failureKey struct {
	routed                                bool // by a VirtualService (origin)
	originNS, origin, field, host, subset string
	port                                  uint32
}

// Path is what one client class gets calling one host on one port.
type Path struct {
	Client Client
	// Host is the requested host: a Service's name for sidecars, the host a
	// VirtualService binds on a gateway.
	Host string
	Port uint32
	// FailShare is the worst share (percent) of one route's traffic that fails.
	FailShare int
	// Routes holds the failing share (percent, 0: it works) of each route
	// of the path, by the route's key: a write that breaks a second route
	// of a path whose first one already fails is judged by that route.
	Routes   map[string]int
	Failures []Failure
	// Reached are the destination hosts and whether traffic reaches them.
	Reached map[string]bool
	// Routed: the client has a route for the host at all. A gateway has
	// none for a host no VirtualService binds to it: no traffic, not
	// traffic that works.
	Routed bool
	// Hops are every destination of every route, working or not; set only
	// when Model.Explain is (the picture of a path, not its verdict).
	Hops []Hop
}

// Key identifies the path across states.
func (p *Path) Key() string {
	return fmt.Sprintf("%s|%s|%s|%s|%d", p.Client.Gateway, p.Client.Namespace, p.Client.Workload, p.Host, p.Port)
}

// reach records that traffic reaches the destination host.
func (p *Path) reach(host string) {
	if p.Reached == nil {
		p.Reached = map[string]bool{}
	}
	p.Reached[host] = true
}

// route records the failing share of one of the path's routes.
func (p *Path) route(key string, pct int) {
	if p.Routes == nil {
		p.Routes = map[string]int{}
	}
	p.Routes[key] = pct
}

// id is Key as a map key: a write can judge thousands of paths.
func (p *Path) id() pathID { return pathID{client: p.Client, host: p.Host, port: p.Port} }

type pathID struct {
	client Client
	host   string
	port   uint32
}

// Works reports whether every route of the path succeeds.
func (p *Path) Works() bool { return p.FailShare == 0 }

// Model computes paths with Istio's semantics and meshguard's configuration.
type Model struct {
	Routing  mesh.Routing
	Policies mesh.Policies
	// Excluded namespaces hold no clients meshguard judges (the
	// configuration's excludedNamespaces: names, a short list).
	Excluded []string
	// MeshOutbound is the mesh config's outboundTrafficPolicy mode
	// (REGISTRY_ONLY or ALLOW_ANY), "" when meshguard is not told: then a
	// call a Sidecar without a mode of its own does not import is not
	// judged (the mesh config decides between blackhole and passthrough).
	MeshOutbound string
	// TrustDomain is the mesh's trust domain and its aliases, the first
	// part of the principals AuthorizationPolicies name.
	TrustDomain authz.TrustDomain
	// Explain records, besides the verdict, every destination of a path
	// (Path.Hops) and what its endpoints accept (Failure.Accepts): what
	// `meshguard paths` and the pictures of a check draw. Reviews leave it
	// off: it costs a policy lookup per Ready endpoint.
	Explain bool
}

// Target is a requested host on sidecars (Gateway empty) or on one gateway.
type Target struct {
	Gateway string
	Host    string
}

// Scope is what a write touches: the requested hosts whose paths can change.
type Scope struct {
	targets map[Target]bool
	// sorted is Targets' answer until the next Add.
	sorted []Target
	// sidecarsOf, when set, limits the clients judged to the sidecars of
	// that namespace (a Sidecar write changes no other proxy's view).
	sidecarsOf *string
}

// OnlySidecarsOf limits the clients judged to the sidecars of ns: a Sidecar
// outside the root namespace governs no other proxy (getSidecarScope), so
// the paths of other classes cannot change.
func (sc *Scope) OnlySidecarsOf(ns string) { sc.sidecarsOf = &ns }

// NewScope returns an empty scope.
func NewScope() *Scope { return &Scope{targets: map[Target]bool{}} }

// Add puts a target in the scope.
func (sc *Scope) Add(t Target) {
	if !sc.targets[t] {
		sc.targets[t] = true
		sc.sorted = nil
	}
}

// Empty reports whether nothing is in scope.
func (sc *Scope) Empty() bool { return len(sc.targets) == 0 }

// Targets lists the targets, sorted (callers must not modify the list).
func (sc *Scope) Targets() []Target {
	if sc.sorted != nil {
		return sc.sorted
	}
	out := make([]Target, 0, len(sc.targets))
	for t := range sc.targets {
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Gateway != out[j].Gateway {
			return out[i].Gateway < out[j].Gateway
		}
		return out[i].Host < out[j].Host
	})
	sc.sorted = out
	return out
}

// AddVirtualService puts every host vs binds in the scope: its hosts for
// sidecars when it applies to them, and on each gateway it names.
func (m Model) AddVirtualService(sc *Scope, vs *state.VirtualService) {
	if vs == nil {
		return
	}
	for _, h := range vs.Hosts {
		if state.OnMesh(vs) {
			sc.Add(Target{Host: m.Routing.Hosts.FQDN(h, vs.Namespace)})
		}
		for _, g := range vs.Gateways {
			if g != "mesh" {
				sc.Add(Target{Gateway: state.GatewayKey(g, vs.Namespace), Host: h})
			}
		}
	}
}

// AddGatewayRoutes puts in scope the hosts vs serves on the gateway key
// ("ns/name"), when it is bound to it.
func (m Model) AddGatewayRoutes(sc *Scope, vs *state.VirtualService, key string) {
	if !slices.ContainsFunc(vs.Gateways, func(g string) bool { return state.GatewayKey(g, vs.Namespace) == key }) {
		return
	}
	for _, h := range vs.Hosts {
		sc.Add(Target{Gateway: key, Host: h})
	}
}

// AddRoutedHosts puts in scope the sidecars' own paths to each host vs
// routes to, without what else routes there: whether those hosts were
// reached before tells a write that breaks working traffic from a fresh
// install's first route.
func (m Model) AddRoutedHosts(sc *Scope, vs *state.VirtualService) {
	if vs == nil {
		return
	}
	vs.Destinations(func(_ string, d state.Destination, _ []state.Destination, mirror bool) bool {
		if !mirror && d.Host != "" {
			sc.Add(Target{Host: m.Routing.Hosts.FQDN(d.Host, vs.Namespace)})
		}
		return true
	})
}

// AddDestination puts a destination host in scope: its own default route
// for sidecars and every host whose VirtualServices route to it, in s.
func (m Model) AddDestination(sc *Scope, s state.Snapshot, fqdn string) {
	sc.Add(Target{Host: fqdn})
	for _, vs := range s.VirtualServicesRouting(fqdn) {
		m.AddVirtualService(sc, vs)
	}
}

// Paths computes the paths of every target of sc in s, for the clients of
// clients on the ports of ports (both computed once for both sides of a
// write, so that keys match).
func (m Model) Paths(s state.Snapshot, clients map[Target][]Client, ports map[Target][]uint32, sc *Scope) []Path {
	n := 0
	for _, t := range sc.Targets() {
		n += len(clients[t]) * len(ports[t])
	}
	out := make([]Path, 0, n) // sized once: a write can judge thousands
	for _, t := range sc.Targets() {
		for _, c := range clients[t] {
			if c.Gateway == "" && c.Namespace == Other && !m.othersExist(s, t, clients[t]) {
				continue
			}
			for _, port := range ports[t] {
				p := Path{Client: c, Host: t.Host, Port: port}
				m.judge(s, &p, t)
				out = append(out, p)
			}
		}
	}
	return out
}

// Ports lists, for each target of sc, its listener ports in any of states: a
// port a write removes is judged on both sides (calls to it fail after).
func (m Model) Ports(sc *Scope, states ...state.Snapshot) map[Target][]uint32 {
	out := map[Target][]uint32{}
	for _, t := range sc.Targets() {
		var ports []uint32
		for _, s := range states {
			for _, p := range m.ports(s, t) {
				if !slices.Contains(ports, p) {
					ports = append(ports, p)
				}
			}
		}
		slices.Sort(ports)
		out[t] = ports
	}
	return out
}

// ports are the listener ports of a target: the Service's for sidecars, the
// HTTP servers' of the gateway that accept the host.
func (m Model) ports(s state.Snapshot, t Target) []uint32 {
	if t.Gateway == "" {
		// A sidecar's listeners for the host: its Service's ports, or those
		// of the ServiceEntries registering it; any other host is not judged.
		var out []uint32
		for _, sp := range m.hostPorts(s, t.Host) {
			if !slices.Contains(out, uint32(sp.Port)) {
				out = append(out, uint32(sp.Port))
			}
		}
		return out
	}
	gw := m.gateway(s, t.Gateway)
	if gw == nil {
		return nil
	}
	var out []uint32
	for _, srv := range gw.Servers {
		if httpProtocol(srv.Protocol) && !slices.Contains(out, srv.Port) {
			out = append(out, srv.Port)
		}
	}
	return out
}

func (m Model) gateway(s state.Snapshot, key string) *state.Gateway {
	ns, name, _ := strings.Cut(key, "/")
	if gw := s.Gateway(ns, name); gw != nil {
		return gw
	}
	return s.KubeGateway(ns, name)
}

func httpProtocol(p string) bool {
	switch strings.ToUpper(p) {
	case "HTTP", "HTTPS", "HTTP2", "GRPC", "":
		return true
	}
	return false
}

// Clients lists, for each target of sc, the client classes that call it,
// from both states of a write (a class present on one side only still gets
// a path on both, so that nothing is compared with nothing).
func (m Model) Clients(sc *Scope, states ...state.Snapshot) map[Target][]Client {
	classesIn := m.classFinders(sc, states)
	out := map[Target][]Client{}
	for _, t := range sc.Targets() {
		var cs []Client
		for _, classes := range classesIn {
			for _, c := range classes(t) {
				if sc.sidecarsOf != nil && (c.Gateway != "" || c.Namespace != *sc.sidecarsOf) {
					continue
				}
				if !slices.Contains(cs, c) {
					cs = append(cs, c)
				}
			}
		}
		sort.Slice(cs, func(i, j int) bool { return cs[i].String() < cs[j].String() })
		out[t] = cs
	}
	return out
}

// classFinders gives, for each state that can add a class, how to find a
// target's classes there. A scope kept to one namespace's sidecars (a
// Sidecar write) needs not collect every namespace's view of each host: a
// state where the namespace holds a Sidecar gives it a view of its own of
// every host (views), so its classes are found directly (ownClasses). A
// state where it holds none adds no class when another state holds only
// Sidecars without workloadSelector there: both split the namespace by the
// same selector DestinationRules (the write changes no rule, route or pod),
// so its classes, if any, are already the other state's.
func (m Model) classFinders(sc *Scope, states []state.Snapshot) []func(Target) []Client {
	var out []func(Target) []Client
	if sc.sidecarsOf == nil {
		for _, s := range states {
			out = append(out, func(t Target) []Client { return m.clientsOf(s, t) })
		}
		return out
	}
	ns := *sc.sidecarsOf
	holds, selects := make([]bool, len(states)), false
	for i, s := range states {
		own := state.SidecarsOf(s.Sidecars(), ns)
		holds[i] = len(own) > 0
		selects = selects || slices.ContainsFunc(own, func(c *state.Sidecar) bool { return c.HasSelector })
	}
	covered := !selects && slices.Contains(holds, true)
	for i, s := range states {
		switch {
		case holds[i]:
			out = append(out, func(t Target) []Client { return m.ownClasses(s, t, ns) })
		case !covered:
			out = append(out, func(t Target) []Client { return m.clientsOf(s, t) })
		}
	}
	return out
}

// ownClasses are the classes of ns's sidecars among t's clients in s, a
// state where ns holds a Sidecar: what clientsOf gives there, kept to ns.
func (m Model) ownClasses(s state.Snapshot, t Target, ns string) []Client {
	if t.Gateway != "" {
		return nil
	}
	if _, found := slices.BinarySearch(s.NamespacesWithSidecarClients(), ns); !found || m.excluded(ns) {
		return nil
	}
	return m.workloadClasses(s, ns, func() []string { return m.dests(s, t.Host, s.VirtualServicesOnMesh(t.Host)) })
}

func (m Model) clientsOf(s state.Snapshot, t Target) []Client {
	if t.Gateway != "" {
		var out []Client
		for _, ns := range m.gatewayNamespaces(s, t.Gateway) {
			out = append(out, Client{Gateway: t.Gateway, Namespace: ns})
		}
		return out
	}
	views, dests := m.views(s, t)
	sidecars := s.NamespacesWithSidecarClients()
	var out []Client
	for ns := range views {
		if _, found := slices.BinarySearch(sidecars, ns); found && !m.excluded(ns) {
			out = append(out, m.workloadClasses(s, ns, func() []string { return dests })...)
		}
	}
	if m.others(sidecars, views) > 0 {
		out = append(out, Client{Namespace: Other})
	}
	return out
}

// dests are a host and the hosts its VirtualServices on the mesh (onMesh)
// send to.
func (m Model) dests(s state.Snapshot, host string, onMesh []*state.VirtualService) []string {
	dests := []string{host}
	for _, vs := range onMesh {
		for _, h := range state.RoutedHosts(vs, s.ResolveHost) {
			if !slices.Contains(dests, h) {
				dests = append(dests, h)
			}
		}
	}
	return dests
}

// others counts the reviewed namespaces with sidecars that resolve a host
// alike: no rule or route of their own, and named by no exportTo (views).
// Excluded ones are counted from the short exclusion list, not by walking
// every namespace.
func (m Model) others(sidecars []string, views map[string]bool) int {
	n := len(sidecars)
	for ns := range views {
		if _, found := slices.BinarySearch(sidecars, ns); found {
			n--
		}
	}
	for i, ns := range m.Excluded {
		if _, found := slices.BinarySearch(sidecars, ns); found && !views[ns] && slices.Index(m.Excluded, ns) == i {
			n--
		}
	}
	return n
}

func (m Model) excluded(ns string) bool { return slices.Contains(m.Excluded, ns) }

// views are the namespaces whose sidecars' view of a host can differ: those
// holding a route or a rule for it or for its destinations, and those their
// exportTo names; dests are the host and the hosts its routes send to.
func (m Model) views(s state.Snapshot, t Target) (views map[string]bool, dests []string) {
	views = map[string]bool{}
	addExports := func(exportTo []string) {
		for _, e := range exportTo {
			if e != "." && e != "*" && e != "~" {
				views[e] = true
			}
		}
	}
	onMesh := s.VirtualServicesOnMesh(t.Host)
	dests = m.dests(s, t.Host, onMesh)
	for _, vs := range onMesh {
		views[vs.Namespace] = true
		addExports(vs.ExportTo)
	}
	// Sidecars: a namespace holding one imports on its own terms; under a
	// root namespace Sidecar, the host's own namespace imports it by ".".
	if all := s.Sidecars(); len(all) > 0 {
		for _, sc := range all {
			views[sc.Namespace] = true
		}
		if ns := m.hostNamespace(s, t.Host, ""); ns != "" {
			views[ns] = true
		}
	}
	for _, d := range dests {
		for _, ns := range s.DestinationRuleNamespaces(d) {
			views[ns] = true
			for _, dr := range s.DestinationRules(ns) {
				addExports(dr.ExportTo)
			}
		}
	}
	return views, dests
}

// othersExist reports whether, in s, some reviewed namespace with sidecars
// holds no view of its own of t's host: whether the class Other stands for
// any proxy there. A class present in one state only still gets paths in
// both, but Other empty in a state (its last namespace gained a route or
// rule of its own) has no proxy to judge. A namespace with a class of its
// own among clients (drawn for both sides) is not in Other either: a
// VirtualService deleted from it leaves its sidecars judged by their own
// class, not counted again as new callers (the oracle's judge found such a
// delete denied for a path that failed as much before).
func (m Model) othersExist(s state.Snapshot, t Target, clients []Client) bool {
	views, _ := m.views(s, t)
	for _, c := range clients {
		if c.Gateway == "" && c.Namespace != Other && !views[c.Namespace] {
			views[c.Namespace] = true
		}
	}
	return m.others(s.NamespacesWithSidecarClients(), views) > 0
}

// workloadClasses splits the sidecars of ns by the DestinationRules with a
// workloadSelector that ns holds for the hosts: a class per set of rules
// that select some live sidecar, and one for the sidecars none selects. Without such rules ns is one class. The
// pods of ns are walked only when it holds such rules, so the classes are
// bounded by those rules.
func (m Model) workloadClasses(s state.Snapshot, ns string, hosts func() []string) []Client {
	var sels []*state.DestinationRule
	if slices.ContainsFunc(s.DestinationRules(ns), func(dr *state.DestinationRule) bool { return len(dr.WorkloadSelector) > 0 }) {
		for _, h := range hosts() {
			for _, dr := range m.Routing.SelectorRules(s, ns, h) {
				if !slices.Contains(sels, dr) {
					sels = append(sels, dr)
				}
			}
		}
	}
	// Sidecars with a workloadSelector split the namespace's sidecars as
	// selector rules do (getSidecarScope picks by the workload's labels).
	var scSels []map[string]string
	for _, sc := range mesh.SelectorSidecars(s, ns) {
		scSels = append(scSels, sc.Selector)
	}
	if len(sels) == 0 && len(scSels) == 0 {
		return []Client{{Namespace: ns}}
	}
	state.SortDestinationRules(sels)
	seen := map[string]bool{}
	var out []Client
	s.ForEachPod(ns, func(p *state.Pod) bool {
		if !p.Sidecar || p.Router || p.Finished() {
			return true
		}
		// The union of the selectors that match the pod stands for it: a
		// rule matches the union exactly when it matches the pod.
		union := map[string]string{}
		for _, dr := range sels {
			if state.SelectorMatches(dr.WorkloadSelector, p.Labels) {
				maps.Copy(union, dr.WorkloadSelector)
			}
		}
		for _, sel := range scSels {
			if state.SelectorMatches(sel, p.Labels) {
				maps.Copy(union, sel)
			}
		}
		key := selectorKey(union)
		if !seen[key] {
			seen[key] = true
			out = append(out, Client{Namespace: ns, Workload: key})
		}
		return true
	})
	return out
}

// gatewayNamespaces are the namespaces of the pods a gateway runs on: those
// an Istio Gateway's selector picks among the gateway pods; a Gateway API
// Gateway's own namespace (its controller deploys it there).
func (m Model) gatewayNamespaces(s state.Snapshot, key string) []string {
	ns, name, _ := strings.Cut(key, "/")
	gw := s.Gateway(ns, name)
	if gw == nil {
		if s.KubeGateway(ns, name) != nil {
			return []string{ns}
		}
		return nil
	}
	if len(gw.Selector) == 0 {
		return nil
	}
	var out []string
	for _, gns := range s.NamespacesWithGateways() {
		found := false
		s.ForEachPod(gns, func(p *state.Pod) bool {
			if !p.Finished() && p.Sidecar && state.SelectorMatches(gw.Selector, p.Labels) {
				found = true
				return false
			}
			return true
		})
		if found {
			out = append(out, gns)
		}
	}
	return out
}

// Reads are the kinds of cluster state the path model reads (a rule reading
// Input.Traffic reads these).
var Reads = []state.Kind{state.NamespaceKind, state.PodKind, state.ServiceKind, state.PeerAuthenticationKind,
	state.DestinationRuleKind, state.VirtualServiceKind, state.GatewayKind, state.KubeGatewayKind, state.HTTPRouteKind, state.GRPCRouteKind, state.ReferenceGrantKind, state.ServiceEntryKind,
	state.EndpointSliceKind, state.WorkloadEntryKind, state.SidecarKind, state.AuthorizationPolicyKind}

// AddSidecar puts in scope the hosts whose import a Sidecar write can
// change for the proxies it governs: every Service and ServiceEntry host
// that old, new, or the Sidecar those proxies fall back to without it (the
// namespace's own without selector, then the root namespace's: see
// mesh.SidecarFor) do not all import alike on every port. A Sidecar is
// configuration for every host, so this walks the Services and entries
// once (string matching, no pods); the paths judged are those of the hosts
// that change.
func (m Model) AddSidecar(sc *Scope, s state.Snapshot, ns, name string, old, nu *state.Sidecar) {
	root := ns == m.Routing.RootNamespace()
	if !root {
		sc.OnlySidecarsOf(ns)
	}
	var fallback *state.Sidecar
	for _, c := range []*state.Sidecar{old, nu} {
		if c == nil || !c.HasSelector {
			continue
		}
		// What the selected workloads get without it: the namespace's
		// default, else the root's.
		for _, o := range state.SidecarsOf(s.Sidecars(), ns) {
			if !o.HasSelector && o.Name != name {
				fallback = o
				break
			}
		}
		if fallback == nil && !root {
			for _, o := range state.SidecarsOf(s.Sidecars(), m.Routing.RootNamespace()) {
				if !o.HasSelector {
					fallback = o
					break
				}
			}
		}
	}
	if fallback == nil && (old == nil || !old.HasSelector) && (nu == nil || !nu.HasSelector) && !root {
		for _, o := range state.SidecarsOf(s.Sidecars(), m.Routing.RootNamespace()) {
			if !o.HasSelector {
				fallback = o
				break
			}
		}
	}
	set := []*state.Sidecar{old, nu, fallback}
	differs := func(hostNS, host string, ports []state.ServicePort) bool {
		clients := []string{ns}
		if root {
			clients = append(clients, hostNS, Other)
		}
		for _, cns := range clients {
			for _, sp := range ports {
				var first mesh.Import
				for i, c := range set {
					imp := mesh.Imported
					if c != nil {
						imp = mesh.SidecarImport(c, cns, hostNS, host, uint32(sp.Port))
					}
					if i == 0 {
						first = imp
					} else if imp != first {
						return true
					}
				}
			}
		}
		return false
	}
	for _, hns := range s.NamespaceNames() {
		for _, svc := range s.Services(hns) {
			host := m.Routing.Hosts.FQDN(svc.Name, svc.Namespace)
			if differs(svc.Namespace, host, svc.Ports) {
				m.AddDestination(sc, s, host)
			}
		}
	}
	for _, se := range s.ServiceEntries() {
		for _, h := range se.Hosts {
			if !strings.Contains(h, "*") && differs(se.Namespace, h, se.Ports) {
				m.AddDestination(sc, s, h)
			}
		}
	}
}
