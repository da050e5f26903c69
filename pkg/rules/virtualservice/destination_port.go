package virtualservice

import (
	"fmt"
	"slices"

	"github.com/meshguard/meshguard/pkg/paths"
	"github.com/meshguard/meshguard/pkg/rules"
	"github.com/meshguard/meshguard/pkg/state"
)

// destinationPort (MG304) explains routes to a port the destination Service
// does not expose: the proxy has no such cluster (503). A destination
// without a port takes the Service's only port, or else the listener's port
// (pilot/pkg/networking/core/route: GetDestinationCluster) — so a sidecar
// route without a port to another multi-port Service works where that
// Service has the port being called (Flagger's podinfo -> podinfo-primary),
// and breaks on a gateway, whose listener port (80, 443) the Service seldom
// has. A port that does not exist warns even when no client uses the route yet.
type destinationPort struct{ vsRule }

func (destinationPort) ID() string { return "MG304" }

// The Services and ServiceEntries a route's port may belong to are read
// beside the path model (a destination no path uses yet is checked as written).
func (destinationPort) Reads() []state.Kind {
	return []state.Kind{state.ServiceKind, state.ServiceEntryKind}
}

// A Service write brings the same cause to the routes that use it.
func (destinationPort) WriteKinds() []string {
	return []string{rules.KindVirtualService, rules.KindService}
}

func (r destinationPort) Check(in *rules.Input) []rules.Finding {
	if in.Change.Ref.Kind == rules.KindService {
		return in.ServiceWrite(r.ID(), paths.NoPort, rules.ByVirtualServices)
	}
	vs := in.VS
	if vs == nil {
		return nil
	}
	var out []rules.Finding
	seen := map[string]bool{}
	for _, g := range routeFailures(in, paths.NoPort) {
		action, held := g.Verdict()
		f := g.Failures[0].Failure
		seen[f.Field] = true
		finding := rules.Finding{Rule: r.ID(), Action: action, Preexisting: held, Key: f.Field, Subjects: g.Clients()}
		if f.Dest.Port != 0 {
			finding.Field = f.Field + ".port.number"
			finding.Message = fmt.Sprintf("port %d is not a port of %s (it exposes %s): those requests fail with 503 — use one of its ports (not the workloads' container ports)",
				f.Dest.Port, f.Backend(), ports(f.BackendPorts()))
		} else {
			finding.Field = f.Field + ".port"
			finding.Message = fmt.Sprintf("no destination port, so Istio uses the port called (%d) for %s, but %s exposes %d ports (%s) and not that one: those requests fail with 503 — set destination.port.number",
				f.Port, g.ClientText(), f.Backend(), len(f.BackendPorts()), ports(f.BackendPorts()))
		}
		if action == rules.Warn {
			finding.Message = "nothing reached that host before, so nothing breaks yet: " + finding.Message
		}
		out = append(out, finding)
	}
	vs.Destinations(func(field string, d state.Destination, _ []state.Destination, _ bool) bool {
		if seen[field] || d.Port == 0 {
			return true
		}
		svc := in.Routing.Hosts.Resolve(in.State, d.Host, vs.Namespace).Service
		if svc != nil && !slices.ContainsFunc(svc.Ports, func(p state.ServicePort) bool { return uint32(p.Port) == d.Port }) {
			out = append(out, rules.Finding{Rule: r.ID(), Action: rules.Warn, Field: field + ".port.number", Key: field,
				Message: fmt.Sprintf("port %d is not a port of Service %s/%s (it exposes %s); no client uses this route yet, but when one does those requests fail with 503 — use one of its ports",
					d.Port, svc.Namespace, svc.Name, ports(svc.Ports))})
		}
		return true
	})
	return out
}
