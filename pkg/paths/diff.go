package paths

import (
	"strings"

	"github.com/meshguard/meshguard/pkg/mesh"
	"github.com/meshguard/meshguard/pkg/state"
)

// Change is one path as a write leaves it.
type Change struct {
	// Before is the path before the write (nil: it did not exist).
	Before *Path
	After  *Path
	// New are the failures after the write that were not there before.
	New []Failure
}

// Verdict is what a write does to the paths it touches.
type Verdict struct {
	// Broken paths worked before and fail after, or fail a larger share of
	// traffic to a host that was reached before: the write breaks them.
	Broken []Change
	// Failing paths fail after the write without being broken by it: they
	// failed as much before, or their hosts were never reached (a fresh
	// install whose pods are not Ready yet).
	Failing []Change
}

// Diff compares the paths of the same targets and clients before and after
// a write. elsewhere reports whether clients the paths do not cover (pods
// outside the mesh) reached a host before; nil: none did.
func Diff(before, after []Path, elsewhere func(host string) bool) Verdict {
	prior := make(map[string]*Path, len(before))
	reached := map[string]bool{}
	for i := range before {
		p := &before[i]
		prior[p.Key()] = p
		for h, ok := range p.Reached {
			if ok {
				reached[h] = true
			}
		}
	}
	var v Verdict
	for i := range after {
		a := &after[i]
		if a.Works() {
			continue
		}
		b := prior[a.Key()]
		if b != nil && !b.Routed {
			b = nil // no route before: the path is new
		}
		c := Change{Before: b, After: a, New: newFailures(b, a)}
		worked := b != nil && b.Works()
		grew := (b == nil || a.FailShare > b.FailShare) && failingReached(a, reached, elsewhere)
		if worked || grew {
			v.Broken = append(v.Broken, c)
		} else {
			v.Failing = append(v.Failing, c)
		}
	}
	return v
}

func newFailures(b, a *Path) []Failure {
	if b == nil {
		return a.Failures
	}
	old := map[string]int{}
	for _, f := range b.Failures {
		old[f.key()] = max(old[f.key()], f.Share)
	}
	var out []Failure
	for _, f := range a.Failures {
		if share, ok := old[f.key()]; !ok || f.Share > share {
			out = append(out, f)
		}
	}
	return out
}

// failingReached reports whether a failure of p is towards a host some
// client reached before the write.
func failingReached(p *Path, reached map[string]bool, elsewhere func(string) bool) bool {
	for _, f := range p.Failures {
		if reached[f.Host] {
			return true
		}
	}
	if elsewhere == nil {
		return false
	}
	for _, f := range p.Failures {
		if f.Service != nil && elsewhere(f.Host) {
			return true
		}
	}
	return false
}

// PlaintextReach returns whether pods outside the mesh reach a host in s:
// some exist, and its Service has a Ready pod that takes plaintext on one of
// its ports (no proxy, a port the sidecar leaves alone, or a mode other than
// STRICT). kube-proxy sends them straight to the pods, whatever the routes.
// Answers are remembered per host.
func (m Model) PlaintextReach(s state.Snapshot) func(fqdn string) bool {
	callers := len(s.NamespacesWithAccidentalOutsiders())+len(s.NamespacesWithDeliberateOutsiders()) > 0
	memo := map[string]bool{}
	return func(fqdn string) bool {
		if !callers {
			return false
		}
		if r, ok := memo[fqdn]; ok {
			return r
		}
		reached := false
		if ns, name, ok := m.Routing.Hosts.ServiceName(fqdn); ok {
			if svc := s.Service(ns, name); svc != nil && len(svc.Selector) > 0 {
				reached = m.takesPlaintext(s, svc)
			}
		}
		memo[fqdn] = reached
		return reached
	}
}

func (m Model) takesPlaintext(s state.Snapshot, svc *state.Service) bool {
	found := false
	s.ForEachServicePod(svc.Namespace, svc.Name, func(pod *state.Pod) bool {
		if !pod.Ready || pod.Finished() {
			return true
		}
		for _, sp := range svc.Ports {
			target := mesh.TargetPort(sp, pod)
			if target == 0 {
				continue
			}
			meshed := pod.Sidecar || mesh.Ambient(pod, s.Namespace(pod.Namespace))
			if !meshed || (pod.Sidecar && !pod.InboundIntercepted(target)) ||
				m.Policies.WorkloadMode(s, pod.Namespace, pod.Labels, target).Mode != state.ModeStrict {
				found = true
				return false
			}
		}
		return true
	})
	return found
}

