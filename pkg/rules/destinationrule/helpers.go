// Package destinationrule holds the rules that judge DestinationRule writes
// (MG201–MG207).
package destinationrule

import (
	"fmt"
	"sort"
	"strings"

	"github.com/meshguard/meshguard/pkg/mesh"
	"github.com/meshguard/meshguard/pkg/rules"
	"github.com/meshguard/meshguard/pkg/state"
)

const examples = 3

// All returns the DestinationRule rules.
func All() []rules.Rule {
	return []rules.Rule{
		istioMutualWithoutSidecar{}, disableTowardsStrict{}, subsetWithoutPods{}, removedSubsetInUse{},
		hostMatchesNothing{}, duplicateRules{}, outlierDetection{},
	}
}

type drRule struct{}

func (drRule) Kind() string { return rules.KindDestinationRule }

// target resolves the rule's host from its own namespace.
func target(in *rules.Input, dr *state.DestinationRule) mesh.Resolution {
	return in.Routing.Hosts.Resolve(in.State, dr.Host, dr.Namespace)
}

func subsetLabels(dr *state.DestinationRule, subset string) map[string]string {
	for _, s := range dr.Subsets {
		if s.Name == subset {
			return s.Labels
		}
	}
	return nil
}

// livePods returns the live pods of svc that carry labels, sorted by name.
func livePods(s state.Snapshot, svc *state.Service, labels map[string]string) []*state.Pod {
	var out []*state.Pod
	s.ForEachServicePod(svc.Namespace, svc.Name, func(p *state.Pod) bool {
		if !p.Finished() && state.SelectorMatches(labels, p.Labels) {
			out = append(out, p)
		}
		return true
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// selectsEntry reports whether svc's selector and labels pick a WorkloadEntry
// of its namespace (a VM: istiod's Kubernetes registry selects entries as it
// selects pods), healthy or not yet.
func selectsEntry(s state.Snapshot, svc *state.Service, labels map[string]string) bool {
	found := false
	s.ForEachWorkloadEntry(svc.Namespace, func(we *state.WorkloadEntry) bool {
		found = state.SelectorMatches(svc.Selector, we.Labels) && state.SelectorMatches(labels, we.Labels)
		return !found
	})
	return found
}

func names(pods []*state.Pod) string {
	var parts []string
	for i, p := range pods {
		if i == examples {
			parts = append(parts, fmt.Sprintf("and %d more", len(pods)-examples))
			break
		}
		parts = append(parts, p.Name)
	}
	return strings.Join(parts, ", ")
}

func labelText(labels map[string]string) string {
	keys := make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, k+"="+labels[k])
	}
	return strings.Join(parts, ",")
}

// routeShare describes how much traffic a destination gets: its weight, or
// all of it when it is the route's only destination.
func routeShare(d state.Destination, weighted []state.Destination) (int32, bool) {
	if len(weighted) == 1 {
		return 100, true
	}
	return d.Weight, d.Weight > 0
}

// governedService is a Service a rule's TLS settings reach, with the merged
// rules that the lookup picks for it.
type governedService struct {
	Service *state.Service
	FQDN    string
	Rules   mesh.RuleSet
}

// governed lists the Services dr governs: for an exact host its one Service,
// for a wildcard host (`*.legacy.svc.cluster.local`, `*.local`, `*`) every
// Service it matches — in both cases only where Istio's lookup picks the rule
// (a more specific rule, or one nearer the client, wins). Clients are taken
// in dr's own namespace; for a rule in the root namespace, in the Service's
// namespace, which stands for every client without a rule of its own.
func governed(in *rules.Input, dr *state.DestinationRule) []governedService {
	if len(dr.WorkloadSelector) > 0 {
		return nil // sidecar-scoped: judged for the selected workloads' own rule only
	}
	pattern := in.Routing.Hosts.FQDN(dr.Host, dr.Namespace)
	var out []governedService
	consider := func(svc *state.Service) {
		fqdn := in.Routing.Hosts.FQDN(svc.Name, svc.Namespace)
		client := dr.Namespace
		if client == in.Routing.RootNamespace() {
			client = svc.Namespace
		}
		if rs := in.Routing.Lookup(in.State, fqdn, client, svc.Namespace); rs.Contains(dr) {
			out = append(out, governedService{Service: svc, FQDN: fqdn, Rules: rs})
		}
	}
	if !strings.HasPrefix(pattern, "*") {
		if res := target(in, dr); res.Service != nil {
			consider(res.Service)
		}
		return out
	}
	for _, ns := range in.State.NamespaceNames() {
		for _, svc := range in.State.Services(ns) {
			if mesh.HostScore(pattern, in.Routing.Hosts.FQDN(svc.Name, svc.Namespace)) > 0 {
				consider(svc)
			}
		}
	}
	return out
}

// applies reports whether a TLS setting of dr is in force for a governed
// Service: top-level and port-level settings only when dr owns the merged
// trafficPolicy (Istio keeps the oldest rule's), subset settings only when
// dr's definition of the subset is the one merged in.
func applies(g governedService, dr *state.DestinationRule, t mesh.TLSSetting) bool {
	if t.Subset == "" {
		return g.Rules.PolicyOwner() == dr
	}
	_, from := g.Rules.Subset(t.Subset)
	return from == dr
}

// serviceRefs renders up to examples Services as ns/name, with how many more.
func serviceRefs(items []string) string {
	if len(items) <= examples {
		return strings.Join(items, "; ")
	}
	return strings.Join(items[:examples], "; ") + fmt.Sprintf("; and %d more", len(items)-examples)
}
