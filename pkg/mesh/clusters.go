package mesh

import (
	"istio.io/api/label"

	"github.com/meshguard/meshguard/pkg/state"
)

// OtherClusters says why this mesh may span clusters meshguard cannot read,
// or returns nothing for a single-cluster mesh. In a multi-cluster mesh
// other clusters hold endpoints of the same Services (namespace sameness)
// and clients of this one, so "no Ready endpoint here" is no proof of an
// outage (Istio's multicluster install pages: a network label on the
// root namespace for multi-network meshes, and an east-west gateway for
// cross-network traffic; a multi-primary mesh on one network shows neither,
// which is why a platform team can declare it with the configuration's
// multiCluster). Evidence, first found:
//   - declared: the configuration says so;
//   - an east-west gateway: a router pod labelled istio=eastwestgateway;
//   - the root namespace labelled topology.istio.io/network.
func (r Routing) OtherClusters(s state.Snapshot, declared bool) string {
	if declared {
		return "the configuration declares other clusters (multiCluster)"
	}
	ew := ""
	for _, ns := range s.NamespacesWithGateways() {
		s.ForEachPod(ns, func(p *state.Pod) bool {
			if p.Router && !p.Finished() && p.Labels["istio"] == "eastwestgateway" {
				ew = "east-west gateway " + p.Namespace + "/" + p.Name
				return false
			}
			return true
		})
		if ew != "" {
			return ew
		}
	}
	if root := s.Namespace(r.root()); root != nil {
		if network := root.Labels[label.TopologyNetwork.Name]; network != "" {
			return "network " + network + " on " + r.root()
		}
	}
	return ""
}
