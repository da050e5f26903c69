package state

import (
	"cmp"
	"slices"
	"sort"
	"strings"
)

// WithPeerAuthentication returns base as it would be after one
// PeerAuthentication write: pa replaces the object named ns/name, or removes it
// when pa is nil. Only the policy list of that namespace is rebuilt, so the
// cost is proportional to the policies of one namespace.
func WithPeerAuthentication(base Snapshot, ns, name string, pa *PeerAuthentication) Snapshot {
	list := replaceNamed(base.PeerAuthentications(ns), name, pa, func(p *PeerAuthentication) string { return p.Name }, SortPolicies)
	return paOverlay{Snapshot: base, ns: ns, list: list}
}

// replaceNamed returns a copy of list without the item called name, plus
// item when it is not nil, ordered by sortFn.
func replaceNamed[T comparable](list []T, name string, item T, nameOf func(T) string, sortFn func([]T)) []T {
	out := make([]T, 0, len(list)+1)
	for _, x := range list {
		if nameOf(x) != name {
			out = append(out, x)
		}
	}
	var none T
	if item != none {
		out = append(out, item)
		sortFn(out)
	}
	return out
}

type paOverlay struct {
	Snapshot
	ns   string
	list []*PeerAuthentication
}

func (o paOverlay) PeerAuthentications(ns string) []*PeerAuthentication {
	if ns == o.ns {
		return o.list
	}
	return o.Snapshot.PeerAuthentications(ns)
}

// NamespaceNames includes the policy's namespace even when the state knows
// nothing else about it.
func (o paOverlay) NamespaceNames() []string { return withName(o.Snapshot.NamespaceNames(), o.ns) }

// WithDestinationRule returns base after one DestinationRule write (dr nil: deleted).
func WithDestinationRule(base Snapshot, ns, name string, dr *DestinationRule) Snapshot {
	list := replaceNamed(base.DestinationRules(ns), name, dr, func(d *DestinationRule) string { return d.Name }, SortDestinationRules)
	return drOverlay{Snapshot: base, ns: ns, list: list}
}

type drOverlay struct {
	Snapshot
	ns   string
	list []*DestinationRule
}

func (o drOverlay) DestinationRules(ns string) []*DestinationRule {
	if ns == o.ns {
		return o.list
	}
	return o.Snapshot.DestinationRules(ns)
}

func (o drOverlay) NamespaceNames() []string { return withName(o.Snapshot.NamespaceNames(), o.ns) }

// DestinationRulesSettingTLS takes the written namespace's rules from the
// overlay, the others from the base.
func (o drOverlay) DestinationRulesSettingTLS() []*DestinationRule {
	var out []*DestinationRule
	for _, dr := range o.Snapshot.DestinationRulesSettingTLS() {
		if dr.Namespace != o.ns {
			out = append(out, dr)
		}
	}
	for _, dr := range o.list {
		if len(dr.WorkloadSelector) == 0 && (dr.SetsTLSMode("DISABLE") || dr.SetsTLSMode("ISTIO_MUTUAL")) {
			out = append(out, dr)
		}
	}
	sortByRef(out)
	return out
}

// DestinationRuleNamespaces re-decides the written namespace from its new
// rule list; the others come from the base.
func (o drOverlay) DestinationRuleNamespaces(host string) []string {
	base := o.Snapshot.DestinationRuleNamespaces(host)
	has := slices.ContainsFunc(o.list, func(dr *DestinationRule) bool {
		h := o.Snapshot.ResolveHost(dr.Host, dr.Namespace)
		return h == host || (strings.HasPrefix(h, "*") && strings.HasSuffix(host, h[1:]))
	})
	i, found := slices.BinarySearch(base, o.ns)
	switch {
	case has && !found:
		return slices.Insert(slices.Clone(base), i, o.ns)
	case !has && found:
		return slices.Delete(slices.Clone(base), i, i+1)
	}
	return base
}

// WithVirtualService returns base after one VirtualService write (vs nil: deleted).
func WithVirtualService(base Snapshot, ns, name string, vs *VirtualService) Snapshot {
	return vsOverlay{Snapshot: base, ns: ns, name: name, vs: vs}
}

