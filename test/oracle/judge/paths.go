package judge

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	cluster "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	core "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpoint "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	route "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	corev1 "k8s.io/api/core/v1"

	"google.golang.org/protobuf/proto"
	"istio.io/api/annotation"
	"istio.io/api/label"
	"istio.io/istio/pilot/pkg/simulation"
	"istio.io/istio/pilot/test/xds"
	"istio.io/istio/pilot/test/xdstest"
)

// Client kinds.
const (
	Sidecar   = "sidecar"
	Gateway   = "gateway"
	Plaintext = "plaintext" // a pod without a proxy: it calls Services' cluster IPs in plaintext
	// External callers reach a LoadBalancer, NodePort or externalIPs
	// Service from outside the cluster (clients, load balancers' health
	// checks), in plaintext, straight to the selected pods.
	External = "external"
)

// Failure causes, the families meshguard's rules explain.
const (
	CauseNoCluster   = "no-cluster"         // the route's cluster is not in the client's CDS (503 NC)
	CauseNoEndpoints = "no-ready-endpoints" // the cluster has no healthy endpoint (503 UH)
	CauseMTLSToPlain = "mtls-to-no-sidecar" // the client sends Istio mTLS, the server has no proxy
	CausePlainStrict = "plaintext-refused"  // the client sends plaintext, the server's proxy demands mTLS
	CauseNoRoute     = "no-route"           // no listener, virtual host or route for the request
	// CauseBlackhole: the client's SidecarScope imports no such host and its
	// outboundTrafficPolicy is REGISTRY_ONLY, so the call takes the
	// "block_all" virtual host (502) or the BlackHoleCluster
	// (pilot/pkg/networking/core/httproute.go generateVirtualHostForCatchAll,
	// listener_builder.go buildOutboundCatchAllNetworkFiltersOnly).
	CauseBlackhole = "blackhole"
)

// Path is what one class of client gets when it calls one host on one port.
type Path struct {
	ClientKind      string `json:"clientKind"`
	ClientNamespace string `json:"clientNamespace"`
	// Client names the class: the labels of a sidecar group, a gateway pod,
	// or accidental/deliberate for plaintext callers.
	Client string `json:"client"`
	// Deliberate: plaintext callers kept out of the mesh on purpose.
	Deliberate bool   `json:"deliberate,omitempty"`
	Host       string `json:"host"`
	Port       uint32 `json:"port"`
	// FailShare is the worst share (percent) of one request class's traffic
	// that fails; 0 when the path works.
	FailShare int `json:"failShare"`
	// Routes holds the failing share (percent, 0: it works) of each route of
	// the path's virtual host, by the route's name and match: a write that
	// breaks a second route of a path whose first one already fails is
	// broken too (meshguard's paths.Diff compares routes the same way).
	Routes map[string]int `json:"routes,omitempty"`
	Causes []string       `json:"causes,omitempty"`
	Why    []string       `json:"why,omitempty"`
	// Destinations are the hosts whose clusters the path's routes send to.
	Destinations []string `json:"destinations,omitempty"`
	// Passthrough: the client's proxy forwards the call to the
	// PassthroughCluster (its SidecarScope imports no such host and the
	// outbound policy is ALLOW_ANY): it leaves Istio's routing, in plaintext.
	Passthrough bool `json:"passthrough,omitempty"`
	// Notes are what is wrong without failing a request: a mirror to a
	// cluster the proxy lacks is skipped by Envoy (ShadowWriterImpl checks
	// the cluster exists and drops the shadow otherwise).
	Notes []string `json:"notes,omitempty"`
}

// Key identifies the path across states.
func (p Path) Key() string {
	return fmt.Sprintf("%s %s/%s -> %s:%d", p.ClientKind, p.ClientNamespace, p.Client, p.Host, p.Port)
}

// Works reports whether every request class on the path succeeds.
func (p Path) Works() bool { return p.FailShare == 0 }

// paths computes every path of the world.
func paths(w *World, s *xds.FakeDiscoveryServer) []Path {
	a := &analysis{w: w, s: s, inbound: map[string]*inboundResult{}}
	var out []Path
	out = append(out, a.sidecarPaths()...)
	out = append(out, a.gatewayPaths()...)
	out = append(out, a.plaintextPaths()...)
	out = append(out, a.externalPaths()...)
	sort.Slice(out, func(i, j int) bool { return out[i].Key() < out[j].Key() })
	return out
}

