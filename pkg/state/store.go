package state

import (
	"slices"
	"sort"
	"sync"
)

// PodClass is how the mesh sees one pod; see mesh.Classify.
type PodClass struct {
	// Server: the pod can receive traffic (running or pending, not
	// hostNetwork, selected by a Service or declaring a container port).
	Server bool
	// Meshed: inbound traffic reaches a proxy (sidecar or ambient).
	Meshed bool
	// Exempt: an Istio component that runs without a sidecar by design.
	Exempt bool
	// Live: not finished; a potential caller.
	Live bool
	// Deliberate: a pod outside the mesh kept out on purpose (opted out of
	// injection or ambient, its namespace opted out, or on the host network,
	// where no proxy can ever run). Meaningful only for outsiders.
	Deliberate bool
	// Gateway: an Istio ingress or egress gateway pod (it reads gateway
	// credentials in its own namespace).
	Gateway bool
}

// ClassifyFunc classifies a pod given its namespace (nil when unknown) and
// whether a Service in that namespace selects it.
type ClassifyFunc func(p *Pod, ns *Namespace, selected bool) PodClass

// Snapshot is the read-only view of cluster state that rules evaluate.
// Implementations must not be mutated while a Snapshot is in use.
type Snapshot interface {
	// Namespace returns the namespace, or nil when the state holds none by that name.
	Namespace(name string) *Namespace
	// NamespaceNames lists every namespace known to the state, sorted.
	NamespaceNames() []string
	// ForEachPod calls fn for each pod of ns until fn returns false.
	ForEachPod(ns string, fn func(*Pod) bool)
	// Services lists the Services of ns, sorted by name.
	Services(ns string) []*Service
	// PeerAuthentications lists the policies of ns, oldest first.
	PeerAuthentications(ns string) []*PeerAuthentication
	// Coverage returns the per-namespace aggregate of mesh enrolment.
	Coverage(ns string) Coverage
	// UnmeshedServers returns up to limit server pods of ns outside the mesh, sorted by name.
	UnmeshedServers(ns string, limit int) []*Pod
	// NamespacesWithUnmeshedServers lists, sorted, the namespaces holding at
	// least one server pod outside the mesh (Istio components aside).
	NamespacesWithUnmeshedServers() []string
	// AccidentalOutsiders returns up to limit accidental outsiders of ns
	// (live pods outside the mesh that nobody opted out), sorted by name.
	AccidentalOutsiders(ns string, limit int) []*Pod
	// NamespacesWithAccidentalOutsiders lists, sorted, the namespaces holding
	// at least one accidental outsider (Istio components aside).
	NamespacesWithAccidentalOutsiders() []string
	// NamespacesWithDeliberateOutsiders lists, sorted, the namespaces holding
	// at least one pod kept outside the mesh on purpose.
	NamespacesWithDeliberateOutsiders() []string
	// NamespacesWithGateways lists, sorted, the namespaces running Istio gateway pods.
	NamespacesWithGateways() []string
	// NamespacesNotLabelledForMesh lists, sorted, the namespaces whose labels
	// ask for neither sidecar injection (istio-injection=enabled) nor ambient,
	// and those known without a Namespace object: a superset of the
	// namespaces mesh.InjectionEnabled refuses, kept on write.
	NamespacesNotLabelledForMesh() []string
	// NamespacesWithSidecarClients lists, sorted, the namespaces running live
	// pods with a sidecar other than gateways and Istio's own components:
	// the proxies that route with VirtualServices and DestinationRules.
	NamespacesWithSidecarClients() []string

	// Service returns the Service ns/name, or nil.
	Service(ns, name string) *Service
	// ForEachServicePod calls fn for each pod the Service ns/name selects.
	ForEachServicePod(ns, name string, fn func(*Pod) bool)
	// ForEachEndpoint calls fn for each endpoint of the EndpointSlices of
	// Service ns/name that Kubernetes' endpoint-slice controller did not
	// make (see FromEndpointSlice) until fn returns false.
	ForEachEndpoint(ns, service string, fn func(*EndpointSlice, *Endpoint) bool)
	// Pod returns the pod ns/name, or nil.
	Pod(ns, name string) *Pod
	// ForEachWorkloadEntry calls fn for each WorkloadEntry of ns until fn
	// returns false.
	ForEachWorkloadEntry(ns string, fn func(*WorkloadEntry) bool)
	// DestinationRules lists the rules of ns, oldest first.
	DestinationRules(ns string) []*DestinationRule
	// DestinationRulesSettingTLS lists, by namespace and name, the rules
	// without workloadSelector that set TLS mode DISABLE or ISTIO_MUTUAL
	// somewhere: what a mesh-wide policy write meets, without walking every
	// rule.
	DestinationRulesSettingTLS() []*DestinationRule
	// DestinationRuleNamespaces lists, sorted, the namespaces holding a rule
	// (with or without workloadSelector) whose resolved host is host or a
	// wildcard covering it.
	DestinationRuleNamespaces(host string) []string
	// RoutedHosts lists, sorted, every resolved host some VirtualService
	// routes or mirrors to.
	RoutedHosts() []string
	// VirtualServices lists the VirtualServices of ns, sorted by name.
	VirtualServices(ns string) []*VirtualService
	// VirtualService returns the VirtualService ns/name, or nil.
	VirtualService(ns, name string) *VirtualService
	// VirtualServicesRouting lists the VirtualServices that route or mirror
	// to host, resolved as ResolveHost resolves it.
	VirtualServicesRouting(host string) []*VirtualService
	// VirtualServicesOnGateway lists the VirtualServices bound to the
	// Gateway "ns/name" (see GatewayKey).
	VirtualServicesOnGateway(key string) []*VirtualService
	// VirtualServicesOnMesh lists the VirtualServices applying to sidecars
	// (no gateway, or "mesh") whose spec.hosts name host, resolved.
	VirtualServicesOnMesh(host string) []*VirtualService
	// Gateway returns the Istio Gateway ns/name, or nil.
	Gateway(ns, name string) *Gateway
	// PassthroughGateways lists, by namespace and name, the Istio Gateways
	// with an AUTO_PASSTHROUGH server (east-west gateways exposing Services
	// to other networks).
	PassthroughGateways() []*Gateway
	// KubeGateway returns the Gateway API Gateway ns/name, or nil.
	KubeGateway(ns, name string) *Gateway
	// GatewayRoute returns the Gateway API route of kind (KindHTTPRoute,
	// KindGRPCRoute) ns/name in the one route form, or nil. These routes
	// are listed with the VirtualServices by the lookups by host and
	// gateway (VirtualServicesRouting, OnGateway, OnMesh), never by
	// VirtualServices and VirtualService.
	GatewayRoute(kind, ns, name string) *VirtualService
	// GatewayRoutes lists the Gateway API routes of kind in ns in the one
	// route form, sorted by name.
	GatewayRoutes(kind, ns string) []*VirtualService
	// ReferenceGrants lists the ReferenceGrants of ns.
	ReferenceGrants(ns string) []*ReferenceGrant
	// AuthorizationPolicies lists the AuthorizationPolicies of ns, sorted by name.
	AuthorizationPolicies(ns string) []*AuthorizationPolicy
	// ServiceEntries lists every ServiceEntry, sorted by namespace and name.
	ServiceEntries() []*ServiceEntry
	// ServiceEntriesForHost lists, sorted by namespace and name, the
	// ServiceEntries with a host that can name a common host with host
	// (equal, or either one a wildcard covering the other): an index
	// lookup for a concrete host, so resolving a host costs the entries
	// that can register it, not every entry.
	ServiceEntriesForHost(host string) []*ServiceEntry
	// Sidecars lists every Sidecar, sorted by namespace and name.
	Sidecars() []*Sidecar
	// ServesRevision reports whether a sidecar injector in the state serves
	// istio.io/rev=rev; known is false when the state holds no injector at
	// all (a state file without MutatingWebhookConfigurations), and then
	// nothing is known about revisions.
	ServesRevision(rev string) (served, known bool)
	// ResolveHost resolves a host written in namespace ns to its index key.
	ResolveHost(host, ns string) string
	// APIServerCalls lists the calls the kube-apiserver makes to the Service
	// ns/name (webhooks, aggregated APIs, conversion webhooks), by port.
	APIServerCalls(ns, name string) []APIServerCall
	// NamespacesCalledByAPIServer lists, sorted, the namespaces holding a
	// Service the kube-apiserver calls.
	NamespacesCalledByAPIServer() []string
	// HostsCalledAcross lists, sorted, the resolved hosts a route of another
	// namespace or a route bound to a gateway sends or mirrors to, and those
	// a DestinationRule of another namespace names (wildcards as written):
	// the hosts whose callers configuration proves outside their namespace.
	// Overlays may list more.
	HostsCalledAcross() []string
}

