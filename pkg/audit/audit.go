// Package audit judges the mesh as it stands: every PeerAuthentication,
// DestinationRule and VirtualService of a state, each as if it were created
// now on the state holding everything else (`meshguard audit`).
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