// WithGatewayRoute returns base after one write of a Gateway API route of
// kind (KindHTTPRoute, KindGRPCRoute; vs its one route form, nil: deleted):
// the same overlay as a VirtualService's.
func WithGatewayRoute(base Snapshot, kind, ns, name string, vs *VirtualService) Snapshot {
	return vsOverlay{Snapshot: base, ns: ns, name: name, kind: kind, vs: vs}
}

type vsOverlay struct {
	Snapshot
	ns, name, kind string
	vs             *VirtualService
}

func (o vsOverlay) GatewayRoute(kind, ns, name string) *VirtualService {
	if kind != "" && o.kind == kind && ns == o.ns && name == o.name {
		return o.vs
	}
	return o.Snapshot.GatewayRoute(kind, ns, name)
}

func (o vsOverlay) VirtualService(ns, name string) *VirtualService {
	if o.kind == "" && ns == o.ns && name == o.name {
		return o.vs
	}
	return o.Snapshot.VirtualService(ns, name)
}

func (o vsOverlay) replace(list []*VirtualService, keep func(*VirtualService) bool) []*VirtualService {
	out := make([]*VirtualService, 0, len(list)+1)
	for _, v := range list {
		if v.Namespace != o.ns || v.Name != o.name || v.Kind != o.kind {
			out = append(out, v)
		}
	}
	if o.vs != nil && keep(o.vs) {
		out = append(out, o.vs)
	}
	return out
}

func (o vsOverlay) VirtualServicesRouting(host string) []*VirtualService {
	return o.replace(o.Snapshot.VirtualServicesRouting(host), func(v *VirtualService) bool {
		return slices.Contains(RoutedHosts(v, o.Snapshot.ResolveHost), host)
	})
}

func (o vsOverlay) VirtualServicesOnGateway(key string) []*VirtualService {
	return o.replace(o.Snapshot.VirtualServicesOnGateway(key), func(v *VirtualService) bool {
		return slices.ContainsFunc(v.Gateways, func(g string) bool { return GatewayKey(g, v.Namespace) == key })
	})
}

func (o vsOverlay) VirtualServices(ns string) []*VirtualService {
	return o.routes(ns, "", o.Snapshot.VirtualServices(ns))
}

func (o vsOverlay) GatewayRoutes(kind, ns string) []*VirtualService {
	return o.routes(ns, kind, o.Snapshot.GatewayRoutes(kind, ns))
}

// routes is list, the routes of one kind in ns, after the write.
func (o vsOverlay) routes(ns, kind string, list []*VirtualService) []*VirtualService {
	if ns != o.ns || o.kind != kind {
		return list
	}
	return replaceNamed(list, o.name, o.vs, func(v *VirtualService) string { return v.Name }, func(vs []*VirtualService) {
		sort.Slice(vs, func(i, j int) bool { return vs[i].Name < vs[j].Name })
	})
}

func (o vsOverlay) VirtualServicesOnMesh(host string) []*VirtualService {
	return o.replace(o.Snapshot.VirtualServicesOnMesh(host), func(v *VirtualService) bool {
		return OnMesh(v) && slices.ContainsFunc(v.Hosts, func(h string) bool { return o.Snapshot.ResolveHost(h, v.Namespace) == host })
	})
}

// RoutedHosts adds the hosts the written VirtualService routes to; a host it
// stopped routing to may stay listed, with no VirtualService behind it.
func (o vsOverlay) RoutedHosts() []string { return o.withRoutedHosts(o.Snapshot.RoutedHosts()) }

// withRoutedHosts returns the sorted hosts with those the written route
// sends to in them.
func (o vsOverlay) withRoutedHosts(hosts []string) []string {
	if o.vs == nil {
		return hosts
	}
	for _, h := range RoutedHosts(o.vs, o.Snapshot.ResolveHost) {
		hosts = withName(hosts, h)
	}
	return hosts
}

func (o vsOverlay) NamespaceNames() []string { return withName(o.Snapshot.NamespaceNames(), o.ns) }

// withName returns the sorted names with name in them.
func withName(names []string, name string) []string {
	i := sort.SearchStrings(names, name)
	if i < len(names) && names[i] == name {
		return names
	}
	return slices.Insert(slices.Clone(names), i, name)
}