// Coverage aggregates mesh enrolment for one namespace, kept up to date by
// the Store so that a mesh-wide change does not walk every pod.
type Coverage struct {
	// UnmeshedServers counts server pods outside the mesh (Istio components aside).
	UnmeshedServers int
	// MeshedServers counts server pods whose inbound traffic reaches a proxy.
	MeshedServers int
	// AccidentalOutsiders counts live pods outside the mesh that nobody kept
	// out on purpose: the likeliest plaintext callers STRICT cuts off.
	AccidentalOutsiders int
	// DeliberateOutsiders counts live pods kept outside the mesh on purpose.
	DeliberateOutsiders int
	// Pods counts every pod of the namespace.
	Pods int
}

// podEntry is a cached pod with its classification (kept together: one map
// entry per pod).
type podEntry struct {
	pod   *Pod
	class PodClass
}

type nsIndex struct {
	ns       *Namespace
	pods     map[string]podEntry
	services map[string]*Service
	svcList  []*Service
	pas      map[string]*PeerAuthentication
	aps      map[string]*AuthorizationPolicy
	apList   []*AuthorizationPolicy
	paList   []*PeerAuthentication
	drs      map[string]*DestinationRule
	drList   []*DestinationRule
	vss      map[string]*VirtualService
	// httpRoutes and grpcRoutes are the namespace's HTTPRoutes and
	// GRPCRoutes in the one route form.
	httpRoutes, grpcRoutes map[string]*VirtualService
	grants                 map[string]*ReferenceGrant
	gateways               map[string]*Gateway
	// kubeGateways are Gateway API Gateways, kept apart from Istio's: both
	// kinds may use one name.
	kubeGateways map[string]*Gateway
	entries      map[string]*ServiceEntry
	// endpointSlices are the slices kept (not the controller's), by name,
	// and the same slices by the Service they belong to (a review reads the
	// slices of one Service; Knative namespaces hold many).
	endpointSlices map[string]*EndpointSlice
	slicesBySvc    map[string][]*EndpointSlice
	// workloadEntries are the namespace's WorkloadEntries, by name.
	workloadEntries map[string]*WorkloadEntry
	// podsBySvc indexes the pods each Service selects.
	podsBySvc map[string]map[string]*Pod

	unmeshedServers map[string]*Pod
	meshedServers   int
	// accidental holds the outsiders nobody opted out (kept for naming them
	// in messages); deliberate only counts the others.
	accidental  map[string]*Pod
	deliberate  int
	gatewayPods int
	// sidecarClients counts live pods with a sidecar that are not gateways.
	sidecarClients int
}

