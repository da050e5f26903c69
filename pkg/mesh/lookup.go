package mesh

import (
	"maps"
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
	// Unselected: the client's namespace holds rules for the host, but only
	// rules with a workloadSelector that does not select the client: istiod
	// gives it no rule at all (it does not fall back to the Service's
	// namespace). Namespace and Host name those rules.
	Unselected bool
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
	return r.LookupFor(s, fqdn, clientNS, serviceNS, nil)
}

// LookupFor is Lookup for proxies with the workload labels given (nil: a
// proxy that no rule with a workloadSelector selects). Rules with a
// workloadSelector live in their own namespace's local index only
// (push_context.go setDestinationRules: never exported), so they matter in
// step 1: the most specific host among all of the client namespace's local
// rules decides the list, and the proxy takes the first rule whose selector
// it matches, else the last one without a selector, else none — istiod does
// not fall back to the Service's namespace then (sidecar.go
// SidecarScope.DestinationRule over push_context.go destinationRule).
func (r Routing) LookupFor(s state.Snapshot, fqdn, clientNS, serviceNS string, workload map[string]string) RuleSet {
	root := r.root()
	local := func(dr *state.DestinationRule) bool { return localTo(dr, clientNS) }
	if clientNS == root {
		local = privateOnly
	}
	if rs := r.mostSpecific(s, clientNS, fqdn, true, local); rs.Found() {
		return pickFor(rs, workload)
	}
	for _, ns := range []string{serviceNS, root} {
		if ns == "" {
			continue
		}
		rs := r.mostSpecific(s, ns, fqdn, false, func(dr *state.DestinationRule) bool { return !privateOnly(dr) })
		rs.Rules = pick(consolidate(rs.Rules), func(exportTo []string) bool { return exportedTo(exportTo, clientNS) }, nil)
		if rs.Found() {
			return rs
		}
	}
	return RuleSet{}
}

// pickFor consolidates one namespace's local rules for a host and picks the
// entry a proxy with the workload labels uses.
func pickFor(rs RuleSet, workload map[string]string) RuleSet {
	// istiod merges rules with a workloadSelector first, each group oldest
	// first (push_context.go sortConfigBySelectorAndCreationTime).
	drs := slices.Clone(rs.Rules)
	slices.SortStableFunc(drs, func(a, b *state.DestinationRule) int {
		return boolRank(len(a.WorkloadSelector) == 0) - boolRank(len(b.WorkloadSelector) == 0)
	})
	selected := false
	rs.Rules = pick(consolidate(drs), nil, func(sel map[string]string) bool {
		selected = state.SelectorMatches(sel, workload) && workload != nil
		return selected
	})
	rs.Unselected = len(rs.Rules) == 0
	return rs
}

func boolRank(b bool) int {
	if b {
		return 1
	}
	return 0
}

// SelectorRules lists the rules with a workloadSelector in ns whose host
// matches fqdn, oldest first: the ones that split ns's proxies into classes.
func (r Routing) SelectorRules(s state.Snapshot, ns, fqdn string) []*state.DestinationRule {
	var out []*state.DestinationRule
	for _, dr := range s.DestinationRules(ns) {
		if len(dr.WorkloadSelector) > 0 && HostScore(r.Hosts.FQDN(dr.Host, dr.Namespace), fqdn) > 0 {
			out = append(out, dr)
		}
	}
	return out
}

// drEntry is one consolidated rule of istiod's index: the rules merged
// into it, oldest first, with the exportTo set and selector it was made with.
type drEntry struct {
	exportTo []string
	selector map[string]string
	from     []*state.DestinationRule
}

// consolidate follows istiod's merge of one namespace's rules for one host
// (pilot/pkg/model/destination_rule.go mergeDestinationRule, with
// EnableEnhancedDestinationRuleMerge, its default), rules taken in the
// order given. A rule whose exportTo equals an entry's merges into it; one
// whose exportTo is a superset of a non-empty one merges too but also
// stands apart; otherwise it skips the entry. Rules with a workloadSelector
// count as exported to "." only; two with different selectors never merge,
// and a rule without one that merges into a selector's entry still stands
// apart (the loop's last comparison decides, as istiod's does). An entry's
// first rule keeps its top-level policy, and later ones add their subsets.
func consolidate(drs []*state.DestinationRule) []*drEntry {
	var entries []*drEntry
	for _, dr := range drs {
		set := exportSet(dr.ExportTo)
		withSel := len(dr.WorkloadSelector) > 0
		if withSel {
			set = []string{"."}
		}
		separate := true
		for _, e := range entries {
			switch {
			case slices.Equal(set, e.exportTo):
				separate = false
			case len(e.exportTo) > 0 && superset(set, e.exportTo):
				separate = true
			default:
				separate = true
				continue
			}
			entrySel := len(e.selector) > 0
			if withSel && entrySel && !maps.Equal(dr.WorkloadSelector, e.selector) {
				separate = true
				continue
			}
			if withSel == entrySel {
				separate = false
			}
			e.from = append(e.from, dr)
		}
		if separate || len(entries) == 0 {
			entries = append(entries, &drEntry{exportTo: set, selector: dr.WorkloadSelector, from: []*state.DestinationRule{dr}})
		}
	}
	return entries
}

// pick returns the rules of the entry a proxy uses
// (SidecarScope.DestinationRule): the first entry with a selector that
// selects it, else the last entry without a selector that is visible to it
// (visible nil: every one is).
func pick(entries []*drEntry, visible func(exportTo []string) bool, selects func(map[string]string) bool) []*state.DestinationRule {
	var catchAll []*state.DestinationRule
	for _, e := range entries {
		if len(e.selector) == 0 {
			if visible == nil || visible(e.exportTo) {
				catchAll = e.from
			}
			continue
		}
		if selects != nil && selects(e.selector) {
			return e.from
		}
	}
	return catchAll
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
// most specific match for fqdn, oldest first; rules with a workloadSelector
// take part only when selectors says so (they are in their namespace's local
// index, which in always admits them).
func (r Routing) mostSpecific(s state.Snapshot, ns, fqdn string, selectors bool, in func(*state.DestinationRule) bool) RuleSet {
	var best RuleSet
	bestScore := 0
	for _, dr := range s.DestinationRules(ns) { // oldest first
		if withSel := len(dr.WorkloadSelector) > 0; withSel && !selectors || !withSel && !in(dr) {
			continue
		}
		score := r.Hosts.Score(dr.Host, dr.Namespace, fqdn)
		if score == 0 || score < bestScore {
			continue
		}
		h := r.Hosts.FQDN(dr.Host, dr.Namespace)
		switch {
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