type analysis struct {
	w       *World
	s       *xds.FakeDiscoveryServer
	inbound map[string]*inboundResult // by pod IP
	// passthrough judges the call being traced when the client's proxy
	// sends it to the PassthroughCluster (nil: not a Service call).
	passthrough func(p *Path) float64
}

func fqdn(s *corev1.Service) string { return s.Name + "." + s.Namespace + ".svc.cluster.local" }

// httpPort reports whether Istio treats a Service port as HTTP (its name
// prefix or appProtocol; pkg/config/protocol).
func httpPort(sp corev1.ServicePort) bool {
	p := strings.ToLower(sp.Name)
	if sp.AppProtocol != nil {
		p = strings.ToLower(*sp.AppProtocol)
	}
	for _, pre := range []string{"http", "http2", "grpc", "grpc-web"} {
		if p == pre || strings.HasPrefix(p, pre+"-") {
			return true
		}
	}
	// A port without a known protocol is sniffed: HTTP requests take the
	// HTTP routes (pkg/config/protocol: Unsupported).
	for _, pre := range []string{"tcp", "tls", "https", "mongo", "mysql", "redis", "udp"} {
		if p == pre || strings.HasPrefix(p, pre+"-") {
			return false
		}
	}
	return true
}

// sidecarGroups are the meshed, live, non-gateway pods grouped by namespace
// and labels: pods alike get the same configuration.
func (a *analysis) sidecarGroups() []*corev1.Pod {
	seen := map[string]bool{}
	var out []*corev1.Pod
	for _, p := range a.w.Pods {
		if !HasSidecar(p) || Finished(p) || p.Status.PodIP == "" || a.w.isGatewayPod(p) || excludedNamespaces[p.Namespace] {
			continue
		}
		k := p.Namespace + "|" + labelKey(p.Labels)
		if !seen[k] {
			seen[k] = true
			out = append(out, p)
		}
	}
	return out
}

func (a *analysis) sidecarPaths() []Path {
	var out []Path
	for _, client := range a.sidecarGroups() {
		pc := generate(a.s, proxyFor(client, false))
		for _, svc := range a.w.Services {
			if svc.Spec.ClusterIP == corev1.ClusterIPNone {
				continue
			}
			for _, sp := range svc.Spec.Ports {
				p := Path{ClientKind: Sidecar, ClientNamespace: client.Namespace, Client: clientName(client), Host: fqdn(svc), Port: uint32(sp.Port)}
				call := simulation.Call{Address: svc.Spec.ClusterIP, Port: int(sp.Port), Protocol: simulation.TCP, CallMode: simulation.CallModeOutbound}
				if httpPort(sp) {
					call.Protocol, call.HostHeader = simulation.HTTP, fqdn(svc)
				}
				a.passthrough = func(p *Path) float64 { return a.passthroughShare(svc, sp, p) }
				a.outbound(pc, call, &p)
				a.passthrough = nil
				out = append(out, p)
			}
		}
	}
	return out
}

func clientName(p *corev1.Pod) string {
	if app := p.Labels["app"]; app != "" {
		if v := p.Labels["version"]; v != "" {
			return app + "/" + v
		}
		return app
	}
	return p.Name
}

