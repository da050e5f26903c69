package mesh

import (
	"istio.io/api/label"

	"github.com/meshguard/meshguard/pkg/state"
)

// OtherClusters says why this mesh may span clusters meshguard cannot read,
// or returns nothing for a single-cluster mesh. In a multi-cluster mesh
// other clusters hold endpoints of the same Services (namespace sameness)
// and clients of this one, so "no Ready endpoint here" is no proof of an
// outage.
//
// An east-west gateway alone is no such evidence: Istio's VM install
// (istio.io docs/setup/install/virtual-machine, single-network tab) runs
// samples/multicluster/gen-eastwest-gateway.sh --single-cluster and applies
// only expose-istiod.yaml (PASSTHROUGH of istiod's ports to VMs), in a mesh of
// one cluster. What the script adds only without --single-cluster, and what
// the multi-network pages apply, is the evidence (first found):
//   - declared: the configuration says so (multiCluster), the only sign of a
//     multi-primary mesh on one network, whose remote secrets (labelled
//     istio/multiCluster=true) meshguard does not read: Secrets are read one
//     by name, never listed;
//   - the root namespace labelled topology.istio.io/network (the multi-network
//     install pages, and the VM page's multi-network tab);
//   - a live router pod labelled topology.istio.io/network, or whose proxy
//     asks for a network view (ISTIO_META_REQUESTED_NETWORK_VIEW, see
//     pilot/pkg/model/proxy_view.go): gen-eastwest-gateway.sh --network sets
//     both, --single-cluster neither; the ambient variant's Gateway API
//     gateway carries the label onto its pods;
//   - a Gateway with an AUTO_PASSTHROUGH server that a live router pod runs
//     (samples/multicluster/expose-services.yaml, "*.local"): it forwards
//     Istio mTLS from other networks by SNI. Without a pod to run it (left
//     from an uninstalled gateway), it carries nothing.
func (r Routing) OtherClusters(s state.Snapshot, declared bool) string {
	if declared {
		return "the configuration declares other clusters (multiCluster)"
	}
	if root := s.Namespace(r.root()); root != nil {
		if network := root.Labels[label.TopologyNetwork.Name]; network != "" {
			return "network " + network + " on " + r.root()
		}
	}
	why := ""
	for _, ns := range s.NamespacesWithGateways() {
		s.ForEachPod(ns, func(p *state.Pod) bool {
			switch {
			case !p.Router || p.Finished():
			case p.Labels[label.TopologyNetwork.Name] != "":
				why = "gateway " + p.Namespace + "/" + p.Name + " on network " + p.Labels[label.TopologyNetwork.Name]
			case p.NetworkView:
				why = "gateway " + p.Namespace + "/" + p.Name + " asking for a network view (" + state.RequestedNetworkView + ")"
			}
			return why == ""
		})
		if why != "" {
			return why
		}
	}
	if gws := CrossNetworkGateways(s); len(gws) > 0 {
		return "Gateway " + gws[0].Namespace + "/" + gws[0].Name + " passing mTLS from other networks through (AUTO_PASSTHROUGH)"
	}
	return ""
}

// CrossNetworkGateways lists the Istio Gateways with an AUTO_PASSTHROUGH
// server that some live router pod runs: east-west gateways exposing this
// cluster's Services to other networks.
func CrossNetworkGateways(s state.Snapshot) []*state.Gateway {
	var out []*state.Gateway
	for _, gw := range s.PassthroughGateways() {
		if len(gw.Selector) > 0 && runsOnRouter(s, gw) {
			out = append(out, gw)
		}
	}
	return out
}

// runsOnRouter reports whether a live router pod carries the labels gw selects.
func runsOnRouter(s state.Snapshot, gw *state.Gateway) bool {
	found := false
	for _, ns := range s.NamespacesWithGateways() {
		s.ForEachPod(ns, func(p *state.Pod) bool {
			found = p.Router && !p.Finished() && state.SelectorMatches(gw.Selector, p.Labels)
			return !found
		})
		if found {
			return true
		}
	}
	return false
}
