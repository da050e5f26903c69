package destinationrule

import (
	"fmt"

	"github.com/meshguard/meshguard/pkg/mesh"
	"github.com/meshguard/meshguard/pkg/rules"
	"github.com/meshguard/meshguard/pkg/state"
)

// disableTowardsStrict (MG202) denies plaintext (tls mode DISABLE) towards
// servers that enforce STRICT mTLS: every connection is reset.
type disableTowardsStrict struct{ drRule }

func (disableTowardsStrict) ID() string { return "MG202" }

func (r disableTowardsStrict) Check(in *rules.Input) []rules.Finding {
	dr := in.DR
	if dr == nil {
		return nil
	}
	var out []rules.Finding
	for _, t := range mesh.TLSSettings(dr) {
		if t.TLS.Mode != "DISABLE" {
			continue
		}
		res := target(in, dr)
		if res.Service == nil {
			continue
		}
		var strict []*state.Pod
		var source *state.PeerAuthentication
		for _, p := range livePods(in.State, res.Service, subsetLabels(dr, t.Subset)) {
			if !mesh.InMesh(p, in.State.Namespace(p.Namespace)) {
				continue
			}
			for _, sp := range res.Service.Ports {
				if t.Port != 0 && uint32(sp.Port) != t.Port {
					continue
				}
				if eff := in.Policies.WorkloadMode(in.State, p.Namespace, p.Labels, mesh.TargetPort(sp, p)); eff.Mode == state.ModeStrict {
					strict, source = append(strict, p), eff.Source
					break
				}
			}
		}
		if len(strict) == 0 {
			continue
		}
		out = append(out, rules.Finding{
			Rule: r.ID(), Action: rules.Deny, Field: t.Field + ".mode", Key: t.Field,
			Message: fmt.Sprintf("DISABLE sends plaintext to %s, but %d of its pods enforce STRICT mTLS (PeerAuthentication %s/%s): %s reset every connection — use ISTIO_MUTUAL, or remove the tls block",
				res.FQDN, len(strict), source.Namespace, source.Name, names(strict)),
		})
	}
	return out
}