// outbound follows one call through the client's listeners, routes and clusters.
func (a *analysis) outbound(pc *proxyConfig, call simulation.Call, p *Path) {
	res, err := runSim(pc.sim, call)
	if err == nil {
		err = res.Error
	}
	if err != nil {
		p.fail(100, CauseNoRoute, fmt.Sprintf("%s: %v", p.Host, err))
		return
	}
	if res.RouteConfigMatched == "" && (res.ClusterMatched == "BlackHoleCluster" || res.ClusterMatched == "PassthroughCluster") {
		// No outbound listener for the port: the virtual outbound listener's
		// catch-all chain (buildOutboundCatchAllNetworkFiltersOnly) takes it,
		// HTTP or not.
		p.failAtLeast(a.clusters(pc, []weighted{{res.ClusterMatched, 1}}, p))
		return
	}
	if call.Protocol == simulation.HTTP {
		vh := virtualHost(pc.routes[res.RouteConfigMatched], res.VirtualHostMatched)
		if vh == nil {
			p.fail(100, CauseNoRoute, "no virtual host "+res.VirtualHostMatched)
			return
		}
		a.routes(pc, vh, p)
		return
	}
	fc := listenerChain(pc.sim.Listeners, res.ListenerMatched, res.FilterChainMatched)
	tcp := xdstest.ExtractTCPProxy(nil, fc)
	if tcp == nil {
		p.fail(100, CauseNoRoute, "no TCP proxy on "+res.ListenerMatched)
		return
	}
	if wc := tcp.GetWeightedClusters(); wc != nil {
		var ws []weighted
		for _, c := range wc.GetClusters() {
			ws = append(ws, weighted{c.GetName(), c.GetWeight()})
		}
		p.failAtLeast(a.clusters(pc, ws, p))
		return
	}
	p.failAtLeast(a.clusters(pc, []weighted{{tcp.GetCluster(), 1}}, p))
}

// runSim runs Istio's simulator; a fault inside it is an error, not a crash.
func runSim(sim *simulation.Simulation, call simulation.Call) (res simulation.Result, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("simulation: %v", r)
		}
	}()
	return sim.Run(call), nil
}

type weighted struct {
	name   string
	weight uint32
}

// routes judges every route of a virtual host: each is a class of requests.
func (a *analysis) routes(pc *proxyConfig, vh *route.VirtualHost, p *Path) {
	seen := map[string]int{}
	if vh.GetName() == "block_all" {
		// REGISTRY_ONLY's catch-all virtual host answers 502 itself
		// (httproute.go generateVirtualHostForCatchAll, util.BlackHole).
		p.fail(100, CauseBlackhole, "the client's Sidecar imports no "+p.Host+" and its outbound policy is REGISTRY_ONLY: block_all answers 502")
		return
	}
	for _, r := range vh.Routes {
		ra, ok := r.GetAction().(*route.Route_Route)
		if !ok {
			continue // redirect or direct response: answered by the proxy itself
		}
		var ws []weighted
		if wc := ra.Route.GetWeightedClusters(); wc != nil {
			for _, c := range wc.GetClusters() {
				ws = append(ws, weighted{c.GetName(), c.GetWeight().GetValue()})
			}
		} else {
			ws = []weighted{{ra.Route.GetCluster(), 1}}
		}
		share := a.clusters(pc, ws, p)
		p.failAtLeast(share)
		match, _ := proto.MarshalOptions{Deterministic: true}.Marshal(r.GetMatch())
		key := r.GetName() + "|" + string(match)
		if p.Routes == nil {
			p.Routes = map[string]int{}
		}
		p.Routes[fmt.Sprintf("%s#%d", key, seen[key])] = share
		seen[key]++
		for _, m := range ra.Route.GetRequestMirrorPolicies() {
			if pc.clusters[m.GetCluster()] == nil && len(p.Notes) < 4 {
				p.Notes = append(p.Notes, "mirror to missing cluster "+m.GetCluster()+" is skipped")
			}
		}
	}
}

// clusters returns the share (percent) of traffic to ws that fails.
func (a *analysis) clusters(pc *proxyConfig, ws []weighted, p *Path) int {
	var total, failed float64
	for _, w := range ws {
		total += float64(w.weight)
	}
	if total == 0 {
		return 0
	}
	for _, w := range ws {
		if w.weight == 0 {
			continue
		}
		share := a.cluster(pc, w.name, p)
		failed += float64(w.weight) * share
	}
	pct := int(100*failed/total + 0.5)
	if failed > 0 && pct == 0 {
		pct = 1
	}
	return pct
}