func (n *nsIndex) empty() bool {
	return n.ns == nil && len(n.pods) == 0 && len(n.services) == 0 && len(n.pas) == 0 && len(n.aps) == 0 &&
		len(n.drs) == 0 && len(n.vss) == 0 && len(n.httpRoutes) == 0 && len(n.grpcRoutes) == 0 && len(n.grants) == 0 && len(n.gateways) == 0 && len(n.kubeGateways) == 0 && len(n.entries) == 0 &&
		len(n.endpointSlices) == 0 && len(n.workloadEntries) == 0
}

// Store is the indexed, lean cluster state. Writers (informer handlers, file
// loaders) call the Set/Delete methods; readers evaluate inside View, which
// holds a read lock so that a review sees one consistent state without copying it.
type Store struct {
	mu       sync.RWMutex
	classify ClassifyFunc
	nss      map[string]*nsIndex
	names    []string // sorted; rebuilt when a namespace appears or goes
	// Namespaces holding accidental outsiders, deliberate outsiders and
	// unmeshed server pods, kept sorted on write: the aggregates that let a
	// mesh-wide review skip fully covered namespaces without sorting or allocating.
	accidental      []string
	deliberate      []string
	unmeshedServers []string
	gateways        []string
	sidecarClients  []string
	// unlabelled lists, sorted, the namespaces whose labels ask for neither
	// sidecar injection (istio-injection=enabled) nor ambient, or that have
	// no Namespace object: the only ones a revision label or nothing at all
	// may leave out of the mesh.
	unlabelled []string

	resolve  HostResolver
	vsByHost map[string][]vsRef
	// drHosts counts, per resolved host, the rules without workloadSelector
	// each namespace holds for it; drWildcards lists its wildcard hosts, sorted.
	drHosts     map[string]map[string]int
	drWildcards []string
	vsByGateway map[string][]vsRef
	vsOnMesh    map[string][]vsRef // by resolved spec.hosts, for sidecar-bound services
	entries     []*ServiceEntry
	// entriesByHost holds the entries by each concrete host they register;
	// wildEntries, sorted, those registering a wildcard host.
	entriesByHost map[string][]*ServiceEntry
	wildEntries   []*ServiceEntry
	// sidecars are the Sidecars, sorted by namespace and name.
	sidecars []*Sidecar
	// injectors are Istio's sidecar injectors, by configuration name.
	injectors map[string]*Injector
	// passthrough are the Istio Gateways with an AUTO_PASSTHROUGH server,
	// by "ns/name": what makes pods reachable from other networks.
	passthrough map[string]*Gateway
	// tlsRules are the rules without workloadSelector that set TLS mode
	// DISABLE or ISTIO_MUTUAL somewhere, by namespace/name.
	tlsRules map[string]*DestinationRule
	// callers are the objects that make the kube-apiserver call Services,
	// by kind/name; apiCalls indexes their calls by the Service's namespace
	// and name, and apiCalled lists those namespaces, sorted.
	callers   map[string]*APIServerCaller
	apiCalls  map[string]map[string][]APIServerCall
	apiCalled []string

	// calledAcross counts, per resolved host, what proves callers outside
	// its namespace (see HostsCalledAcross).
	calledAcross map[string]int
}