// AddDestinationRule puts in scope every host the rule governs (its own, or
// each Service a wildcard matches) with the hosts routed to them.
func (m Model) AddDestinationRule(sc *Scope, s state.Snapshot, dr *state.DestinationRule) {
	if dr == nil || len(dr.WorkloadSelector) > 0 {
		return
	}
	pattern := m.Routing.Hosts.FQDN(dr.Host, dr.Namespace)
	if !strings.HasPrefix(pattern, "*") {
		m.AddDestination(sc, s, pattern)
		return
	}
	for _, ns := range s.NamespaceNames() {
		for _, svc := range s.Services(ns) {
			if fqdn := m.Routing.Hosts.FQDN(svc.Name, svc.Namespace); mesh.HostScore(pattern, fqdn) > 0 {
				m.AddDestination(sc, s, fqdn)
			}
		}
	}
}

// AddPeerAuthentication puts in scope the hosts whose clients a policy
// change can break through routing: a server that turns STRICT resets what
// meshed clients send it in plaintext, which they do only under a rule with
// tls DISABLE. So the scope is the Services the policy covers that such a
// rule governs (for a mesh-wide policy, every rule with DISABLE is visited:
// there are few). Plaintext from pods outside the mesh is judged apart, from
// the per-namespace aggregates (MG101).
func (m Model) AddPeerAuthentication(sc *Scope, s state.Snapshot, pas ...*state.PeerAuthentication) {
	for _, pa := range pas {
		if pa == nil {
			continue
		}
		// Rules that choose what clients send meet the policy's modes: DISABLE
		// in a rule against STRICT, ISTIO_MUTUAL in a rule against DISABLE.
		judged := func(dr *state.DestinationRule) bool {
			return hasTLSMode(dr, "DISABLE") || (disablesAny(pa) && hasTLSMode(dr, "ISTIO_MUTUAL"))
		}
		switch m.Policies.LevelOf(pa) {
		case mesh.LevelMesh:
			for _, ns := range s.NamespaceNames() {
				for _, dr := range s.DestinationRules(ns) {
					if judged(dr) {
						m.AddDestinationRule(sc, s, dr)
					}
				}
			}
		case mesh.LevelNamespace, mesh.LevelWorkload:
			// A namespace-wide DISABLE turns clients' auto mTLS to plaintext
			// for every Service of the namespace (see Model.clientTLS).
			inferred := m.Policies.LevelOf(pa) == mesh.LevelNamespace && pa.Mode == state.ModeDisable
			for _, svc := range s.Services(pa.Namespace) {
				if inferred {
					m.AddDestination(sc, s, m.Routing.Hosts.FQDN(svc.Name, svc.Namespace))
					continue
				}
				if pa.HasSelector() && !selectsAny(s, svc, pa.Selector) {
					continue
				}
				fqdn := m.Routing.Hosts.FQDN(svc.Name, svc.Namespace)
				for _, ns := range s.DestinationRuleNamespaces(fqdn) {
					for _, dr := range s.DestinationRules(ns) {
						if judged(dr) {
							m.AddDestination(sc, s, fqdn)
						}
					}
				}
			}
		}
	}
}

func hasTLSMode(dr *state.DestinationRule, mode string) bool {
	for _, t := range mesh.TLSSettings(dr) {
		if t.TLS.Mode == mode {
			return true
		}
	}
	return false
}

// disablesAny reports whether a policy turns mTLS off anywhere: its own mode
// or one of its ports.
func disablesAny(pa *state.PeerAuthentication) bool {
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

func selectsAny(s state.Snapshot, svc *state.Service, selector map[string]string) bool {
	found := false
	s.ForEachServicePod(svc.Namespace, svc.Name, func(p *state.Pod) bool {
		found = state.SelectorMatches(selector, p.Labels)
		return !found
	})
	return found
}
