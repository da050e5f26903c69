package judge

import (
	"fmt"
	"runtime/debug"
	"sort"
	"strings"

	cluster "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpoint "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listener "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	route "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	corev1 "k8s.io/api/core/v1"

	"istio.io/istio/pilot/pkg/model"
	"istio.io/istio/pilot/pkg/simulation"
	"istio.io/istio/pilot/test/xds"
	"istio.io/istio/pilot/test/xdstest"
	"istio.io/istio/pkg/config/mesh"
	istiolog "istio.io/istio/pkg/log"
	"istio.io/istio/pkg/test"
)

// Quiet turns istiod's logging off (the CLI and the tests read
// the verdicts, not the control plane's chatter).
func Quiet() {
	for _, s := range istiolog.Scopes() {
		s.SetOutputLevel(istiolog.NoneLevel)
	}
}

// withIstiod boots istiod's discovery server, in process and with no
// cluster, on the world and runs fn against it; everything is torn down
// when fn returns. A fresh server per state: updating a running one races
// with its pushes.
func withIstiod(w *World, fn func(s *xds.FakeDiscoveryServer)) (err error) {
	m := mesh.DefaultMeshConfig() // enableAutoMtls, rootNamespace istio-system: meshguard's defaults
	werr := test.Wrap(func(t test.Failer) {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("istiod harness panicked: %v\n%s", r, debug.Stack())
			}
		}()
		s := xds.NewFakeDiscoveryServer(t, xds.FakeOptions{
			Configs: w.Configs, KubernetesObjects: w.KubeObjects(), MeshConfig: m,
		})
		fn(s)
	})
	if err == nil && werr != nil {
		err = fmt.Errorf("istiod harness: %w", werr)
	}
	return err
}

// proxyConfig is what istiod generated for one proxy.
type proxyConfig struct {
	sim       *simulation.Simulation
	clusters  map[string]*cluster.Cluster
	endpoints map[string]*endpoint.ClusterLoadAssignment
	routes    map[string]*route.RouteConfiguration
}

func generate(s *xds.FakeDiscoveryServer, p *model.Proxy) *proxyConfig {
	p = s.SetupProxy(p)
	l := s.Listeners(p)
	sim := &simulation.Simulation{Listeners: l, Clusters: s.Clusters(p), Routes: s.RoutesFromListeners(p, l)}
	pc := &proxyConfig{sim: sim, clusters: xdstest.ExtractClusters(sim.Clusters),
		routes: xdstest.ExtractRouteConfigurations(sim.Routes), endpoints: map[string]*endpoint.ClusterLoadAssignment{}}
	for _, cla := range s.Endpoints(p) {
		pc.endpoints[cla.ClusterName] = cla
	}
	return pc
}

// proxyFor describes a pod to istiod as its proxy would at bootstrap.
func proxyFor(p *corev1.Pod, router bool) *model.Proxy {
	t := model.SidecarProxy
	if router {
		t = model.Router
	}
	labels := map[string]string{}
	for k, v := range p.Labels {
		labels[k] = v
	}
	return &model.Proxy{
		Type: t, ID: p.Name + "." + p.Namespace, IPAddresses: []string{p.Status.PodIP}, Labels: labels,
		ConfigNamespace: p.Namespace,
		Metadata:        &model.NodeMetadata{Namespace: p.Namespace, Labels: labels, ClusterID: "Kubernetes"},
	}
}

// listenerChain finds the filter chain a simulation matched.
func listenerChain(ls []*listener.Listener, l, fc string) *listener.FilterChain {
	for _, x := range ls {
		if x.Name != l {
			continue
		}
		for _, c := range x.FilterChains {
			if c.Name == fc {
				return c
			}
		}
		if x.DefaultFilterChain != nil && x.DefaultFilterChain.Name == fc {
			return x.DefaultFilterChain
		}
	}
	return nil
}

func virtualHost(rc *route.RouteConfiguration, name string) *route.VirtualHost {
	if rc == nil {
		return nil
	}
	for _, vh := range rc.VirtualHosts {
		if vh.Name == name {
			return vh
		}
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// labelKey is a stable rendering of a label set.
func labelKey(l map[string]string) string {
	var b strings.Builder
	for _, k := range sortedKeys(l) {
		b.WriteString(k + "=" + l[k] + ",")
	}
	return b.String()
}
