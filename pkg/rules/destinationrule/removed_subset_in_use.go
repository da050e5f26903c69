package destinationrule

import (
	"fmt"
	"slices"
	"strings"

	"github.com/meshguard/meshguard/pkg/paths"
	"github.com/meshguard/meshguard/pkg/rules"
	"github.com/meshguard/meshguard/pkg/state"
)

// removedSubsetInUse (MG204) explains paths a DestinationRule write breaks
// by leaving a routed subset undefined for clients that route to it:
// removing the subset or the rule, narrowing its exportTo or host, or a new
// or changed rule that wins some namespace's lookup without the subset
// (shadowing the rule that defined it). The paths model follows Istio's
// lookup (mesh.Routing.Lookup) for every client class that uses the route —
// only clients that exist count, so tearing down a route no proxy uses (its
// Gateway gone, no sidecars left) breaks nothing. Mirrors are not paths:
// Envoy skips a mirror whose cluster is missing. It is the DestinationRule
// face of MG301.
type removedSubsetInUse struct{ drRule }

func (removedSubsetInUse) ID() string { return "MG204" }

func (removedSubsetInUse) Reads() []state.Kind { return []state.Kind{state.DestinationRuleKind} }

func (removedSubsetInUse) WriteKinds() []string { return []string{rules.KindDestinationRule} }

func (r removedSubsetInUse) Check(in *rules.Input) []rules.Finding {
	var out []rules.Finding
	for _, g := range rules.GroupFailures(in.Failures(paths.NoSubset), func(f rules.PathFailure) string {
		if f.Failure.VS == nil {
			return ""
		}
		return f.Failure.VS.Namespace + "/" + f.Failure.VS.Name + ":" + f.Failure.Field + ":" + f.Failure.Dest.Subset
	}) {
		out = append(out, r.finding(in, g))
	}
	return out
}

func (r removedSubsetInUse) finding(in *rules.Input, g rules.Group) rules.Finding {
	action, held := g.Verdict()
	f := g.Failures[0].Failure
	vs, subset := f.VS, f.Dest.Subset
	clients := g.Clients()
	where := clients[0]
	if len(clients) > 1 {
		where += fmt.Sprintf(" and %d more client class%s", len(clients)-1, map[bool]string{true: "es"}[len(clients) > 2])
	}
	newDR, oldDR := in.Change.NewDR, in.Change.OldDR
	var what, fix string
	field := "spec.subsets"
	switch {
	case in.Change.Operation == rules.Delete:
		what = fmt.Sprintf("deleting the rule leaves subset %s undefined for %s", subset, where)
		fix = fmt.Sprintf("move the route off %s first, then delete the rule", subset)
	case newDR != nil && f.Rules.Contains(newDR) && oldDR != nil && defines(oldDR, subset):
		what = fmt.Sprintf("removes subset %s, which %s still need", subset, where)
		fix = fmt.Sprintf("move the route off %s first, then remove the subset", subset)
	case newDR != nil && f.Rules.Contains(newDR) && !r.wonBefore(in, g.Failures[0]):
		what = fmt.Sprintf("this rule would win the DestinationRule lookup of %s for %s without defining subset %s", where, f.Host, subset)
		fix = fmt.Sprintf("define subset %s here too, or narrow exportTo/host so the rule does not shadow the one that defines it", subset)
	case newDR != nil && len(newDR.WorkloadSelector) > 0 && unselected(g) != "":
		// istiod indexes the rule in its namespace: proxies there that it
		// does not select get no rule for the host at all (sidecar.go
		// SidecarScope.DestinationRule; push_context.go destinationRule does
		// not go on to the Service's namespace).
		what = fmt.Sprintf("this rule, with a workloadSelector, takes the DestinationRule lookup for %s in %s: %s that it does not select get no rule for the host at all (istiod no longer looks in the Service's namespace), so subset %s is undefined for them",
			f.Host, newDR.Namespace, unselected(g), subset)
		if !defines(newDR, subset) {
			what += ", and the ones it selects miss it too"
		}
		fix = fmt.Sprintf("add a rule without workloadSelector in %s that defines %s, or widen the selector to those workloads", newDR.Namespace, subset)
	case newDR != nil && defines(newDR, subset) && !f.Rules.Contains(newDR) && oldDR != nil && !slices.Equal(newDR.ExportTo, oldDR.ExportTo):
		// The rule still defines the subset, but exportTo now hides it from
		// the clients (push_context.go only indexes a rule for the
		// namespaces it is exported to): they find no rule, or another one.
		field = "spec.exportTo"
		what = fmt.Sprintf("exportTo %s hides this rule, which defines subset %s, from %s", exportList(newDR.ExportTo), subset, where)
		fix = fmt.Sprintf("keep the rule exported to %s, or move the route off %s first", strings.Join(clientNamespaces(g), ", "), subset)
	default:
		what = fmt.Sprintf("leaves subset %s undefined for %s", subset, where)
		fix = fmt.Sprintf("define subset %s here, or move the route off it", subset)
	}
	if action == rules.Warn {
		what = "nothing reached that host before, so nothing breaks yet, but " + what
	}
	return rules.Finding{
		Rule: r.ID(), Action: action, Preexisting: held, Field: field, Key: g.Key,
		Subjects: clients,
		Missing:  []state.ObjectRef{{Group: state.GroupNetworking, Kind: rules.KindVirtualService, Namespace: vs.Namespace, Name: vs.Name}},
		Message: fmt.Sprintf("%s, but VirtualService %s/%s sends %d%% of a route's traffic to it (%s): those requests fail with 503 — %s",
			what, vs.Namespace, vs.Name, g.MaxShare(), f.Field, fix),
	}
}

// exportList renders an exportTo list as written ("." for the rule's own namespace).
func exportList(exportTo []string) string {
	if len(exportTo) == 0 {
		return "[*]"
	}
	return "[" + strings.Join(exportTo, ", ") + "]"
}

// unselected names the failing client classes whose namespace holds rules
// for the host with workloadSelectors that do not select them ("" if none).
func unselected(g rules.Group) string {
	var out []string
	for _, pf := range g.Failures {
		if c := pf.Path.Client.String(); pf.Failure.Rules.Unselected && !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return strings.Join(out, " and ")
}

// clientNamespaces are the namespaces of the failing clients (the class of
// all other namespaces stands for itself).
func clientNamespaces(g rules.Group) []string {
	var out []string
	for _, pf := range g.Failures {
		ns := pf.Path.Client.Namespace
		if ns == paths.Other {
			ns = "*"
		}
		if !slices.Contains(out, ns) {
			out = append(out, ns)
		}
	}
	slices.Sort(out)
	return out
}

// wonBefore reports whether the written rule (as it was) already won the
// failing client's lookup before the write: then the write did not shadow
// anything, it changed the rule in place.
func (removedSubsetInUse) wonBefore(in *rules.Input, pf rules.PathFailure) bool {
	old := in.Change.OldDR
	if old == nil || pf.Failure.Backend() == "" {
		return false
	}
	return in.Routing.Lookup(in.Prior, pf.Failure.Host, pf.Path.Client.Namespace, pf.Failure.BackendNamespace()).Contains(old)
}

func appendNew(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}

func defines(dr *state.DestinationRule, subset string) bool {
	for _, s := range dr.Subsets {
		if s.Name == subset {
			return true
		}
	}
	return false
}
