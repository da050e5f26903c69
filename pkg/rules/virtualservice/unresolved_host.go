package virtualservice

import (
	"fmt"
	"strings"

	"github.com/meshguard/meshguard/pkg/paths"
	"github.com/meshguard/meshguard/pkg/rules"
	"github.com/meshguard/meshguard/pkg/state"
)

// unresolvedHost (MG303) explains routes to a host that resolves to nothing:
// a short name or cluster name without its Service, or a "name.ns" form that
// Istio does not expand. The proxy has no cluster for it and answers 503.
// It denies where the write breaks traffic some client sends (the path
// model); a route no client uses yet, or one to a host nothing reached
// before, warns, and so does an external name no ServiceEntry registers
// (under ALLOW_ANY the sidecar may still pass it through).
type unresolvedHost struct{ vsRule }

func (unresolvedHost) ID() string { return "MG303" }

func (unresolvedHost) Reads() []state.Kind {
	return []state.Kind{state.NamespaceKind, state.ServiceEntryKind, state.ServiceKind}
}

// A Service write brings the same cause to the routes that use it.
func (unresolvedHost) WriteKinds() []string {
	return []string{rules.KindVirtualService, rules.KindService}
}

func (r unresolvedHost) Check(in *rules.Input) []rules.Finding {
	if in.Change.Ref.Kind == rules.KindService {
		return in.ServiceWrite(r.ID(), paths.NoHost, rules.ByVirtualServices)
	}
	vs := in.VS
	if vs == nil {
		return nil
	}
	var out []rules.Finding
	seen := map[string]bool{}
	for _, g := range routeFailures(in, paths.NoHost) {
		f := g.Failures[0].Failure
		seen[f.Field] = true
		action, held := g.Verdict()
		finding, ok := r.finding(in, f.Field, f.Dest)
		if !ok {
			continue
		}
		finding.Subjects = g.Clients()
		if finding.Action == rules.Deny {
			finding.Action, finding.Preexisting = action, held
			if action == rules.Warn { // a fresh install: nothing worked there yet
				finding.Missing = nil
				finding.Message = "nothing reached that host before, so nothing breaks yet: " + finding.Message
			}
		}
		out = append(out, finding)
	}
	vs.Destinations(func(field string, d state.Destination, _ []state.Destination, mirror bool) bool {
		if seen[field] {
			return true
		}
		finding, ok := r.finding(in, field, d)
		if !ok {
			return true
		}
		if finding.Action == rules.Deny {
			finding.Action, finding.Missing = rules.Warn, nil
			use := "no client uses this route yet, but when one does it fails: "
			if mirror {
				use = "a mirror: Envoy skips a mirror without a cluster, so only the copy is lost: "
			}
			finding.Message = use + finding.Message
		}
		out = append(out, finding)
		return true
	})
	return out
}

// finding describes destination d at field if its host resolves to nothing.
func (r unresolvedHost) finding(in *rules.Input, field string, d state.Destination) (rules.Finding, bool) {
	res := in.Routing.Hosts.Resolve(in.State, d.Host, in.VS.Namespace)
	if res.Found() || strings.Contains(d.Host, "*") {
		return rules.Finding{}, false
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
	return f, true
}
