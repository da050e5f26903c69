package state

import (
	"cmp"
	"slices"
	"sort"
	"strings"
)

// HostResolver turns a host as written in an object of namespace ns into the
// key routes are indexed by (mesh.Hosts.FQDN); the store uses it to index
// VirtualServices by destination.
type HostResolver func(host, ns string) string

// WithHostResolver sets how destination hosts are indexed. Without it, hosts
// are indexed as written.
func WithHostResolver(r HostResolver) Option {
	return func(s *Store) { s.resolve = r }
}

// Option configures a Store.
type Option func(*Store)

// GatewayKey is the "namespace/name" of a Gateway a VirtualService in
// vsNamespace binds to; "mesh" stands for the sidecars. It resolves every form
// Istio accepts, as pilot/pkg/model/config.go resolveGatewayName does:
// "ns/name" as written, "./name" in the VirtualService's namespace, a bare
// name in the VirtualService's namespace, and the legacy FQDN form
// "name.ns.svc.cluster.local" (or "name.ns") as "ns/name".
func GatewayKey(ref, vsNamespace string) string {
	if ref == "mesh" {
		return ref
	}
	if before, after, ok := strings.Cut(ref, "/"); ok {
		if before == "." {
			return vsNamespace + "/" + after
		}
		return ref
	}
	name, rest, ok := strings.Cut(ref, ".")
	if !ok {
		return vsNamespace + "/" + ref
	}
	ns, _, _ := strings.Cut(rest, ".")
	return ns + "/" + name
}

// RoutedHosts returns the resolved hosts a VirtualService sends or mirrors traffic to.
func RoutedHosts(vs *VirtualService, resolve HostResolver) []string {
	var hosts []string
	vs.Destinations(func(_ string, d Destination, _ []Destination, _ bool) bool {
		if h := resolve(d.Host, vs.Namespace); !slices.Contains(hosts, h) {
			hosts = append(hosts, h)
		}
		return true
	})
	return hosts
}

// vsRef names a route of the one route form: a VirtualService, or an
// HTTPRoute (kind KindHTTPRoute).
type vsRef struct{ ns, name, kind string }

func (s *Store) indexVS(vs *VirtualService, add bool) {
	ref := vsRef{vs.Namespace, vs.Name, vs.Kind}
	for _, h := range RoutedHosts(vs, s.resolve) {
		s.vsByHost[h] = updateRefs(s.vsByHost[h], ref, add)
		s.countCalledAcross(h, vs.Namespace, !slices.ContainsFunc(vs.Gateways, func(g string) bool { return g != "mesh" }), add)
	}
	for _, g := range vs.Gateways {
		k := GatewayKey(g, vs.Namespace)
		s.vsByGateway[k] = updateRefs(s.vsByGateway[k], ref, add)
	}
	if OnMesh(vs) {
		for _, h := range vs.Hosts {
			k := s.resolve(h, vs.Namespace)
			s.vsOnMesh[k] = updateRefs(s.vsOnMesh[k], ref, add)
		}
	}
}

// OnMesh reports whether a VirtualService applies to sidecars: it binds no
// gateway, or the reserved "mesh" one.
func OnMesh(vs *VirtualService) bool {
	return len(vs.Gateways) == 0 || slices.Contains(vs.Gateways, "mesh")
}

func updateRefs(refs []vsRef, ref vsRef, add bool) []vsRef {
	i := slices.Index(refs, ref)
	switch {
	case add && i < 0:
		return append(slices.Clone(refs), ref)
	case !add && i >= 0:
		return slices.Delete(slices.Clone(refs), i, i+1)
	}
	return refs
}

// SetDestinationRule adds or replaces a DestinationRule.
func (s *Store) SetDestinationRule(dr *DestinationRule) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.index(dr.Namespace)
	if old := n.drs[dr.Name]; old != nil {
		s.indexDR(old, -1)
	}
	n.drs[dr.Name] = dr
	n.drList = sortedDRs(n.drs)
	s.indexDR(dr, 1)
}

// DeleteDestinationRule removes a DestinationRule.
func (s *Store) DeleteDestinationRule(ns, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n := s.nss[ns]; n != nil {
		if old := n.drs[name]; old != nil {
			s.indexDR(old, -1)
		}
		delete(n.drs, name)
		n.drList = sortedDRs(n.drs)
		s.gc(ns, n)
	}
}