// NewStore returns an empty store that classifies pods with classify.
func NewStore(classify ClassifyFunc, opts ...Option) *Store {
	s := &Store{classify: classify, nss: map[string]*nsIndex{}, vsByHost: map[string][]vsRef{}, vsByGateway: map[string][]vsRef{}, vsOnMesh: map[string][]vsRef{},
		drHosts: map[string]map[string]int{}, calledAcross: map[string]int{},
		resolve: func(host, _ string) string { return host }}
	for _, o := range opts {
		o(s)
	}
	return s
}

// View runs fn with a consistent read-only Snapshot of the store.
func (s *Store) View(fn func(Snapshot) error) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return fn(storeView{s})
}

func (s *Store) index(ns string) *nsIndex {
	n := s.nss[ns]
	if n == nil {
		n = &nsIndex{
			pods: map[string]podEntry{}, services: map[string]*Service{},
			pas: map[string]*PeerAuthentication{}, aps: map[string]*AuthorizationPolicy{}, unmeshedServers: map[string]*Pod{}, accidental: map[string]*Pod{},
			drs: map[string]*DestinationRule{}, vss: map[string]*VirtualService{}, httpRoutes: map[string]*VirtualService{}, grpcRoutes: map[string]*VirtualService{}, grants: map[string]*ReferenceGrant{}, gateways: map[string]*Gateway{}, kubeGateways: map[string]*Gateway{},
			entries: map[string]*ServiceEntry{}, podsBySvc: map[string]map[string]*Pod{},
		}
		s.nss[ns] = n
		s.rebuildNames()
		s.unlabelled = mark(s.unlabelled, ns, true)
	}
	return n
}

