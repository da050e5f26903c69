package virtualservice

import (
	"fmt"
	"strings"

	"github.com/meshguard/meshguard/pkg/rules"
	"github.com/meshguard/meshguard/pkg/state"
)

// portWithoutProtocol (MG309) warns when HTTP routes lead to a Service port
// that declares no protocol: Istio may treat it as TCP, and retries, timeouts
// and header routing silently stop applying. Only routes sidecars use are
// judged: at a gateway the Gateway server's protocol decides, not the
// destination port's (the egress gateway TLS origination task routes HTTP to
// an unnamed port 443).
type portWithoutProtocol struct{ vsRule }

func (portWithoutProtocol) ID() string { return "MG309" }

func (portWithoutProtocol) Reads() []state.Kind {
	return []state.Kind{state.ServiceEntryKind, state.ServiceKind}
}

// httpPrefixes are Istio's port-name protocols that carry HTTP routing; an
// "https" or "tls" port carries it inside TLS (the egress gateway's 443 in
// the TLS origination tasks) and is declared too.
var httpPrefixes = []string{"http", "http2", "grpc", "grpc-web", "h2c", "https", "tls"}

// declaresHTTP follows Istio's protocol selection: a port name of <protocol>
// or <protocol>-<suffix>, or an appProtocol.
func declaresHTTP(p state.ServicePort) bool {
	if p.AppProtocol != "" {
		return true
	}
	name := strings.ToLower(p.Name)
	for _, prefix := range httpPrefixes {
		if name == prefix || strings.HasPrefix(name, prefix+"-") {
			return true
		}
	}
	return false
}

func (r portWithoutProtocol) Check(in *rules.Input) []rules.Finding {
	vs := in.VS
	if vs == nil {
		return nil
	}
	var out []rules.Finding
	seen := map[string]bool{}
	for i, route := range vs.HTTP {
		if !route.OnSidecars(vs) {
			continue
		}
		for _, d := range route.Route {
			res := in.Routing.Hosts.Resolve(in.State, d.Host, vs.Namespace)
			if res.Service == nil {
				continue
			}
			for _, p := range res.Service.Ports {
				if (d.Port != 0 && uint32(p.Port) != d.Port) || declaresHTTP(p) || p.Protocol == "UDP" {
					continue
				}
				key := fmt.Sprintf("%s:%d", res.FQDN, p.Port)
				if seen[key] {
					continue
				}
				seen[key] = true
				msg := fmt.Sprintf("HTTP route to %s port %d (named %q) with no protocol: Istio may treat it as TCP; name it http-… or set appProtocol", d.Host, p.Port, p.Name)
				if proto := declaredProtocol(p.Name); proto != "" {
					msg = fmt.Sprintf("HTTP route to %s port %d, which its name declares %s: sidecars apply only tcp routes there, so this route never applies to that port; name it http-… if it carries HTTP", d.Host, p.Port, proto)
				}
				out = append(out, rules.Finding{Rule: r.ID(), Action: rules.Warn, Field: fmt.Sprintf("spec.http[%d].route", i), Key: key, Message: msg})
			}
		}
	}
	return out
}

// declaredProtocol is the non-HTTP protocol a port name declares to Istio
// ("tcp", "mongo-db"), or "" when it declares none.
func declaredProtocol(name string) string {
	name = strings.ToLower(name)
	for _, proto := range []string{"tcp", "mongo", "mysql", "redis"} {
		if name == proto || strings.HasPrefix(name, proto+"-") {
			return strings.ToUpper(proto)
		}
	}
	return ""
}
