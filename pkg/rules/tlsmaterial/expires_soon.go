package tlsmaterial

import (
	"fmt"

	"github.com/meshguard/meshguard/pkg/rules"
	"github.com/meshguard/meshguard/pkg/state"
	"github.com/meshguard/meshguard/pkg/trust"
)

// expiresSoon (MG406) warns when a certificate in the referenced material
// expires within 30 days.
type expiresSoon struct{ tlsRule }

func (expiresSoon) ID() string { return "MG406" }

func (expiresSoon) Reads() []state.Kind {
	return []state.Kind{state.PodKind, state.VirtualServiceKind, state.GatewayKind, state.SecretKind}
}

func (r expiresSoon) Check(in *rules.Input) []rules.Finding {
	var out []rules.Finding
	for _, st := range settings(in) {
		if st.Material == nil {
			continue
		}
		for _, c := range append(append([]trust.Cert(nil), st.Material.Chain...), st.Material.CA...) {
			if trust.ExpiresSoon(c, in.Change.Trust.At) {
				days := int(c.NotAfter.Sub(in.Change.Trust.At).Hours() / 24)
				out = append(out, rules.Finding{Rule: r.ID(), Action: rules.Warn, Field: st.Field + ".credentialName", Key: st.Field + ":" + c.KeyID, Reveals: st.materialRefs(),
					Message: fmt.Sprintf("%q in %s expires in %d days (%s); renew it", c.Subject, st.Material.Source, days, c.NotAfter.UTC().Format("2006-01-02"))})
			}
		}
	}
	return out
}
