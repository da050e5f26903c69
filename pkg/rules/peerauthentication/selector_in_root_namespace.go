package peerauthentication

import (
	"fmt"

	"github.com/meshguard/meshguard/pkg/mesh"
	"github.com/meshguard/meshguard/pkg/rules"
	"github.com/meshguard/meshguard/pkg/state"
)

// selectorInRootNamespace (MG107) denies a workload selector in the root
// namespace: Istio ignores such a policy entirely.
type selectorInRootNamespace struct{ paRule }

func (selectorInRootNamespace) ID() string { return "MG107" }

func (selectorInRootNamespace) Reads() []state.Kind { return nil }

func (r selectorInRootNamespace) Check(in *rules.Input) []rules.Finding {
	if in.PA == nil || in.Policies.LevelOf(in.PA) != mesh.LevelIgnored {
		return nil
	}
	return []rules.Finding{{
		Rule: r.ID(), Action: rules.Deny, Field: "spec.selector", Key: in.PA.Namespace,
		Message: fmt.Sprintf("Istio ignores PeerAuthentications with a workload selector in the root namespace %s, so this policy would do nothing — move it to the workloads' namespace, or remove the selector to make it mesh-wide", in.PA.Namespace),
	}}
}
