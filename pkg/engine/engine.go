// Package engine evaluates one write against cluster state: it runs the rules
// on the state after the write and, where they deny, on the state before it,
// so that only problems the write introduces deny it.
package engine

import (
	"slices"
	"time"

	"github.com/meshguard/meshguard/pkg/authz"
	"github.com/meshguard/meshguard/pkg/config"
	"github.com/meshguard/meshguard/pkg/mesh"
	"github.com/meshguard/meshguard/pkg/paths"
	"github.com/meshguard/meshguard/pkg/rules"
	"github.com/meshguard/meshguard/pkg/state"
	"github.com/meshguard/meshguard/pkg/trust"
)

// Result is one finding as the engine reports it.
type Result struct {
	rules.Finding
	// Preexisting: a deny finding that already held before the write. It is
	// reported with Action warn so that nobody is blocked from editing or
	// fixing an already-broken object.
	Preexisting bool
	// Exception names the configured exception that let this finding
	// through (its Message says so too).
	Exception string `json:",omitempty"`
	// WouldDeny: a deny turned into a warning by `enforcement: warn`.
	WouldDeny bool `json:",omitempty"`
}

// Verdict is the outcome of one write.
type Verdict struct {
	Results []Result
	// Traffic is what the write does to the paths it touches (nil: its
	// kind changes no path, or nothing was in scope).
	Traffic *paths.Verdict
}

// BrokenPaths is how many paths that worked the write breaks.
func (v Verdict) BrokenPaths() int {
	if v.Traffic == nil {
		return 0
	}
	return len(v.Traffic.Broken)
}

// Denied reports whether at least one finding denies the write.
func (v Verdict) Denied() bool {
	return slices.ContainsFunc(v.Results, func(r Result) bool { return r.Action == rules.Deny })
}

// Engine runs the rules with one configuration. It is safe for concurrent use.
type Engine struct {
	rules    map[string][]rules.Rule // by kind
	pathKind map[string]bool         // kinds some path rule explains
	config   *config.Config
	policies mesh.Policies
	routing  mesh.Routing
	model    paths.Model

	// Now is the clock exceptions expire by (nil: time.Now).
	Now func() time.Time

	// Explain makes the paths of every write carry each destination they
	// reach (paths.Model.Explain), for faces that draw them; reviews leave
	// it off. Set it before the first evaluation.
	Explain bool

	// Watch, when set, wraps the snapshots each rule reads (reader is its
	// ID) and those the path model reads (reader "paths"), so that a test
	// can see which kinds a rule touches. Nil outside tests.
	Watch func(reader string, s state.Snapshot) state.Snapshot
}

// New returns an engine for the given rules and configuration.
func New(rs []rules.Rule, cfg *config.Config) *Engine {
	e := &Engine{rules: map[string][]rules.Rule{}, pathKind: map[string]bool{}, config: cfg,
		policies: mesh.Policies{RootNamespace: cfg.RootNamespace}, routing: RoutingFor(cfg)}
	e.model = paths.Model{Routing: e.routing, Policies: e.policies, Excluded: cfg.ExcludedNamespaces, MeshOutbound: cfg.OutboundTrafficPolicy,
		TrustDomain: authz.TrustDomain{Name: cfg.TrustDomain, Aliases: cfg.TrustDomainAliases}}
	for _, r := range rs {
		if cfg.Rules[r.ID()] == config.EnforceOff {
			continue
		}
		if pr, ok := r.(rules.PathRule); ok {
			for _, k := range pr.WriteKinds() {
				e.rules[k] = append(e.rules[k], r)
				e.pathKind[k] = true
			}
			continue
		}
		e.rules[r.Kind()] = append(e.rules[r.Kind()], r)
	}
	return e
}

// RoutingFor is the host and DestinationRule resolution cfg implies (cluster
// domain, root namespace), for the faces that gather what rules will read.
func RoutingFor(cfg *config.Config) mesh.Routing {
	return mesh.Routing{Hosts: mesh.Hosts{Domain: cfg.ClusterDomain}, Root: cfg.RootNamespace}
}

// Handles reports whether the engine reviews objects of kind (a review
// kind: state.ObjectRef.ReviewKind).
func (e *Engine) Handles(kind string) bool { return len(e.rules[kind]) > 0 }

// After returns the state as it would be once the change is applied (the
// state itself for a kind meshguard does not review).
func After(before state.Snapshot, c *rules.Change) state.Snapshot {
	k, ok := writtenKinds[c.Ref.ReviewKind()]
	if !ok {
		return before
	}
	return k.after(before, c)
}

// EvaluateAsItStands judges an object the state holds as if it were created
// now on the state holding everything else: what `meshguard audit` and the
// webhook's drift audit report about objects already admitted. tv is the TLS
// material its settings name (nil when none was read).
func (e *Engine) EvaluateAsItStands(s state.Snapshot, obj *state.Object, tv *trust.View) Verdict {
	change := rules.NewChange(rules.Create, obj.Ref, nil, obj)
	change.Trust = tv
	return e.Evaluate(After(s, rules.NewChange(rules.Delete, obj.Ref, obj, nil)), change)
}

