package mesh

import (
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/labels"

	"github.com/meshguard/meshguard/pkg/state"
)

// DefaultClusterDomain is the Kubernetes cluster domain unless configured.
const DefaultClusterDomain = "cluster.local"

// Hosts resolves host names the way Istio does: only dot-less short names are
// expanded (into the object's namespace and the cluster domain); everything
// else is taken literally.
type Hosts struct {
	Domain string
}

func (h Hosts) domain() string {
	if h.Domain == "" {
		return DefaultClusterDomain
	}
	return h.Domain
}

// FQDN expands a dot-less short name written in namespace ns, and puts
// the domain in a translated route's host of another namespace's Service
// (state.InClusterDomain); other hosts are returned as written.
func (h Hosts) FQDN(host, ns string) string {
	if host == "" || host == "*" {
		return host
	}
	if strings.Contains(host, ".") {
		if svc, ok := strings.CutSuffix(host, "."+state.DomainMarker); ok {
			return svc + "." + h.domain()
		}
		return host
	}
	return host + "." + ns + ".svc." + h.domain()
}

// Score is HostScore(h.FQDN(host, ns), fqdn) without building the expanded
// name: lookups score every rule of a namespace against a host, and most of
// them do not match.
func (h Hosts) Score(host, ns, fqdn string) int {
	if host == "" || host == "*" || strings.Contains(host, ".") {
		return HostScore(host, fqdn)
	}
	// fqdn must read host "." ns ".svc." domain.
	rest, ok := cutLabel(fqdn, host)
	if ok {
		rest, ok = cutLabel(rest, ns)
	}
	if ok {
		rest, ok = cutLabel(rest, "svc")
	}
	if !ok || rest != h.domain() {
		return 0
	}
	return HostScore(fqdn, fqdn)
}

// cutLabel cuts label and the dot after it from the front of name.
func cutLabel(name, label string) (string, bool) {
	if len(name) <= len(label) || name[len(label)] != '.' || name[:len(label)] != label {
		return "", false
	}
	return name[len(label)+1:], true
}

// ServiceName returns the Service a fully qualified cluster name denotes.
func (h Hosts) ServiceName(fqdn string) (ns, name string, ok bool) {
	rest, found := strings.CutSuffix(fqdn, ".svc."+h.domain())
	if !found {
		return "", "", false
	}
	name, ns, ok = strings.Cut(rest, ".")
	return ns, name, ok && name != "" && ns != "" && !strings.Contains(ns, ".")
}

// NewStore returns a Store that classifies pods and indexes routes with
// Istio's semantics.
func NewStore(domain string) *state.Store {
	h := Hosts{Domain: domain}
	return state.NewStore(Classify, state.WithHostResolver(h.FQDN))
}

// Resolution is what a host written in some namespace refers to.
type Resolution struct {
	// FQDN is the host after Istio's expansion.
	FQDN string
	// Service is the Kubernetes Service the host names, if it exists.
	Service *state.Service
	// ServiceNamespace and ServiceName name the Service the host points at,
	// whether or not it exists.
	ServiceNamespace, ServiceName string
	// Entry is a ServiceEntry visible from the namespace whose hosts match.
	Entry *state.ServiceEntry
	// Unexpanded is set for "name.ns" and "name.ns.svc": forms people mean as
	// a Service but that Istio does not expand; Suggest is what to write.
	Unexpanded bool
	Suggest    string
}

// Found reports whether the host resolves to a Service or a ServiceEntry.
func (r Resolution) Found() bool { return r.Service != nil || r.Entry != nil }

// InCluster reports whether the host names a cluster Service (existing or not).
func (r Resolution) InCluster() bool { return r.ServiceName != "" }

// Resolve resolves host as written in an object of namespace ns.
func (h Hosts) Resolve(s state.Snapshot, host, ns string) Resolution {
	r := Resolution{FQDN: h.FQDN(host, ns)}
	if svcNS, name, ok := h.ServiceName(r.FQDN); ok {
		r.ServiceNamespace, r.ServiceName = svcNS, name
		r.Service = s.Service(svcNS, name)
	}
	r.Entry = h.entryFor(s, r.FQDN, ns)
	if r.Found() || r.InCluster() {
		return r
	}
	// name.ns or name.ns.svc with a namespace the cluster knows.
	parts := strings.Split(host, ".")
	if (len(parts) == 2 || (len(parts) == 3 && parts[2] == "svc")) && s.Namespace(parts[1]) != nil {
		r.Unexpanded = true
		r.Suggest = parts[0] + "." + parts[1] + ".svc." + h.domain()
	}
	return r
}

