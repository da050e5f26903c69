package check

import (
	"time"

	"github.com/meshguard/meshguard/pkg/config"
	"github.com/meshguard/meshguard/pkg/engine"
	"github.com/meshguard/meshguard/pkg/mesh"
	"github.com/meshguard/meshguard/pkg/rules"
	"github.com/meshguard/meshguard/pkg/rules/registry"
	"github.com/meshguard/meshguard/pkg/state"
	"github.com/meshguard/meshguard/pkg/trust"
)

// Session judges writes one after another against a cluster state held in
// memory, as `check` does: an object the state holds is an UPDATE of it,
// otherwise a CREATE; an update keeps the object's age, a new object is
// newer than anything in the state. `check` and the conformance corpus both
// run through it.
type Session struct {
	cfg    *config.Config
	eng    *engine.Engine
	store  *state.Store
	known  map[refKey]*state.Object // reviewed objects the state holds
	seq    int64
	now    func() time.Time
	sawKey bool // some Secret was read: absent ones are known to be absent
	// View holds the Secrets and mesh roots read so far, reduced to summaries.
	View *trust.View
}

// NewSession starts from an empty state. now dates objects without a
// creationTimestamp.
func NewSession(cfg *config.Config, now func() time.Time) *Session {
	view := engine.NewTrustView(cfg, now())
	return &Session{cfg: cfg, eng: engine.New(registry.Rules(), cfg), store: mesh.NewStore(cfg.ClusterDomain),
		known: map[refKey]*state.Object{}, now: now, View: view}
}

// Engine is the engine the session judges with.
func (s *Session) Engine() *engine.Engine { return s.eng }

// Store is the session's state.
func (s *Session) Store() *state.Store { return s.store }

// AddState puts an object of the cluster state in place, in order: objects
// without a creationTimestamp count as older than anything judged later.
func (s *Session) AddState(obj *state.Object) {
	s.seq++
	setOrder(obj, time.Time{}, s.seq)
	s.Apply(obj)
}

// Apply puts an object in place as it is (a Pod, a Service, an admitted write).
func (s *Session) Apply(obj *state.Object) {
	switch {
	case obj.Material != nil:
		s.View.Secrets[obj.Ref.Namespace+"/"+obj.Ref.Name] = obj.Material
		s.sawKey = true
	case obj.Root != nil:
		s.View.Roots[obj.Ref.Namespace] = obj.Root
	}
	s.store.Apply(obj)
	if obj.Reviewed() {
		s.known[keyOf(obj.Ref)] = obj
	}
}

// Remove takes an object out of the state.
func (s *Session) Remove(ref state.ObjectRef) {
	s.store.Remove(ref)
	delete(s.known, keyOf(ref))
}

// Holds reports whether the state holds the reviewed object ref names.
func (s *Session) Holds(ref state.ObjectRef) bool { return s.known[keyOf(ref)] != nil }

// Change builds the write of obj against the state: its DELETE when del,
// else its UPDATE or CREATE. The DELETE of an object the state does not hold
// returns nil.
func (s *Session) Change(obj *state.Object, del bool) *rules.Change {
	existing := s.known[keyOf(obj.Ref)]
	if del {
		if existing == nil {
			return nil
		}
		return rules.NewChange(rules.Delete, obj.Ref, existing, nil)
	}
	op, created, order := rules.Create, s.now(), s.seq+1
	if existing != nil {
		op, created, order = rules.Update, createdOf(existing), orderOf(existing)
	} else {
		s.seq++
	}
	setOrder(obj, created, order)
	return rules.NewChange(op, obj.Ref, existing, obj)
}

// Judge evaluates a change against the current state.
func (s *Session) Judge(change *rules.Change) engine.Verdict {
	s.View.SecretsUnknown = !s.sawKey
	change.Trust = s.View
	var v engine.Verdict
	_ = s.store.View(func(snap state.Snapshot) error {
		v = s.eng.Evaluate(snap, change)
		return nil
	})
	return v
}

// JudgeAsNew evaluates an object the state holds as if it were created now
// on the state holding everything else (`meshguard audit`).
func (s *Session) JudgeAsNew(obj *state.Object) engine.Verdict {
	s.View.SecretsUnknown = !s.sawKey
	var v engine.Verdict
	_ = s.store.View(func(snap state.Snapshot) error {
		v = s.eng.EvaluateAsItStands(snap, obj, s.View)
		return nil
	})
	return v
}

// Commit applies a judged change to the state, as the API server would once
// it is admitted.
func (s *Session) Commit(change *rules.Change) {
	if change.Operation == rules.Delete {
		s.Remove(change.Ref)
		return
	}
	s.Apply(change.New)
}

// AdoptStore records the reviewed objects of a store filled from the live
// cluster, so that writes of them are UPDATEs.
func (s *Session) AdoptStore() {
	_ = s.store.View(func(snap state.Snapshot) error {
		for _, ns := range snap.NamespaceNames() {
			for _, pa := range snap.PeerAuthentications(ns) {
				s.known[refKey{state.GroupSecurity, rules.KindPeerAuthentication, ns, pa.Name}] = &state.Object{PA: pa}
			}
			for _, dr := range snap.DestinationRules(ns) {
				s.known[refKey{state.GroupNetworking, rules.KindDestinationRule, ns, dr.Name}] = &state.Object{DR: dr}
			}
			for _, vs := range snap.VirtualServices(ns) {
				s.known[refKey{state.GroupNetworking, rules.KindVirtualService, ns, vs.Name}] = &state.Object{VS: vs}
			}
			if n := snap.Namespace(ns); n != nil {
				s.known[refKey{"", rules.KindNamespace, "", ns}] = &state.Object{NS: n}
			}
			for _, svc := range snap.Services(ns) {
				s.known[refKey{"", rules.KindService, ns, svc.Name}] = &state.Object{Service: svc}
			}
			for _, ap := range snap.AuthorizationPolicies(ns) {
				s.known[refKey{state.GroupSecurity, rules.KindAuthorizationPolicy, ns, ap.Name}] = &state.Object{AuthorizationPolicy: ap}
			}
		}
		for _, se := range snap.ServiceEntries() {
			s.known[refKey{state.GroupNetworking, rules.KindServiceEntry, se.Namespace, se.Name}] = &state.Object{ServiceEntry: se}
		}
		for _, sc := range snap.Sidecars() {
			s.known[refKey{state.GroupNetworking, rules.KindSidecar, sc.Namespace, sc.Name}] = &state.Object{Sidecar: sc}
		}
		return nil
	})
}
