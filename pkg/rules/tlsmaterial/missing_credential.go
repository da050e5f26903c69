package tlsmaterial

import (
	"fmt"
	"strings"

	"github.com/meshguard/meshguard/pkg/rules"
	"github.com/meshguard/meshguard/pkg/state"
)

// missingCredential (MG401) denies a credentialName whose Secret does not
// exist where the proxy reads it: the rule's namespace for sidecars (with a
// workload selector), otherwise the namespaces of the gateway pods that route
// to the rule's host. With no such gateway yet it only warns.
type missingCredential struct{ tlsRule }

func (missingCredential) ID() string { return "MG401" }

func (missingCredential) Reads() []state.Kind {
	return []state.Kind{state.PodKind, state.VirtualServiceKind, state.GatewayKind, state.SecretKind}
}

func (r missingCredential) Check(in *rules.Input) []rules.Finding {
	var out []rules.Finding
	for _, st := range settings(in) {
		if st.TLS.CredentialName != "" && len(st.Namespaces) == 0 && !in.Change.Trust.SecretsUnknown {
			// No gateway routes to the host yet: nothing reads the Secret,
			// and copying a private key anywhere "just in case" is worse.
			out = append(out, rules.Finding{Rule: r.ID(), Action: rules.Warn, Field: st.Field + ".credentialName", Key: st.Field + ":unread",
				Message: fmt.Sprintf("no gateway routes to %s yet, so nothing reads Secret %s; it must exist where that gateway runs",
					in.DR.Host, st.TLS.CredentialName)})
			continue
		}
		if len(st.Missing) == 0 {
			continue
		}
		who := "the sidecars this rule selects"
		if len(in.DR.WorkloadSelector) == 0 {
			who = "the gateways"
		}
		var reveals []state.ObjectRef
		for _, ns := range st.Missing {
			reveals = append(reveals, secretRefs(ns, st.TLS.CredentialName)...)
		}
		out = append(out, rules.Finding{
			Rule: r.ID(), Action: rules.Deny, Field: st.Field + ".credentialName", Key: st.Field, Subjects: st.Missing, Reveals: reveals,
			Message: fmt.Sprintf("Secret %s does not exist in %s, where %s read it: TLS origination fails and requests to %s get 503 — create the Secret in %s first",
				st.TLS.CredentialName, strings.Join(st.Missing, ", "), who, in.DR.Host, strings.Join(st.Missing, ", ")),
		})
	}
	return out
}