// cluster returns the fraction of one cluster's requests that fail.
func (a *analysis) cluster(pc *proxyConfig, name string, p *Path) float64 {
	switch name {
	case "BlackHoleCluster":
		// Traffic sent there goes nowhere (util.BlackHoleCluster: a STATIC
		// cluster without endpoints); a sidecar's catch-all chain under
		// REGISTRY_ONLY sends calls to hosts its SidecarScope lacks there.
		p.cause(CauseBlackhole, "the client's Sidecar imports no "+p.Host+" on this port and its outbound policy is REGISTRY_ONLY: BlackHoleCluster")
		return 1
	case "PassthroughCluster":
		// ALLOW_ANY: Envoy forwards to the original destination, the
		// Service's cluster IP, in plaintext and past every VirtualService
		// and DestinationRule (an ORIGINAL_DST cluster without transport
		// socket, cluster_builder.go buildDefaultPassthroughCluster);
		// kube-proxy picks any Ready endpoint.
		if a.passthrough != nil {
			return a.passthrough(p)
		}
		return 0
	case "InboundPassthroughCluster":
		return 0 // not a Service's traffic
	}
	if parts := strings.Split(name, "|"); len(parts) == 4 {
		p.dest(parts[3])
	}
	c := pc.clusters[name]
	if c == nil {
		p.cause(CauseNoCluster, "no cluster "+name)
		return 1
	}
	if c.GetType() != cluster.Cluster_EDS && c.GetClusterDiscoveryType() != nil {
		return 0 // ORIGINAL_DST, STRICT_DNS, ...: not judged from endpoints
	}
	var healthy []*endpoint.LbEndpoint
	for _, l := range pc.endpoints[name].GetEndpoints() {
		for _, e := range l.GetLbEndpoints() {
			if hs := e.GetHealthStatus(); hs == core.HealthStatus_HEALTHY || hs == core.HealthStatus_UNKNOWN {
				healthy = append(healthy, e)
			}
		}
	}
	if len(healthy) == 0 {
		p.cause(CauseNoEndpoints, "no healthy endpoint in "+name)
		return 1
	}
	bad := 0
	for _, e := range healthy {
		sa := e.GetEndpoint().GetAddress().GetSocketAddress()
		if cause, why := a.accepts(sa.GetAddress(), sa.GetPortValue(), clientTransport(c, e), a.httpCluster(name), name); cause != "" {
			p.cause(cause, why)
			bad++
		}
	}
	return float64(bad) / float64(len(healthy))
}

// Transports a client can send.
const (
	sendMTLS      = "mtls"
	sendPlaintext = "plaintext"
	sendTLS       = "tls" // SIMPLE or MUTUAL towards the application itself
)

// clientTransport is what an Envoy client sends to one endpoint of c: the
// transport socket, or with auto mTLS the socket matching the endpoint's
// tlsMode metadata (pilot/pkg/networking/core/cluster_tls.go).
func clientTransport(c *cluster.Cluster, e *endpoint.LbEndpoint) string {
	ts := c.GetTransportSocket()
	if m := c.GetTransportSocketMatches(); len(m) > 0 {
		md := e.GetMetadata().GetFilterMetadata()["envoy.transport_socket_match"].GetFields()
		ts = nil
		for _, x := range m {
			ok := true
			for k, v := range x.GetMatch().GetFields() {
				if md[k].GetStringValue() != v.GetStringValue() {
					ok = false
				}
			}
			if ok {
				ts = x.GetTransportSocket()
				break
			}
		}
	}
	if ts == nil || ts.GetName() == "envoy.transport_sockets.raw_buffer" {
		return sendPlaintext
	}
	ctx := &tlsv3.UpstreamTlsContext{}
	if err := ts.GetTypedConfig().UnmarshalTo(ctx); err != nil {
		return sendTLS
	}
	for _, sds := range ctx.GetCommonTlsContext().GetTlsCertificateSdsSecretConfigs() {
		if sds.GetName() == "default" {
			return sendMTLS
		}
	}
	return sendTLS
}

// excludedInbound: the pod's inbound port is left out of interception
// (traffic.sidecar.istio.io/excludeInboundPorts, or not in an explicit
// includeInboundPorts list); istio-cni or the init container then never
// redirects it to Envoy.
func excludedInbound(pod *corev1.Pod, port uint32) bool {
	in := func(list string) bool {
		for _, f := range strings.Split(list, ",") {
			if strings.TrimSpace(f) == strconv.Itoa(int(port)) {
				return true
			}
		}
		return false
	}
	if ex, ok := pod.Annotations[annotation.SidecarTrafficExcludeInboundPorts.Name]; ok && in(ex) {
		return true
	}
	if inc, ok := pod.Annotations[annotation.SidecarTrafficIncludeInboundPorts.Name]; ok && inc != "*" && !in(inc) {
		return true
	}
	return false
}

