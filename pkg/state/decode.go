package state

import (
	"bytes"
	"encoding/json"
	"fmt"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	"strings"

	"github.com/golang/protobuf/jsonpb" //nolint:staticcheck // Istio's API types are generated for this package.
	"github.com/golang/protobuf/proto"  //nolint:staticcheck // as above
	networkingv1alpha3 "istio.io/api/networking/v1alpha3"
	securityv1beta1 "istio.io/api/security/v1beta1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

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
	// ServiceEntry is the lean ServiceEntry.
	ServiceEntry *ServiceEntry
	// Injector is an Istio sidecar injector's MutatingWebhookConfiguration,
	// reduced to the revisions it serves.
	Injector *Injector
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
		o.Gateway != nil || o.KubeGateway != nil || o.ServiceEntry != nil || o.Injector != nil || o.Material != nil || o.Root != nil
}

// Reviewed reports whether the object is of a kind meshguard reviews on write.
func (o *Object) Reviewed() bool {
	return o.PA != nil || o.DR != nil || o.VS != nil
}

// envelope is what every kind is read through: the metadata rules use and
// the spec and status left raw, so that each object is scanned once and
// only its kind's fields are decoded.
type envelope struct {
	APIVersion string          `json:"apiVersion"`
	Kind       string          `json:"kind"`
	Metadata   objectMeta      `json:"metadata"`
	Spec       json.RawMessage `json:"spec"`
	Status     json.RawMessage `json:"status"`
	// Items are a List's.
	Items []json.RawMessage `json:"items"`
}

type objectMeta struct {
	Name              string            `json:"name"`
	Namespace         string            `json:"namespace"`
	ResourceVersion   string            `json:"resourceVersion"`
	Labels            map[string]string `json:"labels"`
	Annotations       map[string]string `json:"annotations"`
	CreationTimestamp metav1.Time       `json:"creationTimestamp"`
	OwnerReferences   []ownerFields     `json:"ownerReferences"`
}

// The parts of a Pod and a Service that their lean forms keep.
type (
	podSpec struct {
		HostNetwork    bool            `json:"hostNetwork"`
		Containers     []containerSpec `json:"containers"`
		InitContainers []containerSpec `json:"initContainers"`
	}
	containerSpec struct {
		Name  string `json:"name"`
		Ports []struct {
			Name          string `json:"name"`
			ContainerPort int32  `json:"containerPort"`
		} `json:"ports"`
	}
	podStatus struct {
		Phase      corev1.PodPhase   `json:"phase"`
		Conditions []conditionFields `json:"conditions"`
	}
	serviceSpec struct {
		Selector    map[string]string    `json:"selector"`
		Ports       []corev1.ServicePort `json:"ports"`
		Type        corev1.ServiceType   `json:"type"`
		ExternalIPs []string             `json:"externalIPs"`
	}
)

func containers(specs []containerSpec) []containerFields {
	out := make([]containerFields, len(specs))
	for i, c := range specs {
		out[i].Name = c.Name
		for _, p := range c.Ports {
			out[i].Ports = append(out[i].Ports, NamedPort{Name: p.Name, Port: p.ContainerPort})
		}
	}
	return out
}

// strict rejects unknown fields in Istio specs, so that a typo (mdoe: STRICT)
// is reported instead of silently meaning UNSET. It stays golang/protobuf's
// jsonpb rather than protojson on purpose: jsonpb reads Durations with
// time.ParseDuration ("500ms", "3m"), as Istio accepts them, where protojson
// takes only seconds ("0.5s") and would refuse valid VirtualServices.
var strict = jsonpb.Unmarshaler{AllowUnknownFields: false}

func unmarshalPart(raw json.RawMessage, into any) error {
	if len(raw) == 0 {
		return nil
	}
	return json.Unmarshal(raw, into)
}

// Decode reads one JSON object. Errors name the field that is wrong.
func Decode(data []byte) (*Object, error) { return decode(data, "") }

// decode reads one JSON object; a namespaced object without a namespace is
// put in defaultNS (when not empty), as kubectl does.
func decode(data []byte, defaultNS string) (*Object, error) {
	var env envelope
	if err := json.Unmarshal(data, &env); err != nil {
		return nil, fmt.Errorf("not a Kubernetes object: %w", err)
	}
	return build(&env, data, defaultNS)
}