func (s *Store) gc(name string, n *nsIndex) {
	if n.empty() {
		delete(s.nss, name)
		s.accidental = mark(s.accidental, name, false)
		s.deliberate = mark(s.deliberate, name, false)
		s.unmeshedServers = mark(s.unmeshedServers, name, false)
		s.gateways = mark(s.gateways, name, false)
		s.sidecarClients = mark(s.sidecarClients, name, false)
		s.unlabelled = mark(s.unlabelled, name, false)
		s.rebuildNames()
	}
}

// labelledForMesh reports whether a namespace's labels enrol it whatever the
// injectors serve (mesh.InjectionEnabled decides the rest).
func labelledForMesh(ns *Namespace) bool {
	return ns != nil && (ns.Labels["istio-injection"] == "enabled" || ns.Labels["istio.io/dataplane-mode"] == "ambient")
}

func (s *Store) rebuildNames() {
	names := make([]string, 0, len(s.nss))
	for name := range s.nss {
		names = append(names, name)
	}
	sort.Strings(names)
	s.names = names
}

// SetNamespace adds or replaces a namespace. Its labels decide ambient
// enrolment, so its pods are classified again.
func (s *Store) SetNamespace(ns *Namespace) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.index(ns.Name)
	n.ns = ns
	s.unlabelled = mark(s.unlabelled, ns.Name, !labelledForMesh(ns))
	s.reclassify(ns.Name, n)
}

// DeleteNamespace removes a namespace object (its pods go with their own events).
func (s *Store) DeleteNamespace(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n := s.nss[name]; n != nil {
		n.ns = nil
		s.unlabelled = mark(s.unlabelled, name, true)
		s.reclassify(name, n)
		s.gc(name, n)
	}
}

// SetPod adds or replaces a pod.
func (s *Store) SetPod(p *Pod) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.index(p.Namespace)
	s.unaccount(n, p.Name)
	n.pods[p.Name] = podEntry{pod: p, class: s.account(n, p)}
	s.markUnmeshed(p.Namespace, n)
}

// DeletePod removes a pod.
func (s *Store) DeletePod(ns, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.nss[ns]
	if n == nil {
		return
	}
	s.unaccount(n, name)
	delete(n.pods, name)
	s.markUnmeshed(ns, n)
	s.gc(ns, n)
}

// SetService adds or replaces a Service; the pods of its namespace are
// classified again because being selected makes a pod a server.
func (s *Store) SetService(svc *Service) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.index(svc.Namespace)
	n.services[svc.Name] = svc
	n.svcList = sortedServices(n.services)
	s.reclassify(svc.Namespace, n)
}

// DeleteService removes a Service.
func (s *Store) DeleteService(ns, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.nss[ns]
	if n == nil {
		return
	}
	delete(n.services, name)
	n.svcList = sortedServices(n.services)
	s.reclassify(ns, n)
	s.gc(ns, n)
}

// SetPeerAuthentication adds or replaces a PeerAuthentication.
func (s *Store) SetPeerAuthentication(pa *PeerAuthentication) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.index(pa.Namespace)
	n.pas[pa.Name] = pa
	n.paList = sortedPolicies(n.pas)
}

// DeletePeerAuthentication removes a PeerAuthentication.
func (s *Store) DeletePeerAuthentication(ns, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.nss[ns]
	if n == nil {
		return
	}
	delete(n.pas, name)
	n.paList = sortedPolicies(n.pas)
	s.gc(ns, n)
}

