package rulestest

import (
	"sort"

	"github.com/meshguard/meshguard/pkg/state"
)

// Reads records, per reader (a rule's ID, or "paths" for the path model),
// the kinds of state.Kinds it read through a snapshot, for engine.Engine's
// Watch.
type Reads map[string]map[string]bool

// Watch wraps s so that reads through it are recorded for reader.
func (r Reads) Watch(reader string, s state.Snapshot) state.Snapshot {
	if r[reader] == nil {
		r[reader] = map[string]bool{}
	}
	return recorder{s: s, seen: r[reader]}
}

// Of lists what reader read, sorted ("pods", "virtualservices.networking.istio.io").
func (r Reads) Of(reader string) []string {
	var out []string
	for k := range r[reader] {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// recorder is a Snapshot that notes the kinds behind each call. The
// per-namespace aggregates (coverage, outsiders, gateways, sidecar clients)
// are the store's summary of pods, so they count as reading pods.
type recorder struct {
	s    state.Snapshot
	seen map[string]bool
}

func (r recorder) read(kinds ...state.Kind) {
	for _, k := range kinds {
		r.seen[k.String()] = true
	}
}

func (r recorder) Namespace(name string) *state.Namespace {
	r.read(state.NamespaceKind)
	return r.s.Namespace(name)
}

func (r recorder) NamespaceNames() []string {
	r.read(state.NamespaceKind)
	return r.s.NamespaceNames()
}

func (r recorder) ForEachPod(ns string, fn func(*state.Pod) bool) {
	r.read(state.PodKind)
	r.s.ForEachPod(ns, fn)
}

func (r recorder) Services(ns string) []*state.Service {
	r.read(state.ServiceKind)
	return r.s.Services(ns)
}

func (r recorder) PeerAuthentications(ns string) []*state.PeerAuthentication {
	r.read(state.PeerAuthenticationKind)
	return r.s.PeerAuthentications(ns)
}

func (r recorder) Coverage(ns string) state.Coverage {
	r.read(state.PodKind)
	return r.s.Coverage(ns)
}

func (r recorder) UnmeshedServers(ns string, limit int) []*state.Pod {
	r.read(state.PodKind)
	return r.s.UnmeshedServers(ns, limit)
}

func (r recorder) NamespacesWithUnmeshedServers() []string {
	r.read(state.PodKind)
	return r.s.NamespacesWithUnmeshedServers()
}

func (r recorder) AccidentalOutsiders(ns string, limit int) []*state.Pod {
	r.read(state.PodKind)
	return r.s.AccidentalOutsiders(ns, limit)
}

func (r recorder) NamespacesWithAccidentalOutsiders() []string {
	r.read(state.PodKind)
	return r.s.NamespacesWithAccidentalOutsiders()
}

func (r recorder) NamespacesWithDeliberateOutsiders() []string {
	r.read(state.PodKind)
	return r.s.NamespacesWithDeliberateOutsiders()
}

func (r recorder) NamespacesWithGateways() []string {
	r.read(state.PodKind)
	return r.s.NamespacesWithGateways()
}

func (r recorder) NamespacesNotLabelledForMesh() []string {
	r.read(state.NamespaceKind)
	return r.s.NamespacesNotLabelledForMesh()
}

func (r recorder) NamespacesWithSidecarClients() []string {
	r.read(state.PodKind)
	return r.s.NamespacesWithSidecarClients()
}

func (r recorder) Service(ns, name string) *state.Service {
	r.read(state.ServiceKind)
	return r.s.Service(ns, name)
}

func (r recorder) ForEachServicePod(ns, name string, fn func(*state.Pod) bool) {
	r.read(state.ServiceKind, state.PodKind)
	r.s.ForEachServicePod(ns, name, fn)
}

func (r recorder) DestinationRules(ns string) []*state.DestinationRule {
	r.read(state.DestinationRuleKind)
	return r.s.DestinationRules(ns)
}

func (r recorder) DestinationRulesSettingTLS() []*state.DestinationRule {
	r.read(state.DestinationRuleKind)
	return r.s.DestinationRulesSettingTLS()
}

func (r recorder) DestinationRuleNamespaces(host string) []string {
	r.read(state.DestinationRuleKind)
	return r.s.DestinationRuleNamespaces(host)
}

func (r recorder) RoutedHosts() []string {
	r.read(state.VirtualServiceKind)
	return r.s.RoutedHosts()
}

func (r recorder) HostsCalledAcross() []string {
	r.read(state.VirtualServiceKind, state.DestinationRuleKind)
	return r.s.HostsCalledAcross()
}

func (r recorder) VirtualServices(ns string) []*state.VirtualService {
	r.read(state.VirtualServiceKind)
	return r.s.VirtualServices(ns)
}

func (r recorder) VirtualService(ns, name string) *state.VirtualService {
	r.read(state.VirtualServiceKind)
	return r.s.VirtualService(ns, name)
}

func (r recorder) VirtualServicesRouting(host string) []*state.VirtualService {
	r.read(state.VirtualServiceKind)
	return r.s.VirtualServicesRouting(host)
}

func (r recorder) VirtualServicesOnGateway(key string) []*state.VirtualService {
	r.read(state.VirtualServiceKind)
	return r.s.VirtualServicesOnGateway(key)
}

func (r recorder) VirtualServicesOnMesh(host string) []*state.VirtualService {
	r.read(state.VirtualServiceKind)
	return r.s.VirtualServicesOnMesh(host)
}

func (r recorder) Gateway(ns, name string) *state.Gateway {
	r.read(state.GatewayKind)
	return r.s.Gateway(ns, name)
}

func (r recorder) PassthroughGateways() []*state.Gateway {
	r.read(state.GatewayKind)
	return r.s.PassthroughGateways()
}

func (r recorder) KubeGateway(ns, name string) *state.Gateway {
	r.read(state.KubeGatewayKind)
	return r.s.KubeGateway(ns, name)
}

func (r recorder) ForEachEndpoint(ns, service string, fn func(*state.EndpointSlice, *state.Endpoint) bool) {
	r.read(state.EndpointSliceKind)
	r.s.ForEachEndpoint(ns, service, fn)
}

func (r recorder) ForEachWorkloadEntry(ns string, fn func(*state.WorkloadEntry) bool) {
	r.read(state.WorkloadEntryKind)
	r.s.ForEachWorkloadEntry(ns, fn)
}

func (r recorder) Pod(ns, name string) *state.Pod {
	r.read(state.PodKind)
	return r.s.Pod(ns, name)
}

func (r recorder) ServiceEntries() []*state.ServiceEntry {
	r.read(state.ServiceEntryKind)
	return r.s.ServiceEntries()
}

func (r recorder) ServiceEntriesForHost(host string) []*state.ServiceEntry {
	r.read(state.ServiceEntryKind)
	return r.s.ServiceEntriesForHost(host)
}

func (r recorder) Sidecars() []*state.Sidecar {
	r.read(state.SidecarKind)
	return r.s.Sidecars()
}

func (r recorder) ServesRevision(rev string) (served, known bool) {
	r.read(state.InjectorKind)
	return r.s.ServesRevision(rev)
}

// ResolveHost resolves against the Services (and ServiceEntries) indexed.
func (r recorder) ResolveHost(host, ns string) string {
	r.read(state.ServiceKind)
	return r.s.ResolveHost(host, ns)
}

// APIServerCalls come from every kind that makes the API server call.
func (r recorder) APIServerCalls(ns, name string) []state.APIServerCall {
	r.read(state.APIServerCallerKinds...)
	return r.s.APIServerCalls(ns, name)
}

func (r recorder) NamespacesCalledByAPIServer() []string {
	r.read(state.APIServerCallerKinds...)
	return r.s.NamespacesCalledByAPIServer()
}

func (r recorder) GatewayRoute(kind, ns, name string) *state.VirtualService {
	r.read(state.GatewayRouteKinds...)
	return r.s.GatewayRoute(kind, ns, name)
}

func (r recorder) ReferenceGrants(ns string) []*state.ReferenceGrant {
	r.read(state.ReferenceGrantKind)
	return r.s.ReferenceGrants(ns)
}

func (r recorder) GatewayRoutes(kind, ns string) []*state.VirtualService {
	r.read(state.GatewayRouteKinds...)
	return r.s.GatewayRoutes(kind, ns)
}

func (r recorder) AuthorizationPolicies(ns string) []*state.AuthorizationPolicy {
	r.read(state.AuthorizationPolicyKind)
	return r.s.AuthorizationPolicies(ns)
}