// indexDR counts a rule under its resolved host and namespace (delta +1 or
// -1), so that the namespaces holding a rule for a host are found without
// walking every namespace; rules with a workloadSelector count too (they
// decide their namespace's lookup), but are not among the TLS rules.
func (s *Store) indexDR(dr *DestinationRule, delta int) {
	key := dr.Namespace + "/" + dr.Name
	switch {
	case delta < 0:
		delete(s.tlsRules, key)
	case len(dr.WorkloadSelector) > 0:
	case dr.SetsTLSMode("DISABLE") || dr.SetsTLSMode("ISTIO_MUTUAL"):
		if s.tlsRules == nil {
			s.tlsRules = map[string]*DestinationRule{}
		}
		s.tlsRules[key] = dr
	}
	h := s.resolve(dr.Host, dr.Namespace)
	s.countCalledAcross(h, dr.Namespace, true, delta > 0)
	byNS := s.drHosts[h]
	if byNS == nil {
		byNS = map[string]int{}
		s.drHosts[h] = byNS
	}
	byNS[dr.Namespace] += delta
	if byNS[dr.Namespace] <= 0 {
		delete(byNS, dr.Namespace)
	}
	if len(byNS) == 0 {
		delete(s.drHosts, h)
	}
	if strings.HasPrefix(h, "*") {
		s.drWildcards = slices.DeleteFunc(slices.Clone(s.drWildcards), func(w string) bool { return w == h })
		if s.drHosts[h] != nil {
			s.drWildcards = append(s.drWildcards, h)
			sort.Strings(s.drWildcards)
		}
	}
}

// routesOf is the map of a namespace holding routes of kind (see vsRef).
func (n *nsIndex) routesOf(kind string) map[string]*VirtualService {
	switch kind {
	case KindHTTPRoute:
		return n.httpRoutes
	case KindGRPCRoute:
		return n.grpcRoutes
	}
	return n.vss
}

// SetVirtualService adds or replaces a route of the one route form: a
// VirtualService, or a Gateway API route translated by FromHTTPRouteSpec
// or FromGRPCRouteSpec.
func (s *Store) SetVirtualService(vs *VirtualService) {
	s.mu.Lock()
	defer s.mu.Unlock()
	routes := s.index(vs.Namespace).routesOf(vs.Kind)
	if old := routes[vs.Name]; old != nil {
		s.indexVS(old, false)
	}
	routes[vs.Name] = vs
	s.indexVS(vs, true)
}

// DeleteVirtualService removes a VirtualService.
func (s *Store) DeleteVirtualService(ns, name string) { s.deleteRoute(ns, name, "") }

// SetReferenceGrant adds or replaces a ReferenceGrant.
func (s *Store) SetReferenceGrant(g *ReferenceGrant) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.index(g.Namespace).grants[g.Name] = g
}

// DeleteReferenceGrant removes a ReferenceGrant.
func (s *Store) DeleteReferenceGrant(ns, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n := s.nss[ns]; n != nil {
		delete(n.grants, name)
		s.gc(ns, n)
	}
}

func (s *Store) deleteRoute(ns, name, kind string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n := s.nss[ns]; n != nil {
		routes := n.routesOf(kind)
		if old := routes[name]; old != nil {
			s.indexVS(old, false)
		}
		delete(routes, name)
		s.gc(ns, n)
	}
}

// SetGateway adds or replaces an Istio Gateway, or a Gateway API one
// (gw.Kubernetes).
func (s *Store) SetGateway(gw *Gateway) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if gw.Kubernetes {
		s.index(gw.Namespace).kubeGateways[gw.Name] = gw
		return
	}
	s.index(gw.Namespace).gateways[gw.Name] = gw
	key := gw.Namespace + "/" + gw.Name
	if gw.Passthrough() {
		if s.passthrough == nil {
			s.passthrough = map[string]*Gateway{}
		}
		s.passthrough[key] = gw
	} else {
		delete(s.passthrough, key)
	}
}

// DeleteKubeGateway removes a Gateway API Gateway.
func (s *Store) DeleteKubeGateway(ns, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n := s.nss[ns]; n != nil {
		delete(n.kubeGateways, name)
		s.gc(ns, n)
	}
}

// DeleteGateway removes a Gateway.
func (s *Store) DeleteGateway(ns, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.passthrough, ns+"/"+name)
	if n := s.nss[ns]; n != nil {
		delete(n.gateways, name)
		s.gc(ns, n)
	}
}

