package mesh

import (
	"slices"
	"sort"
	"strings"

	"github.com/meshguard/meshguard/pkg/state"
)

// RuleSet is the DestinationRule a proxy uses for one host: the rules of one
// namespace for the most specific host matching it, merged as Istio merges
// them (oldest first; pilot/pkg/model/destination_rule.go mergeDestinationRule).
type RuleSet struct {
	// Namespace holds the rules; empty when no rule applies.
	Namespace string
	// Host is the rules' host after short-name expansion (exact or wildcard).
	Host string
	// Rules are the merged rules, oldest first.
	Rules []*state.DestinationRule
}

// Found reports whether any rule applies.
func (rs RuleSet) Found() bool { return len(rs.Rules) > 0 }

// Contains reports whether dr is one of the merged rules.
func (rs RuleSet) Contains(dr *state.DestinationRule) bool {
	for _, r := range rs.Rules {
		if r.Namespace == dr.Namespace && r.Name == dr.Name {
			return true
		}
	}
	return false
}

// Subset returns the subset called name and the rule that defines it. When
// merged rules define one name twice, the oldest definition wins.
func (rs RuleSet) Subset(name string) (*state.Subset, *state.DestinationRule) {
	for _, dr := range rs.Rules {
		for i := range dr.Subsets {
			if dr.Subsets[i].Name == name {
				return &dr.Subsets[i], dr
			}
		}
	}
	return nil, nil
}

// PolicyOwner is the rule whose top-level trafficPolicy applies: the oldest
// rule that has one (later rules' top-level policies are ignored by the merge).
func (rs RuleSet) PolicyOwner() *state.DestinationRule {
	for _, dr := range rs.Rules {
		if dr.Policy != nil {
			return dr
		}
	}
	return nil
}

// Names renders the merged rules as "ns/a, ns/b" for messages.
func (rs RuleSet) Names() string {
	names := make([]string, len(rs.Rules))
	for i, dr := range rs.Rules {
		names[i] = dr.Namespace + "/" + dr.Name
	}
	return strings.Join(names, ", ")
}

// Lookup returns the DestinationRule a proxy in clientNS uses for the host
// fqdn served from serviceNS (empty for hosts that are no Service), following
// Istio's push context (pilot/pkg/model/push_context.go, destinationRule):
//
//  1. a rule in the client's own namespace visible there (exportTo empty, ".",
//     "*" or naming it); for proxies in the root namespace, only root rules
//     exported to the root namespace alone;
//  2. else a rule in the Service's namespace exported to the client;
//  3. else a rule in the root namespace exported to the client.
//
// The first step with a hit wins, so a rule in the client's namespace shadows
// the Service's own rule and its subsets. Within a namespace the most specific
// host wins (exact over the longest wildcard); in steps 2 and 3 the most
// specific rule is chosen before exportTo is checked, so a more specific rule
// that is not exported hides less specific ones, as in Istio. Rules with a
// workloadSelector are left out (they are never exported and apply to
// selected sidecars only).
func (r Routing) Lookup(s state.Snapshot, fqdn, clientNS, serviceNS string) RuleSet {
	root := r.root()
	if clientNS != root {
		if rs := r.mostSpecific(s, clientNS, fqdn, func(dr *state.DestinationRule) bool { return localTo(dr, clientNS) }); rs.Found() {
			rs.Rules = consolidate(rs.Rules, nil)
			return rs
		}
	} else if rs := r.mostSpecific(s, root, fqdn, privateOnly); rs.Found() {
		rs.Rules = consolidate(rs.Rules, nil)
		return rs
	}
	for _, ns := range []string{serviceNS, root} {
		if ns == "" {
			continue
		}
		rs := r.mostSpecific(s, ns, fqdn, func(dr *state.DestinationRule) bool { return !privateOnly(dr) })
		rs.Rules = consolidate(rs.Rules, func(exportTo []string) bool { return exportedTo(exportTo, clientNS) })
		if rs.Found() {
			return rs
		}
	}
	return RuleSet{}
}

// consolidate follows istiod's merge of one namespace's rules for one host
// (pilot/pkg/model/destination_rule.go mergeDestinationRule, with
// EnableEnhancedDestinationRuleMerge, its default) and returns the rules a
// sidecar ends up with. Rules are taken oldest first; one whose exportTo
// equals an entry's, or is a superset of a non-empty one, merges into that
// entry (the entry's first policy stays, its subsets are added); otherwise,
// or when a later entry differs, it also stands as an entry of its own
// (the loop's last comparison decides, as istiod's does). Of the entries
// visible to the client, the sidecar uses the last
// (SidecarScope.DestinationRule keeps the last one without a selector).
// visible nil: every entry is.
func consolidate(drs []*state.DestinationRule, visible func(exportTo []string) bool) []*state.DestinationRule {
	if len(drs) < 2 && (visible == nil || len(drs) == 0 || visible(drs[0].ExportTo)) {
		return drs
	}
	type entry struct {
		exportTo []string
		from     []*state.DestinationRule
	}
	var entries []*entry
	for _, dr := range drs {
		set := exportSet(dr.ExportTo)
		separate := true
		for _, e := range entries {
			switch {
			case slices.Equal(set, e.exportTo), len(e.exportTo) > 0 && superset(set, e.exportTo):
				separate = false
				e.from = append(e.from, dr)
			default:
				separate = true
			}
		}
		if separate || len(entries) == 0 {
			entries = append(entries, &entry{exportTo: set, from: []*state.DestinationRule{dr}})
		}
	}
	for i := len(entries) - 1; i >= 0; i-- {
		if visible == nil || visible(entries[i].exportTo) {
			return entries[i].from
		}
	}
	return nil
}

