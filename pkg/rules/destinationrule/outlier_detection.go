package destinationrule

import (
	"fmt"
	"sort"
	"strings"

	"github.com/meshguard/meshguard/pkg/mesh"
	"github.com/meshguard/meshguard/pkg/rules"
	"github.com/meshguard/meshguard/pkg/state"
)

// outlierDetection (MG207) warns when outlier detection can eject every
// endpoint, or when traffic is split across subsets with nothing to eject a
// failing canary.
type outlierDetection struct{ drRule }

func (outlierDetection) ID() string { return "MG207" }

func (outlierDetection) Reads() []state.Kind { return []state.Kind{state.VirtualServiceKind} }

func (r outlierDetection) Check(in *rules.Input) []rules.Finding {
	dr := in.DR
	if dr == nil {
		return nil
	}
	var out []rules.Finding
	check := func(field string, o *state.Outlier) {
		if o != nil && o.MaxEjectionPercent >= 100 {
			out = append(out, rules.Finding{Rule: r.ID(), Action: rules.Warn, Field: field + ".outlierDetection.maxEjectionPercent", Key: field,
				Message: "maxEjectionPercent 100 lets outlier detection eject every endpoint; a bad minute then fails all requests — keep it below 100"})
		}
	}
	policies := map[string]*state.TrafficPolicy{"spec.trafficPolicy": dr.Policy}
	for i, s := range dr.Subsets {
		policies[fmt.Sprintf("spec.subsets[%d].trafficPolicy", i)] = s.Policy
	}
	fields := make([]string, 0, len(policies))
	for f := range policies {
		fields = append(fields, f)
	}
	sort.Strings(fields)
	for _, f := range fields {
		if tp := policies[f]; tp != nil {
			check(f, tp.Outlier)
			for _, pp := range tp.Ports {
				check(fmt.Sprintf("%s.portLevelSettings[%d]", f, pp.Index), pp.Outlier)
			}
		}
	}
	if !mesh.HasOutlierDetection(dr, "") {
		if vs, subsets := r.weightedSplit(in, dr); vs != nil {
			out = append(out, rules.Finding{Rule: r.ID(), Action: rules.Warn, Field: "spec.trafficPolicy", Key: "split",
				Message: fmt.Sprintf("%s/%s splits traffic across subsets %s, but no outlier detection ejects a failing canary's endpoints", vs.Namespace, vs.Name, strings.Join(subsets, ", "))})
		}
	}
	return out
}

// weightedSplit finds a VirtualService that splits one route across several
// subsets of this rule's host.
func (outlierDetection) weightedSplit(in *rules.Input, dr *state.DestinationRule) (*state.VirtualService, []string) {
	fqdn := in.Routing.Hosts.FQDN(dr.Host, dr.Namespace)
	for _, vs := range in.State.VirtualServicesRouting(fqdn) {
		for _, route := range vs.HTTP {
			var subsets []string
			for _, d := range route.Route {
				if d.Subset != "" && d.Weight > 0 && in.Routing.Hosts.FQDN(d.Host, vs.Namespace) == fqdn {
					subsets = append(subsets, d.Subset)
				}
			}
			if len(subsets) > 1 {
				return vs, subsets
			}
		}
	}
	return nil, nil
}
