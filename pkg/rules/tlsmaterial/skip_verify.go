package tlsmaterial

import (
	"github.com/meshguard/meshguard/pkg/mesh"
	"github.com/meshguard/meshguard/pkg/rules"
	"github.com/meshguard/meshguard/pkg/state"
)

// skipVerify (MG404) warns about SIMPLE or MUTUAL TLS that does not verify
// the server: anyone on the path can impersonate it.
type skipVerify struct{ tlsRule }

func (skipVerify) ID() string { return "MG404" }

func (skipVerify) Reads() []state.Kind { return nil }

func (r skipVerify) Check(in *rules.Input) []rules.Finding {
	if in.DR == nil {
		return nil
	}
	var out []rules.Finding
	for _, t := range mesh.TLSSettings(in.DR) {
		if (t.TLS.Mode == "SIMPLE" || t.TLS.Mode == "MUTUAL") && t.TLS.InsecureSkipVerify {
			out = append(out, rules.Finding{Rule: r.ID(), Action: rules.Warn, Field: t.Field + ".insecureSkipVerify", Key: t.Field,
				Message: "insecureSkipVerify: the server is not verified, so anyone on the path can impersonate it"})
		}
	}
	return out
}
