package virtualservice

import (
	"fmt"
	"slices"
	"strings"

	"github.com/meshguard/meshguard/pkg/mesh"
	"github.com/meshguard/meshguard/pkg/paths"
	"github.com/meshguard/meshguard/pkg/rules"
	"github.com/meshguard/meshguard/pkg/state"
)

// undefinedSubset (MG301) explains routes to a subset that the
// DestinationRule some client proxy uses for the host does not define: that
// proxy has no such cluster and answers 503. The rule a proxy uses is found
// by Istio's lookup (mesh.Routing.Lookup), not by the union of visible rules:
// a rule in the client's namespace shadows the Service's own rule. The paths
// model (pkg/paths) finds the clients: a write denies when it breaks a path
// that worked, warns when the route already failed or its host has never
// been reached. MG204 is the same breakage caused by a DestinationRule.
//
// Mirrors only warn: Envoy checks that a mirror's cluster exists and skips
// the shadow request otherwise (source/common/router/shadow_writer_impl.cc),
// so live traffic is untouched; the mirror just never happens.
type undefinedSubset struct{ vsRule }

func (undefinedSubset) ID() string { return "MG301" }

func (undefinedSubset) Reads() []state.Kind {
	return []state.Kind{state.DestinationRuleKind, state.ServiceEntryKind, state.ServiceKind}
}

func (undefinedSubset) WriteKinds() []string { return []string{rules.KindVirtualService} }

func (r undefinedSubset) Check(in *rules.Input) []rules.Finding {
	vs := in.VS
	if vs == nil {
		return nil
	}
	var out []rules.Finding
	for _, g := range routeFailures(in, paths.NoSubset) {
		out = append(out, r.route(in, g))
	}
	return append(out, r.mirrors(in, vs)...)
}

// routeFailures groups the failures of cause c by the destination field of
// the written VirtualService they come from; failures of other
// VirtualServices' routes are not the write's to explain.
//
// A deletion, or an update that drops a host, sends clients down the host's
// default route: the failures it breaks there are reported at "spec" and
// "spec.hosts".
func routeFailures(in *rules.Input, c paths.Cause) []rules.Group {
	return rules.GroupFailures(in.Failures(c), func(f rules.PathFailure) string {
		if fallback := fallbackField(in, f); fallback != "" {
			return fallback
		}
		if in.VS == nil || !sameVS(f.Failure.VS, in.VS) {
			return ""
		}
		return f.Failure.Field
	})
}

// fallbackField is where a failure on a default route belongs when the
// written VirtualService gave its clients that route: "spec" for a deletion,
// "spec.hosts" for an update; "" otherwise.
func fallbackField(in *rules.Input, f rules.PathFailure) string {
	if !f.Broken || f.Failure.VS != nil || in.Change.OldVS == nil {
		return ""
	}
	if in.VS == nil {
		return "spec"
	}
	return "spec.hosts"
}

func sameVS(a, b *state.VirtualService) bool {
	return a != nil && b != nil && a.Namespace == b.Namespace && a.Name == b.Name
}

// proxiesIn names where a client class runs, for messages.
func proxiesIn(c paths.Client) string {
	if c.Namespace == paths.Other {
		return "proxies in namespaces without a rule of their own"
	}
	return "proxies in " + c.Namespace
}

