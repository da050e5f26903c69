package state

import (
	"slices"

	discoveryv1 "k8s.io/api/discovery/v1"
)

// GroupDiscovery is the API group of EndpointSlices.
const GroupDiscovery = "discovery.k8s.io"

// EndpointSliceKind: the endpoints istiod builds clusters from. Only the
// slices Kubernetes' endpoint-slice controller does not make are kept (see
// FromEndpointSlice), so the pod cache stays the one per-pod cache.
var EndpointSliceKind = Kind{Group: GroupDiscovery, Kind: "EndpointSlice", Resource: "endpointslices", Versions: []string{"v1"}, Namespaced: true, Access: Watched}

// ManagedByLabel names the controller that manages an EndpointSlice, and
// ControllerManaged is the value of Kubernetes' own endpoint-slice
// controller, whose slices mirror a Service's selector and its pods' Ready
// condition: what the pod cache already answers.
const (
	ManagedByLabel    = discoveryv1.LabelManagedBy
	ControllerManaged = "endpointslice-controller.k8s.io"
)

// EndpointSlice is the lean form of an EndpointSlice written by someone
// other than the endpoint-slice controller: Knative's serverless Services
// (pointing at the activator or at revision pods), the mirroring of
// hand-made Endpoints, or any controller that manages endpoints itself.
type EndpointSlice struct {
	Namespace, Name string
	// Service is the Service the slice belongs to (kubernetes.io/service-name).
	Service string
	// Ports are the slice's ports, named as the Service's ports they serve
	// (their numbers are the endpoints' target ports).
	Ports     []NamedPort
	Endpoints []Endpoint
}

// TargetPort returns the endpoints' port for the Service port sp (matched
// by name, as the endpoint-slice controllers write them), or 0.
func (es *EndpointSlice) TargetPort(sp ServicePort) uint32 {
	for _, p := range es.Ports {
		if p.Name == sp.Name {
			return uint32(p.Port)
		}
	}
	return 0
}

// Endpoint is one endpoint of a slice.
type Endpoint struct {
	// PodNamespace and Pod name the pod the endpoint targets (targetRef of
	// kind Pod); empty for an address that no pod holds (a VM, a node, the
	// API server). istiod finds the pod behind an endpoint by its address;
	// the targetRef names the same pod without caching pod IPs.
	PodNamespace, Pod string
	// Ready is the endpoint's ready condition as istiod reads it: unset means
	// ready (pilot/pkg/serviceregistry/kube/controller/endpointslice.go,
	// endpointHealthStatus); only ready endpoints take traffic.
	Ready bool
}

// FromEndpointSlice keeps the endpoints of a slice that the endpoint-slice
// controller did not make, or returns nil: those mirror the Service's
// selector, which the pod cache already answers, and keeping them would
// double the per-pod memory. A slice without a Service or of FQDN addresses
// (which istiod ignores) is not kept either.
func FromEndpointSlice(es *discoveryv1.EndpointSlice) *EndpointSlice {
	svc := es.Labels[discoveryv1.LabelServiceName]
	if es.Labels[ManagedByLabel] == ControllerManaged || svc == "" || es.AddressType == discoveryv1.AddressTypeFQDN {
		return nil
	}
	out := &EndpointSlice{Namespace: es.Namespace, Name: es.Name, Service: svc, Endpoints: make([]Endpoint, 0, len(es.Endpoints))}
	for _, p := range es.Ports {
		np := NamedPort{}
		if p.Name != nil {
			np.Name = *p.Name
		}
		if p.Port != nil {
			np.Port = *p.Port
		}
		out.Ports = append(out.Ports, np)
	}
	for _, e := range es.Endpoints {
		ep := Endpoint{Ready: e.Conditions.Ready == nil || *e.Conditions.Ready}
		if r := e.TargetRef; r != nil && r.Kind == "Pod" && (r.APIVersion == "" || r.APIVersion == "v1") {
			ep.PodNamespace, ep.Pod = r.Namespace, r.Name
			if ep.PodNamespace == "" {
				ep.PodNamespace = es.Namespace
			}
			ep.PodNamespace = interned(ep.PodNamespace)
		}
		out.Endpoints = append(out.Endpoints, ep)
	}
	return out
}

// SetEndpointSlice adds or replaces a slice.
func (s *Store) SetEndpointSlice(es *EndpointSlice) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.index(es.Namespace)
	if n.endpointSlices == nil {
		n.endpointSlices, n.slicesBySvc = map[string]*EndpointSlice{}, map[string][]*EndpointSlice{}
	}
	if old := n.endpointSlices[es.Name]; old != nil {
		n.unindexSlice(old)
	}
	n.endpointSlices[es.Name] = es
	n.slicesBySvc[es.Service] = append(n.slicesBySvc[es.Service], es)
}

func (n *nsIndex) unindexSlice(es *EndpointSlice) {
	list := slices.DeleteFunc(n.slicesBySvc[es.Service], func(o *EndpointSlice) bool { return o.Name == es.Name })
	if len(list) == 0 {
		delete(n.slicesBySvc, es.Service)
		return
	}
	n.slicesBySvc[es.Service] = list
}

// DeleteEndpointSlice removes a slice.
func (s *Store) DeleteEndpointSlice(ns, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.nss[ns]
	if n == nil {
		return
	}
	if old := n.endpointSlices[name]; old != nil {
		n.unindexSlice(old)
		delete(n.endpointSlices, name)
	}
	s.gc(ns, n)
}

func (v storeView) ForEachEndpoint(ns, service string, fn func(*EndpointSlice, *Endpoint) bool) {
	n := v.s.nss[ns]
	if n == nil {
		return
	}
	for _, es := range n.slicesBySvc[service] {
		for i := range es.Endpoints {
			if !fn(es, &es.Endpoints[i]) {
				return
			}
		}
	}
}

func (v storeView) Pod(ns, name string) *Pod {
	if n := v.s.nss[ns]; n != nil {
		if e, ok := n.pods[name]; ok {
			return e.pod
		}
	}
	return nil
}
