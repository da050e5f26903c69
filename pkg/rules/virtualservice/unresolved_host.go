package virtualservice

import (
	"fmt"
	"strings"

	"github.com/meshguard/meshguard/pkg/rules"
	"github.com/meshguard/meshguard/pkg/state"
)

// unresolvedHost (MG303) denies destinations that resolve to nothing: a short
// name or cluster name without its Service, or "name.ns" forms that Istio does
// not expand. An external name that no ServiceEntry registers only warns.
type unresolvedHost struct{ vsRule }

func (unresolvedHost) ID() string { return "MG303" }

func (r unresolvedHost) Check(in *rules.Input) []rules.Finding {
	vs := in.VS
	if vs == nil {
		return nil
	}
	var out []rules.Finding
	vs.Destinations(func(field string, d state.Destination, _ []state.Destination, _ bool) bool {
		res := in.Routing.Hosts.Resolve(in.State, d.Host, vs.Namespace)
		if res.Found() || strings.Contains(d.Host, "*") {
			return true
		}
		f := rules.Finding{Rule: r.ID(), Action: rules.Deny, Field: field + ".host", Key: field}
		switch {
		case res.Unexpanded:
			f.Message = fmt.Sprintf("host %s is not expanded by Istio (only names without dots are) and matches no Service: every request fails — write %s", d.Host, res.Suggest)
		case res.InCluster():
			f.Missing = []state.ObjectRef{{Kind: "Service", Namespace: res.ServiceNamespace, Name: res.ServiceName}}
			f.Message = fmt.Sprintf("host %s resolves to %s, but Service %s/%s does not exist: every request fails with 503 — create the Service first, or fix the host",
				d.Host, res.FQDN, res.ServiceNamespace, res.ServiceName)
		default:
			f.Action = rules.Warn
			f.Message = fmt.Sprintf("host %s matches no Service or ServiceEntry; under REGISTRY_ONLY it fails — register it with a ServiceEntry", d.Host)
		}
		out = append(out, f)
		return true
	})
	return out
}