func (r undefinedSubset) route(in *rules.Input, g rules.Group) rules.Finding {
	first := g.Failures[0].Failure
	action, held := g.Verdict()
	var clients []string
	missing := []state.ObjectRef{}
	addNS := func(ns string) {
		if ns != "" && !slices.ContainsFunc(missing, func(m state.ObjectRef) bool { return m.Namespace == ns }) {
			missing = append(missing, state.ObjectRef{Group: state.GroupNetworking, Kind: rules.KindDestinationRule, Namespace: ns})
		}
	}
	anyRule := false
	for _, f := range g.Failures {
		clients = appendNew(clients, f.Path.Client.String())
		addNS(f.Path.Client.Namespace)
		anyRule = anyRule || f.Failure.Rules.Found()
	}
	if ns := first.BackendNamespace(); ns != "" {
		addNS(ns)
	}
	addNS(in.Config.RootNamespace)
	f := rules.Finding{Rule: r.ID(), Action: action, Preexisting: held, Field: first.Field + ".subset",
		Key: first.Field + ":" + first.Dest.Subset, Subjects: clients, Missing: missing}
	lead := fmt.Sprintf("routes %d%% of the route's traffic to subset %s of %s", g.MaxShare(), first.Dest.Subset, first.Host)
	if action == rules.Warn {
		lead += " (nothing reached that host before, so nothing breaks yet)"
	}
	if hidden := hiddenRules(in, first.Host, first.Dest.Subset); !anyRule && hidden != "" {
		// Rules exist, but none is visible to these clients: say which and why.
		f.Message = fmt.Sprintf("%s, but %s find no DestinationRule for that host: %s defines it, but its exportTo does not reach them (or its workloadSelector does not select them) — Envoy has no such cluster there and those requests fail with 503; export that rule to them, or define %s in a rule they see",
			lead, listOf(clients), hidden, first.Dest.Subset)
		return f
	}
	if !anyRule {
		f.Message = fmt.Sprintf("%s, but no DestinationRule for that host exists yet: Envoy has no such cluster and those requests fail with 503 — apply the DestinationRule defining %s first, then this VirtualService (Istio's make-before-break order)",
			lead, first.Dest.Subset)
		return f
	}
	c := g.Failures[0].Path.Client
	which := fmt.Sprintf("%s find no DestinationRule for that host", proxiesIn(c))
	if first.Rules.Found() {
		which = fmt.Sprintf("the DestinationRule %s use for it (%s) does not define it", proxiesIn(c), first.Rules.Names())
	}
	if len(clients) > 1 {
		which += fmt.Sprintf(" (nor for %s: %s)", namespaces(len(clients)-1), listOf(clients[1:]))
	}
	f.Message = fmt.Sprintf("%s, but %s: Envoy has no such cluster there and those requests fail with 503 — define subset %s in that DestinationRule first",
		lead, which, first.Dest.Subset)
	return f
}

// hiddenRules names the rules for host, in any namespace, that define subset
// ("" when none does): they exist, so "apply it first" would mislead.
func hiddenRules(in *rules.Input, host, subset string) string {
	var out []string
	for _, ns := range in.State.DestinationRuleNamespaces(host) {
		for _, dr := range in.State.DestinationRules(ns) {
			if mesh.HostScore(in.Routing.Hosts.FQDN(dr.Host, dr.Namespace), host) == 0 {
				continue
			}
			for _, sub := range dr.Subsets {
				if sub.Name == subset {
					out = append(out, dr.Namespace+"/"+dr.Name)
					break
				}
			}
		}
	}
	return strings.Join(out, ", ")
}

// mirrors warns about mirrors to subsets some client's lookup lacks.
func (r undefinedSubset) mirrors(in *rules.Input, vs *state.VirtualService) []rules.Finding {
	var out []rules.Finding
	vs.Destinations(func(field string, d state.Destination, _ []state.Destination, mirror bool) bool {
		if !mirror || d.Subset == "" {
			return true
		}
		res := in.Routing.Hosts.Resolve(in.State, d.Host, vs.Namespace)
		var undefined []string
		for _, u := range in.Routing.SubsetUses(in.State, vs, res.FQDN, res.ServiceNamespace, d.Subset) {
			if u.Subset == nil {
				undefined = append(undefined, u.Client)
			}
		}
		if len(undefined) == 0 {
			return true
		}
		out = append(out, rules.Finding{Rule: r.ID(), Action: rules.Warn, Field: field + ".subset", Key: field + ":" + d.Subset,
			Message: fmt.Sprintf("mirrors to subset %s of %s, which the DestinationRule used in %s does not define: Envoy skips mirroring to a cluster it lacks, so nothing is mirrored (live traffic is unaffected) — define subset %s first",
				d.Subset, res.FQDN, listOf(undefined), d.Subset)})
		return true
	})
	return out
}
