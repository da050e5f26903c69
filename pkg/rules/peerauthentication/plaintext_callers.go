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
	// covered says which namespaces MG101 already guards for this change.
	var covered func(ns string) bool
	switch level {
	case mesh.LevelMesh:
		meshEff := in.Policies.MeshMode(in.State)
		if !r.newlyStrictMesh(in, meshEff) {
			return nil
		}
		covered = func(ns string) bool { return governedByMeshStrict(in, ns, meshEff) }
	case mesh.LevelNamespace:
		if !r.newlyStrictNamespace(in, in.PA.Namespace) {
			return nil
		}
		covered = func(ns string) bool { return ns == in.PA.Namespace }
	case mesh.LevelWorkload:
		if !r.newlyStrictWorkloads(in) {
			return nil
		}
		covered = func(string) bool { return false }
	default:
		return nil
	}
	var names []string
	pods := 0
	for _, ns := range in.State.NamespacesWithUnmeshedPods() {
		if covered(ns) || in.Config.Excluded(ns) {
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

// newlyStrictMesh reports whether the mesh-wide mode turns STRICT through the
// change and reaches a namespace where a meshed server enforces it.
func (plaintextCallers) newlyStrictMesh(in *rules.Input, meshEff mesh.Effective) bool {
	if meshEff.Mode != state.ModeStrict || in.Policies.MeshMode(in.Prior).Mode == state.ModeStrict {
		return false
	}
	for _, ns := range in.State.NamespaceNames() {
		if in.State.Coverage(ns).MeshedServers > 0 && governedByMeshStrict(in, ns, meshEff) {
			return true
		}
	}
	return false
}

// newlyStrictNamespace reports whether ns, where a meshed server enforces
// it, turns STRICT through the change.
func (plaintextCallers) newlyStrictNamespace(in *rules.Input, ns string) bool {
	return in.State.Coverage(ns).MeshedServers > 0 &&
		in.Policies.NamespaceMode(in.State, ns).Mode == state.ModeStrict &&
		in.Policies.NamespaceMode(in.Prior, ns).Mode != state.ModeStrict
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