// selected indexes p under the Services that select it and reports whether any does.
func (s *Store) selected(n *nsIndex, p *Pod) bool {
	any := false
	for _, svc := range n.svcList {
		if len(svc.Selector) > 0 && SelectorMatches(svc.Selector, p.Labels) {
			pods := n.podsBySvc[svc.Name]
			if pods == nil {
				pods = map[string]*Pod{}
				n.podsBySvc[svc.Name] = pods
			}
			pods[p.Name] = p
			any = true
		}
	}
	return any
}

// account classifies p and adds it to the namespace's aggregates.
func (s *Store) account(n *nsIndex, p *Pod) PodClass {
	c := s.classify(p, n.ns, s.selected(n, p))
	if c.Gateway {
		n.gatewayPods++
	}
	if c.Exempt {
		return c
	}
	if sidecarClient(p, c) {
		n.sidecarClients++
	}
	// A gateway's listeners follow its Gateway's TLS, not PeerAuthentication:
	// it enforces no STRICT, so it is no meshed server for these counts.
	if c.Server && !c.Gateway {
		if c.Meshed {
			n.meshedServers++
		} else {
			n.unmeshedServers[p.Name] = p
		}
	}
	if c.Live && !c.Meshed {
		if c.Deliberate {
			n.deliberate++
		} else {
			n.accidental[p.Name] = p
		}
	}
	return c
}

// unaccount takes the cached pod called name out of the aggregates (the
// caller replaces or deletes its entry).
func (s *Store) unaccount(n *nsIndex, name string) {
	e, ok := n.pods[name]
	if !ok {
		return
	}
	c := e.class
	for _, pods := range n.podsBySvc {
		delete(pods, name)
	}
	if c.Gateway {
		n.gatewayPods--
	}
	if c.Exempt {
		return
	}
	if sidecarClient(e.pod, c) {
		n.sidecarClients--
	}
	if c.Server && !c.Gateway {
		if c.Meshed {
			n.meshedServers--
		} else {
			delete(n.unmeshedServers, name)
		}
	}
	if c.Live && !c.Meshed {
		if c.Deliberate {
			n.deliberate--
		} else {
			delete(n.accidental, name)
		}
	}
}

func (s *Store) reclassify(name string, n *nsIndex) {
	clear(n.podsBySvc)
	for podName, e := range n.pods {
		s.unaccount(n, podName)
		n.pods[podName] = podEntry{pod: e.pod, class: s.account(n, e.pod)}
	}
	s.markUnmeshed(name, n)
}

func (s *Store) markUnmeshed(name string, n *nsIndex) {
	s.accidental = mark(s.accidental, name, len(n.accidental) > 0)
	s.deliberate = mark(s.deliberate, name, n.deliberate > 0)
	s.unmeshedServers = mark(s.unmeshedServers, name, len(n.unmeshedServers) > 0)
	s.gateways = mark(s.gateways, name, n.gatewayPods > 0)
	s.sidecarClients = mark(s.sidecarClients, name, n.sidecarClients > 0)
}

// sidecarClient: a live pod whose own sidecar routes its outbound calls.
func sidecarClient(p *Pod, c PodClass) bool { return p.Sidecar && c.Live && !c.Gateway }

// mark adds name to, or removes it from, the sorted set. A changed set is a
// new slice, so that slices handed to readers never change under them.
func mark(set []string, name string, in bool) []string {
	i, found := slices.BinarySearch(set, name)
	switch {
	case in && !found:
		return slices.Insert(slices.Clone(set), i, name)
	case !in && found:
		return slices.Delete(slices.Clone(set), i, i+1)
	default:
		return set
	}
}

