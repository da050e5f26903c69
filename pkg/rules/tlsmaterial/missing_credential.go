package tlsmaterial

import (
	"fmt"
	"strings"

	"github.com/meshguard/meshguard/pkg/rules"
)

// missingCredential (MG401) denies a credentialName whose Secret does not
// exist where the proxy reads it: the rule's namespace for sidecars (with a
// workload selector), the gateway pods' namespace otherwise.
type missingCredential struct{ tlsRule }

func (missingCredential) ID() string { return "MG401" }

func (r missingCredential) Check(in *rules.Input) []rules.Finding {
	var out []rules.Finding
	for _, st := range settings(in) {
		if len(st.Missing) == 0 {
			continue
		}
		who := "the sidecars this rule selects"
		if len(in.DR.WorkloadSelector) == 0 {
			who = "the gateways"
		}
		out = append(out, rules.Finding{
			Rule: r.ID(), Action: rules.Deny, Field: st.Field + ".credentialName", Key: st.Field, Subjects: st.Missing,
			Message: fmt.Sprintf("Secret %s does not exist in %s, where %s read it: TLS origination fails and requests to %s get 503 — create the Secret in %s first",
				st.TLS.CredentialName, strings.Join(st.Missing, ", "), who, in.DR.Host, strings.Join(st.Missing, ", ")),
		})
	}
	return out
}
