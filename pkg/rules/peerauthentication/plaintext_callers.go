package peerauthentication

import (
	"fmt"

	"github.com/meshguard/meshguard/pkg/mesh"
	"github.com/meshguard/meshguard/pkg/rules"
	"github.com/meshguard/meshguard/pkg/state"
)

// plaintextCallers (MG102) warns when STRICT starts to be enforced while pods
// outside the mesh that MG101 does not deny for may still call in plaintext:
// deliberate outsiders (opted out, host network), accidental ones in other
// namespaces than the one newly STRICT, and every outsider beside a workload
// policy. Whether they call the STRICT workloads at all cannot be seen from
// the cluster, so this warns instead of denying.
type plaintextCallers struct{ paRule }

func (plaintextCallers) ID() string { return "MG102" }

func (plaintextCallers) Reads() []state.Kind {
	return []state.Kind{state.NamespaceKind, state.PeerAuthenticationKind, state.PodKind, state.ServiceKind, state.WorkloadEntryKind}
}

func (r plaintextCallers) Check(in *rules.Input) []rules.Finding {
	if in.Phase != rules.After || in.PA == nil || !hasStrict(in.PA) {
		return nil
	}
	level, _ := scope(in)
	// accidentalCovered says where MG101 already judges accidental outsiders.
	var accidentalCovered func(ns string) bool
	switch level {
	case mesh.LevelMesh:
		meshEff := in.Policies.MeshMode(in.State)
		if meshEff.Mode != state.ModeStrict || in.Policies.MeshMode(in.Prior).Mode == state.ModeStrict || !meshStrictEnforced(in, meshEff) {
			return nil
		}
		accidentalCovered = func(string) bool { return true }
	case mesh.LevelNamespace:
		if !r.newlyStrictNamespace(in, in.PA.Namespace) {
			return nil
		}
		accidentalCovered = func(ns string) bool { return ns == in.PA.Namespace }
	case mesh.LevelWorkload:
		if !r.newlyStrictWorkloads(in) {
			return nil
		}
		accidentalCovered = func(string) bool { return false }
	default:
		return nil
	}
	var names []string
	pods, deliberate := 0, 0
	add := func(ns string, n int) {
		if n == 0 || in.Config.Excluded(ns) {
			return
		}
		if len(names) == 0 || names[len(names)-1] != ns {
			names = append(names, ns)
		}
		pods += n
	}
	// Both lists are sorted: merge them so each namespace is named once, in order.
	acc, del := in.State.NamespacesWithAccidentalOutsiders(), in.State.NamespacesWithDeliberateOutsiders()
	for i, j := 0, 0; i < len(acc) || j < len(del); {
		var ns string
		switch {
		case j >= len(del) || (i < len(acc) && acc[i] < del[j]):
			ns, i = acc[i], i+1
		case i >= len(acc) || del[j] < acc[i]:
			ns, j = del[j], j+1
		default:
			ns, i, j = acc[i], i+1, j+1
		}
		cov := in.State.Coverage(ns)
		if !accidentalCovered(ns) {
			add(ns, cov.AccidentalOutsiders)
		}
		before := pods
		add(ns, cov.DeliberateOutsiders)
		deliberate += pods - before
	}
	if len(names) == 0 {
		return nil
	}
	opted := ""
	if deliberate > 0 {
		opted = fmt.Sprintf(" (%d kept out on purpose)", deliberate)
	}
	return []rules.Finding{{
		Rule: r.ID(), Action: rules.Warn, Field: modeField(in.PA), Key: "callers", Subjects: names,
		Message: fmt.Sprintf("STRICT now enforced; plaintext from %s outside the mesh%s in %s would be refused",
			plural(pods, "pod", "pods"), opted, list(names[:min(len(names), 2)], len(names))),
	}}
}

// newlyStrictNamespace reports whether ns, where a meshed server (a pod or a
// VM's WorkloadEntry, see strictServers) enforces it, turns STRICT through
// the change.
func (plaintextCallers) newlyStrictNamespace(in *rules.Input, ns string) bool {
	return (in.State.Coverage(ns).MeshedServers > 0 || len(mesh.MeshedEntries(in.State, ns)) > 0) &&
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
