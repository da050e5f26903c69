// Package peerauthentication holds the rules that judge PeerAuthentication
// writes (MG101–MG109).
package peerauthentication

import (
	"fmt"
	"sort"
	"strings"

	"github.com/meshguard/meshguard/pkg/mesh"
	"github.com/meshguard/meshguard/pkg/rules"
	"github.com/meshguard/meshguard/pkg/state"
)

// examples is how many pods or namespaces a message names before "...".
const examples = 3

// All returns the PeerAuthentication rules.
func All() []rules.Rule {
	return []rules.Rule{
		strictWithoutSidecar{}, plaintextCallers{}, portNotWorkloadPort{}, selectorMatchesNothing{},
		conflictingPolicies{}, mtlsWeakened{}, selectorInRootNamespace{}, namespaceNotInjected{}, disableAcrossNetworks{},
	}
}

type paRule struct{}

func (paRule) Kind() string { return rules.KindPeerAuthentication }

// scope is the widest level the change touches, judged on both versions of
// the object: an UPDATE that adds a selector still changes its namespace.
func scope(in *rules.Input) (mesh.Level, bool) {
	best, found := mesh.LevelIgnored, false
	for _, pa := range []*state.PeerAuthentication{in.Change.OldPA, in.Change.NewPA} {
		if pa == nil {
			continue
		}
		if l := in.Policies.LevelOf(pa); !found || l < best {
			best, found = l, true
		}
	}
	return best, found
}

// governedByMeshStrict reports whether ns is reviewed and gets the mesh-wide
// STRICT (meshEff, resolved once per walk) because it has no mode of its own.
func governedByMeshStrict(in *rules.Input, ns string, meshEff mesh.Effective) bool {
	return meshEff.Mode == state.ModeStrict && !in.Config.Excluded(ns) && in.Policies.InheritsMesh(in.State, ns)
}

// selectedPods returns the pods of pa's namespace its selector matches.
func selectedPods(s state.Snapshot, pa *state.PeerAuthentication) []*state.Pod {
	var out []*state.Pod
	s.ForEachPod(pa.Namespace, func(p *state.Pod) bool {
		if state.SelectorMatches(pa.Selector, p.Labels) {
			out = append(out, p)
		}
		return true
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// modeField is the field a finding about the policy's mode points at.
func modeField(pa *state.PeerAuthentication) string {
	if pa != nil && pa.Mode == state.ModeUnset && len(pa.PortModes) > 0 {
		return "spec.portLevelMtls"
	}
	return "spec.mtls.mode"
}

// list renders up to examples items and says how many are left out.
func list(items []string, total int) string {
	s := strings.Join(items, ", ")
	if total > len(items) {
		s += fmt.Sprintf(", and %d more", total-len(items))
	}
	return s
}

func plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}

func hasStrict(pa *state.PeerAuthentication) bool {
	if pa == nil {
		return false
	}
	if pa.Mode == state.ModeStrict {
		return true
	}
	for _, m := range pa.PortModes {
		if m == state.ModeStrict {
			return true
		}
	}
	return false
}
