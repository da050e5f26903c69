package tlsmaterial

import (
	"fmt"
	"strings"

	"github.com/meshguard/meshguard/pkg/rules"
	"github.com/meshguard/meshguard/pkg/state"
	"github.com/meshguard/meshguard/pkg/trust"
)

// badMaterial (MG403) denies certificate material that does not parse, has
// expired or is not yet valid, or a client certificate that does not match
// its key.
type badMaterial struct{ tlsRule }

func (badMaterial) ID() string { return "MG403" }

func (badMaterial) Reads() []state.Kind {
	return []state.Kind{state.PodKind, state.VirtualServiceKind, state.GatewayKind, state.SecretKind, state.ConfigMapKind}
}

func (r badMaterial) Check(in *rules.Input) []rules.Finding {
	var out []rules.Finding
	for _, st := range settings(in) {
		if verifies(st.TLS.Mode) && st.Material != nil && len(st.Material.CA) > 0 {
			if root := in.Change.Trust.MeshRoot(in.DR.Namespace, in.Config.RootNamespace); root != nil && root.Problem != "" {
				out = append(out, rules.Finding{Rule: r.ID(), Action: rules.Warn, Field: st.Field, Key: st.Field + ":root", Reveals: rootRef(root),
					Message: fmt.Sprintf("the mesh root in %s is unusable (%s); the CA bundle cannot be checked against it", root.Source, root.Problem)})
			}
		}
		m := st.Material
		if m == nil {
			continue
		}
		var problems []string
		problems = append(problems, m.Problems...)
		for _, c := range append(append([]trust.Cert(nil), m.Chain...), m.CA...) {
			if p := trust.Validity(c, in.Change.Trust.At); p != "" {
				problems = append(problems, p)
			}
		}
		if m.HasKey && len(m.Chain) > 0 && !m.KeyMatches {
			problems = append(problems, "the private key does not belong to the certificate")
		}
		if len(problems) == 0 {
			continue
		}
		out = append(out, rules.Finding{
			Rule: r.ID(), Action: rules.Deny, Field: st.Field + ".credentialName", Key: st.Field, Reveals: st.materialRefs(),
			Message: fmt.Sprintf("%s is unusable: %s — the proxy rejects it and TLS to %s fails; replace the material",
				m.Source, strings.Join(problems, "; "), in.DR.Host),
		})
	}
	return out
}
