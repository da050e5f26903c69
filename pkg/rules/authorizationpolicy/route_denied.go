package authorizationpolicy

import (
	"fmt"
	"slices"
	"strings"

	"github.com/meshguard/meshguard/pkg/paths"
	"github.com/meshguard/meshguard/pkg/rules"
	"github.com/meshguard/meshguard/pkg/state"
)

// routeDenied (MG704) explains paths a route write breaks because it sends
// callers to workloads whose AuthorizationPolicies refuse them: a
// VirtualService or HTTPRoute moved to a subset or backend whose pods an
// ALLOW policy keeps for other callers, or that a DENY rule matches. The
// path model judges each sidecar endpoint of the route's destination by
// the policies applying to it, for the client class as it arrives (pkg/paths
// Model.authorizes, after istiod's RBAC filter: pilot/pkg/security/authz
// builder.go and model.go). Sidecars of namespaces without a route or rule
// of their own for the host are callers nothing proves: they warn.
type routeDenied struct{}

func (routeDenied) ID() string { return "MG704" }

func (routeDenied) Kind() string { return rules.KindAuthorizationPolicy }

func (routeDenied) Reads() []state.Kind { return nil }

func (routeDenied) WriteKinds() []string {
	return []string{rules.KindVirtualService, rules.KindHTTPRoute}
}

func (r routeDenied) Check(in *rules.Input) []rules.Finding {
	ref := in.Change.Ref
	groups := rules.GroupFailures(in.Failures(paths.DeniedByPolicy), func(pf rules.PathFailure) string {
		vs := pf.Failure.VS
		switch {
		case vs == nil && pf.Broken && in.Change.Old != nil:
			// The write left its clients the host's default route.
			if in.Change.New == nil {
				return "spec"
			}
			return "spec.hosts"
		case vs == nil || vs.Namespace != ref.Namespace || vs.Name != ref.Name || routeKind(vs) != ref.Kind:
			return ""
		}
		return pf.Failure.Field
	})
	var out []rules.Finding
	for _, g := range groups {
		first := g.Failures[0].Failure
		action, held := provenVerdict(g)
		denier := first.Denier.Namespace + "/" + first.Denier.Name
		to := first.Backend()
		if first.Dest.Subset != "" {
			to = "subset " + first.Dest.Subset + " of " + to
		}
		how := fmt.Sprintf("sends %d%% of the route's traffic from %s to %s", g.MaxShare(), g.ClientText(), to)
		if g.Key == "spec" || g.Key == "spec.hosts" {
			how = fmt.Sprintf("leaves %s on the host's default route to %s", g.ClientText(), first.Backend())
		}
		fix := "allow them in " + denier + " (their principal or namespace), or route them elsewhere"
		if strings.HasPrefix(first.Detail, "DENY") {
			fix = "narrow that rule of " + denier + ", or route them elsewhere"
		}
		msg := fmt.Sprintf("%s, whose pods refuse them: AuthorizationPolicy %s applies there and %s (403, or the connection closed on a TCP port) — %s",
			how, denier, denyReason(first.Detail), fix)
		out = append(out, rules.Finding{Rule: r.ID(), Action: action, Preexisting: held, Field: g.Key, Key: g.Key,
			Subjects: g.Clients(), Message: msg})
	}
	return out
}

// denyReason words a verdict's reason after the denier's name: a DENY
// rule's own sentence names the policy and rule index already.
func denyReason(why string) string {
	if i := strings.Index(why, "spec.rules"); strings.HasPrefix(why, "DENY") && i >= 0 {
		return "its " + why[i:]
	}
	return why
}

// provenVerdict is a group's verdict, with a breakage only of the sidecars
// in namespaces without a route or rule of their own for the host (callers
// nothing proves) lowered to a warning.
func provenVerdict(g rules.Group) (rules.Action, bool) {
	action, held := g.Verdict()
	if action == rules.Deny && !held && !slices.ContainsFunc(g.Failures, func(pf rules.PathFailure) bool {
		return pf.Broken && (pf.Path.Client.Gateway != "" || pf.Path.Client.Namespace != paths.Other)
	}) {
		action = rules.Warn
	}
	return action, held
}
