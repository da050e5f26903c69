package peerauthentication

import (
	"fmt"

	"github.com/meshguard/meshguard/pkg/mesh"
	"github.com/meshguard/meshguard/pkg/rules"
	"github.com/meshguard/meshguard/pkg/state"
)

// namespaceNotInjected (MG108) warns when STRICT governs a namespace that is
// not labelled for injection: pods created there later get no proxy and are
// cut off the moment they start.
type namespaceNotInjected struct{ paRule }

func (namespaceNotInjected) ID() string { return "MG108" }

func (namespaceNotInjected) Reads() []state.Kind {
	return []state.Kind{state.InjectorKind, state.NamespaceKind, state.PeerAuthenticationKind, state.PodKind}
}

func (r namespaceNotInjected) Check(in *rules.Input) []rules.Finding {
	pa := in.PA
	if in.Phase != rules.After || pa == nil || pa.Mode != state.ModeStrict {
		return nil
	}
	var candidates []string
	switch in.Policies.LevelOf(pa) {
	case mesh.LevelMesh:
		meshEff := in.Policies.MeshMode(in.State)
		// Only namespaces not labelled for injection or ambient can be left
		// out (the store keeps them apart); empty namespaces are noise here.
		for _, ns := range in.State.NamespacesNotLabelledForMesh() {
			if ns == pa.Namespace || mesh.InjectionEnabled(in.State, in.State.Namespace(ns)) || in.State.Coverage(ns).Pods == 0 {
				continue
			}
			if governedByMeshStrict(in, ns, meshEff) {
				candidates = append(candidates, ns)
			}
		}
	case mesh.LevelNamespace:
		if !in.Config.Excluded(pa.Namespace) {
			candidates = []string{pa.Namespace}
		}
	default:
		return nil
	}
	var bare []string
	for _, ns := range candidates {
		n := in.State.Namespace(ns)
		if mesh.InjectionEnabled(in.State, n) { // already known for mesh-wide
			continue
		}
		if rev, unserved := mesh.RevisionUnserved(in.State, n); unserved {
			ns += " (istio.io/rev=" + rev + ", which no injector serves)"
		}
		bare = append(bare, ns)
	}
	if len(bare) == 0 {
		return nil
	}
	return []rules.Finding{{
		Rule: r.ID(), Action: rules.Warn, Field: "spec.mtls.mode", Key: "labels", Subjects: bare,
		Message: fmt.Sprintf("STRICT covers %s not labelled for injection (%s): new pods there get no sidecar",
			plural(len(bare), "namespace", "namespaces"), list(bare[:min(len(bare), 2)], len(bare))),
	}}
}