func sortedServices(m map[string]*Service) []*Service {
	out := make([]*Service, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func sortedPolicies(m map[string]*PeerAuthentication) []*PeerAuthentication {
	out := make([]*PeerAuthentication, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	SortPolicies(out)
	return out
}

// SortPolicies orders policies oldest first (the order in which Istio lets them win).
func SortPolicies(pas []*PeerAuthentication) {
	sort.Slice(pas, func(i, j int) bool { return pas[i].Older(pas[j]) })
}

// storeView reads the store; it is only handed out under the read lock.
type storeView struct{ s *Store }

func (v storeView) Namespace(name string) *Namespace {
	if n := v.s.nss[name]; n != nil {
		return n.ns
	}
	return nil
}

func (v storeView) NamespaceNames() []string {
	return v.s.names
}

func (v storeView) ForEachPod(ns string, fn func(*Pod) bool) {
	n := v.s.nss[ns]
	if n == nil {
		return
	}
	for _, e := range n.pods {
		if !fn(e.pod) {
			return
		}
	}
}

func (v storeView) Services(ns string) []*Service {
	if n := v.s.nss[ns]; n != nil {
		return n.svcList
	}
	return nil
}

func (v storeView) PeerAuthentications(ns string) []*PeerAuthentication {
	if n := v.s.nss[ns]; n != nil {
		return n.paList
	}
	return nil
}

func (v storeView) Coverage(ns string) Coverage {
	n := v.s.nss[ns]
	if n == nil {
		return Coverage{}
	}
	return Coverage{
		UnmeshedServers:     len(n.unmeshedServers),
		MeshedServers:       n.meshedServers,
		AccidentalOutsiders: len(n.accidental),
		DeliberateOutsiders: n.deliberate,
		Pods:                len(n.pods),
	}
}

func (v storeView) UnmeshedServers(ns string, limit int) []*Pod {
	if n := v.s.nss[ns]; n != nil && limit > 0 {
		return firstByName(n.unmeshedServers, limit)
	}
	return nil
}

func (v storeView) AccidentalOutsiders(ns string, limit int) []*Pod {
	if n := v.s.nss[ns]; n != nil && limit > 0 {
		return firstByName(n.accidental, limit)
	}
	return nil
}

func (v storeView) NamespacesWithAccidentalOutsiders() []string { return v.s.accidental }

func (v storeView) NamespacesWithDeliberateOutsiders() []string { return v.s.deliberate }

func (v storeView) NamespacesWithUnmeshedServers() []string { return v.s.unmeshedServers }

func (v storeView) NamespacesWithGateways() []string { return v.s.gateways }

func (v storeView) NamespacesWithSidecarClients() []string { return v.s.sidecarClients }

func (v storeView) NamespacesNotLabelledForMesh() []string { return v.s.unlabelled }

func firstByName(m map[string]*Pod, k int) []*Pod {
	out := make([]*Pod, 0, len(m))
	for _, p := range m {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	if len(out) > k {
		out = out[:k]
	}
	return out
}

// Apply adds or replaces an object of a kind the store keeps; other kinds are ignored.
func (s *Store) Apply(o *Object) {
	if c := o.Caller; c != nil {
		s.SetAPIServerCaller(c)
		if c.Kind == MutatingWebhookConfiguration && o.Injector == nil {
			s.DeleteInjector("", c.Name) // it may have been an injector before
		}
	}
	switch {
	case o.NS != nil:
		s.SetNamespace(o.NS)
	case o.Pod != nil:
		s.SetPod(o.Pod)
	case o.Service != nil:
		s.SetService(o.Service)
	case o.PA != nil:
		s.SetPeerAuthentication(o.PA)
	case o.DR != nil:
		s.SetDestinationRule(o.DR)
	case o.VS != nil:
		s.SetVirtualService(o.VS)
	case o.Gateway != nil:
		s.SetGateway(o.Gateway)
	case o.KubeGateway != nil:
		s.SetGateway(o.KubeGateway)
	case o.ServiceEntry != nil:
		s.SetServiceEntry(o.ServiceEntry)
	case o.Route != nil:
		s.SetVirtualService(o.Route)
	case o.ReferenceGrant != nil:
		s.SetReferenceGrant(o.ReferenceGrant)
	case o.Sidecar != nil:
		s.SetSidecar(o.Sidecar)
	case o.AuthorizationPolicy != nil:
		s.SetAuthorizationPolicy(o.AuthorizationPolicy)
	case o.Injector != nil:
		s.SetInjector(o.Injector)
	case o.EndpointSlice != nil:
		s.SetEndpointSlice(o.EndpointSlice)
	case o.WorkloadEntry != nil:
		s.SetWorkloadEntry(o.WorkloadEntry)
	}
}

// Remove deletes the object ref names, if the store keeps its kind.
func (s *Store) Remove(ref ObjectRef) {
	switch {
	case ref.Group == "" && ref.Kind == "Namespace":
		s.DeleteNamespace(ref.Name)
	case ref.Group == "" && ref.Kind == "Pod":
		s.DeletePod(ref.Namespace, ref.Name)
	case ref.Group == "" && ref.Kind == "Service":
		s.DeleteService(ref.Namespace, ref.Name)
	case ref.Group == GroupSecurity && ref.Kind == "PeerAuthentication":
		s.DeletePeerAuthentication(ref.Namespace, ref.Name)
	case ref.Group == GroupNetworking && ref.Kind == "DestinationRule":
		s.DeleteDestinationRule(ref.Namespace, ref.Name)
	case ref.Group == GroupNetworking && ref.Kind == "VirtualService":
		s.DeleteVirtualService(ref.Namespace, ref.Name)
	case ref.Group == GroupNetworking && ref.Kind == "Gateway":
		s.DeleteGateway(ref.Namespace, ref.Name)
	case ref.Group == GroupGatewayAPI && ref.Kind == "Gateway":
		s.DeleteKubeGateway(ref.Namespace, ref.Name)
	case ref.Group == GroupGatewayAPI && GatewayRouteKind(ref.Kind):
		s.deleteRoute(ref.Namespace, ref.Name, ref.Kind)
	case ref.Group == GroupGatewayAPI && ref.Kind == "ReferenceGrant":
		s.DeleteReferenceGrant(ref.Namespace, ref.Name)
	case ref.Group == GroupNetworking && ref.Kind == "ServiceEntry":
		s.DeleteServiceEntry(ref.Namespace, ref.Name)
	case ref.Group == GroupNetworking && ref.Kind == "Sidecar":
		s.DeleteSidecar(ref.Namespace, ref.Name)
	case ref.Group == GroupSecurity && ref.Kind == "AuthorizationPolicy":
		s.DeleteAuthorizationPolicy(ref.Namespace, ref.Name)
	case ref.Group == GroupAdmission && ref.Kind == MutatingWebhookConfiguration:
		s.DeleteInjector("", ref.Name)
		s.DeleteAPIServerCaller(ref.Kind, ref.Name)
	case ref.Group == GroupAdmission && ref.Kind == ValidatingWebhookConfiguration,
		ref.Group == GroupAPIRegistration && ref.Kind == APIService,
		ref.Group == GroupAPIExtensions && ref.Kind == CustomResourceDefinition:
		s.DeleteAPIServerCaller(ref.Kind, ref.Name)
	case ref.Group == GroupDiscovery && ref.Kind == "EndpointSlice":
		s.DeleteEndpointSlice(ref.Namespace, ref.Name)
	case ref.Group == GroupNetworking && ref.Kind == "WorkloadEntry":
		s.DeleteWorkloadEntry(ref.Namespace, ref.Name)
	}
}

// SetInjector adds or replaces a sidecar injector.
func (s *Store) SetInjector(inj *Injector) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.injectors == nil {
		s.injectors = map[string]*Injector{}
	}
	s.injectors[inj.Name] = inj
}

// DeleteInjector removes the injector of a MutatingWebhookConfiguration
// (cluster-scoped: ns is ignored).
func (s *Store) DeleteInjector(_, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.injectors, name)
}

func (v storeView) ServesRevision(rev string) (served, known bool) {
	for _, inj := range v.s.injectors {
		if slices.Contains(inj.Revisions, rev) {
			return true, true
		}
	}
	return false, len(v.s.injectors) > 0
}