func (h Hosts) entryFor(s state.Snapshot, fqdn, ns string) *state.ServiceEntry {
	for _, se := range s.ServiceEntriesForHost(fqdn) {
		if Exported(se.ExportTo, se.Namespace, ns) {
			return se
		}
	}
	return nil
}

// Exported reports whether an object of namespace owner with exportTo is
// visible from namespace ns.
func Exported(exportTo []string, owner, ns string) bool {
	if len(exportTo) == 0 {
		return true
	}
	for _, e := range exportTo {
		if e == "*" || e == ns || (e == "." && owner == ns) {
			return true
		}
	}
	return false
}

// HostsOverlap reports whether two host patterns can name a common host:
// "*" matches all, "*.example.com" matches its subdomains.
func HostsOverlap(a, b string) bool { return state.HostsOverlap(a, b) }

// GatewayServesHost reports whether any server of gw accepts host for a
// VirtualService in namespace vsNS (server hosts are "ns/host", "./host",
// "*/host" or "host").
func GatewayServesHost(gw *state.Gateway, host, vsNS string) bool {
	for _, srv := range gw.Servers {
		for _, sh := range srv.Hosts {
			hns, hh, ok := strings.Cut(sh, "/")
			if !ok {
				hns, hh = "*", sh
			}
			if hns == "." {
				hns = gw.Namespace
			}
			if (hns == "*" || hns == vsNS) && HostsOverlap(hh, host) {
				return true
			}
		}
	}
	return false
}

// RouteServers returns gw narrowed to the servers on port (0: any) that
// admit the route vs bound to it as key ("ns/name"), before hostnames are
// matched (GatewayServesHost). An Istio Gateway's servers all do. A Gateway
// API listener admits a translated route as istiod's referenceAllowed
// decides (pilot/pkg/config/kube/gateway/conversion.go): the parentRef's
// port and sectionName first, then the route's kind among the listener's
// (its protocol and allowedRoutes.kinds); with allowedRoutes.namespaces
// from Selector, the route's namespace must match the selector
// (namespacesFromSelector, which adds kubernetes.io/metadata.name).
func RouteServers(s state.Snapshot, gw *state.Gateway, key string, vs *state.VirtualService, port uint32) *state.Gateway {
	out := *gw
	out.Servers = nil
	for _, srv := range gw.Servers {
		if port != 0 && srv.Port != port {
			continue
		}
		if l := srv.Listener; l != nil && vs.Kind != "" {
			if !vs.Attaches(key, l.Name, srv.Port) || !slices.Contains(l.Kinds, vs.Kind) ||
				l.Namespaces != nil && !l.Namespaces.Matches(namespaceLabels(s, vs.Namespace)) {
				continue
			}
		}
		out.Servers = append(out.Servers, srv)
	}
	return &out
}

// namespaceLabels are a namespace's labels as a selector sees them, with
// kubernetes.io/metadata.name set as the API server sets it.
func namespaceLabels(s state.Snapshot, ns string) labels.Set {
	out := labels.Set{"kubernetes.io/metadata.name": ns}
	if n := s.Namespace(ns); n != nil {
		for k, v := range n.Labels {
			if k != "kubernetes.io/metadata.name" {
				out[k] = v
			}
		}
	}
	return out
}

// GatewayRef splits a VirtualService gateway reference into namespace and name.
func GatewayRef(ref, vsNS string) (ns, name string) {
	ns, name, _ = strings.Cut(state.GatewayKey(ref, vsNS), "/")
	return ns, name
}

// BoundToGateway reports whether the VirtualService applies to a gateway
// (and not only to sidecars).
func BoundToGateway(vs *state.VirtualService) bool {
	return slices.ContainsFunc(vs.Gateways, func(g string) bool { return g != "mesh" })
}
