package destinationrule

import (
	"fmt"

	"github.com/meshguard/meshguard/pkg/rules"
	"github.com/meshguard/meshguard/pkg/state"
)

// duplicateRules (MG206) warns about two DestinationRules for one host in one
// namespace: subsets merge, but only the oldest rule's trafficPolicy applies.
// Rules whose exportTo differ are not merged at all (istiod's enhanced merge):
// the namespace's sidecars then use one of them and ignore the other whole,
// which the lookup (mesh.Routing.Lookup) says.
type duplicateRules struct{ drRule }

func (duplicateRules) ID() string { return "MG206" }

func (duplicateRules) Reads() []state.Kind { return []state.Kind{state.DestinationRuleKind} }

func (r duplicateRules) Check(in *rules.Input) []rules.Finding {
	dr := in.DR
	if dr == nil || len(dr.WorkloadSelector) > 0 {
		return nil
	}
	fqdn := in.Routing.Hosts.FQDN(dr.Host, dr.Namespace)
	var out []rules.Finding
	svcNS := ""
	if ns, _, ok := in.Routing.Hosts.ServiceName(fqdn); ok {
		svcNS = ns
	}
	used := in.Routing.Lookup(in.State, fqdn, dr.Namespace, svcNS)
	for _, other := range in.State.DestinationRules(dr.Namespace) { // oldest first
		if other.Name == dr.Name || len(other.WorkloadSelector) > 0 || in.Routing.Hosts.FQDN(other.Host, other.Namespace) != fqdn {
			continue
		}
		if used.Contains(dr) != used.Contains(other) {
			kept, ignored := dr, other
			if used.Contains(other) {
				kept, ignored = other, dr
			}
			out = append(out, rules.Finding{Rule: r.ID(), Action: rules.Warn, Field: "spec.host", Key: other.Name,
				Message: fmt.Sprintf("%s/%s also configures %s with another exportTo, so istiod does not merge them: sidecars in %s use %s alone and ignore %s (its subsets and trafficPolicy)",
					other.Namespace, other.Name, fqdn, dr.Namespace, kept.Name, ignored.Name)})
			continue
		}
		winner, loser := other, dr
		if olderRule(dr, other) {
			winner, loser = dr, other
		}
		msg := fmt.Sprintf("%s/%s also configures %s: subsets merge, but only the oldest trafficPolicy (%s) applies and %s's is ignored",
			other.Namespace, other.Name, fqdn, winner.Name, loser.Name)
		out = append(out, rules.Finding{Rule: r.ID(), Action: rules.Warn, Field: "spec.host", Key: other.Name, Message: msg})
		for i, s := range dr.Subsets {
			for _, os := range other.Subsets {
				if s.Name == os.Name {
					out = append(out, rules.Finding{Rule: r.ID(), Action: rules.Warn, Field: fmt.Sprintf("spec.subsets[%d].name", i),
						Key: other.Name + ":" + s.Name, Message: fmt.Sprintf("subset %s is also defined by %s/%s; only one definition is used", s.Name, other.Namespace, other.Name)})
				}
			}
		}
	}
	return out
}

func olderRule(a, b *state.DestinationRule) bool {
	list := []*state.DestinationRule{b, a}
	state.SortDestinationRules(list)
	return list[0] == a
}
