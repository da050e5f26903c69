package peerauthentication

import (
	"fmt"

	"github.com/meshguard/meshguard/pkg/mesh"
	"github.com/meshguard/meshguard/pkg/rules"
	"github.com/meshguard/meshguard/pkg/state"
)

// plaintextCallers (MG102) warns when STRICT starts to be enforced while pods
// outside the mesh that MG101 does not cover may still call in plaintext.
type plaintextCallers struct{ paRule }

func (plaintextCallers) ID() string { return "MG102" }

func (r plaintextCallers) Check(in *rules.Input) []rules.Finding {
	if in.Phase != rules.After || in.PA == nil || !hasStrict(in.PA) {
		return nil
	}
	level, _ := scope(in)
	// covered are the namespaces MG101 already guards for this change.
	covered := map[string]bool{}
	switch level {
	case mesh.LevelMesh:
		if !r.newlyStrictNamespaces(in, true) {
			return nil
		}
		for _, ns := range strictNamespaces(in, true) {
			covered[ns] = true
		}
	case mesh.LevelNamespace:
		if !r.newlyStrictNamespaces(in, false) {
			return nil
		}
		covered[in.PA.Namespace] = true
	case mesh.LevelWorkload:
		if !r.newlyStrictWorkloads(in) {
			return nil
		}
	default:
		return nil
	}
	var names []string
	pods := 0
	for _, ns := range in.State.NamespacesWithUnmeshedPods() {
		if covered[ns] || in.Config.Excluded(ns) {
			continue
		}
		names = append(names, ns)
		pods += in.State.Coverage(ns).UnmeshedPods
	}
	if len(names) == 0 {
		return nil
	}
	return []rules.Finding{{
		Rule: r.ID(), Action: rules.Warn, Field: modeField(in.PA), Key: "callers", Subjects: names,
		Message: fmt.Sprintf("STRICT now enforced; %s outside the mesh in %s may call in plaintext and be rejected",
			plural(pods, "pod", "pods"), list(names[:min(len(names), 2)], len(names))),
	}}
}

// newlyStrictNamespaces reports whether a namespace with a meshed server
// turns STRICT through the change.
func (plaintextCallers) newlyStrictNamespaces(in *rules.Input, meshWide bool) bool {
	var candidates []string
	if meshWide {
		candidates = strictNamespaces(in, true)
	} else {
		candidates = []string{in.PA.Namespace}
	}
	for _, ns := range candidates {
		if in.State.Coverage(ns).MeshedServers == 0 {
			continue
		}
		if in.Policies.NamespaceMode(in.State, ns).Mode == state.ModeStrict &&
			in.Policies.NamespaceMode(in.Prior, ns).Mode != state.ModeStrict {
			return true
		}
	}
	return false
}

// newlyStrictWorkloads reports whether a meshed pod the policy selects turns
// STRICT on some port through the change.
func (plaintextCallers) newlyStrictWorkloads(in *rules.Input) bool {
	for _, p := range selectedPods(in.State, in.PA) {
		ns := in.State.Namespace(p.Namespace)
		if mesh.InMesh(p, ns) && in.Policies.StrictAnywhere(in.State, p) && !in.Policies.StrictAnywhere(in.Prior, p) {
			return true
		}
	}
	return false
}
