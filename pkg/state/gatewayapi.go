package state

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// KindHTTPRoute marks a VirtualService translated from a Gateway API
// HTTPRoute (VirtualService.Kind).
const KindHTTPRoute = "HTTPRoute"

// KindGRPCRoute is the Gateway API's GRPCRoute, which listeners admit
// beside HTTPRoutes.
const KindGRPCRoute = "GRPCRoute"

// GatewayRouteKind reports whether kind (VirtualService.Kind) is a Gateway
// API route translated into the one route form: istiod's gateway
// semantics (model.UseGatewaySemantics) apply to it.
func GatewayRouteKind(kind string) bool { return kind == KindHTTPRoute || kind == KindGRPCRoute }

// KindKubeGateway names the Gateway API's Gateway among the reviewed kinds
// (ObjectRef.ReviewKind): Istio's Gateway is "Gateway" too.
const KindKubeGateway = "Gateway." + GroupGatewayAPI

// HTTPRouteSpec is the part of a Gateway API HTTPRoute's spec meshguard
// reads (identical in v1 and v1beta1).
type HTTPRouteSpec struct {
	ParentRefs []ParentRefSpec `json:"parentRefs"`
	Hostnames  []string        `json:"hostnames"`
	Rules      []RouteRuleSpec `json:"rules"`
}

// GRPCRouteSpec is the part of a Gateway API GRPCRoute's spec meshguard
// reads (v1): the same parents, hostnames and backendRefs as an HTTPRoute;
// its matches name a gRPC service and method instead of a path, and its
// filters include no redirect.
type GRPCRouteSpec HTTPRouteSpec

// RouteRuleSpec is a rule of an HTTPRoute or a GRPCRoute.
type RouteRuleSpec struct {
	Name    string            `json:"name"`
	Matches []json.RawMessage `json:"matches"`
	Filters []struct {
		Type string `json:"type"`
	} `json:"filters"`
	BackendRefs []BackendRefSpec `json:"backendRefs"`
}

// ParentRefSpec is a route's parentRef.
type ParentRefSpec struct {
	Group       *string `json:"group"`
	Kind        *string `json:"kind"`
	Namespace   *string `json:"namespace"`
	Name        string  `json:"name"`
	SectionName *string `json:"sectionName"`
	Port        *int32  `json:"port"`
}

// BackendRefSpec is a route rule's backendRef.
type BackendRefSpec struct {
	Group     *string `json:"group"`
	Kind      *string `json:"kind"`
	Namespace *string `json:"namespace"`
	Name      string  `json:"name"`
	Port      *int32  `json:"port"`
	Weight    *int32  `json:"weight"`
}

func or(p *string, def string) string {
	if p == nil {
		return def
	}
	return *p
}

// FromHTTPRouteSpec translates an HTTPRoute into the one route form, a
// VirtualService marked Kind HTTPRoute, as istiod does before it generates
// any configuration (pilot/pkg/config/kube/gateway/conversion.go,
// convertHTTPRoute and buildHTTPDestination):
//   - a Service parentRef (GAMMA: group "", kind Service) routes the
//     sidecars calling that Service: host the Service's name, gateway mesh;
//   - a Gateway parentRef binds the Gateway API Gateway ns/name with the
//     route's hostnames ("*" without any); whether a listener accepts them is
//     decided where the path is judged, as for any VirtualService bound to a
//     Gateway (FromKubeGatewaySpec keeps the listeners' hostnames and
//     allowedRoutes namespaces as server hosts);
//   - each backendRef is a destination on its Service port, weighted (1 by
//     default; weight 0 is dropped, buildHTTPDestination); a backendRef of
//     a kind other than Service, or without a port, does not resolve
//     (Invalid); one across namespaces needs a ReferenceGrant there
//     (GrantFrom, judged with the grants of the state being judged:
//     buildDestination's BackendAllowed);
//   - a rule that redirects, or has no backend with weight, sends nowhere
//     (istiod answers it with the redirect or a direct 500): Terminal.
//
// A parentRef's sectionName and port narrow where the route attaches
// (Sections), as referenceAllowed checks them against each listener before
// anything else; on a Service parent the port makes the route apply to that
// port of the Service only (augmentPortMatch). Mirrors, and routes with both
// Service and Gateway parents (one VirtualService each in istiod), are not
// modelled apart: such a route is judged with its hosts on all of its parents.
func FromHTTPRouteSpec(meta ObjectRef, spec *HTTPRouteSpec) *VirtualService {
	return fromRouteSpec(meta, KindHTTPRoute, spec, routeMatchConditions)
}

