// Package referencegrant holds the rules that judge Gateway API
// ReferenceGrant writes (MG504).
package referencegrant

import (
	"fmt"
	"strings"

	"github.com/meshguard/meshguard/pkg/paths"
	"github.com/meshguard/meshguard/pkg/rules"
	"github.com/meshguard/meshguard/pkg/state"
)

// All returns the ReferenceGrant rules.
func All() []rules.Rule { return []rules.Rule{grantUnresolvesRoutes{}} }

// grantUnresolvesRoutes (MG504) explains the paths a ReferenceGrant write
// takes from routes of other namespaces: deleting it, or narrowing its from
// or to entries, leaves their cross-namespace backendRefs unresolved, and
// istiod sends those requests nowhere (500: conversion.go, buildDestination,
// BackendAllowed). The reverse of MG501's missing grant.
type grantUnresolvesRoutes struct{}

func (grantUnresolvesRoutes) ID() string { return "MG504" }

func (grantUnresolvesRoutes) Kind() string { return rules.KindReferenceGrant }

func (grantUnresolvesRoutes) Reads() []state.Kind { return nil }

func (grantUnresolvesRoutes) WriteKinds() []string { return []string{rules.KindReferenceGrant} }

func (r grantUnresolvesRoutes) Check(in *rules.Input) []rules.Finding {
	deleted := in.Change.New == nil
	fld := "spec"
	if !deleted {
		fld = "spec.from"
	}
	var fs []rules.PathFailure
	for _, f := range in.Failures(paths.Unresolved) {
		// Only the grants of the written namespace decide it.
		if ns, _, ok := state.ServiceOfHost(f.Failure.Dest.Host); ok && ns == in.Change.Ref.Namespace && f.Failure.Dest.GrantFrom != "" {
			fs = append(fs, f)
		}
	}
	var out []rules.Finding
	for _, g := range rules.GroupFailures(fs, func(f rules.PathFailure) string {
		return f.Failure.Dest.Host + "|" + f.Path.Host
	}) {
		action, held := g.Verdict()
		f := g.Failures[0].Failure
		p := g.Failures[0].Path
		routes, plural := g.RouteText()
		verb := "resolves"
		if plural {
			verb = "resolve"
		}
		why := "without this ReferenceGrant"
		if !deleted {
			why = "as written, this ReferenceGrant no longer permits it:"
		}
		svc, _, _ := strings.Cut(f.Dest.Host, ".")
		msg := fmt.Sprintf("%s %s no longer %s its backendRef to Service %s/%s, so %d%% of the requests for %s:%d from %s get 500 — move those routes to a backend of their own namespace first, or keep the grant",
			why, routes, verb, in.Change.Ref.Namespace, svc, g.MaxShare(), p.Host, p.Port, g.ClientText())
		if held {
			msg = fmt.Sprintf("no ReferenceGrant in %s permits the backendRef of %s to Service %s/%s, before this write as after it: %d%% of the requests for %s:%d from %s get 500",
				in.Change.Ref.Namespace, routes, in.Change.Ref.Namespace, svc, g.MaxShare(), p.Host, p.Port, g.ClientText())
		}
		if action == rules.Warn && !held {
			msg = "nothing reached that host before, so nothing breaks yet: " + msg
		}
		out = append(out, rules.Finding{Rule: r.ID(), Action: action, Preexisting: held, Field: fld, Key: g.Key,
			Subjects: g.Clients(), Message: msg})
	}
	return out
}
