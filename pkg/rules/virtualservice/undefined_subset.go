package virtualservice

import (
	"fmt"

	"github.com/meshguard/meshguard/pkg/rules"
	"github.com/meshguard/meshguard/pkg/state"
)

// undefinedSubset (MG301) denies a route or mirror to a subset that no
// DestinationRule visible from the VirtualService defines: Envoy has no such
// cluster and answers 503. MG204 is the same invariant seen from the rule.
type undefinedSubset struct{ vsRule }

func (undefinedSubset) ID() string { return "MG301" }

func (r undefinedSubset) Check(in *rules.Input) []rules.Finding {
	vs := in.VS
	if vs == nil {
		return nil
	}
	var out []rules.Finding
	vs.Destinations(func(field string, d state.Destination, _ []state.Destination, mirror bool) bool {
		if d.Subset == "" {
			return true
		}
		res := in.Routing.Hosts.Resolve(in.State, d.Host, vs.Namespace)
		if in.Routing.SubsetDefined(in.State, res.FQDN, vs.Namespace, res.ServiceNamespace, d.Subset) {
			return true
		}
		verb := "routes"
		if mirror {
			verb = "mirrors"
		}
		var missing []state.ObjectRef
		for _, ns := range []string{vs.Namespace, res.ServiceNamespace, in.Config.RootNamespace} {
			if ns != "" {
				missing = append(missing, state.ObjectRef{Group: state.GroupNetworking, Kind: rules.KindDestinationRule, Namespace: ns})
			}
		}
		out = append(out, rules.Finding{
			Rule: r.ID(), Action: rules.Deny, Field: field + ".subset", Key: field + ":" + d.Subset, Missing: missing,
			Message: fmt.Sprintf("%s to subset %s of %s, which no DestinationRule visible from %s defines: Envoy has no such cluster and those requests fail with 503 — add subset %s to the DestinationRule for %s first",
				verb, d.Subset, res.FQDN, vs.Namespace, d.Subset, res.FQDN),
		})
		return true
	})
	return out
}
