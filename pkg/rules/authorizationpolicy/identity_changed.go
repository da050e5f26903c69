package authorizationpolicy

import (
	"fmt"
	"slices"
	"strings"

	"github.com/meshguard/meshguard/pkg/paths"
	"github.com/meshguard/meshguard/pkg/rules"
	"github.com/meshguard/meshguard/pkg/state"
)

// identityChanged (MG702) explains paths a PeerAuthentication or
// DestinationRule write breaks because the callers now reach a workload
// without the identity its AuthorizationPolicies require: a DISABLE port
// turns auto mTLS off (the endpoint loses its tlsMode label), a rule's tls
// DISABLE or SIMPLE sends no Istio certificate, and the RBAC filter then
// has no principal or namespace to match (pkg/paths Model.authorizes).
// Only paths that existed before the write count: a client class the
// write first tells apart (a rule of its own namespace) was judged before
// without its namespace, which proves nothing about it.
type identityChanged struct{}

func (identityChanged) ID() string { return "MG702" }

func (identityChanged) Kind() string { return rules.KindAuthorizationPolicy }

func (identityChanged) Reads() []state.Kind { return nil }

func (identityChanged) WriteKinds() []string {
	return []string{rules.KindPeerAuthentication, rules.KindDestinationRule}
}

func (r identityChanged) Check(in *rules.Input) []rules.Finding {
	if in.Traffic == nil {
		return nil
	}
	// Paths that existed before: broken ones, and those that failed as
	// much before (pre-existing).
	var fs []rules.PathFailure
	for _, ch := range in.Traffic.Broken {
		for _, f := range ch.New {
			if ch.Before != nil && f.Cause == paths.DeniedByPolicy {
				fs = append(fs, rules.PathFailure{Path: ch.After, Failure: f, Broken: true})
			}
		}
	}
	for _, ch := range in.Traffic.Failing {
		for _, f := range ch.After.Failures {
			if ch.Before != nil && !ch.Before.Works() && f.Cause == paths.DeniedByPolicy {
				fs = append(fs, rules.PathFailure{Path: ch.After, Failure: f, Held: true})
			}
		}
	}
	key := func(pf rules.PathFailure) string {
		if pf.Held {
			return identityField(in, pf.Failure) + "|held"
		}
		return identityField(in, pf.Failure)
	}
	var out []rules.Finding
	for _, g := range rules.GroupFailures(fs, key) {
		first := g.Failures[0].Failure
		action, held := provenVerdict(g)
		field, _, _ := strings.Cut(g.Key, "|")
		var services []string
		for _, pf := range g.Failures {
			if ref := pf.Failure.BackendRef(); !slices.Contains(services, ref) {
				services = append(services, ref)
			}
		}
		how := "a DestinationRule's tls mode"
		switch {
		case first.TLS == nil || first.TLS.Inferred != nil:
			how = "the DISABLE mode, which turns auto mTLS off,"
		case first.TLS.Rule != nil:
			how = fmt.Sprintf("DestinationRule %s/%s (tls mode %s)", first.TLS.Rule.Namespace, first.TLS.Rule.Name, first.TLS.Setting.TLS.Mode)
		}
		denier := first.Denier.Namespace + "/" + first.Denier.Name
		out = append(out, rules.Finding{Rule: r.ID(), Action: action, Preexisting: held, Field: field, Key: field, Subjects: g.Clients(),
			Message: fmt.Sprintf("%s makes %s reach %s without mTLS, so they carry no principal or namespace and AuthorizationPolicy %s refuses them (%s) — keep mTLS towards these workloads (ISTIO_MUTUAL, PERMISSIVE), or allow them in %s without a source",
				how, g.ClientText(), strings.Join(services[:min(len(services), 3)], ", "), denier, first.Detail, denier)})
	}
	return out
}

// identityField is the field of the written object a failure points at:
// a PeerAuthentication's mode, a DestinationRule's tls setting (the rule as
// a whole when the write changed which rule decides).
func identityField(in *rules.Input, f paths.Failure) string {
	if in.Change.Ref.Kind == rules.KindPeerAuthentication {
		return in.PolicyModeField()
	}
	if f.TLS != nil && f.TLS.Rule != nil && in.DR != nil && f.TLS.Rule.Namespace == in.DR.Namespace && f.TLS.Rule.Name == in.DR.Name {
		return f.TLS.Setting.Field + ".mode"
	}
	return "spec"
}