// FromGRPCRouteSpec translates a GRPCRoute into the one route form, a
// VirtualService marked Kind GRPCRoute, as istiod does in the same
// conversion.go (convertGRPCRoute, buildGRPCDestination; GRPCRouteCollection
// builds the VirtualServices exactly as HTTPRouteCollection does, and the
// controller merges both kinds' routes per parent and host): parents,
// hostnames, backendRefs, weights, ports and ReferenceGrants as for an
// HTTPRoute (FromHTTPRouteSpec); a method match becomes a path match on
// /service/method (createGRPCURIMatch) and counts as a condition. A rule
// without a backend of weight is answered 500 (no redirect exists).
func FromGRPCRouteSpec(meta ObjectRef, spec *GRPCRouteSpec) *VirtualService {
	return fromRouteSpec(meta, KindGRPCRoute, (*HTTPRouteSpec)(spec), grpcMatchConditions)
}

// fromRouteSpec translates an HTTPRoute or a GRPCRoute (routeKind), counting
// each match's conditions with conditions.
func fromRouteSpec(meta ObjectRef, routeKind string, spec *HTTPRouteSpec, conditions func(json.RawMessage) int) *VirtualService {
	vs := &VirtualService{Namespace: meta.Namespace, Name: meta.Name, Created: meta.Created, Kind: routeKind}
	anywhere := map[string]bool{} // parents some parentRef names without a section or port
	for _, p := range spec.ParentRefs {
		group, kind := or(p.Group, GroupGatewayAPI), or(p.Kind, "Gateway")
		ns := or(p.Namespace, meta.Namespace)
		sec := Section{}
		if p.Port != nil {
			sec.Port = uint32(*p.Port)
		}
		var key string
		switch {
		case group == "" && kind == "Service":
			key = serviceHost(p.Name, ns, meta.Namespace)
			vs.Hosts = appendNew(vs.Hosts, key)
			vs.Gateways = appendNew(vs.Gateways, "mesh")
		case group == GroupGatewayAPI && kind == "Gateway":
			key = ns + "/" + p.Name
			sec.Name = or(p.SectionName, "")
			vs.Gateways = appendNew(vs.Gateways, key)
			hosts := spec.Hostnames
			if len(hosts) == 0 {
				hosts = []string{"*"}
			}
			for _, h := range hosts {
				vs.Hosts = appendNew(vs.Hosts, h)
			}
		default:
			continue
		}
		if sec == (Section{}) {
			anywhere[key] = true
			continue
		}
		if vs.Sections == nil {
			vs.Sections = map[string][]Section{}
		}
		vs.Sections[key] = append(vs.Sections[key], sec)
	}
	for key := range anywhere {
		delete(vs.Sections, key)
	}
	for i, r := range spec.Rules {
		hr := HTTPRoute{Name: r.Name, Identity: fmt.Sprintf("rules[%d]", i)}
		if r.Name != "" {
			hr.Identity = "name:" + r.Name
		}
		for _, m := range r.Matches {
			hr.Matches = append(hr.Matches, HTTPMatch{Conditions: conditions(m)})
		}
		for _, f := range r.Filters {
			if f.Type == "RequestRedirect" {
				hr.Terminal = true
			}
		}
		for j, b := range r.BackendRefs {
			w := int32(1)
			if b.Weight != nil {
				w = *b.Weight
			}
			if w == 0 {
				continue
			}
			ns := or(b.Namespace, meta.Namespace)
			d := Destination{Host: serviceHost(b.Name, ns, meta.Namespace), Weight: w, Index: j}
			group, kind := or(b.Group, ""), or(b.Kind, "Service")
			switch {
			case group != "" || kind != "Service":
				d.Invalid = fmt.Sprintf("a backendRef of kind %s.%s is not a Service", kind, group)
			case b.Port == nil:
				d.Invalid = "a backendRef to a Service needs a port"
			default:
				d.Port = uint32(*b.Port)
			}
			if ns != meta.Namespace {
				d.GrantFrom = meta.Namespace
			}
			hr.Route = append(hr.Route, d)
		}
		if len(hr.Route) == 0 {
			hr.Terminal = true
		}
		vs.HTTP = append(vs.HTTP, hr)
	}
	return vs
}

// serviceHost names the Service ns/name for a route of namespace routeNS
// the way the host resolver expands it: a short name in the route's own
// namespace, else the Service's name in the cluster domain
// (InClusterDomain); either way the configured domain is put in by the
// resolver (mesh.Hosts.FQDN), since the decoders do not know it.
func serviceHost(name, ns, routeNS string) string {
	if ns == routeNS {
		return name
	}
	return InClusterDomain(name, ns)
}

