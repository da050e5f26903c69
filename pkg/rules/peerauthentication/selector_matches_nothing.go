package peerauthentication

import (
	"fmt"

	"github.com/meshguard/meshguard/pkg/mesh"
	"github.com/meshguard/meshguard/pkg/rules"
	"github.com/meshguard/meshguard/pkg/state"
)

// selectorMatchesNothing (MG104) warns about a workload policy whose selector
// selects no pod: it protects nothing, often because of a label typo.
type selectorMatchesNothing struct{ paRule }

func (selectorMatchesNothing) ID() string { return "MG104" }

func (selectorMatchesNothing) Reads() []state.Kind { return []state.Kind{state.PodKind} }

func (r selectorMatchesNothing) Check(in *rules.Input) []rules.Finding {
	pa := in.PA
	if pa == nil || in.Policies.LevelOf(pa) != mesh.LevelWorkload || len(selectedPods(in.State, pa)) > 0 {
		return nil
	}
	return []rules.Finding{{
		Rule: r.ID(), Action: rules.Warn, Field: "spec.selector.matchLabels", Key: pa.Namespace,
		Message: fmt.Sprintf("selector matches no pod in %s, so the policy applies to nothing; check the labels", pa.Namespace),
	}}
}
