package virtualservice

import (
	"fmt"
	"slices"

	"github.com/meshguard/meshguard/pkg/mesh"
	"github.com/meshguard/meshguard/pkg/rules"
	"github.com/meshguard/meshguard/pkg/state"
)

// undefinedSubset (MG301) denies a route or mirror to a subset that the
// DestinationRule some client proxy uses for the host does not define: that
// proxy has no such cluster and answers 503. The rule a proxy uses is found
// by Istio's lookup (mesh.Routing.Lookup), not by the union of visible rules:
// a rule in the client's namespace shadows the Service's own rule. MG204 is
// the same invariant seen from the DestinationRule.
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
		uses := in.Routing.SubsetUses(in.State, vs, res.FQDN, res.ServiceNamespace, d.Subset)
		var undefined []mesh.SubsetUse
		anyRule := false
		for _, u := range uses {
			anyRule = anyRule || u.Rules.Found()
			if u.Subset == nil {
				undefined = append(undefined, u)
			}
		}
		if len(undefined) == 0 {
			return true
		}
		verb := "routes"
		if mirror {
			verb = "mirrors"
		}
		var clients []string
		missing := []state.ObjectRef{}
		addNS := func(ns string) {
			if ns != "" && !slices.ContainsFunc(missing, func(m state.ObjectRef) bool { return m.Namespace == ns }) {
				missing = append(missing, state.ObjectRef{Group: state.GroupNetworking, Kind: rules.KindDestinationRule, Namespace: ns})
			}
		}
		for _, u := range undefined {
			clients = append(clients, u.Client)
			addNS(u.Client)
		}
		addNS(res.ServiceNamespace)
		addNS(in.Config.RootNamespace)
		f := rules.Finding{Rule: r.ID(), Action: rules.Deny, Field: field + ".subset", Key: field + ":" + d.Subset,
			Subjects: clients, Missing: missing}
		if !anyRule {
			f.Message = fmt.Sprintf("%s to subset %s of %s, but no DestinationRule for that host exists yet: Envoy has no such cluster and those requests fail with 503 — apply the DestinationRule defining %s first, then this VirtualService (Istio's make-before-break order)",
				verb, d.Subset, res.FQDN, d.Subset)
			out = append(out, f)
			return true
		}
		first := undefined[0]
		which := fmt.Sprintf("proxies in %s find no DestinationRule for that host", first.Client)
		if first.Rules.Found() {
			which = fmt.Sprintf("the DestinationRule proxies in %s use for it (%s) does not define it", first.Client, first.Rules.Names())
		}
		if len(undefined) > 1 {
			which += fmt.Sprintf(" (nor for %s: %s)", namespaces(len(undefined)-1), listOf(clients[1:]))
		}
		f.Message = fmt.Sprintf("%s to subset %s of %s, but %s: Envoy has no such cluster there and those requests fail with 503 — define subset %s in that DestinationRule first",
			verb, d.Subset, res.FQDN, which, d.Subset)
		out = append(out, f)
		return true
	})
	return out
}
