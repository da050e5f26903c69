package mesh

import (
	"github.com/meshguard/meshguard/pkg/state"
)

// Routing answers the questions route rules ask: which DestinationRules
// apply to a host, which subsets they define, which pods a subset selects.
type Routing struct {
	Hosts Hosts
	Root  string
}

// RootNamespace is the root (config) namespace rules are looked up in last.
func (r Routing) RootNamespace() string { return r.root() }

func (r Routing) root() string {
	if r.Root == "" {
		return DefaultRootNamespace
	}
	return r.Root
}

// SubsetUse is how one client namespace resolves a routed subset.
type SubsetUse struct {
	// Client is the namespace whose proxies route.
	Client string
	// Rules is what the lookup found for the host there (possibly nothing).
	Rules RuleSet
	// Subset is the definition found, nil when the rules do not define it.
	Subset *state.Subset
}

// SubsetUses resolves subset of fqdn for every namespace whose proxies use vs
// (see ClientNamespaces), each with the DestinationRule its lookup finds.
func (r Routing) SubsetUses(s state.Snapshot, vs *state.VirtualService, fqdn, serviceNS, subset string) []SubsetUse {
	clients := r.ClientNamespaces(s, vs, fqdn)
	out := make([]SubsetUse, 0, len(clients))
	for _, ns := range clients {
		rs := r.Lookup(s, fqdn, ns, serviceNS)
		sub, _ := rs.Subset(subset)
		out = append(out, SubsetUse{Client: ns, Rules: rs, Subset: sub})
	}
	return out
}

// SubsetLabels returns the labels of subset as the first client namespace of
// vs that defines it sees them (false when none does: MG301's finding).
func (r Routing) SubsetLabels(s state.Snapshot, vs *state.VirtualService, fqdn, serviceNS, subset string) (map[string]string, bool) {
	for _, u := range r.SubsetUses(s, vs, fqdn, serviceNS, subset) {
		if u.Subset != nil {
			return u.Subset.Labels, true
		}
	}
	return nil, false
}

// endpointLabels are labels Istio puts on endpoints itself (cluster, network,
// locality, node), so that subsets can split traffic by them; they are not pod
// labels (pilot/pkg/serviceregistry/kube/controller endpoint builder and
// pkg/config/labels). The multicluster traffic tasks define subsets with them.
var endpointLabels = map[string]bool{
	"topology.istio.io/cluster":     true,
	"topology.istio.io/network":     true,
	"topology.istio.io/subzone":     true,
	"topology.kubernetes.io/region": true,
	"topology.kubernetes.io/zone":   true,
	"kubernetes.io/hostname":        true,
}

// JudgedByPods reports whether a subset's pods can be counted from pod
// labels: false when it uses a label Istio adds to endpoints itself.
func JudgedByPods(labels map[string]string) bool {
	for k := range labels {
		if endpointLabels[k] {
			return false
		}
	}
	return true
}

// PodCount counts the live and the Ready pods of a Service that carry labels
// (nil: every pod of the Service).
type PodCount struct {
	Live, Ready int
}

// CountPods counts the pods of svc that also carry labels.
func CountPods(s state.Snapshot, svc *state.Service, labels map[string]string) PodCount {
	var c PodCount
	s.ForEachServicePod(svc.Namespace, svc.Name, func(p *state.Pod) bool {
		if p.Finished() || !state.SelectorMatches(labels, p.Labels) {
			return true
		}
		c.Live++
		if p.Ready {
			c.Ready++
		}
		return true
	})
	return c
}

// TargetPort maps a Service port to the container port it targets on pod p
// (0 when it cannot be resolved).
func TargetPort(sp state.ServicePort, p *state.Pod) uint32 {
	if sp.TargetPortName == "" {
		return uint32(sp.TargetPort)
	}
	for _, cp := range p.Ports {
		if cp.Name == sp.TargetPortName {
			return uint32(cp.Port)
		}
	}
	return 0
}

// TLSSetting is one TLS block of a DestinationRule with where it applies.
type TLSSetting struct {
	Field  string // spec.trafficPolicy.tls, spec.subsets[1].trafficPolicy.portLevelSettings[0].tls, ...
	Subset string // "" for the whole host
	Port   uint32 // 0 for every port
	TLS    *state.ClientTLS
}

// TLSSettings lists every TLS block of a DestinationRule, top level first.
func TLSSettings(dr *state.DestinationRule) []TLSSetting {
	var out []TLSSetting
	add := func(prefix, subset string, tp *state.TrafficPolicy) {
		if tp == nil {
			return
		}
		if tp.TLS != nil {
			out = append(out, TLSSetting{Field: prefix + ".tls", Subset: subset, TLS: tp.TLS})
		}
		for _, port := range sortedPorts(tp.Ports) {
			if pp := tp.Ports[port]; pp.TLS != nil {
				out = append(out, TLSSetting{Field: prefix + ".portLevelSettings[" + itoa(uint32(pp.Index)) + "].tls", Subset: subset, Port: port, TLS: pp.TLS})
			}
		}
	}
	add("spec.trafficPolicy", "", dr.Policy)
	for i, sub := range dr.Subsets {
		add("spec.subsets["+itoa(uint32(i))+"].trafficPolicy", sub.Name, sub.Policy)
	}
	return out
}

// HasTLSMode reports whether any TLS setting of the rule (top level, port
// level, subsets) has mode: TLSSettings without building field paths.
func HasTLSMode(dr *state.DestinationRule, mode string) bool { return dr.SetsTLSMode(mode) }

// HasOutlierDetection reports whether the rule (or the subset's policy) sets outlier detection.
func HasOutlierDetection(dr *state.DestinationRule, subset string) bool {
	if Ejects(dr.Policy) {
		return true
	}
	for _, sub := range dr.Subsets {
		if sub.Name == subset && Ejects(sub.Policy) {
			return true
		}
	}
	return false
}

// Ejects reports whether a traffic policy sets outlier detection, at the top
// or on some port.
func Ejects(tp *state.TrafficPolicy) bool {
	if tp == nil {
		return false
	}
	if tp.Outlier != nil {
		return true
	}
	for _, pp := range tp.Ports {
		if pp.Outlier != nil {
			return true
		}
	}
	return false
}
