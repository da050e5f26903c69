// Package manifest reads manifests and state files into state.Objects:
// files and streams split into documents and List items, JSON by a byte
// scanner, block YAML by a fast converter that leaves anything unusual to
// sigs.k8s.io/yaml, and each unit decoded on every core straight to the lean
// forms of pkg/state. The admission handler decodes reviewed objects with
// the same Decode.
package manifest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/golang/protobuf/jsonpb" //nolint:staticcheck // Istio's API types are generated for this package.
	"github.com/golang/protobuf/proto"  //nolint:staticcheck // as above
	networkingv1alpha3 "istio.io/api/networking/v1alpha3"
	securityv1beta1 "istio.io/api/security/v1beta1"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/meshguard/meshguard/pkg/state"
	"github.com/meshguard/meshguard/pkg/trust"
)

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
	Name              string              `json:"name"`
	Namespace         string              `json:"namespace"`
	ResourceVersion   string              `json:"resourceVersion"`
	Labels            map[string]string   `json:"labels"`
	Annotations       map[string]string   `json:"annotations"`
	CreationTimestamp metav1.Time         `json:"creationTimestamp"`
	OwnerReferences   []state.OwnerFields `json:"ownerReferences"`
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
		Phase      corev1.PodPhase         `json:"phase"`
		Conditions []state.ConditionFields `json:"conditions"`
	}
	serviceSpec struct {
		Selector    map[string]string    `json:"selector"`
		Ports       []corev1.ServicePort `json:"ports"`
		Type        corev1.ServiceType   `json:"type"`
		ExternalIPs []string             `json:"externalIPs"`
	}
)

func containers(specs []containerSpec) []state.ContainerFields {
	out := make([]state.ContainerFields, len(specs))
	for i, c := range specs {
		out[i].Name = c.Name
		for _, p := range c.Ports {
			out[i].Ports = append(out[i].Ports, state.NamedPort{Name: p.Name, Port: p.ContainerPort})
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
func Decode(data []byte) (*state.Object, error) { return decode(data, "") }

// decode reads one JSON object; a namespaced object without a namespace is
// put in defaultNS (when not empty), as kubectl does.
func decode(data []byte, defaultNS string) (*state.Object, error) {
	var env envelope
	if err := json.Unmarshal(data, &env); err != nil {
		return nil, fmt.Errorf("not a Kubernetes object: %w", err)
	}
	return build(&env, data, defaultNS)
}

// build makes the object from its envelope; data is the whole object, for
// the rare kinds decoded in full (Secrets, the mesh root ConfigMap).
func build(env *envelope, data []byte, defaultNS string) (*state.Object, error) {
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
	o := &state.Object{
		APIVersion:  env.APIVersion,
		Annotations: env.Metadata.Annotations,
		Ref: state.ObjectRef{Group: gv.Group, Kind: env.Kind, Namespace: env.Metadata.Namespace,
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
		f := state.PodFields{Namespace: m.Namespace, Name: m.Name, ResourceVersion: m.ResourceVersion,
			Labels: m.Labels, Annotations: m.Annotations, HostNetwork: spec.HostNetwork,
			Containers: containers(spec.Containers), InitContainers: containers(spec.InitContainers),
			Phase: status.Phase, Conditions: status.Conditions, Owners: m.OwnerReferences}
		o.Pod = f.Lean()
		o.Annotations = nil // kept in the lean pod's flags; a cached export holds 100k of them
	case gv.Group == "" && env.Kind == "Service":
		var spec serviceSpec
		if err := unmarshalPart(env.Spec, &spec); err != nil {
			return nil, fmt.Errorf("Service %s: spec: %w", env.Metadata.Name, err)
		}
		o.Service = state.FromService(&corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: env.Metadata.Namespace, Name: env.Metadata.Name},
			Spec: corev1.ServiceSpec{Selector: spec.Selector, Ports: spec.Ports, Type: spec.Type, ExternalIPs: spec.ExternalIPs}})
	case gv.Group == "" && env.Kind == "Secret":
		var sec corev1.Secret
		if err := json.Unmarshal(data, &sec); err != nil {
			return nil, fmt.Errorf("Secret %s: %w", env.Metadata.Name, err)
		}
		sec.Namespace = env.Metadata.Namespace
		o.Material = state.InspectSecret(&sec)
	case gv.Group == "" && env.Kind == "ConfigMap" && env.Metadata.Name == trust.MeshRootConfigMap:
		var cm corev1.ConfigMap
		if err := json.Unmarshal(data, &cm); err != nil {
			return nil, fmt.Errorf("ConfigMap %s: %w", env.Metadata.Name, err)
		}
		cm.Namespace = env.Metadata.Namespace
		o.Root = state.MeshRoot(&cm)
	case gv.Group == state.GroupAdmission && env.Kind == "MutatingWebhookConfiguration":
		var mwc admissionregistrationv1.MutatingWebhookConfiguration
		if err := json.Unmarshal(data, &mwc); err != nil {
			return nil, fmt.Errorf("MutatingWebhookConfiguration %s: %w", env.Metadata.Name, err)
		}
		o.Injector = state.FromMutatingWebhookConfiguration(&mwc)
	case gv.Group == "" && env.Kind == "Namespace":
		o.NS = &state.Namespace{Name: env.Metadata.Name, Labels: env.Metadata.Labels}
	case gv.Group == state.GroupSecurity && env.Kind == "PeerAuthentication":
		spec := &securityv1beta1.PeerAuthentication{}
		if err := decodeSpec(gv, *env, spec); err != nil {
			return nil, err
		}
		o.PA = state.FromPeerAuthenticationSpec(o.Ref, spec)
	case gv.Group == state.GroupNetworking && env.Kind == "DestinationRule":
		spec := &networkingv1alpha3.DestinationRule{}
		if err := decodeSpec(gv, *env, spec); err != nil {
			return nil, err
		}
		o.DR = state.FromDestinationRuleSpec(o.Ref, spec)
	case gv.Group == state.GroupNetworking && env.Kind == "VirtualService":
		spec := &networkingv1alpha3.VirtualService{}
		if err := decodeSpec(gv, *env, spec); err != nil {
			return nil, err
		}
		o.VS = state.FromVirtualServiceSpec(o.Ref, spec)
	case gv.Group == state.GroupGatewayAPI && env.Kind == "Gateway":
		var spec state.KubeGatewaySpec
		if len(env.Spec) > 0 {
			if err := json.Unmarshal(env.Spec, &spec); err != nil {
				return nil, fmt.Errorf("spec: %w", err)
			}
		}
		o.KubeGateway = state.FromKubeGatewaySpec(o.Ref, &spec)
	case gv.Group == state.GroupNetworking && env.Kind == "Gateway":
		spec := &networkingv1alpha3.Gateway{}
		if err := decodeSpec(gv, *env, spec); err != nil {
			return nil, err
		}
		o.Gateway = state.FromGatewaySpec(o.Ref, spec)
	case gv.Group == state.GroupNetworking && env.Kind == "ServiceEntry":
		spec := &networkingv1alpha3.ServiceEntry{}
		if err := decodeSpec(gv, *env, spec); err != nil {
			return nil, err
		}
		o.ServiceEntry = state.FromServiceEntrySpec(o.Ref, spec)
	}
	return o, nil
}

// decodeSpec reads an Istio kind's spec in any version state.Kinds lists as
// served (every one carries the same spec).
func decodeSpec(gv schema.GroupVersion, env envelope, into proto.Message) error {
	kind, _ := state.KindOf(gv.Group, env.Kind)
	served := kind.Versions
	if !slices.Contains(served, gv.Version) {
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
