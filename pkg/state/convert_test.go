package state

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// A pod's proxy is a router (gateway, waypoint) or a sidecar by how
// pilot-agent runs it; labels stand in where the arguments are not known.
func TestRouterFollowsTheProxyRole(t *testing.T) {
	proxy := func(args ...string) []ContainerFields {
		return []ContainerFields{{Name: "app"}, {Name: ProxyContainerName, Args: args}}
	}
	for name, c := range map[string]struct {
		f    PodFields
		want bool
	}{
		"a gateway chart's pod runs proxy router":       {PodFields{Containers: proxy("proxy", "router", "--domain", "x")}, true},
		"a waypoint runs proxy waypoint":                {PodFields{Containers: proxy("proxy", "waypoint")}, true},
		"an injected sidecar runs proxy sidecar":        {PodFields{Containers: proxy("proxy", "sidecar"), Labels: map[string]string{"app": "api-gateway"}}, false},
		"an east-west gateway by its label":             {PodFields{Containers: proxy(), Labels: map[string]string{"istio": "eastwestgateway"}}, true},
		"a Gateway API deployment by its gateway label": {PodFields{Containers: proxy(), Labels: map[string]string{"gateway.networking.k8s.io/gateway-name": "public"}}, true},
		"a gateway label without a proxy is no router":  {PodFields{Containers: []ContainerFields{{Name: "envoy"}}, Labels: map[string]string{"gateway.networking.k8s.io/gateway-name": "eg"}}, false},
		"a sidecar whose arguments say nothing":         {PodFields{Containers: proxy()}, false},
	} {
		if got := c.f.Lean().Router; got != c.want {
			t.Errorf("%s: Router = %v, want %v", name, got, c.want)
		}
	}
}

// Only the proxy's own ISTIO_META_REQUESTED_NETWORK_VIEW marks a network
// view (gen-eastwest-gateway.sh sets it without --single-cluster).
func TestNetworkViewFromTheProxyEnvironment(t *testing.T) {
	view := []corev1.EnvVar{{Name: RequestedNetworkView, Value: "network1"}}
	pod := func(container string, env []corev1.EnvVar) *corev1.Pod {
		return &corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: container, Args: []string{"proxy", "router"}, Env: env}}}}
	}
	for name, c := range map[string]struct {
		p    *corev1.Pod
		want bool
	}{
		"a multi-network east-west gateway":            {pod(ProxyContainerName, view), true},
		"a single-cluster east-west gateway":           {pod(ProxyContainerName, nil), false},
		"an empty view asks for nothing":               {pod(ProxyContainerName, []corev1.EnvVar{{Name: RequestedNetworkView}}), false},
		"the variable on another container counts not": {pod("app", view), false},
	} {
		if got := FromPod(c.p).NetworkView; got != c.want {
			t.Errorf("%s: NetworkView = %v, want %v", name, got, c.want)
		}
	}
}
