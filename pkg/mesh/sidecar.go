package mesh

import (
	"slices"
	"strings"

	"github.com/meshguard/meshguard/pkg/state"
)

// SidecarFor returns the Sidecar istiod gives a sidecar proxy of namespace ns
// whose workload carries labels (nil: none applies, the proxy imports every
// host exported to it). pilot/pkg/model/push_context.go, getSidecarScope: a
// Sidecar of the proxy's namespace whose workloadSelector matches its labels
// (those with a selector come first, oldest first), else the namespace's
// Sidecar without selector, else the root namespace's Sidecar without
// selector (meshRootSidecarConfig), else none. Gateways always get the
// default scope: callers ask only for sidecars.
func (r Routing) SidecarFor(s state.Snapshot, ns string, labels map[string]string) *state.Sidecar {
	all := s.Sidecars()
	if len(all) == 0 {
		return nil
	}
	for _, sc := range state.SidecarsOf(all, ns) {
		if !sc.HasSelector || state.SelectorMatches(sc.Selector, labels) {
			return sc
		}
	}
	for _, sc := range state.SidecarsOf(all, r.root()) {
		if !sc.HasSelector {
			return sc
		}
	}
	return nil
}

// SelectorSidecars are the Sidecars of ns with a workloadSelector, in the
// order istiod tries them.
func SelectorSidecars(s state.Snapshot, ns string) []*state.Sidecar {
	var out []*state.Sidecar
	for _, sc := range state.SidecarsOf(s.Sidecars(), ns) {
		if sc.HasSelector {
			out = append(out, sc)
		}
	}
	return out
}

// Import is what a Sidecar does with calls to one host on one port.
type Import int

const (
	// Imported: an egress listener imports the host on the port.
	Imported Import = iota
	// NotImported: no egress listener imports it; the call leaves Istio's
	// routing (outboundTrafficPolicy decides: see Outbound).
	NotImported
	// ImportUnjudged: only listeners bound to other ports could say, and
	// how istiod merges those with the catch-all listener's is not
	// modelled: not judged.
	ImportUnjudged
)

// SidecarImport says whether sc, applied to a proxy of namespace clientNS,
// imports host (registered by a Service or ServiceEntry of namespace
// hostNS, visible to clientNS by its exportTo) on port, as
// pilot/pkg/model/sidecar.go does (convertIstioListenerToWrapper,
// selectServices, hostClassification.Matches): an egress host
// "namespace/dnsName" imports the services of that namespace ("*": any;
// ".": the proxy's own, configNamespace) whose hostname is dnsName or lies
// under its wildcard; "~ns/dnsName" excludes them; a Sidecar without egress
// imports "*/*". A listener with a port (not HTTP_PROXY) imports only that
// port (serviceMatchingListenerPort).
func SidecarImport(sc *state.Sidecar, clientNS, hostNS, host string, port uint32) Import {
	egress := sc.Egress
	if len(egress) == 0 {
		egress = []state.SidecarEgress{{Hosts: []string{"*/*"}}}
	}
	portScoped := false
	for _, e := range egress {
		if e.Port != 0 && e.Protocol != "HTTP_PROXY" {
			portScoped = true
			if e.Port != port {
				continue
			}
		}
		if listenerImports(e.Hosts, clientNS, hostNS, host) {
			return Imported
		}
	}
	if portScoped {
		return ImportUnjudged
	}
	return NotImported
}

// VirtualServiceImported says whether sc, applied to a proxy of clientNS,
// imports vs (pilot/pkg/model/virtualservice.go, SelectVirtualServices): an
// egress host of the VirtualService's namespace or "*" that matches one of
// its hosts (fqdns, expanded), either way round for wildcards, and not
// excluded. Port-scoped listeners count for every port (they can only
// import more).
func VirtualServiceImported(sc *state.Sidecar, clientNS, vsNS string, fqdns []string) bool {
	egress := sc.Egress
	if len(egress) == 0 {
		return true
	}
	for _, e := range egress {
		for _, h := range fqdns {
			if listenerMatches(e.Hosts, clientNS, vsNS, h, true) {
				return true
			}
		}
	}
	return false
}

func listenerImports(hosts []string, clientNS, hostNS, host string) bool {
	return listenerMatches(hosts, clientNS, hostNS, host, false)
}

// listenerMatches applies one listener's hosts to a host of namespace ns.
func listenerMatches(hosts []string, clientNS, ns, host string, bidirectional bool) bool {
	imported := false
	for _, h := range hosts {
		hns, name, ok := strings.Cut(h, "/")
		if !ok || strings.Contains(name, "/") {
			continue // istiod logs and skips a host not of the form namespace/dnsName
		}
		excluded := strings.HasPrefix(hns, "~")
		if excluded {
			hns = strings.TrimPrefix(hns, "~")
			if hns == "" {
				hns = "*"
			}
		}
		if hns == "." {
			hns = clientNS
		}
		if hns != "*" && hns != ns {
			continue
		}
		if excluded {
			if hostSubsetOf(host, name) {
				return false
			}
			continue
		}
		if hostSubsetOf(host, name) || (bidirectional && hostSubsetOf(name, host)) {
			imported = true
		}
	}
	return imported
}

// hostSubsetOf is istio's host.Name.SubsetOf: h equals pattern, or pattern
// is "*" or "*.suffix" and h lies under it (a wildcard h only under a
// wildcard no wider).
func hostSubsetOf(h, pattern string) bool {
	switch {
	case pattern == "*":
		return true
	case strings.HasPrefix(pattern, "*"):
		suffix := pattern[1:]
		if strings.HasPrefix(h, "*") {
			return strings.HasSuffix(h[1:], suffix)
		}
		return strings.HasSuffix(h, suffix)
	}
	return h == pattern
}

// Outbound is the outboundTrafficPolicy mode of a proxy under sc: the
// Sidecar's, else the mesh config's (default ALLOW_ANY;
// sidecar.go, initSidecarScopeInternalIndexes). meshDefault is the mesh
// config's mode when known ("" if not).
func Outbound(sc *state.Sidecar, meshDefault string) string {
	if sc != nil && sc.Outbound != "" {
		return sc.Outbound
	}
	if meshDefault != "" {
		return meshDefault
	}
	return state.AllowAny
}

// EntryVisible reports whether a ServiceEntry is visible to clientNS by its
// exportTo ("." its own namespace, "~" none, default every namespace).
func EntryVisible(exportTo []string, entryNS, clientNS string) bool {
	if len(exportTo) == 0 {
		return true
	}
	return slices.ContainsFunc(exportTo, func(e string) bool {
		return e == "*" || e == clientNS || (e == "." && entryNS == clientNS)
	})
}