// WithReferenceGrant returns base after one ReferenceGrant write (g nil:
// deleted): only the grants of its namespace are rebuilt.
func WithReferenceGrant(base Snapshot, ns, name string, g *ReferenceGrant) Snapshot {
	list := replaceNamed(base.ReferenceGrants(ns), name, g, func(g *ReferenceGrant) string { return g.Name }, func(gs []*ReferenceGrant) {
		sort.Slice(gs, func(i, j int) bool { return gs[i].Name < gs[j].Name })
	})
	return grantOverlay{Snapshot: base, ns: ns, list: list}
}

type grantOverlay struct {
	Snapshot
	ns   string
	list []*ReferenceGrant
}

func (o grantOverlay) ReferenceGrants(ns string) []*ReferenceGrant {
	if ns == o.ns {
		return o.list
	}
	return o.Snapshot.ReferenceGrants(ns)
}

func (o grantOverlay) NamespaceNames() []string { return withName(o.Snapshot.NamespaceNames(), o.ns) }

// WithServiceEntry returns base after one ServiceEntry write (se nil:
// deleted): the list of entries is rebuilt, which costs one pass over the
// entries (few, next to pods and routes).
func WithServiceEntry(base Snapshot, ns, name string, se *ServiceEntry) Snapshot {
	list := make([]*ServiceEntry, 0, len(base.ServiceEntries())+1)
	for _, e := range base.ServiceEntries() {
		if e.Namespace != ns || e.Name != name {
			list = append(list, e)
		}
	}
	if se != nil {
		list = append(list, se)
		sort.Slice(list, func(i, j int) bool {
			if list[i].Namespace != list[j].Namespace {
				return list[i].Namespace < list[j].Namespace
			}
			return list[i].Name < list[j].Name
		})
	}
	return seOverlay{Snapshot: base, ns: ns, list: list}
}

type seOverlay struct {
	Snapshot
	ns   string
	list []*ServiceEntry
}

func (o seOverlay) ServiceEntries() []*ServiceEntry { return o.list }

// ServiceEntriesForHost filters the rebuilt list: a write's review pays
// one pass over the entries, as rebuilding the list did.
func (o seOverlay) ServiceEntriesForHost(host string) []*ServiceEntry {
	return EntriesForHost(o.list, host)
}

func (o seOverlay) NamespaceNames() []string { return withName(o.Snapshot.NamespaceNames(), o.ns) }

// WithGateway returns base after one Istio Gateway write (gw nil: deleted).
func WithGateway(base Snapshot, ns, name string, gw *Gateway) Snapshot {
	return gwOverlay{Snapshot: base, ns: ns, name: name, gw: gw}
}

type gwOverlay struct {
	Snapshot
	ns, name string
	gw       *Gateway
	// kube: the written Gateway is a Gateway API one.
	kube bool
}

func (o gwOverlay) Gateway(ns, name string) *Gateway {
	if !o.kube && ns == o.ns && name == o.name {
		return o.gw
	}
	return o.Snapshot.Gateway(ns, name)
}

func (o gwOverlay) PassthroughGateways() []*Gateway {
	base := o.Snapshot.PassthroughGateways()
	if o.kube {
		return base
	}
	out := make([]*Gateway, 0, len(base)+1)
	for _, g := range base {
		if g.Namespace != o.ns || g.Name != o.name {
			out = append(out, g)
		}
	}
	if o.gw != nil && o.gw.Passthrough() {
		i, _ := slices.BinarySearchFunc(out, o.gw, func(a, b *Gateway) int {
			return cmp.Or(strings.Compare(a.Namespace, b.Namespace), strings.Compare(a.Name, b.Name))
		})
		out = slices.Insert(out, i, o.gw)
	}
	return out
}

func (o gwOverlay) NamespaceNames() []string { return withName(o.Snapshot.NamespaceNames(), o.ns) }

// WithKubeGateway returns base after one Gateway API Gateway write (gw nil:
// deleted): the overlay of an Istio Gateway's write, for the other kind.
func WithKubeGateway(base Snapshot, ns, name string, gw *Gateway) Snapshot {
	return gwOverlay{Snapshot: base, ns: ns, name: name, gw: gw, kube: true}
}

func (o gwOverlay) KubeGateway(ns, name string) *Gateway {
	if o.kube && ns == o.ns && name == o.name {
		return o.gw
	}
	return o.Snapshot.KubeGateway(ns, name)
}
