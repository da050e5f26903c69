package virtualservice

import (
	"fmt"

	"github.com/meshguard/meshguard/pkg/mesh"
	"github.com/meshguard/meshguard/pkg/rules"
	"github.com/meshguard/meshguard/pkg/state"
)

// hostClaimedTwice (MG307) warns when two VirtualServices claim one host on
// one gateway: Istio merges them in an order nobody chose, or drops one. The
// sidecars' `mesh` gateway counts too, for VirtualServices whose namespaces
// see each other (exportTo).
type hostClaimedTwice struct{ vsRule }

func (hostClaimedTwice) ID() string { return "MG307" }

func (hostClaimedTwice) Reads() []state.Kind { return []state.Kind{state.VirtualServiceKind} }

func (r hostClaimedTwice) Check(in *rules.Input) []rules.Finding {
	vs := in.VS
	if vs == nil {
		return nil
	}
	var out []rules.Finding
	if state.OnMesh(vs) {
		out = append(out, r.onMesh(in, vs)...)
	}
	for _, g := range vs.Gateways {
		if g == "mesh" {
			continue
		}
		key := state.GatewayKey(g, vs.Namespace)
		for _, other := range in.State.VirtualServicesOnGateway(key) {
			if other.Namespace == vs.Namespace && other.Name == vs.Name {
				continue
			}
			if host := sharedHost(in, vs, other); host != "" {
				out = append(out, rules.Finding{Rule: r.ID(), Action: rules.Warn, Field: "spec.hosts", Key: key + ":" + other.Namespace + "/" + other.Name,
					Message: fmt.Sprintf("host %s is also claimed on gateway %s by VirtualService %s/%s; Istio merges them unpredictably", host, key, other.Namespace, other.Name)})
			}
		}
	}
	return out
}

func (r hostClaimedTwice) onMesh(in *rules.Input, vs *state.VirtualService) []rules.Finding {
	var out []rules.Finding
	seen := map[string]bool{}
	for _, h := range vs.Hosts {
		fqdn := in.Routing.Hosts.FQDN(h, vs.Namespace)
		for _, other := range in.State.VirtualServicesOnMesh(fqdn) {
			key := other.Namespace + "/" + other.Name
			if (other.Namespace == vs.Namespace && other.Name == vs.Name) || seen[key] ||
				!(mesh.Exported(other.ExportTo, other.Namespace, vs.Namespace) || mesh.Exported(vs.ExportTo, vs.Namespace, other.Namespace)) {
				continue
			}
			seen[key] = true
			out = append(out, rules.Finding{Rule: r.ID(), Action: rules.Warn, Field: "spec.hosts", Key: "mesh:" + key,
				Message: fmt.Sprintf("host %s is also claimed for sidecars (mesh) by VirtualService %s; Istio merges them unpredictably", h, key)})
		}
	}
	return out
}

func sharedHost(in *rules.Input, a, b *state.VirtualService) string {
	for _, ha := range a.Hosts {
		for _, hb := range b.Hosts {
			if mesh.HostsOverlap(in.Routing.Hosts.FQDN(ha, a.Namespace), in.Routing.Hosts.FQDN(hb, b.Namespace)) {
				return ha
			}
		}
	}
	return ""
}
