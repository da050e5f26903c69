package virtualservice

import (
	"fmt"

	"github.com/meshguard/meshguard/pkg/mesh"
	"github.com/meshguard/meshguard/pkg/rules"
	"github.com/meshguard/meshguard/pkg/state"
)

// noReadyPods (MG302) denies sending traffic (weight > 0, or the only
// destination) to a subset or host with no Ready pod. Weight 0 is fine: that
// is how a canary is staged.
type noReadyPods struct{ vsRule }

func (noReadyPods) ID() string { return "MG302" }

func (r noReadyPods) Check(in *rules.Input) []rules.Finding {
	vs := in.VS
	if vs == nil {
		return nil
	}
	var out []rules.Finding
	vs.Destinations(func(field string, d state.Destination, weighted []state.Destination, mirror bool) bool {
		w := share(d, weighted)
		if mirror || w <= 0 {
			return true
		}
		res := in.Routing.Hosts.Resolve(in.State, d.Host, vs.Namespace)
		if res.Service == nil || len(res.Service.Selector) == 0 {
			return true // MG303; or endpoints managed by hand, which no pod count describes
		}
		var labels map[string]string
		if d.Subset != "" {
			l, ok := in.Routing.SubsetLabels(in.State, vs, res.FQDN, res.ServiceNamespace, d.Subset)
			if !ok {
				return true // MG301
			}
			labels = l
		}
		if !mesh.JudgedByPods(labels) {
			return true // a subset on endpoint labels Istio adds itself (cluster, zone)
		}
		c := mesh.CountPods(in.State, res.Service, labels)
		if c.Ready > 0 {
			return true
		}
		out = append(out, rules.Finding{
			Rule: r.ID(), Action: rules.Deny, Field: field, Key: field,
			Message: fmt.Sprintf("sends %d%% of the route's traffic to %s, which has no Ready pod (%d running, none Ready): those requests fail with 503 — wait until its pods are Ready, or give it weight 0",
				w, subsetText(d), c.Live),
		})
		return true
	})
	return out
}