// Evaluate judges change against the state before it.
func (e *Engine) Evaluate(before state.Snapshot, change *rules.Change) Verdict {
	rs := e.rules[change.Ref.ReviewKind()]
	if len(rs) == 0 {
		return Verdict{}
	}
	after := After(before, change)
	// One Input serves every rule and both phases: rules must not keep it.
	in := &rules.Input{Change: change, Prior: before, Config: e.config, Policies: e.policies, Routing: e.routing}
	if e.pathKind[change.Ref.ReviewKind()] {
		if e.Watch != nil {
			in.Traffic = e.traffic(e.Watch("paths", before), e.Watch("paths", after), change)
		} else {
			in.Traffic = e.traffic(before, after, change)
		}
	}
	check := func(r rules.Rule, p rules.Phase) []rules.Finding {
		in.Phase = p
		if p == rules.After {
			in.State, in.PA, in.DR, in.VS = after, change.NewPA, change.NewDR, change.NewVS
		} else {
			in.State, in.PA, in.DR, in.VS = before, change.OldPA, change.OldDR, change.OldVS
		}
		in.Prior = before
		if e.Watch != nil {
			in.State, in.Prior = e.Watch(r.ID(), in.State), e.Watch(r.ID(), before)
		}
		return r.Check(in)
	}
	var v Verdict
	v.Traffic = in.Traffic
	for _, r := range rs {
		if _, ok := r.(rules.PathRule); ok {
			for _, f := range check(r, rules.After) {
				f.Action = e.enforce(r.ID(), f.Action)
				res := Result{Finding: f}
				if f.Preexisting && f.Action == rules.Deny {
					res.Action, res.Preexisting = rules.Warn, true
				}
				v.Results = append(v.Results, res)
			}
			continue
		}
		found := check(r, rules.After)
		if len(found) == 0 {
			continue
		}
		var prior []rules.Finding // computed once, only when something would deny
		priorDone := false
		for _, f := range found {
			f.Action = e.enforce(r.ID(), f.Action)
			res := Result{Finding: f}
			if f.Action == rules.Deny {
				if !priorDone {
					prior = check(r, rules.Before)
					priorDone = true
				}
				if e.heldBefore(f, prior) {
					res.Action, res.Preexisting = rules.Warn, true
				}
			}
			v.Results = append(v.Results, res)
		}
	}
	e.settle(change, &v)
	return v
}

// traffic computes what the change does to the paths it touches.
func (e *Engine) traffic(before, after state.Snapshot, c *rules.Change) *paths.Verdict {
	sc := paths.NewScope()
	m := e.model
	m.Explain = e.Explain
	if k, ok := writtenKinds[c.Ref.ReviewKind()]; ok {
		k.scope(m, sc, before, c)
		if !k.sameBothSides {
			k.scope(m, sc, after, c)
		}
	}
	if sc.Empty() {
		return &paths.Verdict{}
	}
	t := trace(m, before, after, sc)
	return &t.Verdict
}

// Trace is the paths of a scope on both sides of a write and what the
// write does to them.
type Trace struct {
	Before, After []paths.Path
	Verdict       paths.Verdict
}

// trace computes the paths of every target of sc before and after a write,
// for the same clients, and their diff: the one place the engine asks the
// path model for paths.
func trace(m paths.Model, before, after state.Snapshot, sc *paths.Scope) Trace {
	clients, ports := m.Clients(sc, before, after), m.Ports(sc, before, after)
	t := Trace{Before: m.Paths(before, clients, ports, sc), After: m.Paths(after, clients, ports, sc)}
	t.Verdict = paths.Diff(t.Before, t.After, m.PlaintextReach(before))
	return t
}

// Paths traces every path to a host (an FQDN) in the state before some
// writes and after them (the same state when there are none): each client
// class that calls it, directly or through a route to it, with every
// destination explained. What `meshguard paths` shows.
func (e *Engine) Paths(before, after state.Snapshot, fqdn string) Trace {
	m := e.model
	m.Explain = true
	sc := paths.NewScope()
	m.AddDestination(sc, before, fqdn)
	m.AddDestination(sc, after, fqdn)
	return trace(m, before, after, sc)
}

// enforce applies the configured override of a rule's action.
func (e *Engine) enforce(id string, a rules.Action) rules.Action {
	switch e.config.Rules[id] {
	case config.EnforceDeny:
		return rules.Deny
	case config.EnforceWarn:
		return rules.Warn
	default:
		return a
	}
}

// heldBefore reports whether f already held before the write: the same rule,
// field and key, and no subject the earlier finding did not have.
func (e *Engine) heldBefore(f rules.Finding, prior []rules.Finding) bool {
	for _, p := range prior {
		if p.Rule != f.Rule || p.Field != f.Field || p.Key != f.Key || e.enforce(p.Rule, p.Action) != rules.Deny {
			continue
		}
		if !slices.ContainsFunc(f.Subjects, func(s string) bool { return !slices.Contains(p.Subjects, s) }) {
			return true
		}
	}
	return false
}
