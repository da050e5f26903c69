package destinationrule

import (
	"fmt"
	"slices"

	"github.com/meshguard/meshguard/pkg/rules"
	"github.com/meshguard/meshguard/pkg/state"
)

// removedSubsetInUse (MG204) denies an UPDATE or DELETE that removes a subset
// a VirtualService still routes or mirrors to. It is the DestinationRule face
// of MG301: every routed subset must be defined.
type removedSubsetInUse struct{ drRule }

func (removedSubsetInUse) ID() string { return "MG204" }

func (r removedSubsetInUse) Check(in *rules.Input) []rules.Finding {
	old := in.Change.OldDR
	if old == nil || in.Change.Operation == rules.Create {
		return nil
	}
	res := in.Routing.Hosts.Resolve(in.State, old.Host, old.Namespace)
	var out []rules.Finding
	for _, vs := range in.State.VirtualServicesRouting(res.FQDN) {
		vs.Destinations(func(field string, d state.Destination, weighted []state.Destination, mirror bool) bool {
			if d.Subset == "" || in.Routing.Hosts.FQDN(d.Host, vs.Namespace) != res.FQDN ||
				!slices.ContainsFunc(old.Subsets, func(s state.Subset) bool { return s.Name == d.Subset }) {
				return true
			}
			if in.Routing.SubsetDefined(in.State, res.FQDN, vs.Namespace, res.ServiceNamespace, d.Subset) {
				return true
			}
			use := "mirrors traffic to it"
			if !mirror {
				share, _ := routeShare(d, weighted)
				use = fmt.Sprintf("sends %d%% of a route's traffic to it (%s)", share, field)
			}
			verb := "removes"
			if in.Change.Operation == rules.Delete {
				verb = "deleting the rule removes"
			}
			out = append(out, rules.Finding{
				Rule: r.ID(), Action: rules.Deny, Field: "spec.subsets", Key: vs.Namespace + "/" + vs.Name + ":" + d.Subset,
				Missing: []state.ObjectRef{{Group: state.GroupNetworking, Kind: rules.KindVirtualService, Namespace: vs.Namespace, Name: vs.Name}},
				Message: fmt.Sprintf("%s subset %s, but VirtualService %s/%s %s: those requests fail with 503 — move the route off %s first, then remove the subset",
					verb, d.Subset, vs.Namespace, vs.Name, use, d.Subset),
			})
			return true
		})
	}
	return out
}