// build makes the object from its envelope; data is the whole object, for
// the rare kinds decoded in full (Secrets, the mesh root ConfigMap).
func build(env *envelope, data []byte, defaultNS string) (*Object, error) {
	if env.Metadata.Namespace == "" && env.Kind != "Namespace" {
		env.Metadata.Namespace = defaultNS
	}
	if env.Kind == "" {
		return nil, fmt.Errorf("kind: missing")
	}
	if env.APIVersion == "" {
		return nil, fmt.Errorf("apiVersion: missing")
	}
	if env.Metadata.Name == "" {
		return nil, fmt.Errorf("metadata.name: missing in %s", env.Kind)
	}
	gv, err := schema.ParseGroupVersion(env.APIVersion)
	if err != nil {
		return nil, fmt.Errorf("apiVersion: %w", err)
	}
	o := &Object{
		APIVersion:  env.APIVersion,
		Annotations: env.Metadata.Annotations,
		Ref: ObjectRef{Group: gv.Group, Kind: env.Kind, Namespace: env.Metadata.Namespace,
			Name: env.Metadata.Name, Created: env.Metadata.CreationTimestamp.Time},
	}
	switch {
	case gv.Group == "" && env.Kind == "Pod":
		var spec podSpec
		var status podStatus
		if err := unmarshalPart(env.Spec, &spec); err != nil {
			return nil, fmt.Errorf("Pod %s: spec: %w", env.Metadata.Name, err)
		}
		if err := unmarshalPart(env.Status, &status); err != nil {
			return nil, fmt.Errorf("Pod %s: status: %w", env.Metadata.Name, err)
		}
		m := &env.Metadata
		f := podFields{Namespace: m.Namespace, Name: m.Name, ResourceVersion: m.ResourceVersion,
			Labels: m.Labels, Annotations: m.Annotations, HostNetwork: spec.HostNetwork,
			Containers: containers(spec.Containers), InitContainers: containers(spec.InitContainers),
			Phase: status.Phase, Conditions: status.Conditions, Owners: m.OwnerReferences}
		o.Pod = f.lean()
		o.Annotations = nil // kept in the lean pod's flags; a cached export holds 100k of them
	case gv.Group == "" && env.Kind == "Service":
		var spec serviceSpec
		if err := unmarshalPart(env.Spec, &spec); err != nil {
			return nil, fmt.Errorf("Service %s: spec: %w", env.Metadata.Name, err)
		}
		o.Service = FromService(&corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: env.Metadata.Namespace, Name: env.Metadata.Name},
			Spec: corev1.ServiceSpec{Selector: spec.Selector, Ports: spec.Ports, Type: spec.Type, ExternalIPs: spec.ExternalIPs}})
	case gv.Group == "" && env.Kind == "Secret":
		var sec corev1.Secret
		if err := json.Unmarshal(data, &sec); err != nil {
			return nil, fmt.Errorf("Secret %s: %w", env.Metadata.Name, err)
		}
		sec.Namespace = env.Metadata.Namespace
		o.Material = InspectSecret(&sec)
	case gv.Group == "" && env.Kind == "ConfigMap" && env.Metadata.Name == trust.MeshRootConfigMap:
		var cm corev1.ConfigMap
		if err := json.Unmarshal(data, &cm); err != nil {
			return nil, fmt.Errorf("ConfigMap %s: %w", env.Metadata.Name, err)
		}
		cm.Namespace = env.Metadata.Namespace
		o.Root = MeshRoot(&cm)
	case gv.Group == GroupAdmission && env.Kind == "MutatingWebhookConfiguration":
		var mwc admissionregistrationv1.MutatingWebhookConfiguration
		if err := json.Unmarshal(data, &mwc); err != nil {
			return nil, fmt.Errorf("MutatingWebhookConfiguration %s: %w", env.Metadata.Name, err)
		}
		o.Injector = FromMutatingWebhookConfiguration(&mwc)
	case gv.Group == "" && env.Kind == "Namespace":
		o.NS = &Namespace{Name: env.Metadata.Name, Labels: env.Metadata.Labels}
	case gv.Group == GroupSecurity && env.Kind == "PeerAuthentication":
		spec := &securityv1beta1.PeerAuthentication{}
		if err := decodeSpec(gv, securityVersions, *env, spec); err != nil {
			return nil, err
		}
		o.PA = FromPeerAuthenticationSpec(o.Ref, spec)
	case gv.Group == GroupNetworking && env.Kind == "DestinationRule":
		spec := &networkingv1alpha3.DestinationRule{}
		if err := decodeSpec(gv, networkingVersions, *env, spec); err != nil {
			return nil, err
		}
		o.DR = FromDestinationRuleSpec(o.Ref, spec)
	case gv.Group == GroupNetworking && env.Kind == "VirtualService":
		spec := &networkingv1alpha3.VirtualService{}
		if err := decodeSpec(gv, networkingVersions, *env, spec); err != nil {
			return nil, err
		}
		o.VS = FromVirtualServiceSpec(o.Ref, spec)
	case gv.Group == GroupGatewayAPI && env.Kind == "Gateway":
		var spec KubeGatewaySpec
		if len(env.Spec) > 0 {
			if err := json.Unmarshal(env.Spec, &spec); err != nil {
				return nil, fmt.Errorf("spec: %w", err)
			}
		}
		o.KubeGateway = FromKubeGatewaySpec(o.Ref, &spec)
	case gv.Group == GroupNetworking && env.Kind == "Gateway":
		spec := &networkingv1alpha3.Gateway{}
		if err := decodeSpec(gv, networkingVersions, *env, spec); err != nil {
			return nil, err
		}
		o.Gateway = FromGatewaySpec(o.Ref, spec)
	case gv.Group == GroupNetworking && env.Kind == "ServiceEntry":
		spec := &networkingv1alpha3.ServiceEntry{}
		if err := decodeSpec(gv, networkingVersions, *env, spec); err != nil {
			return nil, err
		}
		o.ServiceEntry = FromServiceEntrySpec(o.Ref, spec)
	}
	return o, nil
}

func decodeSpec(gv schema.GroupVersion, served []string, env envelope, into proto.Message) error {
	supported := false
	for _, v := range served {
		supported = supported || v == gv.Version
	}
	if !supported {
		return fmt.Errorf("apiVersion: %s %s is not served (want %s/%s)", gv, env.Kind, gv.Group, strings.Join(served, ", "))
	}
	if len(env.Spec) == 0 || string(env.Spec) == "null" {
		return nil
	}
	if err := strict.Unmarshal(bytes.NewReader(env.Spec), into); err != nil {
		return fmt.Errorf("spec: %s", strings.TrimPrefix(err.Error(), "proto: "))
	}
	return nil
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
