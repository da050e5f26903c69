package mesh_test

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/meshguard/meshguard/pkg/mesh"
	"github.com/meshguard/meshguard/pkg/state"
)

// The evidence follows samples/multicluster/gen-eastwest-gateway.sh, which
// marks a gateway multi-network (pod label, ISTIO_META_REQUESTED_NETWORK_VIEW)
// only without --single-cluster, and expose-services.yaml (AUTO_PASSTHROUGH)
// against expose-istiod.yaml (PASSTHROUGH of istiod's ports for VMs).
func TestOtherClusters(t *testing.T) {
	ew := func(name string, labels map[string]string, view bool) *state.Pod {
		l := map[string]string{"istio": "eastwestgateway", "app": "istio-eastwestgateway"}
		for k, v := range labels {
			l[k] = v
		}
		return &state.Pod{Namespace: "istio-system", Name: name, Labels: l, Sidecar: true, Router: true,
			NetworkView: view, Phase: corev1.PodRunning, Ready: true}
	}
	network := map[string]string{"topology.istio.io/network": "network1"}
	istiod := &state.Gateway{Namespace: "istio-system", Name: "istiod-gateway", Selector: map[string]string{"istio": "eastwestgateway"},
		Servers: []state.GatewayServer{{Hosts: []string{"*"}, Port: 15012, Protocol: "TLS", TLSMode: "PASSTHROUGH"}}}
	cross := &state.Gateway{Namespace: "istio-system", Name: "cross-network-gateway", Selector: map[string]string{"istio": "eastwestgateway"},
		Servers: []state.GatewayServer{{Hosts: []string{"*.local"}, Port: 15443, Protocol: "TLS", TLSMode: state.AutoPassthrough}}}
	cases := []struct {
		name     string
		root     *state.Namespace
		pods     []*state.Pod
		gateways []*state.Gateway
		declared bool
		want     string // a fragment of the reason; "" for one cluster
	}{
		{name: "a mesh with no east-west gateway is one cluster"},
		{name: "a single-cluster VM install's east-west gateway exposing istiod is no other cluster",
			pods: []*state.Pod{ew("ew-1", nil, false)}, gateways: []*state.Gateway{istiod}},
		{name: "a network label on the root namespace is",
			root: &state.Namespace{Name: "istio-system", Labels: network}, want: "network network1 on istio-system"},
		{name: "a gateway pod labelled with a network is",
			pods: []*state.Pod{ew("ew-1", network, false)}, want: "gateway istio-system/ew-1 on network network1"},
		{name: "the ambient east-west gateway's pods (gen-eastwest-gateway.sh --ambient, a Gateway API gateway) carry the network label",
			pods: []*state.Pod{{Namespace: "istio-system", Name: "istio-eastwestgateway-1", Sidecar: true, Router: true, Phase: corev1.PodRunning, Ready: true,
				Labels: map[string]string{"gateway.networking.k8s.io/gateway-name": "istio-eastwestgateway", "topology.istio.io/network": "network2"}}},
			want: "on network network2"},
		{name: "a gateway proxy asking for a network view is",
			pods: []*state.Pod{ew("ew-1", nil, true)}, want: "asking for a network view"},
		{name: "an AUTO_PASSTHROUGH server a gateway runs is",
			pods: []*state.Pod{ew("ew-1", nil, false)}, gateways: []*state.Gateway{istiod, cross}, want: "Gateway istio-system/cross-network-gateway"},
		{name: "an AUTO_PASSTHROUGH server no gateway runs is not",
			gateways: []*state.Gateway{cross}},
		{name: "a finished gateway pod with a network label is not",
			pods: []*state.Pod{func() *state.Pod { p := ew("ew-1", network, true); p.Phase = corev1.PodSucceeded; return p }()}},
		{name: "the configuration may declare other clusters", declared: true, want: "multiCluster"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			store := state.NewStore(mesh.Classify)
			if c.root == nil {
				c.root = &state.Namespace{Name: "istio-system"}
			}
			store.SetNamespace(c.root)
			for _, p := range c.pods {
				store.SetPod(p)
			}
			for _, gw := range c.gateways {
				store.SetGateway(gw)
			}
			_ = store.View(func(s state.Snapshot) error {
				got := mesh.Routing{}.OtherClusters(s, c.declared)
				if c.want == "" && got != "" || !strings.Contains(got, c.want) {
					t.Errorf("OtherClusters = %q, want %q", got, c.want)
				}
				return nil
			})
		})
	}
}
