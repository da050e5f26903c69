// Package audit judges the mesh as it stands: every PeerAuthentication,
// DestinationRule, VirtualService, HTTPRoute, GRPCRoute, AuthorizationPolicy and
// ServiceEntry of a state, each as if it were created now on the state
// holding everything else (`meshguard audit`). The other reviewed kinds are
// judged through them (see notJudged).
package audit

import (
	"slices"

	"github.com/meshguard/meshguard/pkg/check"
	"github.com/meshguard/meshguard/pkg/config"
	"github.com/meshguard/meshguard/pkg/report"
	"github.com/meshguard/meshguard/pkg/rules"
	"github.com/meshguard/meshguard/pkg/state"
)

// Operation is how audit findings name their operation.
const Operation = "AUDIT"

// transitionRules judge a change from one object to another (a weakening, a
// subset removed); an object as it stands has no such transition.
var transitionRules = map[string]bool{"MG106": true, "MG204": true}

// judged are the reviewed kinds (state.ReviewedKinds) audit judges as they
// stand: forEachObject lists their objects.
var judged = []string{rules.KindPeerAuthentication, rules.KindDestinationRule, rules.KindVirtualService,
	rules.KindHTTPRoute, rules.KindGRPCRoute, rules.KindAuthorizationPolicy, rules.KindServiceEntry}

// notJudged says, for every other reviewed kind, why audit does not judge its
// objects as they stand. Their rules judge what a write changes; judged "as
// if created now", the state before is one without the object, a state that
// never was. What their objects do to traffic as they stand is judged, and
// reported, on the objects whose rules explain the cause, which audit judges
// on the state holding them.
var notJudged = map[string]string{
	// Without the Service every route to its host already fails (no host),
	// so judged as new it could only repeat, as pre-existing warnings, what
	// the routes' and rules' own audit reports: a routed port it lacks
	// (MG304), no Ready endpoint behind a routed port, a named targetPort
	// included (MG302, MG502), a backend gone (MG501), pods refusing what
	// clients send (MG201, MG202). Taking a ServiceEntry's host is a
	// transition: as it stands the Service holds the host, and the routes
	// the entry served are judged against the Service.
	rules.KindService: "its standing faults are the routes' and DestinationRules' findings (MG304, MG302, MG501, MG502, MG201, MG202)",
	// MG801 and MG802 judge a label removed: sidecars are injected at a
	// pod's creation and istio-cni reconciles ambient pods at once. As it
	// stands, a namespace not labelled for injection under STRICT is
	// MG108's, on the policy, and the pods it leaves out of the mesh are
	// MG101's once they run.
	rules.KindNamespace: "its labels' standing effect is the PeerAuthentications' findings (MG108, MG101)",
	// A Gateway's (or a grant's) existence breaks no path: without it the
	// routes bound to it (or the backendRefs it permits) fail already, and
	// their own audit says so (MG305, MG501, MG503).
	rules.KindGateway:        "the routes bound to it are judged (MG305)",
	rules.KindKubeGateway:    "the routes attached to it are judged (MG305, MG503)",
	rules.KindReferenceGrant: "the routes whose backendRefs it permits are judged (MG501)",
	// A Sidecar is judged by the hosts its clients reached before a write;
	// as it stands the "before" would be a state without it, where every
	// host it deliberately leaves out counts as reached, so Istio's own
	// recommended "./*" plus "istio-system/*" Sidecar would be reported as
	// blackholing every other namespace forever. What would show that its
	// clients call a host (a route of theirs whose destination it does not
	// import) the path model does not trace: it checks a Sidecar's imports
	// for the requested host only (paths.Model.imported).
	rules.KindSidecar: "which hosts its clients call is not in the state (MG603 judges writes only)",
}

// Run audits every reviewed object of the session's state, in the given
// namespaces (all when empty) and outside the excluded ones.
func Run(sess *check.Session, cfg *config.Config, namespaces []string) report.Report {
	var objs []*state.Object
	_ = sess.Store().View(func(s state.Snapshot) error {
		forEachObject(s, cfg, namespaces, func(o *state.Object) { objs = append(objs, o) })
		return nil
	})
	rep := report.Report{Findings: []report.Finding{}, Audit: true}
	for _, o := range objs {
		for _, r := range sess.JudgeAsNew(o).Results {
			if transitionRules[r.Rule] {
				continue
			}
			rep.Findings = append(rep.Findings, report.Finding{Rule: r.Rule, Action: string(r.Action), Operation: Operation,
				Kind: o.Ref.Kind, Namespace: o.Ref.Namespace, Name: o.Ref.Name, Field: r.Field, Message: r.Message, Exception: r.Exception})
			rep.Denied = rep.Denied || r.Action == rules.Deny
		}
	}
	rep.NothingToReview = len(objs) == 0
	return rep
}

// forEachObject calls fn for every reviewed object of s in namespaces (all
// when empty) outside the excluded ones.
func forEachObject(s state.Snapshot, cfg *config.Config, namespaces []string, fn func(*state.Object)) {
	for _, ns := range s.NamespaceNames() {
		if cfg.Excluded(ns) || (len(namespaces) > 0 && !slices.Contains(namespaces, ns)) {
			continue
		}
		for _, pa := range s.PeerAuthentications(ns) {
			fn(&state.Object{Ref: ref(state.GroupSecurity, rules.KindPeerAuthentication, ns, pa.Name), PA: pa})
		}
		for _, dr := range s.DestinationRules(ns) {
			fn(&state.Object{Ref: ref(state.GroupNetworking, rules.KindDestinationRule, ns, dr.Name), DR: dr})
		}
		for _, vs := range s.VirtualServices(ns) {
			fn(&state.Object{Ref: ref(state.GroupNetworking, rules.KindVirtualService, ns, vs.Name), VS: vs})
		}
		for _, kind := range []string{rules.KindHTTPRoute, rules.KindGRPCRoute} {
			for _, hr := range s.GatewayRoutes(kind, ns) {
				fn(&state.Object{Ref: ref(state.GroupGatewayAPI, kind, ns, hr.Name), Route: hr})
			}
		}
		for _, ap := range s.AuthorizationPolicies(ns) {
			fn(&state.Object{Ref: ref(state.GroupSecurity, rules.KindAuthorizationPolicy, ns, ap.Name), AuthorizationPolicy: ap})
		}
	}
	for _, se := range s.ServiceEntries() {
		if cfg.Excluded(se.Namespace) || (len(namespaces) > 0 && !slices.Contains(namespaces, se.Namespace)) {
			continue
		}
		fn(&state.Object{Ref: ref(state.GroupNetworking, rules.KindServiceEntry, se.Namespace, se.Name), ServiceEntry: se})
	}
}

func ref(group, kind, ns, name string) state.ObjectRef {
	return state.ObjectRef{Group: group, Kind: kind, Namespace: ns, Name: name}
}