// httpCluster reports whether an outbound cluster ("outbound|port|subset|host")
// carries HTTP, by its Service port's protocol.
func (a *analysis) httpCluster(name string) bool {
	parts := strings.Split(name, "|")
	if len(parts) != 4 {
		return false
	}
	port, _ := strconv.Atoi(parts[1])
	for _, s := range a.w.Services {
		if fqdn(s) != parts[3] {
			continue
		}
		for _, sp := range s.Spec.Ports {
			if int(sp.Port) == port {
				return httpPort(sp)
			}
		}
	}
	return false
}

type inboundResult struct {
	accepts map[string]error // by "port/transport"
	pc      *proxyConfig
}

// accepts says whether the pod at ip takes send on port, and if not why.
func (a *analysis) accepts(ip string, port uint32, send string, http bool, via string) (cause, why string) {
	pod := a.w.podByIP[ip]
	if pod == nil {
		if we, ok := a.w.proxyless[ip]; ok && send == sendMTLS {
			return CauseMTLSToPlain, fmt.Sprintf("%s sends Istio mTLS to WorkloadEntry %s, which runs no proxy (tlsMode disabled)", via, we)
		}
		return "", "" // not a pod of the state (a WorkloadEntry with a proxy: not judged, see BuildWorld; another cluster)
	}
	ref := pod.Namespace + "/" + pod.Name
	if !HasSidecar(pod) {
		if send == sendMTLS {
			return CauseMTLSToPlain, fmt.Sprintf("%s sends Istio mTLS to %s, which has no sidecar", via, ref)
		}
		return "", ""
	}
	if send == sendTLS {
		return "", "" // the application's own TLS through the sidecar: not judged
	}
	if excludedInbound(pod, port) {
		// iptables sends the port straight to the application, around Envoy.
		if send == sendMTLS {
			return CauseMTLSToPlain, fmt.Sprintf("%s sends Istio mTLS to %s:%d, which its sidecar does not intercept", via, ref, port)
		}
		return "", ""
	}
	if err := a.inboundCall(pod, port, send, http); err != nil {
		if send == sendPlaintext {
			return CausePlainStrict, fmt.Sprintf("%s:%d refuses plaintext (%v)", ref, port, err)
		}
		return CauseNoRoute, fmt.Sprintf("%s:%d refuses mTLS (%v)", ref, port, err)
	}
	return "", ""
}

func (a *analysis) inboundCall(pod *corev1.Pod, port uint32, send string, http bool) error {
	r := a.inbound[pod.Status.PodIP]
	if r == nil {
		r = &inboundResult{accepts: map[string]error{}, pc: generate(a.s, proxyFor(pod, false))}
		a.inbound[pod.Status.PodIP] = r
	}
	k := strconv.Itoa(int(port)) + "/" + send + "/" + strconv.FormatBool(http)
	if err, ok := r.accepts[k]; ok {
		return err
	}
	call := simulation.Call{Address: pod.Status.PodIP, Port: int(port), Protocol: simulation.TCP, CallMode: simulation.CallModeInbound, TLS: simulation.Plaintext}
	if http {
		call.Protocol = simulation.HTTP
	}
	if send == sendMTLS {
		call.TLS = simulation.MTLS
	}
	res, err := runSim(r.pc.sim, call)
	if err == nil && res.Error != nil {
		err = res.Error
	}
	r.accepts[k] = err
	return err
}

