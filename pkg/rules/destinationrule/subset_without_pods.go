package destinationrule

import (
	"fmt"

	"github.com/meshguard/meshguard/pkg/mesh"
	"github.com/meshguard/meshguard/pkg/rules"
	"github.com/meshguard/meshguard/pkg/state"
)

// subsetWithoutPods (MG203) flags a subset that selects no running pod of the
// host's Service. It denies when a VirtualService sends traffic to it (those
// requests fail with 503) and warns otherwise.
type subsetWithoutPods struct{ drRule }

func (subsetWithoutPods) ID() string { return "MG203" }

func (r subsetWithoutPods) Check(in *rules.Input) []rules.Finding {
	dr := in.DR
	if dr == nil {
		return nil
	}
	res := target(in, dr)
	if res.Service == nil || len(res.Service.Selector) == 0 {
		return nil // MG205 reports hosts that match no Service; hand-managed endpoints select no pods
	}
	var out []rules.Finding
	for i, sub := range dr.Subsets {
		if !mesh.JudgedByPods(sub.Labels) || len(livePods(in.State, res.Service, sub.Labels)) > 0 {
			continue // endpoint labels (cluster, zone) cannot be judged from pods
		}
		f := rules.Finding{Rule: r.ID(), Action: rules.Warn, Field: fmt.Sprintf("spec.subsets[%d].labels", i), Key: sub.Name}
		if vs, share := r.routedTo(in, dr, res.FQDN, sub.Name); vs != nil {
			f.Action, f.Subjects = rules.Deny, []string{vs.Namespace + "/" + vs.Name}
			f.Missing = []state.ObjectRef{{Group: state.GroupNetworking, Kind: rules.KindVirtualService, Namespace: vs.Namespace, Name: vs.Name}}
			f.Message = fmt.Sprintf("subset %s selects no running pod of Service %s/%s (labels %s), and VirtualService %s/%s sends %d%% of its traffic there: those requests fail with 503 — fix the labels, or route 0%% to %s until its pods run",
				sub.Name, res.Service.Namespace, res.Service.Name, labelText(sub.Labels), vs.Namespace, vs.Name, share, sub.Name)
		} else {
			f.Message = fmt.Sprintf("subset %s selects no running pod of Service %s/%s (labels %s); routing to it would fail",
				sub.Name, res.Service.Namespace, res.Service.Name, labelText(sub.Labels))
		}
		out = append(out, f)
	}
	return out
}

// routedTo returns a VirtualService that sends traffic to subset of fqdn
// through this rule, with the share it sends.
func (subsetWithoutPods) routedTo(in *rules.Input, dr *state.DestinationRule, fqdn, subset string) (*state.VirtualService, int32) {
	for _, vs := range in.State.VirtualServicesRouting(fqdn) {
		if !mesh.Exported(dr.ExportTo, dr.Namespace, vs.Namespace) {
			continue
		}
		var found *state.VirtualService
		var share int32
		vs.Destinations(func(_ string, d state.Destination, weighted []state.Destination, mirror bool) bool {
			if mirror || d.Subset != subset || in.Routing.Hosts.FQDN(d.Host, vs.Namespace) != fqdn {
				return true
			}
			if w, ok := routeShare(d, weighted); ok {
				found, share = vs, w
				return false
			}
			return true
		})
		if found != nil {
			return found, share
		}
	}
	return nil, 0
}
