package peerauthentication

import (
	"fmt"
	"slices"

	"github.com/meshguard/meshguard/pkg/mesh"
	"github.com/meshguard/meshguard/pkg/rules"
	"github.com/meshguard/meshguard/pkg/state"
)

// mtlsWeakened (MG106) warns when a write lowers protection: mesh- or
// namespace-wide DISABLE, STRICT lowered (or deleted), DISABLE on ambient pods.
type mtlsWeakened struct{ paRule }

func (mtlsWeakened) ID() string { return "MG106" }

func (mtlsWeakened) Reads() []state.Kind {
	return []state.Kind{state.NamespaceKind, state.PeerAuthenticationKind, state.PodKind}
}

func (r mtlsWeakened) Check(in *rules.Input) []rules.Finding {
	if in.Phase != rules.After {
		return nil
	}
	old, cur := in.Change.OldPA, in.PA
	var out []rules.Finding
	add := func(field, key, msg string) {
		out = append(out, rules.Finding{Rule: r.ID(), Action: rules.Warn, Field: field, Key: key, Message: msg})
	}
	if cur != nil {
		level := in.Policies.LevelOf(cur)
		if cur.Mode == state.ModeDisable && (level == mesh.LevelMesh || level == mesh.LevelNamespace) {
			add("spec.mtls.mode", "disable", fmt.Sprintf("DISABLE turns mTLS off %s; traffic there is plaintext and unauthenticated", scopeText(level, cur.Namespace)))
		}
		if level == mesh.LevelWorkload && disables(cur) {
			if n := ambientPods(in, cur); n > 0 {
				add(modeField(cur), "ambient", fmt.Sprintf("DISABLE selects %s enrolled in ambient: ztunnel then accepts plaintext for them", plural(n, "pod", "pods")))
			}
		}
	}
	if old == nil {
		return out
	}
	if old.Mode == state.ModeStrict && (cur == nil || cur.Mode != state.ModeStrict) && r.effectiveAfter(in, old, cur) != state.ModeStrict {
		to := "deleted"
		if cur != nil {
			to = "lowered to " + string(cur.Mode)
		}
		add("spec.mtls.mode", "lowered", fmt.Sprintf("STRICT %s: workloads under this policy accept plaintext again", to))
	}
	if cur != nil && old.Mode == state.ModeStrict && cur.Mode == state.ModeStrict {
		// A port-level exception carved out of a STRICT policy (the authn
		// task's DISABLE on port 8080).
		for _, port := range sortedPorts(cur.PortModes) {
			if m := cur.PortModes[port]; (m == state.ModeDisable || m == state.ModePermissive) && old.PortModes[port] != m {
				add(fmt.Sprintf("spec.portLevelMtls[%d]", port), fmt.Sprint(port)+":lowered", fmt.Sprintf("port %d lowered from STRICT to %s: it accepts plaintext", port, m))
			}
		}
	}
	ports := make([]uint32, 0, len(old.PortModes))
	for port, m := range old.PortModes {
		if m == state.ModeStrict {
			ports = append(ports, port)
		}
	}
	slices.Sort(ports)
	for _, port := range ports {
		if cur != nil && cur.PortModes[port] == state.ModeStrict {
			continue
		}
		add(fmt.Sprintf("spec.portLevelMtls[%d]", port), fmt.Sprint(port), fmt.Sprintf("STRICT on port %d removed: that port accepts plaintext again", port))
	}
	return out
}

// effectiveAfter is the mode the workloads of old end up with after the
// write: a policy deleted or left UNSET hands them to the level above, so
// deleting a namespace STRICT under a mesh-wide STRICT weakens nothing.
func (mtlsWeakened) effectiveAfter(in *rules.Input, old, cur *state.PeerAuthentication) state.MTLSMode {
	if cur != nil && cur.Mode != state.ModeUnset {
		return cur.Mode
	}
	if in.Policies.LevelOf(old) == mesh.LevelMesh {
		return in.Policies.MeshMode(in.State).Mode
	}
	return in.Policies.NamespaceMode(in.State, old.Namespace).Mode
}

func sortedPorts(m map[uint32]state.MTLSMode) []uint32 {
	ports := make([]uint32, 0, len(m))
	for p := range m {
		ports = append(ports, p)
	}
	slices.Sort(ports)
	return ports
}

func disables(pa *state.PeerAuthentication) bool {
	if pa.Mode == state.ModeDisable {
		return true
	}
	for _, m := range pa.PortModes {
		if m == state.ModeDisable {
			return true
		}
	}
	return false
}

func ambientPods(in *rules.Input, pa *state.PeerAuthentication) int {
	n := 0
	ns := in.State.Namespace(pa.Namespace)
	for _, p := range selectedPods(in.State, pa) {
		if mesh.Ambient(p, ns) {
			n++
		}
	}
	return n
}

func scopeText(level mesh.Level, ns string) string {
	if level == mesh.LevelMesh {
		return "for the whole mesh"
	}
	return "for every workload in " + ns
}