// isGatewayPod: a pod whose proxy runs as a router (pilot-agent's "proxy
// router" or "proxy waypoint", as Istio's gateway charts, its gateway
// injection template and its Gateway API Deployments start it), one labelled
// as Istio's ingress, egress or east-west gateway or as a Gateway API
// gateway's pod, or one with a proxy that an Istio Gateway selects: it runs
// as a router, not a sidecar, whether or not a Gateway selects it yet.
func (w *World) isGatewayPod(p *corev1.Pod) bool {
	if !HasSidecar(p) {
		return false
	}
	for _, c := range p.Spec.Containers {
		for i, a := range c.Args {
			if c.Name == "istio-proxy" && a == "proxy" && i+1 < len(c.Args) && (c.Args[i+1] == "router" || c.Args[i+1] == "waypoint") {
				return true
			}
		}
	}
	switch p.Labels["istio"] {
	case "ingressgateway", "egressgateway", "eastwestgateway":
		return true
	}
	if _, ok := p.Labels["gateway.networking.k8s.io/gateway-name"]; ok {
		return true
	}
	for _, c := range w.Configs {
		if c.GroupVersionKind.Kind != "Gateway" || c.GroupVersionKind.Group != "networking.istio.io" {
			continue
		}
		if sel := gatewaySelector(c.Spec); len(sel) > 0 && matches(sel, p.Labels) {
			return true
		}
	}
	return false
}

func (a *analysis) gatewayPaths() []Path {
	var out []Path
	for _, pod := range a.w.Pods {
		if Finished(pod) || pod.Status.PodIP == "" || !a.w.isGatewayPod(pod) {
			continue
		}
		pc := generate(a.s, proxyFor(pod, true))
		for _, rcName := range sortedKeys(pc.routes) {
			rc := pc.routes[rcName]
			port := routePort(rcName)
			for _, vh := range rc.VirtualHosts {
				if vh.Name == "blackhole:"+strconv.Itoa(int(port)) || strings.HasPrefix(vh.Name, "blackhole") {
					continue
				}
				host, _, _ := strings.Cut(vh.Name, ":")
				p := Path{ClientKind: Gateway, ClientNamespace: pod.Namespace, Client: pod.Name, Host: host, Port: port}
				a.routes(pc, vh, &p)
				out = append(out, p)
			}
		}
	}
	return out
}

// routePort reads the port of a gateway route configuration ("http.80",
// "https.443.name.gw.ns").
func routePort(name string) uint32 {
	parts := strings.Split(name, ".")
	if len(parts) > 1 {
		if n, err := strconv.Atoi(parts[1]); err == nil {
			return uint32(n)
		}
	}
	return 0
}

// plaintextPaths: pods without a proxy call a Service's cluster IP, and
// kube-proxy sends them to any Ready endpoint. They are grouped per
// namespace into accidental and deliberate outsiders (meshguard's classes).
func (a *analysis) plaintextPaths() []Path {
	type class struct {
		ns         string
		deliberate bool
	}
	seen := map[class]bool{}
	var classes []class
	for _, p := range a.w.Pods {
		if HasSidecar(p) || Finished(p) || excludedNamespaces[p.Namespace] || istioComponent(p) {
			continue
		}
		c := class{p.Namespace, a.w.deliberate(p)}
		if !seen[c] {
			seen[c] = true
			classes = append(classes, c)
		}
	}
	var out []Path
	for _, c := range classes {
		name := "accidental"
		if c.deliberate {
			name = "deliberate"
		}
		for _, svc := range a.w.Services {
			servers := a.w.Selected(svc)
			for _, sp := range svc.Spec.Ports {
				p := Path{ClientKind: Plaintext, ClientNamespace: c.ns, Client: name, Deliberate: c.deliberate, Host: fqdn(svc), Port: uint32(sp.Port),
					Destinations: []string{fqdn(svc)}}
				a.direct(servers, sp, &p)
				out = append(out, p)
			}
		}
	}
	return out
}

// passthroughShare is the failing fraction of a call a sidecar forwards in
// plaintext to a Service's cluster IP (PassthroughCluster): kube-proxy sends
// it to any Ready server pod, whose inbound listener judges plaintext.
func (a *analysis) passthroughShare(svc *corev1.Service, sp corev1.ServicePort, p *Path) float64 {
	p.dest(fqdn(svc))
	p.Passthrough = true
	if len(svc.Spec.Selector) == 0 {
		return 0 // endpoints the state gives by hand: not traced past kube-proxy
	}
	ready, bad := a.plaintextTo(a.w.Selected(svc), sp, p, "PassthroughCluster")
	if ready == 0 {
		p.cause(CauseNoEndpoints, "PassthroughCluster: no Ready server pod behind "+fqdn(svc))
		return 1
	}
	return float64(bad) / float64(ready)
}