// SetServiceEntry adds or replaces a ServiceEntry.
func (s *Store) SetServiceEntry(se *ServiceEntry) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.index(se.Namespace).entries[se.Name] = se
	s.rebuildEntries()
}

// DeleteServiceEntry removes a ServiceEntry.
func (s *Store) DeleteServiceEntry(ns, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n := s.nss[ns]; n != nil {
		delete(n.entries, name)
		s.rebuildEntries()
		s.gc(ns, n)
	}
}

func (s *Store) rebuildEntries() {
	var all []*ServiceEntry
	for _, n := range s.nss {
		for _, se := range n.entries {
			all = append(all, se)
		}
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].Namespace != all[j].Namespace {
			return all[i].Namespace < all[j].Namespace
		}
		return all[i].Name < all[j].Name
	})
	s.entries = all
	s.entriesByHost = map[string][]*ServiceEntry{}
	s.wildEntries = nil
	for _, se := range all { // sorted: so is every list built here
		wild := false
		for i, h := range se.Hosts {
			if strings.Contains(h, "*") {
				wild = true
			} else if !slices.Contains(se.Hosts[:i], h) {
				s.entriesByHost[h] = append(s.entriesByHost[h], se)
			}
		}
		if wild {
			s.wildEntries = append(s.wildEntries, se)
		}
	}
}

// EntriesForHost picks, from entries sorted by namespace and name, those
// with a host overlapping host (see Snapshot.ServiceEntriesForHost).
func EntriesForHost(entries []*ServiceEntry, host string) []*ServiceEntry {
	var out []*ServiceEntry
	for _, se := range entries {
		if slices.ContainsFunc(se.Hosts, func(h string) bool { return HostsOverlap(h, host) }) {
			out = append(out, se)
		}
	}
	return out
}

// HostsOverlap reports whether two host patterns can name a common host:
// "*" matches all, "*.example.com" its subdomains.
func HostsOverlap(a, b string) bool { return hostMatch(a, b) || hostMatch(b, a) }

func hostMatch(pattern, host string) bool {
	if pattern == "*" || pattern == host {
		return true
	}
	if suffix, ok := strings.CutPrefix(pattern, "*"); ok {
		return strings.HasSuffix(host, suffix)
	}
	return false
}

