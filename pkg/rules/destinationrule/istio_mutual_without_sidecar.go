package destinationrule

import (
	"fmt"

	"github.com/meshguard/meshguard/pkg/mesh"
	"github.com/meshguard/meshguard/pkg/rules"
	"github.com/meshguard/meshguard/pkg/state"
)

// istioMutualWithoutSidecar (MG201) denies ISTIO_MUTUAL towards pods that
// have no proxy to terminate Istio's mTLS.
type istioMutualWithoutSidecar struct{ drRule }

func (istioMutualWithoutSidecar) ID() string { return "MG201" }

func (r istioMutualWithoutSidecar) Check(in *rules.Input) []rules.Finding {
	dr := in.DR
	if dr == nil {
		return nil
	}
	var out []rules.Finding
	for _, t := range mesh.TLSSettings(dr) {
		if t.TLS.Mode != "ISTIO_MUTUAL" {
			continue
		}
		res := target(in, dr)
		if res.Service == nil {
			continue
		}
		pods := livePods(in.State, res.Service, subsetLabels(dr, t.Subset))
		var bare []*state.Pod
		for _, p := range pods {
			if !mesh.InMesh(p, in.State.Namespace(p.Namespace)) {
				bare = append(bare, p)
			}
		}
		if len(bare) == 0 {
			continue
		}
		out = append(out, rules.Finding{
			Rule: r.ID(), Action: rules.Deny, Field: t.Field + ".mode", Key: t.Field,
			Message: fmt.Sprintf("ISTIO_MUTUAL towards %s, but %d of its %d pods have no sidecar (%s): requests to them fail the TLS handshake — inject them first, or use mode DISABLE for this host until they are",
				res.FQDN, len(bare), len(pods), names(bare)),
		})
	}
	return out
}