// plaintextTo sends plaintext (from via) to every Ready server pod of a
// Service port and counts those that answer and those that refuse.
func (a *analysis) plaintextTo(servers []*corev1.Pod, sp corev1.ServicePort, p *Path, via string) (ready, bad int) {
	for _, srv := range servers {
		tp := targetPort(sp, srv)
		if !Ready(srv) || tp == 0 {
			continue
		}
		ready++
		if cause, why := a.accepts(srv.Status.PodIP, uint32(tp), sendPlaintext, httpPort(sp), via); cause != "" {
			p.cause(cause, why)
			bad++
		}
	}
	return ready, bad
}

// direct judges plaintext sent by kube-proxy (or a node port) to any Ready
// server pod of a Service port.
func (a *analysis) direct(servers []*corev1.Pod, sp corev1.ServicePort, p *Path) {
	ready, bad := a.plaintextTo(servers, sp, p, "kube-proxy")
	switch {
	case ready == 0:
		// Nothing answers: kube-proxy has no endpoint to send them to.
		p.cause(CauseNoEndpoints, "no Ready server pod")
		p.FailShare = 100
	case bad > 0:
		p.FailShare = max(1, (100*bad+ready/2)/ready)
	}
}

// externalPaths: callers outside the cluster reach LoadBalancer, NodePort
// and externalIPs Services in plaintext. A gateway behind such a Service is
// a proxy that terminates them, so only app pods are judged.
func (a *analysis) externalPaths() []Path {
	var out []Path
	for _, svc := range a.w.Services {
		t := svc.Spec.Type
		if t != corev1.ServiceTypeLoadBalancer && t != corev1.ServiceTypeNodePort && len(svc.Spec.ExternalIPs) == 0 {
			continue
		}
		var servers []*corev1.Pod
		for _, p := range a.w.Selected(svc) {
			if !a.w.isGatewayPod(p) {
				servers = append(servers, p)
			}
		}
		for _, sp := range svc.Spec.Ports {
			p := Path{ClientKind: External, ClientNamespace: "outside", Client: "outside", Host: fqdn(svc), Port: uint32(sp.Port),
				Destinations: []string{fqdn(svc)}}
			a.direct(servers, sp, &p)
			out = append(out, p)
		}
	}
	return out
}

// istioComponent: istiod, istio-cni and ztunnel run without a sidecar by design.
func istioComponent(p *corev1.Pod) bool {
	l := p.Labels
	return l["app"] == "istiod" || l["istio"] == "pilot" || l["k8s-app"] == "istio-cni-node" || l["app"] == "ztunnel"
}

// deliberate: kept out of the mesh on purpose (meshguard's definition).
func (w *World) deliberate(p *corev1.Pod) bool {
	if p.Annotations[annotation.SidecarInject.Name] == "false" || p.Labels[label.SidecarInject.Name] == "false" ||
		p.Labels[label.IoIstioDataplaneMode.Name] == "none" || p.Spec.HostNetwork {
		return true
	}
	ns := w.Namespaces[p.Namespace]
	return ns != nil && (ns.Labels["istio-injection"] == "disabled" || ns.Labels[label.IoIstioDataplaneMode.Name] == "none")
}

func (p *Path) cause(c, why string) {
	for _, x := range p.Causes {
		if x == c {
			goto reason
		}
	}
	p.Causes = append(p.Causes, c)
reason:
	if len(p.Why) < 4 {
		for _, x := range p.Why {
			if x == why {
				return
			}
		}
		p.Why = append(p.Why, why)
	}
}

func (p *Path) dest(host string) {
	for _, h := range p.Destinations {
		if h == host {
			return
		}
	}
	p.Destinations = append(p.Destinations, host)
}

func (p *Path) fail(share int, c, why string) {
	p.cause(c, why)
	p.failAtLeast(share)
}

func (p *Path) failAtLeast(share int) {
	if share > p.FailShare {
		p.FailShare = share
	}
}
