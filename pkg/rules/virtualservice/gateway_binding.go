package virtualservice

import (
	"fmt"
	"strings"

	"github.com/meshguard/meshguard/pkg/mesh"
	"github.com/meshguard/meshguard/pkg/rules"
	"github.com/meshguard/meshguard/pkg/state"
)

// gatewayBinding (MG305) denies a binding to a Gateway that does not exist,
// or whose servers accept none of the VirtualService's hosts. A reference may
// name an Istio Gateway or a Gateway API Gateway (gateway.networking.k8s.io):
// it exists when either does, and a Gateway API listener without hostname
// accepts any host.
type gatewayBinding struct{ vsRule }

func (gatewayBinding) ID() string { return "MG305" }

func (gatewayBinding) Reads() []state.Kind {
	return []state.Kind{state.KubeGatewayKind, state.GatewayKind}
}

func (r gatewayBinding) Check(in *rules.Input) []rules.Finding {
	vs := in.VS
	if vs == nil {
		return nil
	}
	var out []rules.Finding
	for i, ref := range vs.Gateways {
		if ref == "mesh" {
			continue
		}
		ns, name := mesh.GatewayRef(ref, vs.Namespace)
		field := fmt.Sprintf("spec.gateways[%d]", i)
		gw := in.State.Gateway(ns, name)
		if gw == nil {
			gw = in.State.KubeGateway(ns, name)
		}
		if gw == nil {
			out = append(out, rules.Finding{Rule: r.ID(), Action: rules.Deny, Field: field, Key: ns + "/" + name,
				Missing: []state.ObjectRef{{Group: state.GroupNetworking, Kind: "Gateway", Namespace: ns, Name: name},
					{Group: state.GroupGatewayAPI, Kind: "Gateway", Namespace: ns, Name: name}},
				Message: fmt.Sprintf("Gateway %s/%s does not exist (neither an Istio nor a Gateway API one): this VirtualService is bound to nothing and %s get no route — create the Gateway first, or fix the reference (a bare name means the VirtualService's namespace)",
					ns, name, strings.Join(vs.Hosts, ", "))})
			continue
		}
		served := false
		for _, h := range vs.Hosts {
			served = served || mesh.GatewayServesHost(gw, h, vs.Namespace)
		}
		if !served {
			var hosts []string
			for _, s := range gw.Servers {
				hosts = append(hosts, s.Hosts...)
			}
			out = append(out, rules.Finding{Rule: r.ID(), Action: rules.Deny, Field: "spec.hosts", Key: ns + "/" + name + ":hosts",
				Message: fmt.Sprintf("none of the hosts %s matches a server of Gateway %s/%s (%s): its routes are never used — add the host to the Gateway, or fix spec.hosts",
					strings.Join(vs.Hosts, ", "), ns, name, strings.Join(hosts, ", "))})
		}
	}
	return out
}