func sortedDRs(m map[string]*DestinationRule) []*DestinationRule {
	out := make([]*DestinationRule, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	SortDestinationRules(out)
	return out
}

// SortDestinationRules orders rules oldest first (Istio merges them in that order).
func SortDestinationRules(drs []*DestinationRule) {
	sort.Slice(drs, func(i, j int) bool {
		a, b := drs[i], drs[j]
		if !a.Created.Equal(b.Created) {
			return a.Created.Before(b.Created)
		}
		if a.Seq != b.Seq {
			return a.Seq < b.Seq
		}
		return a.Name < b.Name
	})
}

func (v storeView) Service(ns, name string) *Service {
	if n := v.s.nss[ns]; n != nil {
		return n.services[name]
	}
	return nil
}

func (v storeView) ForEachServicePod(ns, name string, fn func(*Pod) bool) {
	n := v.s.nss[ns]
	if n == nil {
		return
	}
	for _, p := range n.podsBySvc[name] {
		if !fn(p) {
			return
		}
	}
}

func (v storeView) DestinationRules(ns string) []*DestinationRule {
	if n := v.s.nss[ns]; n != nil {
		return n.drList
	}
	return nil
}

func (v storeView) DestinationRuleNamespaces(host string) []string {
	var out []string
	for ns := range v.s.drHosts[host] {
		out = append(out, ns)
	}
	for _, w := range v.s.drWildcards {
		if w == host || !strings.HasSuffix(host, w[1:]) {
			continue
		}
		for ns := range v.s.drHosts[w] {
			if !slices.Contains(out, ns) {
				out = append(out, ns)
			}
		}
	}
	sort.Strings(out)
	return out
}

func (v storeView) RoutedHosts() []string {
	out := make([]string, 0, len(v.s.vsByHost))
	for h := range v.s.vsByHost {
		out = append(out, h)
	}
	sort.Strings(out)
	return out
}

func (v storeView) VirtualServices(ns string) []*VirtualService { return v.routes(ns, "") }

func (v storeView) GatewayRoutes(kind, ns string) []*VirtualService { return v.routes(ns, kind) }

// routes lists the routes of one kind of the one route form in ns, by name.
func (v storeView) routes(ns, kind string) []*VirtualService {
	n := v.s.nss[ns]
	if n == nil {
		return nil
	}
	out := make([]*VirtualService, 0, len(n.routesOf(kind)))
	for _, vs := range n.routesOf(kind) {
		out = append(out, vs)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func (v storeView) VirtualService(ns, name string) *VirtualService {
	if n := v.s.nss[ns]; n != nil {
		return n.vss[name]
	}
	return nil
}

func (v storeView) VirtualServicesRouting(host string) []*VirtualService {
	return v.lookup(v.s.vsByHost[host])
}

func (v storeView) VirtualServicesOnGateway(key string) []*VirtualService {
	return v.lookup(v.s.vsByGateway[key])
}

func (v storeView) VirtualServicesOnMesh(host string) []*VirtualService {
	return v.lookup(v.s.vsOnMesh[host])
}

func (v storeView) lookup(refs []vsRef) []*VirtualService {
	out := make([]*VirtualService, 0, len(refs))
	for _, r := range refs {
		if n := v.s.nss[r.ns]; n != nil && n.routesOf(r.kind)[r.name] != nil {
			out = append(out, n.routesOf(r.kind)[r.name])
		}
	}
	return out
}

func (v storeView) GatewayRoute(kind, ns, name string) *VirtualService {
	if n := v.s.nss[ns]; n != nil && kind != "" {
		return n.routesOf(kind)[name]
	}
	return nil
}

func (v storeView) ReferenceGrants(ns string) []*ReferenceGrant {
	n := v.s.nss[ns]
	if n == nil {
		return nil
	}
	out := make([]*ReferenceGrant, 0, len(n.grants))
	for _, g := range n.grants {
		out = append(out, g)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func (v storeView) Gateway(ns, name string) *Gateway {
	if n := v.s.nss[ns]; n != nil {
		return n.gateways[name]
	}
	return nil
}

func (v storeView) PassthroughGateways() []*Gateway {
	out := make([]*Gateway, 0, len(v.s.passthrough))
	for _, gw := range v.s.passthrough {
		out = append(out, gw)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Namespace != out[j].Namespace {
			return out[i].Namespace < out[j].Namespace
		}
		return out[i].Name < out[j].Name
	})
	return out
}

func (v storeView) KubeGateway(ns, name string) *Gateway {
	if n := v.s.nss[ns]; n != nil {
		return n.kubeGateways[name]
	}
	return nil
}

func (v storeView) ServiceEntries() []*ServiceEntry { return v.s.entries }

func (v storeView) ServiceEntriesForHost(host string) []*ServiceEntry {
	if strings.Contains(host, "*") {
		return EntriesForHost(v.s.entries, host)
	}
	exact, wild := v.s.entriesByHost[host], EntriesForHost(v.s.wildEntries, host)
	if len(wild) == 0 {
		return exact
	}
	out := make([]*ServiceEntry, 0, len(exact)+len(wild))
	out = append(append(out, exact...), wild...)
	slices.SortFunc(out, func(a, b *ServiceEntry) int {
		return cmp.Or(strings.Compare(a.Namespace, b.Namespace), strings.Compare(a.Name, b.Name))
	})
	return slices.CompactFunc(out, func(a, b *ServiceEntry) bool { return a == b })
}

func (v storeView) ResolveHost(host, ns string) string { return v.s.resolve(host, ns) }

func (v storeView) DestinationRulesSettingTLS() []*DestinationRule {
	out := make([]*DestinationRule, 0, len(v.s.tlsRules))
	for _, dr := range v.s.tlsRules {
		out = append(out, dr)
	}
	sortByRef(out)
	return out
}

// sortByRef orders rules by namespace, then name.
func sortByRef(drs []*DestinationRule) {
	slices.SortFunc(drs, func(a, b *DestinationRule) int {
		if c := strings.Compare(a.Namespace, b.Namespace); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
}

// SetsTLSMode reports whether any TLS setting of the rule (top level, port
// level, subsets) has mode.
func (dr *DestinationRule) SetsTLSMode(mode string) bool {
	has := func(tp *TrafficPolicy) bool {
		if tp == nil {
			return false
		}
		if tp.TLS != nil && tp.TLS.Mode == mode {
			return true
		}
		for _, pp := range tp.Ports {
			if pp.TLS != nil && pp.TLS.Mode == mode {
				return true
			}
		}
		return false
	}
	if has(dr.Policy) {
		return true
	}
	for i := range dr.Subsets {
		if has(dr.Subsets[i].Policy) {
			return true
		}
	}
	return false
}
