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
