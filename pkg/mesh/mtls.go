package mesh

import "github.com/meshguard/meshguard/pkg/state"

// DefaultRootNamespace is Istio's default root (config) namespace.
const DefaultRootNamespace = "istio-system"

// Level is where a PeerAuthentication applies.
type Level int

// Policy levels, from the widest.
const (
	LevelMesh Level = iota
	LevelNamespace
	LevelWorkload
	// LevelIgnored: a workload selector in the root namespace, which Istio ignores.
	LevelIgnored
)

func (l Level) String() string {
	return [...]string{"mesh-wide", "namespace-wide", "workload", "ignored"}[l]
}

// Policies resolves PeerAuthentications the way Istio does.
type Policies struct {
	// RootNamespace holds mesh-wide policy; DefaultRootNamespace if empty.
	RootNamespace string
}

func (r Policies) root() string {
	if r.RootNamespace == "" {
		return DefaultRootNamespace
	}
	return r.RootNamespace
}

// LevelOf says where pa applies.
func (r Policies) LevelOf(pa *state.PeerAuthentication) Level {
	switch {
	case pa.Namespace == r.root() && pa.HasSelector():
		return LevelIgnored
	case pa.Namespace == r.root():
		return LevelMesh
	case pa.HasSelector():
		return LevelWorkload
	default:
		return LevelNamespace
	}
}

// MeshPolicy returns the winning mesh-wide policy, or nil.
func (r Policies) MeshPolicy(s state.Snapshot) *state.PeerAuthentication {
	return oldestWithoutSelector(s.PeerAuthentications(r.root()))
}

// NamespacePolicy returns the winning namespace-wide policy of ns, or nil.
// The root namespace has none of its own: its policy is the mesh's.
func (r Policies) NamespacePolicy(s state.Snapshot, ns string) *state.PeerAuthentication {
	if ns == r.root() {
		return nil
	}
	return oldestWithoutSelector(s.PeerAuthentications(ns))
}

// WorkloadPolicy returns the winning workload policy for pod labels in ns, or nil.
func (r Policies) WorkloadPolicy(s state.Snapshot, ns string, labels map[string]string) *state.PeerAuthentication {
	if ns == r.root() {
		return nil
	}
	for _, pa := range s.PeerAuthentications(ns) { // oldest first
		if pa.HasSelector() && state.SelectorMatches(pa.Selector, labels) {
			return pa
		}
	}
	return nil
}

func oldestWithoutSelector(pas []*state.PeerAuthentication) *state.PeerAuthentication {
	for _, pa := range pas { // oldest first
		if !pa.HasSelector() {
			return pa
		}
	}
	return nil
}

// Effective is a resolved mode and the policy it came from (nil: Istio's default).
type Effective struct {
	Mode   state.MTLSMode
	Source *state.PeerAuthentication
}

// MeshMode is the mode the mesh-wide policy gives (PERMISSIVE without one).
func (r Policies) MeshMode(s state.Snapshot) Effective {
	if pa := r.MeshPolicy(s); pa != nil && pa.Mode != state.ModeUnset {
		return Effective{pa.Mode, pa}
	}
	return Effective{Mode: state.ModePermissive}
}

// NamespaceMode is the mode a workload of ns gets when no workload policy
// decides: the namespace policy, else the mesh policy, else PERMISSIVE.
// UNSET at a level inherits from the level above.
func (r Policies) NamespaceMode(s state.Snapshot, ns string) Effective {
	if pa := r.NamespacePolicy(s, ns); pa != nil && pa.Mode != state.ModeUnset {
		return Effective{pa.Mode, pa}
	}
	return r.MeshMode(s)
}

// InheritsMesh reports whether ns takes its namespace-level mode from the
// mesh-wide policy: it has no namespace-wide policy of its own, or one left UNSET.
func (r Policies) InheritsMesh(s state.Snapshot, ns string) bool {
	pa := r.NamespacePolicy(s, ns)
	return pa == nil || pa.Mode == state.ModeUnset
}

// WorkloadMode is the effective mode of one workload port (a container port,
// as portLevelMtls keys are): the port-level setting of the workload policy,
// then its top-level mode, then the namespace mode.
func (r Policies) WorkloadMode(s state.Snapshot, ns string, labels map[string]string, port uint32) Effective {
	if pa := r.WorkloadPolicy(s, ns, labels); pa != nil {
		if m, ok := pa.PortModes[port]; ok && m != state.ModeUnset {
			return Effective{m, pa}
		}
		if pa.Mode != state.ModeUnset {
			return Effective{pa.Mode, pa}
		}
	}
	return r.NamespaceMode(s, ns)
}

// StrictAnywhere reports whether any port of the pod ends up STRICT. A
// gateway or waypoint never does: PeerAuthentication does not govern its
// listeners.
func (r Policies) StrictAnywhere(s state.Snapshot, p *state.Pod) bool {
	if p.Router {
		return false
	}
	if r.WorkloadMode(s, p.Namespace, p.Labels, 0).Mode == state.ModeStrict {
		return true
	}
	wp := r.WorkloadPolicy(s, p.Namespace, p.Labels)
	if wp == nil {
		return false
	}
	for port := range wp.PortModes {
		if r.WorkloadMode(s, p.Namespace, p.Labels, port).Mode == state.ModeStrict {
			return true
		}
	}
	return false
}
