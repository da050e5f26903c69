package state

import (
	"fmt"
	"hash/fnv"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	networkingv1alpha3 "istio.io/api/networking/v1alpha3"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// ClientTLS is the part of a DestinationRule TLS setting rules read. The
// paths and names of key material are kept; the material itself never is.
type ClientTLS struct {
	Mode               string // DISABLE, SIMPLE, MUTUAL, ISTIO_MUTUAL
	CredentialName     string
	CACertificates     string
	ClientCertificate  string
	InsecureSkipVerify bool
}

// Outlier is a DestinationRule's outlier detection.
type Outlier struct {
	MaxEjectionPercent int32
}

// TrafficPolicy is a DestinationRule (or subset) traffic policy.
type TrafficPolicy struct {
	TLS     *ClientTLS
	Outlier *Outlier
	// Ports are port-level settings, keyed by Service port.
	Ports map[uint32]*PortPolicy
}

// PortPolicy is a port-level traffic policy.
type PortPolicy struct {
	// Index is the setting's position in portLevelSettings (for field paths).
	Index   int
	TLS     *ClientTLS
	Outlier *Outlier
}

// Subset is a named set of a host's endpoints.
type Subset struct {
	Name   string
	Labels map[string]string
	Policy *TrafficPolicy
}

// DestinationRule is the lean, version-independent form of a networking.istio.io DestinationRule.
type DestinationRule struct {
	Namespace string
	Name      string
	Created   time.Time
	Seq       int64
	// Host as written; resolve it with mesh.Hosts.
	Host             string
	ExportTo         []string
	WorkloadSelector map[string]string
	Policy           *TrafficPolicy
	Subsets          []Subset
}

// Destination is where a route sends traffic.
type Destination struct {
	Host   string
	Subset string
	Port   uint32
	// Weight as written; 0 with a single destination means all traffic.
	Weight int32
	// Index is the destination's position where it is written, when that
	// differs from its position here (an HTTPRoute's backendRefs, weight 0
	// ones dropped).
	Index int
	// Invalid says why a translated route's backend resolves to nothing
	// (see FromHTTPRouteSpec); requests sent there get 500.
	Invalid string
	// GrantFrom is the namespace of a route whose backend is in another
	// namespace: a ReferenceGrant there must permit it.
	GrantFrom string
}

// Retry is an HTTP route's retry policy.
type Retry struct {
	Attempts      int32
	PerTryTimeout time.Duration // 0: unset
	RetryOn       string
	Backoff       time.Duration // 0: Envoy's default (25 ms)
}

// HTTPMatch is one match block of an HTTP route.
type HTTPMatch struct {
	// Conditions counts the conditions of the block; 0 matches everything.
	Conditions int
	Headers    []string // header names as written
	// Gateways restricts the block to these gateways ("mesh" for sidecars).
	Gateways []string
}

// HTTPRoute is one http route of a VirtualService.
type HTTPRoute struct {
	Name string
	// Identity tells the route apart from the others of its VirtualService
	// across a write, whatever its position: its name when it has one, else
	// a fingerprint of its match blocks (see routeIdentity).
	Identity string
	Matches  []HTTPMatch
	Route    []Destination
	Mirrors  []Destination
	Retries  *Retry
	Timeout  time.Duration // 0: unset
	// Terminal routes (redirect, direct response, delegate) send nowhere.
	Terminal bool
}

// OnSidecars reports whether the route can apply to sidecars: the
// VirtualService binds the mesh, and some match block is not restricted to
// other gateways.
func (r *HTTPRoute) OnSidecars(vs *VirtualService) bool {
	if !OnMesh(vs) {
		return false
	}
	if len(r.Matches) == 0 {
		return true
	}
	for _, m := range r.Matches {
		if len(m.Gateways) == 0 || slices.Contains(m.Gateways, "mesh") {
			return true
		}
	}
	return false
}

// CatchAll reports whether the route takes every request that reaches it.
func (r *HTTPRoute) CatchAll() bool {
	if len(r.Matches) == 0 {
		return true
	}
	for _, m := range r.Matches {
		if m.Conditions == 0 {
			return true
		}
	}
	return false
}

// VirtualService is the lean form of a networking.istio.io VirtualService.
type VirtualService struct {
	Namespace string
	Name      string
	// Kind is "" for a VirtualService, KindHTTPRoute or KindGRPCRoute for a
	// Gateway API route in the one route form (FromHTTPRouteSpec,
	// FromGRPCRouteSpec).
	Kind     string
	Created  time.Time
	Hosts    []string
	Gateways []string
	ExportTo []string
	HTTP     []HTTPRoute
	// TCP and TLS routes, flattened to their destinations per route.
	TCP [][]Destination
	TLS [][]Destination
	// Sections narrow where a translated route attaches, by parent (a
	// Gateway's key "ns/name", or the host of a Service parent as in
	// Hosts): the listeners its parentRefs name by sectionName or port.
	// A parent not in it is attached wherever it is accepted.
	Sections map[string][]Section
}

// Section is a parentRef's sectionName and port (either may be empty).
type Section struct {
	Name string
	Port uint32
}

// Attaches reports whether a route attaches to the listener named name on
// port of its parent key: every listener when its parentRefs name none of
// them, else one they name (referenceAllowed: the port, then the
// sectionName, must match).
func (vs *VirtualService) Attaches(key, name string, port uint32) bool {
	secs, ok := vs.Sections[key]
	if !ok {
		return true
	}
	return slices.ContainsFunc(secs, func(s Section) bool {
		return (s.Port == 0 || s.Port == port) && (s.Name == "" || s.Name == name)
	})
}

// Destinations calls fn for every destination and mirror of the service,
// with the field path that names it, until fn returns false.
func (vs *VirtualService) Destinations(fn func(field string, d Destination, weighted []Destination, mirror bool) bool) {
	for i := range vs.HTTP {
		r := &vs.HTTP[i]
		for j, d := range r.Route {
			if !fn(vs.DestinationField(i, j), d, r.Route, false) {
				return
			}
		}
		for j, d := range r.Mirrors {
			if !fn(fieldf("spec.http[%d].mirrors[%d].destination", i, j), d, nil, true) {
				return
			}
		}
	}
	for kind, routes := range map[string][][]Destination{"tcp": vs.TCP, "tls": vs.TLS} {
		for i, rt := range routes {
			for j, d := range rt {
				if !fn(fieldf("spec.%s[%d].route[%d].destination", kind, i, j), d, rt, false) {
					return
				}
			}
		}
	}
}

// DestinationField is the field path of the j-th destination of the i-th
// http route: an HTTPRoute's backendRef, or a VirtualService's destination.
func (vs *VirtualService) DestinationField(i, j int) string {
	if GatewayRouteKind(vs.Kind) {
		return fieldf("spec.rules[%d].backendRefs[%d]", i, vs.HTTP[i].Route[j].Index)
	}
	return fieldf("spec.http[%d].route[%d].destination", i, j)
}

// GatewayServer is one server block of a Gateway.
type GatewayServer struct {
	Hosts    []string
	Port     uint32
	Protocol string
	// TLSMode is the server's tls.mode (SIMPLE, MUTUAL, PASSTHROUGH,
	// AUTO_PASSTHROUGH, ISTIO_MUTUAL), empty without a tls block.
	TLSMode string
	// Listener is set for a Gateway API Gateway's listener (see
	// FromKubeGatewaySpec); nil for an Istio Gateway's server.
	Listener *Listener
}

// Listener is what a Gateway API listener decides about the routes that
// attach to it, beyond its hosts.
type Listener struct {
	// Index is the listener's position in spec.listeners, Name its name.
	Index int
	Name  string
	// Kinds are the route kinds it admits (gatewaycommon
	// GenerateGatewaySupportedKinds): by protocol, narrowed by
	// allowedRoutes.kinds.
	Kinds []string
	// Namespaces selects the namespaces whose routes it admits when
	// allowedRoutes.namespaces.from is Selector (its hosts then say "*");
	// nil otherwise.
	Namespaces labels.Selector
}

// AutoPassthrough is the tls mode of an east-west gateway's cross-network
// server (Istio's multi-network install, expose-services.yaml): it forwards
// Istio mTLS by SNI to the endpoint, without terminating it.
const AutoPassthrough = "AUTO_PASSTHROUGH"

// Passthrough reports whether a server of gw forwards Istio mTLS across
// networks (tls mode AUTO_PASSTHROUGH).
func (gw *Gateway) Passthrough() bool {
	for _, srv := range gw.Servers {
		if srv.TLSMode == AutoPassthrough {
			return true
		}
	}
	return false
}

// Gateway is the lean form of a networking.istio.io Gateway.
type Gateway struct {
	Namespace string
	Name      string
	// Kubernetes marks a Gateway API Gateway (gateway.networking.k8s.io).
	Kubernetes bool
	Selector   map[string]string
	Servers    []GatewayServer
}

// KubeGatewaySpec is the part of a Gateway API Gateway's spec meshguard reads
// (identical in v1 and v1beta1): its listeners' names, hostnames, ports,
// protocols, TLS mode and allowedRoutes.
type KubeGatewaySpec struct {
	GatewayClassName string `json:"gatewayClassName"`
	Listeners        []struct {
		Name     string `json:"name"`
		Hostname string `json:"hostname"`
		Port     uint32 `json:"port"`
		Protocol string `json:"protocol"`
		TLS      *struct {
			Mode string `json:"mode"`
		} `json:"tls"`
		AllowedRoutes struct {
			// Namespaces.From: Same (the default), All or Selector.
			Namespaces struct {
				From     string                `json:"from"`
				Selector *metav1.LabelSelector `json:"selector"`
			} `json:"namespaces"`
			Kinds []RouteGroupKind `json:"kinds"`
		} `json:"allowedRoutes"`
	} `json:"listeners"`
}

// RouteGroupKind is an entry of a listener's allowedRoutes.kinds.
type RouteGroupKind struct {
	Group *string `json:"group"`
	Kind  string  `json:"kind"`
}

// FromKubeGatewaySpec builds the lean gateway from a Gateway API Gateway as
// istiod converts one (pilot/pkg/config/kube/gateway/conversion.go,
// buildListener): each listener is a server (an Istio Gateway of its own in
// istiod, which routes bind by sectionName or port); one without hostname
// accepts any host. Its hosts say which namespaces' routes it admits
// (buildHostnameMatch, namespacesFromSelector): its own namespace unless
// allowedRoutes.namespaces.from says All ("*") or Selector ("*", narrowed
// by Listener.Namespaces when the path is judged: the decoder does not know
// the namespaces' labels; a selector that does not parse admits none, as
// istiod's "~" host). An HTTPS or TLS listener without a tls block makes no
// server in istiod: it is kept, admitting no route kind.
func FromKubeGatewaySpec(meta ObjectRef, spec *KubeGatewaySpec) *Gateway {
	gw := &Gateway{Namespace: meta.Namespace, Name: meta.Name, Kubernetes: true}
	for i, l := range spec.Listeners {
		host := l.Hostname
		if host == "" {
			host = "*"
		}
		lst := &Listener{Index: i, Name: l.Name}
		from := meta.Namespace
		switch l.AllowedRoutes.Namespaces.From {
		case "All":
			from = "*"
		case "Selector":
			from = "*"
			lst.Namespaces = labels.Everything() // no selector: istiod admits all
			if sel := l.AllowedRoutes.Namespaces.Selector; sel != nil {
				var err error
				if lst.Namespaces, err = metav1.LabelSelectorAsSelector(sel); err != nil {
					from = "~"
				}
			}
		}
		tlsMode := ""
		if l.TLS != nil {
			tlsMode = l.TLS.Mode
			if tlsMode == "" {
				tlsMode = "Terminate"
			}
		}
		var supported []string
		switch l.Protocol {
		case "HTTP", "HTTPS":
			if l.Protocol == "HTTP" || l.TLS != nil {
				supported = []string{KindHTTPRoute, KindGRPCRoute}
			}
		case "TCP":
			supported = []string{"TCPRoute"}
		case "TLS":
			if l.TLS != nil {
				supported = []string{"TLSRoute"}
				if tlsMode == "Terminate" {
					supported = append(supported, "TCPRoute")
				}
			}
		}
		if ks := l.AllowedRoutes.Kinds; len(ks) > 0 {
			for _, k := range supported {
				if slices.ContainsFunc(ks, func(a RouteGroupKind) bool { return a.Kind == k && or(a.Group, GroupGatewayAPI) == GroupGatewayAPI }) {
					lst.Kinds = append(lst.Kinds, k)
				}
			}
		} else {
			lst.Kinds = supported
		}
		gw.Servers = append(gw.Servers, GatewayServer{Hosts: []string{from + "/" + host}, Port: l.Port,
			Protocol: strings.ToUpper(l.Protocol), Listener: lst})
	}
	return gw
}

// ServiceEntry is the lean form of a networking.istio.io ServiceEntry.
type ServiceEntry struct {
	Namespace string
	Name      string
	Hosts     []string
	ExportTo  []string
	// Ports are the entry's ports: Port is the number, TargetPort the
	// endpoints' port when set, AppProtocol the declared protocol (lower case).
	Ports []ServicePort
	// Resolution is STATIC, DNS, DNS_ROUND_ROBIN or NONE.
	Resolution string
	// External: location MESH_EXTERNAL (istiod sends no auto mTLS there).
	External bool
	// Endpoints are its inline endpoints, as the WorkloadEntries istiod makes
	// of them (healthy: they have no health checks).
	Endpoints []*WorkloadEntry
	// WorkloadSelector picks the Ready pods and the WorkloadEntries of the
	// entry's namespace as its endpoints (nil: none).
	WorkloadSelector map[string]string
}

// Resolutions of a ServiceEntry.
const (
	ResolutionStatic = "STATIC"
	ResolutionNone   = "NONE"
)

func duration(d *durationpb.Duration) time.Duration {
	if d == nil {
		return 0
	}
	return d.AsDuration()
}

func clientTLS(t *networkingv1alpha3.ClientTLSSettings) *ClientTLS {
	if t == nil {
		return nil
	}
	return &ClientTLS{
		Mode: t.GetMode().String(), CredentialName: t.GetCredentialName(), CACertificates: t.GetCaCertificates(),
		ClientCertificate: t.GetClientCertificate(), InsecureSkipVerify: t.GetInsecureSkipVerify().GetValue(),
	}
}

func outlier(o *networkingv1alpha3.OutlierDetection) *Outlier {
	if o == nil {
		return nil
	}
	max := o.GetMaxEjectionPercent()
	if max == 0 {
		max = 10 // Istio's default
	}
	return &Outlier{MaxEjectionPercent: max}
}

func trafficPolicy(tp *networkingv1alpha3.TrafficPolicy) *TrafficPolicy {
	if tp == nil {
		return nil
	}
	out := &TrafficPolicy{TLS: clientTLS(tp.GetTls()), Outlier: outlier(tp.GetOutlierDetection())}
	for i, p := range tp.GetPortLevelSettings() {
		if out.Ports == nil {
			out.Ports = map[uint32]*PortPolicy{}
		}
		out.Ports[p.GetPort().GetNumber()] = &PortPolicy{Index: i, TLS: clientTLS(p.GetTls()), Outlier: outlier(p.GetOutlierDetection())}
	}
	return out
}

// FromDestinationRuleSpec builds the lean rule from the spec shared by every served version.
func FromDestinationRuleSpec(meta ObjectRef, spec *networkingv1alpha3.DestinationRule) *DestinationRule {
	dr := &DestinationRule{Namespace: meta.Namespace, Name: meta.Name, Created: meta.Created,
		Host: spec.GetHost(), ExportTo: spec.GetExportTo(), Policy: trafficPolicy(spec.GetTrafficPolicy())}
	if sel := spec.GetWorkloadSelector().GetMatchLabels(); len(sel) > 0 {
		dr.WorkloadSelector = sel
	}
	for _, s := range spec.GetSubsets() {
		dr.Subsets = append(dr.Subsets, Subset{Name: s.GetName(), Labels: s.GetLabels(), Policy: trafficPolicy(s.GetTrafficPolicy())})
	}
	return dr
}

func destination(d *networkingv1alpha3.Destination, weight int32) Destination {
	return Destination{Host: d.GetHost(), Subset: d.GetSubset(), Port: d.GetPort().GetNumber(), Weight: weight}
}

func matchConditions(m *networkingv1alpha3.HTTPMatchRequest) HTTPMatch {
	hm := HTTPMatch{Gateways: m.GetGateways()}
	for name := range m.GetHeaders() {
		hm.Headers = append(hm.Headers, name)
	}
	for name := range m.GetWithoutHeaders() {
		hm.Headers = append(hm.Headers, name)
	}
	sort.Strings(hm.Headers)
	count := func(present bool) {
		if present {
			hm.Conditions++
		}
	}
	count(m.GetUri() != nil)
	count(m.GetScheme() != nil)
	count(m.GetMethod() != nil)
	count(m.GetAuthority() != nil)
	count(len(m.GetHeaders()) > 0)
	count(len(m.GetWithoutHeaders()) > 0)
	count(m.GetPort() != 0)
	count(len(m.GetSourceLabels()) > 0)
	count(len(m.GetGateways()) > 0)
	count(len(m.GetQueryParams()) > 0)
	count(m.GetSourceNamespace() != "")
	return hm
}

// routeIdentity names an http route so that the same route is recognised
// before and after a write that reorders or inserts others: "name:" and its
// name, else "match:" and a hash of its match blocks as written (proto's
// deterministic encoding). Two routes with the same matches share it; the
// path model numbers repeats.
func routeIdentity(h *networkingv1alpha3.HTTPRoute) string {
	if h.GetName() != "" {
		return "name:" + h.GetName()
	}
	sum := fnv.New64a()
	for _, m := range h.GetMatch() {
		b, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
		if err != nil {
			return "match:?"
		}
		sum.Write(b)
		sum.Write([]byte{0})
	}
	return "match:" + strconv.FormatUint(sum.Sum64(), 16)
}

// FromVirtualServiceSpec builds the lean service from the spec shared by every served version.
func FromVirtualServiceSpec(meta ObjectRef, spec *networkingv1alpha3.VirtualService) *VirtualService {
	vs := &VirtualService{Namespace: meta.Namespace, Name: meta.Name, Created: meta.Created,
		Hosts: spec.GetHosts(), Gateways: spec.GetGateways(), ExportTo: spec.GetExportTo()}
	for _, h := range spec.GetHttp() {
		r := HTTPRoute{Name: h.GetName(), Timeout: duration(h.GetTimeout()),
			Terminal: h.GetRedirect() != nil || h.GetDirectResponse() != nil || h.GetDelegate() != nil}
		for _, m := range h.GetMatch() {
			r.Matches = append(r.Matches, matchConditions(m))
		}
		r.Identity = routeIdentity(h)
		for _, d := range h.GetRoute() {
			r.Route = append(r.Route, destination(d.GetDestination(), d.GetWeight()))
		}
		if m := h.GetMirror(); m != nil {
			r.Mirrors = append(r.Mirrors, destination(m, 0))
		}
		for _, m := range h.GetMirrors() {
			r.Mirrors = append(r.Mirrors, destination(m.GetDestination(), 0))
		}
		if rt := h.GetRetries(); rt != nil {
			r.Retries = &Retry{Attempts: rt.GetAttempts(), PerTryTimeout: duration(rt.GetPerTryTimeout()),
				RetryOn: rt.GetRetryOn(), Backoff: duration(rt.GetBackoff())}
		}
		vs.HTTP = append(vs.HTTP, r)
	}
	for _, t := range spec.GetTcp() {
		var ds []Destination
		for _, d := range t.GetRoute() {
			ds = append(ds, destination(d.GetDestination(), d.GetWeight()))
		}
		vs.TCP = append(vs.TCP, ds)
	}
	for _, t := range spec.GetTls() {
		var ds []Destination
		for _, d := range t.GetRoute() {
			ds = append(ds, destination(d.GetDestination(), d.GetWeight()))
		}
		vs.TLS = append(vs.TLS, ds)
	}
	return vs
}

// FromGatewaySpec builds the lean gateway.
func FromGatewaySpec(meta ObjectRef, spec *networkingv1alpha3.Gateway) *Gateway {
	gw := &Gateway{Namespace: meta.Namespace, Name: meta.Name, Selector: spec.GetSelector()}
	for _, s := range spec.GetServers() {
		srv := GatewayServer{Hosts: s.GetHosts(), Port: s.GetPort().GetNumber(), Protocol: strings.ToUpper(s.GetPort().GetProtocol())}
		if tls := s.GetTls(); tls != nil {
			srv.TLSMode = tls.GetMode().String()
		}
		gw.Servers = append(gw.Servers, srv)
	}
	return gw
}

// FromServiceEntrySpec builds the lean service entry.
func FromServiceEntrySpec(meta ObjectRef, spec *networkingv1alpha3.ServiceEntry) *ServiceEntry {
	se := &ServiceEntry{Namespace: meta.Namespace, Name: meta.Name, Hosts: spec.GetHosts(), ExportTo: spec.GetExportTo(),
		Resolution: spec.GetResolution().String(), External: spec.GetLocation() == networkingv1alpha3.ServiceEntry_MESH_EXTERNAL,
		WorkloadSelector: spec.GetWorkloadSelector().GetLabels()}
	for _, p := range spec.GetPorts() {
		se.Ports = append(se.Ports, ServicePort{Name: p.GetName(), Port: int32(p.GetNumber()), TargetPort: int32(p.GetTargetPort()),
			AppProtocol: strings.ToLower(p.GetProtocol())})
	}
	for i, e := range spec.GetEndpoints() {
		ref := ObjectRef{Namespace: meta.Namespace, Name: fmt.Sprintf("%s endpoint %d (%s)", meta.Name, i, e.GetAddress())}
		se.Endpoints = append(se.Endpoints, FromWorkloadEntrySpec(ref, nil, e, ""))
	}
	return se
}
