// Package virtualservice holds the rules that judge VirtualService writes
// (MG301–MG310).
package virtualservice

import (
	"strconv"
	"strings"

	"github.com/meshguard/meshguard/pkg/rules"
	"github.com/meshguard/meshguard/pkg/state"
)

// All returns the VirtualService rules.
func All() []rules.Rule {
	return []rules.Rule{
		undefinedSubset{}, noReadyPods{}, unresolvedHost{}, destinationPort{}, gatewayBinding{},
		retries{}, hostClaimedTwice{}, unreachableRoute{}, portWithoutProtocol{}, upperCaseHeader{},
	}
}

type vsRule struct{}

func (vsRule) Kind() string { return rules.KindVirtualService }

// share is the traffic a destination gets: its weight, or all of it when it
// is the route's only destination.
func share(d state.Destination, weighted []state.Destination) int32 {
	if len(weighted) == 1 {
		return 100
	}
	return d.Weight
}

func ports(sps []state.ServicePort) string {
	var parts []string
	for _, p := range sps {
		parts = append(parts, strconv.Itoa(int(p.Port)))
	}
	return strings.Join(parts, ", ")
}

func subsetText(d state.Destination) string {
	if d.Subset != "" {
		return "subset " + d.Subset + " of " + d.Host
	}
	return d.Host
}

// listOf renders up to three names and how many more there are.
func listOf(names []string) string {
	if len(names) <= 3 {
		return strings.Join(names, ", ")
	}
	return strings.Join(names[:3], ", ") + ", and " + strconv.Itoa(len(names)-3) + " more"
}

// namespaces renders "1 more namespace" or "N more namespaces".
func namespaces(n int) string {
	if n == 1 {
		return "1 more namespace"
	}
	return strconv.Itoa(n) + " more namespaces"
}

func appendNew(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}
