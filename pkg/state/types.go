// Package state holds the read-only view of cluster state that rules evaluate:
// lean copies of the objects meshguard reads, indexed for the lookups rules make.
// The same Store is filled from the live informer cache (serve) or from YAML
// files (check), so both modes judge alike.
package state

import (
	"slices"
	"strings"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Namespace is the part of a Namespace rules read: its name and labels.
type Namespace struct {
	Name   string
	Labels map[string]string
}

// NamedPort is a container port with its optional name (Services may target it by name).
type NamedPort struct {
	Name string
	Port int32
}

// Pod is the lean form of a Pod kept in the cache: only what rules read.
// It stands in for *corev1.Pod inside the informer (see LeanPod) so that the
// cache never holds full pod specs.
type Pod struct {
	Namespace       string
	Name            string
	ResourceVersion string
	Labels          map[string]string
	// OwnerKind and OwnerName name the controlling owner ("StatefulSet",
	// "reporting"); a ReplicaSet created by a Deployment is reported as the
	// Deployment. Empty for bare pods.
	OwnerKind string
	OwnerName string
	Ports     []NamedPort
	// ServiceAccount is spec.serviceAccountName (default: "default"), the
	// sa of the pod's Istio identity <trust domain>/ns/<ns>/sa/<sa>.
	ServiceAccount string
	Phase          corev1.PodPhase
	// Sidecar: an Envoy sidecar was injected (sidecar.istio.io/status or an
	// istio-proxy container, native sidecars included).
	Sidecar bool
	// Router: the pod's istio-proxy runs as a gateway or a waypoint, not a
	// sidecar (see PodFields.Lean): it sends mesh traffic as a client with a
	// DestinationRule lookup of its own, but PeerAuthentication never governs
	// its listeners (Gateway servers and pilot-agent's status port do).
	Router bool
	// AmbientRedirected: ambient.istio.io/redirection=enabled, set by istio-cni
	// once the pod is enrolled in ambient.
	AmbientRedirected bool
	// DataplaneNone: the pod opts out of ambient (istio.io/dataplane-mode=none).
	DataplaneNone bool
	// InjectOptOut: the pod opts out of sidecar injection
	// (sidecar.istio.io/inject: "false", as annotation or label).
	InjectOptOut bool
	HostNetwork  bool
	Ready        bool
	// NetworkView: the pod's proxy asks istiod for the endpoints of one
	// network only (ISTIO_META_REQUESTED_NETWORK_VIEW, pilot/pkg/model/
	// proxy_view.go), as a multi-network east-west gateway does
	// (samples/multicluster/gen-eastwest-gateway.sh --network): a sign of
	// other networks, hence other clusters (see mesh.OtherClusters).
	NetworkView bool
	// Intercepted lists, when not nil, the only inbound ports the sidecar
	// intercepts; Excluded the ones it leaves to the application
	// (traffic.sidecar.istio.io/includeInboundPorts, excludeInboundPorts).
	// Traffic to other ports reaches the application around Envoy.
	Intercepted, Excluded []uint32
}

// InboundIntercepted reports whether the pod's sidecar sees inbound traffic
// to a container port (iptables or istio-cni redirect it to Envoy).
func (p *Pod) InboundIntercepted(port uint32) bool {
	if slices.Contains(p.Excluded, port) {
		return false
	}
	return p.Intercepted == nil || slices.Contains(p.Intercepted, port)
}

// Finished reports whether the pod has terminated and serves nothing any more.
func (p *Pod) Finished() bool {
	return p.Phase == corev1.PodSucceeded || p.Phase == corev1.PodFailed
}

// Ref renders the pod as "ns/name (Kind owner)" for messages.
func (p *Pod) Ref() string {
	s := p.Namespace + "/" + p.Name
	if p.OwnerKind != "" {
		s += " (" + p.OwnerKind + " " + p.OwnerName + ")"
	}
	return s
}

// GetObjectKind implements runtime.Object so a *Pod can live in an informer store.
func (p *Pod) GetObjectKind() schema.ObjectKind { return schema.EmptyObjectKind }

// DeepCopyObject implements runtime.Object. Lean pods are never mutated after
// they are built, but informers may ask for copies.
func (p *Pod) DeepCopyObject() runtime.Object {
	c := *p
	if p.Labels != nil {
		c.Labels = make(map[string]string, len(p.Labels))
		for k, v := range p.Labels {
			c.Labels[k] = v
		}
	}
	c.Ports = append([]NamedPort(nil), p.Ports...)
	c.Intercepted, c.Excluded = slices.Clone(p.Intercepted), slices.Clone(p.Excluded)
	return &c
}

// GetObjectMeta lets client-go's key and index functions (meta.Accessor) read
// the namespace, name and resource version of a lean pod.
func (p *Pod) GetObjectMeta() metav1.Object {
	return &metav1.ObjectMeta{Namespace: p.Namespace, Name: p.Name, ResourceVersion: p.ResourceVersion, Labels: p.Labels}
}

// ServicePort is one port of a Service.
type ServicePort struct {
	Name        string
	Port        int32
	Protocol    corev1.Protocol
	AppProtocol string
	// TargetPort is the numeric target port, or 0 when TargetPortName is set.
	TargetPort     int32
	TargetPortName string
}

// Service is the lean form of a Service.
type Service struct {
	Namespace string
	Name      string
	Selector  map[string]string
	Ports     []ServicePort
	// External: reachable from outside the cluster (type LoadBalancer or
	// NodePort, or externalIPs): clients and load balancers' health checks
	// call its pods in plaintext, through no proxy of the mesh.
	External bool
}

// MTLSMode is a PeerAuthentication mutual TLS mode.
type MTLSMode string

// The modes of istio.io/api/security/v1beta1 PeerAuthentication_MutualTLS_Mode.
const (
	ModeUnset      MTLSMode = "UNSET"
	ModeDisable    MTLSMode = "DISABLE"
	ModePermissive MTLSMode = "PERMISSIVE"
	ModeStrict     MTLSMode = "STRICT"
)

// PeerAuthentication is the lean, version-independent form of a
// security.istio.io PeerAuthentication.
type PeerAuthentication struct {
	Namespace string
	Name      string
	// Created orders conflicting policies (the oldest wins). Zero for objects
	// read from state files without a creationTimestamp.
	Created time.Time
	// Seq breaks ties between equal creation times: the order in which the
	// object reached the store (state files first, then -f, in file order).
	Seq int64
	// Selector is nil when the policy has no workload selector. A selector
	// with no labels is treated like none, as Istio does.
	Selector map[string]string
	Mode     MTLSMode
	// PortModes maps workload (container) ports to their mode.
	PortModes map[uint32]MTLSMode
}

// HasSelector reports whether the policy is workload-specific.
func (pa *PeerAuthentication) HasSelector() bool { return len(pa.Selector) > 0 }

// Older reports whether pa wins over other when both apply at one level:
// the oldest wins, then the lower sequence, then name, then namespace.
func (pa *PeerAuthentication) Older(other *PeerAuthentication) bool {
	if !pa.Created.Equal(other.Created) {
		return pa.Created.Before(other.Created)
	}
	if pa.Seq != other.Seq {
		return pa.Seq < other.Seq
	}
	if pa.Name != other.Name {
		return pa.Name < other.Name
	}
	return pa.Namespace < other.Namespace
}

// SelectorMatches reports whether every key/value of selector is in labels.
func SelectorMatches(selector, labels map[string]string) bool {
	for k, v := range selector {
		if lv, ok := labels[k]; !ok || lv != v {
			return false
		}
	}
	return true
}

// Injector is what meshguard keeps of an Istio sidecar injector's
// MutatingWebhookConfiguration: the istio.io/rev values its webhooks select
// namespaces by (a revision's own injector, or a revision tag's). A namespace
// labelled istio.io/rev=X gets sidecars only if some injector serves X.
type Injector struct {
	Name      string
	Revisions []string
}

// injectorWebhook is the suffix of the webhooks Istio's injectors register
// (namespace.sidecar-injector.istio.io, rev.object.sidecar-injector.istio.io, ...).
const injectorWebhook = "sidecar-injector.istio.io"

// FromMutatingWebhookConfiguration returns the injector a configuration
// registers, or nil when none of its webhooks is Istio's sidecar injector.
func FromMutatingWebhookConfiguration(mwc *admissionregistrationv1.MutatingWebhookConfiguration) *Injector {
	var inj *Injector
	for _, w := range mwc.Webhooks {
		if !strings.HasSuffix(w.Name, injectorWebhook) {
			continue
		}
		if inj == nil {
			inj = &Injector{Name: mwc.Name}
		}
		for _, sel := range []*metav1.LabelSelector{w.NamespaceSelector, w.ObjectSelector} {
			if sel == nil {
				continue
			}
			if v, ok := sel.MatchLabels[revLabel]; ok {
				inj.Revisions = append(inj.Revisions, v)
			}
			for _, e := range sel.MatchExpressions {
				if e.Key == revLabel && e.Operator == metav1.LabelSelectorOpIn {
					inj.Revisions = append(inj.Revisions, e.Values...)
				}
			}
		}
	}
	if inj != nil {
		slices.Sort(inj.Revisions)
		inj.Revisions = slices.Compact(inj.Revisions)
	}
	return inj
}

// revLabel is Istio's revision label (istio.io/api/label IoIstioRev).
const revLabel = "istio.io/rev"
