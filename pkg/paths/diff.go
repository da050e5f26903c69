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
	prior := make(map[pathID]*Path, len(before))
	reached := map[string]bool{}
	for i := range before {
		p := &before[i]
		prior[p.id()] = p
		if !p.Works() {
			continue // a host is in service when a path to it works whole
		}
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
		b := prior[a.id()]
		if b != nil && !b.Routed {
			b = nil // no route before: the path is new
		}
		c := Change{Before: b, After: a, New: newFailures(b, a)}
		worked := b != nil && b.Works()
		// An existing path failing more is broken; a new one is when it
		// fails towards a host in service (else: a fresh install).
		grew := (b != nil && routeFailsMore(b, a)) || (b == nil && failingReached(a, reached, elsewhere))
		if worked || grew {
			v.Broken = append(v.Broken, c)
		} else {
			v.Failing = append(v.Failing, c)
		}
	}
	return v
}

// routeFailsMore reports whether some route of the path fails a larger share
// after than before: the same route (by key) compared with itself, a route
// the write introduced or renamed with the worst route before. So a write
// that breaks /web while /api already fails is not hidden by /api.
func routeFailsMore(b, a *Path) bool {
	for k, pct := range a.Routes {
		prior, ok := b.Routes[k]
		if !ok {
			prior = b.FailShare
		}
		if pct > prior {
			return true
		}
	}
	return false
}

func newFailures(b, a *Path) []Failure {
	if b == nil {
		return a.Failures
	}
	old := map[failureKey]int{}
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
// some exist, and on one of its Service's ports every Ready pod takes
// plaintext (no proxy, a port the sidecar leaves alone, or a mode other
// than STRICT) — kube-proxy sends them straight to any of the pods,
// whatever the routes. Answers are remembered per host.
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
	for _, sp := range svc.Ports {
		ready, refused := 0, false
		s.ForEachServicePod(svc.Namespace, svc.Name, func(pod *state.Pod) bool {
			target := mesh.TargetPort(sp, pod)
			if !pod.Ready || pod.Finished() || target == 0 {
				return true
			}
			ready++
			meshed := pod.Sidecar || mesh.Ambient(pod, s.Namespace(pod.Namespace))
			refused = meshed && !pod.Router && (!pod.Sidecar || pod.InboundIntercepted(target)) &&
				m.Policies.WorkloadMode(s, pod.Namespace, pod.Labels, target).Mode == state.ModeStrict
			return !refused
		})
		if ready > 0 && !refused {
			return true
		}
	}
	return false
}

// AddDestinationRule puts in scope every host the rule governs (its own, or
// each Service a wildcard matches) with the hosts routed to them.
func (m Model) AddDestinationRule(sc *Scope, s state.Snapshot, dr *state.DestinationRule) {
	if dr == nil {
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
		level := m.Policies.LevelOf(pa)
		switch level {
		case mesh.LevelMesh:
			for _, dr := range s.DestinationRulesSettingTLS() {
				if judged(dr) {
					m.AddDestinationRule(sc, s, dr)
				}
			}
			for _, ns := range s.NamespaceNames() {
				if m.stripsIdentity(s, pa, ns) {
					m.addNamespace(sc, s, ns)
				}
				// Clients infer plaintext from a namespace's mode, mesh-wide
				// DISABLE included: workloads that enforce STRICT anyway
				// are where that meets a refusal.
				for _, wp := range s.PeerAuthentications(ns) {
					if wp.HasSelector() && strictAny(wp) {
						m.addSelected(sc, s, wp)
					}
				}
			}
		case mesh.LevelNamespace, mesh.LevelWorkload:
			// Clients' auto mTLS sends plaintext to every Service of a
			// namespace whose own mode is DISABLE (see Model.clientTLS): a
			// namespace-wide DISABLE, or a workload policy under one.
			inferred := (level == mesh.LevelNamespace && pa.Mode == state.ModeDisable) ||
				(level == mesh.LevelWorkload && m.Policies.NamespaceMode(s, pa.Namespace).Mode == state.ModeDisable) ||
				m.stripsIdentity(s, pa, pa.Namespace)
			for _, svc := range s.Services(pa.Namespace) {
				if pa.HasSelector() && !selectsAny(s, svc, pa.Selector) {
					continue
				}
				if inferred {
					m.AddDestination(sc, s, m.Routing.Hosts.FQDN(svc.Name, svc.Namespace))
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

// stripsIdentity reports whether pa sets DISABLE somewhere while
// AuthorizationPolicies of ns apply: auto mTLS then sends plaintext to the
// DISABLE ports, whose callers lose the principal and namespace those
// policies may require (Model.authorizes). Root-namespace policies are
// not looked for (every Service of the mesh would be in scope).
func (m Model) stripsIdentity(s state.Snapshot, pa *state.PeerAuthentication, ns string) bool {
	return disablesAny(pa) && len(s.AuthorizationPolicies(ns)) > 0
}

// addNamespace puts in scope every Service of ns.
func (m Model) addNamespace(sc *Scope, s state.Snapshot, ns string) {
	for _, svc := range s.Services(ns) {
		m.AddDestination(sc, s, m.Routing.Hosts.FQDN(svc.Name, svc.Namespace))
	}
}

func hasTLSMode(dr *state.DestinationRule, mode string) bool { return mesh.HasTLSMode(dr, mode) }

// addSelected puts in scope the Services whose pods a workload policy selects.
func (m Model) addSelected(sc *Scope, s state.Snapshot, pa *state.PeerAuthentication) {
	for _, svc := range s.Services(pa.Namespace) {
		if selectsAny(s, svc, pa.Selector) {
			m.AddDestination(sc, s, m.Routing.Hosts.FQDN(svc.Name, svc.Namespace))
		}
	}
}

// strictAny reports whether a policy enforces STRICT anywhere.
func strictAny(pa *state.PeerAuthentication) bool {
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
