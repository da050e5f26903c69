package peerauthentication

import (
	"fmt"
	"maps"

	"github.com/meshguard/meshguard/pkg/mesh"
	"github.com/meshguard/meshguard/pkg/rules"
	"github.com/meshguard/meshguard/pkg/state"
)

// conflictingPolicies (MG105) denies a second policy at one level: Istio
// keeps the oldest and silently ignores the other.
type conflictingPolicies struct{ paRule }

func (conflictingPolicies) ID() string { return "MG105" }

func (conflictingPolicies) Reads() []state.Kind {
	return []state.Kind{state.PeerAuthenticationKind, state.PodKind}
}

func (r conflictingPolicies) Check(in *rules.Input) []rules.Finding {
	pa := in.PA
	if pa == nil {
		return nil
	}
	level := in.Policies.LevelOf(pa)
	if level == mesh.LevelIgnored {
		return nil // MG107
	}
	var mine []*state.Pod
	if level == mesh.LevelWorkload {
		mine = selectedPods(in.State, pa)
	}
	var out []rules.Finding
	for _, other := range in.State.PeerAuthentications(pa.Namespace) {
		if other.Name == pa.Name || in.Policies.LevelOf(other) != level {
			continue
		}
		if level == mesh.LevelWorkload && !overlap(in.State, pa, other, mine) {
			continue
		}
		winner, loser := other, pa
		if pa.Older(other) {
			winner, loser = pa, other
		}
		what := fmt.Sprintf("%s also has the %s policy %s", pa.Namespace, level, other.Name)
		if level == mesh.LevelWorkload {
			what = fmt.Sprintf("policy %s/%s already selects the same workloads", other.Namespace, other.Name)
		}
		out = append(out, rules.Finding{
			Rule: r.ID(), Action: rules.Deny, Field: fieldFor(level), Key: other.Name, Subjects: []string{other.Name},
			Message: fmt.Sprintf("%s; Istio applies only the oldest (%s) and ignores %s — merge the settings into %s and delete the other",
				what, winner.Name, loser.Name, winner.Name),
		})
	}
	return out
}

func fieldFor(level mesh.Level) string {
	if level == mesh.LevelWorkload {
		return "spec.selector"
	}
	return "metadata.name"
}

// overlap reports whether two workload policies select a common pod, or have
// identical selectors when no pod is selected yet.
func overlap(s state.Snapshot, pa, other *state.PeerAuthentication, mine []*state.Pod) bool {
	if maps.Equal(pa.Selector, other.Selector) {
		return true
	}
	for _, p := range mine {
		if state.SelectorMatches(other.Selector, p.Labels) {
			return true
		}
	}
	return false
}