// DomainMarker stands for the cluster domain in the host of a Service a
// translated route names in another namespace: "name.ns.svc." +
// DomainMarker, which the host resolver (mesh.Hosts.FQDN) expands into the
// configured domain. ".invalid" is reserved (RFC 2606): no host anyone
// writes ends so.
const DomainMarker = "domain.invalid"

// InClusterDomain is the host of Service ns/name in the cluster domain,
// whatever it is configured to be (see DomainMarker).
func InClusterDomain(name, ns string) string { return name + "." + ns + ".svc." + DomainMarker }

// routeMatchConditions counts the conditions of an HTTPRoute match: a path
// prefix "/" (the default) matches everything.
func routeMatchConditions(raw json.RawMessage) int {
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return 1
	}
	n := 0
	for k, v := range m {
		if k == "path" {
			var p struct{ Type, Value string }
			if json.Unmarshal(v, &p) == nil && (p.Type == "" || p.Type == "PathPrefix") && (p.Value == "" || p.Value == "/") {
				continue
			}
		}
		n++
	}
	return n
}

// grpcMatchConditions counts the conditions of a GRPCRoute match: its
// method (a service, a method or both: one path match) and each header.
func grpcMatchConditions(raw json.RawMessage) int {
	var m struct {
		Method  *json.RawMessage  `json:"method"`
		Headers []json.RawMessage `json:"headers"`
	}
	if json.Unmarshal(raw, &m) != nil {
		return 1
	}
	n := len(m.Headers)
	if m.Method != nil {
		n++
	}
	return n
}

func appendNew(list []string, s string) []string {
	if slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}

// ReferenceGrant is the lean form of a Gateway API ReferenceGrant: which
// kinds in which namespaces may refer to which objects of its namespace.
type ReferenceGrant struct {
	Namespace string
	Name      string
	From      []GrantFrom
	To        []GrantTo
}

// GrantFrom is a ReferenceGrant's from entry.
type GrantFrom struct {
	Group     string `json:"group"`
	Kind      string `json:"kind"`
	Namespace string `json:"namespace"`
}

// GrantTo is a ReferenceGrant's to entry (Name empty: any).
type GrantTo struct {
	Group string  `json:"group"`
	Kind  string  `json:"kind"`
	Name  *string `json:"name"`
}

// ReferenceGrantSpec is the spec of a ReferenceGrant (v1beta1 and v1).
type ReferenceGrantSpec struct {
	From []GrantFrom `json:"from"`
	To   []GrantTo   `json:"to"`
}

// FromReferenceGrantSpec builds the lean ReferenceGrant.
func FromReferenceGrantSpec(meta ObjectRef, spec *ReferenceGrantSpec) *ReferenceGrant {
	return &ReferenceGrant{Namespace: meta.Namespace, Name: meta.Name, From: spec.From, To: spec.To}
}

// Permits reports whether the grant lets objects of kind (Gateway API
// group) in namespace from refer to the Service name in its namespace
// (pilot/pkg/config/kube/gatewaycommon ReferenceGrants, BackendAllowed).
func (g *ReferenceGrant) Permits(kind, from, service string) bool {
	if !slices.ContainsFunc(g.From, func(f GrantFrom) bool {
		return f.Group == GroupGatewayAPI && f.Kind == kind && f.Namespace == from
	}) {
		return false
	}
	return slices.ContainsFunc(g.To, func(t GrantTo) bool {
		return t.Group == "" && t.Kind == "Service" && (t.Name == nil || *t.Name == "" || *t.Name == service)
	})
}

// Services lists the names of the Services of its namespace the grant
// opens to routes: those it names, or all of them (s) when one entry names
// none.
func (g *ReferenceGrant) Services(s Snapshot) []string {
	var out []string
	for _, t := range g.To {
		if t.Group != "" || t.Kind != "Service" {
			continue
		}
		if t.Name == nil || *t.Name == "" {
			out = out[:0]
			for _, svc := range s.Services(g.Namespace) {
				out = append(out, svc.Name)
			}
			return out
		}
		out = appendNew(out, *t.Name)
	}
	return out
}

// BackendPermitted reports whether a route of kind in namespace from may
// send to the Service ns/name: same namespace, or a grant there permits it.
func BackendPermitted(s Snapshot, kind, from, ns, name string) bool {
	if from == ns {
		return true
	}
	return slices.ContainsFunc(s.ReferenceGrants(ns), func(g *ReferenceGrant) bool { return g.Permits(kind, from, name) })
}

// ServiceOfHost splits "name.ns.svc.cluster.local" (or the domain marker).
func ServiceOfHost(host string) (ns, name string, ok bool) {
	parts := strings.Split(host, ".")
	if len(parts) < 3 || parts[2] != "svc" {
		return "", "", false
	}
	return parts[1], parts[0], true
}
