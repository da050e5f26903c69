package destinationrule

import (
	"fmt"

	"github.com/meshguard/meshguard/pkg/mesh"
	"github.com/meshguard/meshguard/pkg/rules"
	"github.com/meshguard/meshguard/pkg/state"
)

// removedSubsetInUse (MG204) denies a DestinationRule write that leaves a
// subset a VirtualService still routes or mirrors to undefined for some
// namespace whose proxies use that VirtualService: removing the subset or the
// rule, or a new or changed rule that wins that namespace's lookup without the
// subset (shadowing the rule that defined it). It is the DestinationRule face
// of MG301; both follow Istio's lookup (mesh.Routing.Lookup).
type removedSubsetInUse struct{ drRule }

func (removedSubsetInUse) ID() string { return "MG204" }

func (r removedSubsetInUse) Check(in *rules.Input) []rules.Finding {
	var out []rules.Finding
	for _, host := range r.hosts(in) {
		for _, vs := range in.State.VirtualServicesRouting(host) {
			vs.Destinations(func(field string, d state.Destination, weighted []state.Destination, mirror bool) bool {
				if d.Subset == "" || in.Routing.Hosts.FQDN(d.Host, vs.Namespace) != host {
					return true
				}
				if f, ok := r.judge(in, vs, host, field, d, weighted, mirror); ok {
					out = append(out, f)
				}
				return true
			})
		}
	}
	return out
}

// hosts are the routed hosts either version of the rule covers: its own, or
// for a wildcard rule every routed host the wildcard matches.
func (removedSubsetInUse) hosts(in *rules.Input) []string {
	var out []string
	for _, dr := range []*state.DestinationRule{in.Change.OldDR, in.Change.NewDR} {
		if dr == nil || len(dr.WorkloadSelector) > 0 {
			continue
		}
		pattern := in.Routing.Hosts.FQDN(dr.Host, dr.Namespace)
		if pattern == "" || pattern[0] != '*' {
			out = appendNew(out, pattern)
			continue
		}
		for _, h := range in.State.RoutedHosts() {
			if mesh.HostScore(pattern, h) > 0 {
				out = appendNew(out, h)
			}
		}
	}
	return out
}

func (r removedSubsetInUse) judge(in *rules.Input, vs *state.VirtualService, host, field string, d state.Destination, weighted []state.Destination, mirror bool) (rules.Finding, bool) {
	res := in.Routing.Hosts.Resolve(in.State, d.Host, vs.Namespace)
	var clients []string
	var first mesh.SubsetUse
	shadow := false
	for _, u := range in.Routing.SubsetUses(in.State, vs, host, res.ServiceNamespace, d.Subset) {
		if u.Subset != nil {
			continue
		}
		// After the write, only namespaces whose lookup the write touches
		// count; before it, every namespace does, so that a subset that was
		// already undefined there stays a pre-existing problem.
		if in.Phase == rules.After {
			before := in.Routing.Lookup(in.Prior, host, u.Client, res.ServiceNamespace)
			wasOld := in.Change.OldDR != nil && before.Contains(in.Change.OldDR)
			isNew := in.Change.NewDR != nil && u.Rules.Contains(in.Change.NewDR)
			if !wasOld && !isNew {
				continue
			}
			if len(clients) == 0 {
				shadow = isNew && !wasOld
			}
		}
		if len(clients) == 0 {
			first = u
		}
		clients = append(clients, u.Client)
	}
	if len(clients) == 0 {
		return rules.Finding{}, false
	}
	use := "mirrors traffic to it"
	if !mirror {
		share, _ := routeShare(d, weighted)
		use = fmt.Sprintf("sends %d%% of a route's traffic to it (%s)", share, field)
	}
	where := "proxies in " + first.Client
	if len(clients) > 1 {
		where += fmt.Sprintf(" and %d more namespace%s", len(clients)-1, map[bool]string{true: "s"}[len(clients) > 2])
	}
	var what, fix string
	switch {
	case shadow:
		what = fmt.Sprintf("this rule would win the DestinationRule lookup of %s for %s without defining subset %s", where, host, d.Subset)
		fix = fmt.Sprintf("define subset %s here too, or narrow exportTo/host so the rule does not shadow the one that defines it", d.Subset)
	case in.Change.Operation == rules.Delete:
		what = fmt.Sprintf("deleting the rule leaves subset %s undefined for %s", d.Subset, where)
		fix = fmt.Sprintf("move the route off %s first, then delete the rule", d.Subset)
	case in.Change.OldDR != nil && defines(in.Change.OldDR, d.Subset):
		what = fmt.Sprintf("removes subset %s, which %s still need", d.Subset, where)
		fix = fmt.Sprintf("move the route off %s first, then remove the subset", d.Subset)
	default:
		what = fmt.Sprintf("leaves subset %s undefined for %s", d.Subset, where)
		fix = fmt.Sprintf("define subset %s here, or move the route off it", d.Subset)
	}
	return rules.Finding{
		Rule: r.ID(), Action: rules.Deny, Field: "spec.subsets", Key: vs.Namespace + "/" + vs.Name + ":" + field + ":" + d.Subset,
		Subjects: clients,
		Missing:  []state.ObjectRef{{Group: state.GroupNetworking, Kind: rules.KindVirtualService, Namespace: vs.Namespace, Name: vs.Name}},
		Message: fmt.Sprintf("%s, but VirtualService %s/%s %s: those requests fail with 503 — %s",
			what, vs.Namespace, vs.Name, use, fix),
	}, true
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
