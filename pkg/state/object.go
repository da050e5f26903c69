package state

import (
	corev1 "k8s.io/api/core/v1"

	"github.com/meshguard/meshguard/pkg/trust"
)

// API groups of the kinds meshguard reviews.
const (
	GroupSecurity   = "security.istio.io"
	GroupNetworking = "networking.istio.io"
	// GroupGatewayAPI is the Kubernetes Gateway API, whose Gateways a
	// VirtualService may bind by name as well as Istio's.
	GroupGatewayAPI = "gateway.networking.k8s.io"
	GroupAdmission  = "admissionregistration.k8s.io"
)

// Object is one decoded object. Exactly one of the typed fields is set for
// the kinds meshguard keeps; other kinds carry only Ref.
type Object struct {
	Ref         ObjectRef
	APIVersion  string
	Annotations map[string]string
	NS          *Namespace
	Pod         *Pod
	Service     *Service
	PA          *PeerAuthentication
	DR          *DestinationRule
	VS          *VirtualService
	Gateway     *Gateway
	// KubeGateway is a Gateway API Gateway.
	KubeGateway *Gateway
	// AuthorizationPolicy is the lean AuthorizationPolicy.
	AuthorizationPolicy *AuthorizationPolicy
	// ServiceEntry is the lean ServiceEntry.
	ServiceEntry *ServiceEntry
	// Route is a Gateway API HTTPRoute or GRPCRoute in the one route form
	// (its Kind says which).
	Route *VirtualService
	// ReferenceGrant is a Gateway API ReferenceGrant.
	ReferenceGrant *ReferenceGrant
	// Sidecar is the lean Sidecar.
	Sidecar *Sidecar
	// EndpointSlice is a slice Kubernetes' endpoint-slice controller did
	// not make (see FromEndpointSlice).
	EndpointSlice *EndpointSlice
	// WorkloadEntry is a VM or other workload outside Kubernetes.
	WorkloadEntry *WorkloadEntry
	// Injector is an Istio sidecar injector's MutatingWebhookConfiguration,
	// reduced to the revisions it serves.
	Injector *Injector
	// Caller is what a webhook configuration, APIService or CRD makes the
	// kube-apiserver call (a MutatingWebhookConfiguration carries it beside
	// its Injector).
	Caller *APIServerCaller
	// Material summarises a Secret holding TLS material; the Secret's data,
	// private keys included, is not kept.
	Material *trust.Material
	// Root is the mesh root of an istio-ca-root-cert ConfigMap.
	Root *trust.Root
}

// Kept reports whether the object was decoded into one of the typed fields
// (a kind of Kinds), not left a bare reference.
func (o *Object) Kept() bool {
	return o.NS != nil || o.Pod != nil || o.Service != nil || o.PA != nil || o.DR != nil || o.VS != nil ||
		o.Gateway != nil || o.KubeGateway != nil || o.ServiceEntry != nil || o.Route != nil || o.ReferenceGrant != nil || o.Sidecar != nil || o.AuthorizationPolicy != nil || o.Injector != nil || o.Caller != nil || o.Material != nil || o.Root != nil ||
		o.EndpointSlice != nil || o.WorkloadEntry != nil
}

// Reviewed reports whether the object is of a kind meshguard reviews on
// write (Kinds marks them) and was decoded.
func (o *Object) Reviewed() bool {
	k, ok := KindOf(o.Ref.Group, o.Ref.Kind)
	return ok && k.Reviewed && o.Kept()
}

// InspectSecret summarises a Secret's TLS material, or returns nil when it
// holds none. The data (and any private key in it) is not retained.
func InspectSecret(sec *corev1.Secret) *trust.Material {
	data := map[string][]byte{}
	for k, v := range sec.Data {
		data[k] = v
	}
	for k, v := range sec.StringData {
		data[k] = []byte(v)
	}
	for _, k := range []string{"tls.crt", "cert", "ca.crt", "cacert"} {
		if len(data[k]) > 0 {
			return trust.Inspect("Secret "+sec.Namespace+"/"+sec.Name, data)
		}
	}
	return &trust.Material{Source: "Secret " + sec.Namespace + "/" + sec.Name}
}

// MeshRoot reads the mesh root from an istio-ca-root-cert ConfigMap.
// An empty or unparsable root-cert.pem is not bad input: it is a Root with a
// Problem, reported by MG403 on the rules that rely on it.
func MeshRoot(cm *corev1.ConfigMap) *trust.Root {
	root := &trust.Root{Source: "ConfigMap " + cm.Namespace + "/" + cm.Name}
	certs, err := trust.ParseBundle([]byte(cm.Data[trust.MeshRootKey]))
	switch {
	case err != nil:
		root.Problem = trust.MeshRootKey + ": " + err.Error()
	case len(certs) == 0:
		root.Problem = trust.MeshRootKey + " holds no certificate"
	default:
		root.Certs = certs
	}
	return root
}