// exportSet is an exportTo list as the set istiod compares: sorted, once each.
func exportSet(exportTo []string) []string {
	out := slices.Clone(exportTo)
	slices.Sort(out)
	return slices.Compact(out)
}

// superset reports whether sorted set a holds every element of sorted set b.
func superset(a, b []string) bool {
	for _, x := range b {
		if _, ok := slices.BinarySearch(a, x); !ok {
			return false
		}
	}
	return true
}

// mostSpecific returns the rules of ns that pass in and whose host is the
// most specific match for fqdn, oldest first.
func (r Routing) mostSpecific(s state.Snapshot, ns, fqdn string, in func(*state.DestinationRule) bool) RuleSet {
	var best RuleSet
	bestScore := 0
	for _, dr := range s.DestinationRules(ns) { // oldest first
		if len(dr.WorkloadSelector) > 0 || !in(dr) {
			continue
		}
		h := r.Hosts.FQDN(dr.Host, dr.Namespace)
		score := HostScore(h, fqdn)
		switch {
		case score == 0 || score < bestScore:
		case score > bestScore:
			best, bestScore = RuleSet{Namespace: ns, Host: h, Rules: []*state.DestinationRule{dr}}, score
		case h == best.Host:
			best.Rules = append(best.Rules, dr)
		}
	}
	return best
}

// HostScore ranks how specifically pattern matches host: 0 no match, an exact
// match above any wildcard, a longer wildcard above a shorter one.
func HostScore(pattern, host string) int {
	if pattern == host {
		return 1 << 20
	}
	if suffix, ok := strings.CutPrefix(pattern, "*"); ok && strings.HasSuffix(host, suffix) {
		return 1 + len(suffix)
	}
	return 0
}

// localTo reports whether a rule is in its namespace's local index for
// proxies of ns (its own namespace): exportTo empty, ".", "*" or naming ns.
func localTo(dr *state.DestinationRule, ns string) bool {
	if dr.Namespace != ns {
		return false
	}
	if len(dr.ExportTo) == 0 {
		return true
	}
	for _, e := range dr.ExportTo {
		if e == "." || e == "*" || e == ns {
			return true
		}
	}
	return false
}

// privateOnly reports whether a rule is exported to its own namespace alone.
func privateOnly(dr *state.DestinationRule) bool {
	return len(dr.ExportTo) == 1 && (dr.ExportTo[0] == "." || dr.ExportTo[0] == dr.Namespace)
}

// exportedTo reports whether an exported rule is visible from ns.
func exportedTo(exportTo []string, ns string) bool {
	if len(exportTo) == 0 {
		return true
	}
	for _, e := range exportTo {
		if e == "*" || e == ns {
			return true
		}
	}
	return false
}

// ClientNamespaces lists, sorted and once each, the namespaces whose proxies
// use vs for traffic to fqdn and whose DestinationRule lookup can differ: the
// namespaces of the Gateways it binds; and, when it applies to sidecars (no
// gateways, or "mesh"), its own namespace and every namespace but the root
// holding a rule for the host that the VirtualService is exported to. Any other namespace
// has no rule of its own and resolves like the ones listed, so the work is
// bounded by the rules for the host, not by the namespaces of the cluster.
func (r Routing) ClientNamespaces(s state.Snapshot, vs *state.VirtualService, fqdn string) []string {
	var out []string
	add := func(ns string) {
		if !slices.Contains(out, ns) {
			out = append(out, ns)
		}
	}
	sidecars := len(vs.Gateways) == 0
	for _, g := range vs.Gateways {
		if g == "mesh" {
			sidecars = true
			continue
		}
		ns, _ := GatewayRef(g, vs.Namespace)
		add(ns)
	}
	if sidecars {
		add(vs.Namespace)
		for _, ns := range s.DestinationRuleNamespaces(fqdn) {
			// The root namespace runs the control plane and gateways, and a
			// gateway uses only the VirtualServices bound to it: its rules
			// (often exported to "." for those gateways) are no sidecar's.
			if ns == r.root() && ns != vs.Namespace {
				continue
			}
			if Exported(vs.ExportTo, vs.Namespace, ns) {
				add(ns)
			}
		}
	}
	sort.Strings(out)
	return out
}
