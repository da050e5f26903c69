package virtualservice

import (
	"fmt"
	"slices"

	"github.com/meshguard/meshguard/pkg/mesh"
	"github.com/meshguard/meshguard/pkg/rules"
	"github.com/meshguard/meshguard/pkg/state"
)

// destinationPort (MG304) denies a destination port the Service does not
// expose, and a missing port towards a multi-port Service where Istio cannot
// infer one: from a gateway, or towards another host than the one served.
type destinationPort struct{ vsRule }

func (destinationPort) ID() string { return "MG304" }

func (r destinationPort) Check(in *rules.Input) []rules.Finding {
	vs := in.VS
	if vs == nil {
		return nil
	}
	var served []string
	for _, h := range vs.Hosts {
		served = append(served, in.Routing.Hosts.FQDN(h, vs.Namespace))
	}
	var out []rules.Finding
	vs.Destinations(func(field string, d state.Destination, _ []state.Destination, _ bool) bool {
		res := in.Routing.Hosts.Resolve(in.State, d.Host, vs.Namespace)
		svc := res.Service
		if svc == nil {
			return true
		}
		switch {
		case d.Port != 0 && !slices.ContainsFunc(svc.Ports, func(p state.ServicePort) bool { return uint32(p.Port) == d.Port }):
			out = append(out, rules.Finding{Rule: r.ID(), Action: rules.Deny, Field: field + ".port.number", Key: field,
				Message: fmt.Sprintf("port %d is not a port of Service %s/%s (it exposes %s): those requests fail with 503 — use one of its ports (Service ports, not container ports)",
					d.Port, svc.Namespace, svc.Name, ports(svc))})
		case d.Port == 0 && len(svc.Ports) > 1 && (mesh.BoundToGateway(vs) || !slices.Contains(served, res.FQDN)):
			why := "the route is bound to a gateway"
			if !mesh.BoundToGateway(vs) {
				why = "it is not the host this VirtualService serves"
			}
			out = append(out, rules.Finding{Rule: r.ID(), Action: rules.Deny, Field: field + ".port", Key: field,
				Message: fmt.Sprintf("Service %s/%s exposes %d ports (%s) and %s, so Istio cannot pick one — set destination.port.number",
					svc.Namespace, svc.Name, len(svc.Ports), ports(svc), why)})
		}
		return true
	})
	return out
}
