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
	discoveryv1 "k8s.io/api/discovery/v1"
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
		ServiceAccount string          `json:"serviceAccountName"`
		Containers     []containerSpec `json:"containers"`
		InitContainers []containerSpec `json:"initContainers"`
	}
	containerSpec struct {
		Name string   `json:"name"`
		Args []string `json:"args"`
		Env  []struct {
			Name  string `json:"name"`
			Value string `json:"value"`
		} `json:"env"`
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
		if c.Name == state.ProxyContainerName {
			out[i].Args = c.Args
			for _, e := range c.Env {
				out[i].NetworkView = out[i].NetworkView || e.Name == state.RequestedNetworkView && e.Value != ""
			}
		}
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
// the rare kinds decoded in full (Secrets, the mesh root ConfigMap). Kinds
// meshguard does not read carry only their Ref. An error names the object.
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
	fill, ok := decoders[schema.GroupKind{Group: gv.Group, Kind: env.Kind}]
	if !ok || env.Kind == "ConfigMap" && env.Metadata.Name != trust.MeshRootConfigMap {
		return o, nil
	}
	if err := fill(o, gv, env, data); err != nil {
		name := env.Metadata.Name
		if env.Metadata.Namespace != "" {
			name = env.Metadata.Namespace + "/" + name
		}
		return nil, fmt.Errorf("%s %s: %w", env.Kind, name, err)
	}
	return o, nil
}

// decoders fill an object's typed field from its envelope, one per kind of
// state.Kinds (a test holds them to the table).
var decoders = map[schema.GroupKind]func(o *state.Object, gv schema.GroupVersion, env *envelope, data []byte) error{
	{Kind: "Pod"}: func(o *state.Object, _ schema.GroupVersion, env *envelope, _ []byte) error {
		var spec podSpec
		var status podStatus
		if err := unmarshalPart(env.Spec, &spec); err != nil {
			return fmt.Errorf("spec: %w", err)
		}
		if err := unmarshalPart(env.Status, &status); err != nil {
			return fmt.Errorf("status: %w", err)
		}
		m := &env.Metadata
		f := state.PodFields{Namespace: m.Namespace, Name: m.Name, ResourceVersion: m.ResourceVersion,
			Labels: m.Labels, Annotations: m.Annotations, HostNetwork: spec.HostNetwork,
			Containers: containers(spec.Containers), InitContainers: containers(spec.InitContainers),
			Phase: status.Phase, Conditions: status.Conditions, Owners: m.OwnerReferences, ServiceAccount: spec.ServiceAccount}
		o.Pod = f.Lean()
		o.Annotations = nil // kept in the lean pod's flags; a cached export holds 100k of them
		return nil
	},
	{Kind: "Service"}: func(o *state.Object, _ schema.GroupVersion, env *envelope, _ []byte) error {
		var spec serviceSpec
		if err := unmarshalPart(env.Spec, &spec); err != nil {
			return fmt.Errorf("spec: %w", err)
		}
		o.Service = state.FromService(&corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: env.Metadata.Namespace, Name: env.Metadata.Name},
			Spec: corev1.ServiceSpec{Selector: spec.Selector, Ports: spec.Ports, Type: spec.Type, ExternalIPs: spec.ExternalIPs}})
		return nil
	},
	{Kind: "Namespace"}: func(o *state.Object, _ schema.GroupVersion, env *envelope, _ []byte) error {
		o.NS = &state.Namespace{Name: env.Metadata.Name, Labels: env.Metadata.Labels}
		return nil
	},
	{Kind: "Secret"}: func(o *state.Object, _ schema.GroupVersion, env *envelope, data []byte) error {
		var sec corev1.Secret
		if err := json.Unmarshal(data, &sec); err != nil {
			return err
		}
		sec.Namespace = env.Metadata.Namespace
		o.Material = state.InspectSecret(&sec)
		return nil
	},
	// Only istio-ca-root-cert (build passes no other ConfigMap).
	{Kind: "ConfigMap"}: func(o *state.Object, _ schema.GroupVersion, env *envelope, data []byte) error {
		var cm corev1.ConfigMap
		if err := json.Unmarshal(data, &cm); err != nil {
			return err
		}
		cm.Namespace = env.Metadata.Namespace
		o.Root = state.MeshRoot(&cm)
		return nil
	},
	{Group: state.GroupNetworking, Kind: "WorkloadEntry"}: func(o *state.Object, gv schema.GroupVersion, env *envelope, _ []byte) error {
		spec := &networkingv1alpha3.WorkloadEntry{}
		if err := decodeSpec(gv, *env, spec); err != nil {
			return err
		}
		var status struct {
			Conditions []struct{ Type, Status string } `json:"conditions"`
		}
		if err := unmarshalPart(env.Status, &status); err != nil {
			return fmt.Errorf("status: %w", err)
		}
		healthy := ""
		for _, c := range status.Conditions {
			if c.Type == "Healthy" {
				healthy = c.Status
			}
		}
		o.WorkloadEntry = state.FromWorkloadEntrySpec(o.Ref, env.Metadata.Annotations, spec, healthy)
		return nil
	},
	{Group: state.GroupDiscovery, Kind: "EndpointSlice"}: func(o *state.Object, _ schema.GroupVersion, env *envelope, data []byte) error {
		var es discoveryv1.EndpointSlice
		if err := json.Unmarshal(data, &es); err != nil {
			return err
		}
		es.Namespace = env.Metadata.Namespace
		o.EndpointSlice = state.FromEndpointSlice(&es)
		return nil
	},
	{Group: state.GroupAdmission, Kind: state.MutatingWebhookConfiguration}: func(o *state.Object, _ schema.GroupVersion, _ *envelope, data []byte) error {
		var mwc admissionregistrationv1.MutatingWebhookConfiguration
		if err := json.Unmarshal(data, &mwc); err != nil {
			return err
		}
		o.Injector = state.FromMutatingWebhookConfiguration(&mwc)
		o.Caller = state.MutatingWebhookCalls(&mwc)
		return nil
	},
	{Group: state.GroupAdmission, Kind: state.ValidatingWebhookConfiguration}: func(o *state.Object, _ schema.GroupVersion, _ *envelope, data []byte) error {
		var vwc admissionregistrationv1.ValidatingWebhookConfiguration
		if err := json.Unmarshal(data, &vwc); err != nil {
			return err
		}
		o.Caller = state.FromValidatingWebhookConfiguration(&vwc)
		return nil
	},
	{Group: state.GroupAPIRegistration, Kind: state.APIService}: func(o *state.Object, _ schema.GroupVersion, env *envelope, _ []byte) error {
		var spec state.APIServiceSpec
		if err := unmarshalPart(env.Spec, &spec); err != nil {
			return fmt.Errorf("spec: %w", err)
		}
		o.Caller = state.FromAPIServiceSpec(env.Metadata.Name, &spec)
		return nil
	},
	// Only the conversion webhook of a CRD is read; its schemas are skipped
	// unparsed.
	{Group: state.GroupAPIExtensions, Kind: state.CustomResourceDefinition}: func(o *state.Object, _ schema.GroupVersion, env *envelope, _ []byte) error {
		var spec state.CRDSpec
		if err := unmarshalPart(env.Spec, &spec); err != nil {
			return fmt.Errorf("spec: %w", err)
		}
		o.Caller = state.FromCRDSpec(env.Metadata.Name, &spec)
		return nil
	},
	{Group: state.GroupSecurity, Kind: "PeerAuthentication"}: istioSpec(func(o *state.Object, spec *securityv1beta1.PeerAuthentication) {
		o.PA = state.FromPeerAuthenticationSpec(o.Ref, spec)
	}),
	{Group: state.GroupSecurity, Kind: "AuthorizationPolicy"}: istioSpec(func(o *state.Object, spec *securityv1beta1.AuthorizationPolicy) {
		o.AuthorizationPolicy = state.FromAuthorizationPolicySpec(o.Ref, o.Annotations, spec)
	}),
	{Group: state.GroupNetworking, Kind: "DestinationRule"}: istioSpec(func(o *state.Object, spec *networkingv1alpha3.DestinationRule) {
		o.DR = state.FromDestinationRuleSpec(o.Ref, spec)
	}),
	{Group: state.GroupNetworking, Kind: "VirtualService"}: istioSpec(func(o *state.Object, spec *networkingv1alpha3.VirtualService) {
		o.VS = state.FromVirtualServiceSpec(o.Ref, spec)
	}),
	{Group: state.GroupNetworking, Kind: "Gateway"}: istioSpec(func(o *state.Object, spec *networkingv1alpha3.Gateway) {
		o.Gateway = state.FromGatewaySpec(o.Ref, spec)
	}),
	{Group: state.GroupNetworking, Kind: "ServiceEntry"}: istioSpec(func(o *state.Object, spec *networkingv1alpha3.ServiceEntry) {
		o.ServiceEntry = state.FromServiceEntrySpec(o.Ref, spec)
	}),
	{Group: state.GroupNetworking, Kind: "Sidecar"}: istioSpec(func(o *state.Object, spec *networkingv1alpha3.Sidecar) {
		o.Sidecar = state.FromSidecarSpec(o.Ref, spec)
	}),
	{Group: state.GroupGatewayAPI, Kind: "Gateway"}: gatewaySpec(func(o *state.Object, spec *state.KubeGatewaySpec) {
		o.KubeGateway = state.FromKubeGatewaySpec(o.Ref, spec)
	}),
	{Group: state.GroupGatewayAPI, Kind: state.KindHTTPRoute}: gatewaySpec(func(o *state.Object, spec *state.HTTPRouteSpec) {
		o.Route = state.FromHTTPRouteSpec(o.Ref, spec)
	}),
	{Group: state.GroupGatewayAPI, Kind: state.KindGRPCRoute}: gatewaySpec(func(o *state.Object, spec *state.GRPCRouteSpec) {
		o.Route = state.FromGRPCRouteSpec(o.Ref, spec)
	}),
	{Group: state.GroupGatewayAPI, Kind: "ReferenceGrant"}: gatewaySpec(func(o *state.Object, spec *state.ReferenceGrantSpec) {
		o.ReferenceGrant = state.FromReferenceGrantSpec(o.Ref, spec)
	}),
}

// gatewaySpec decodes a Gateway API kind's spec (the same JSON in every
// served version) and keeps its lean form.
func gatewaySpec[T any](keep func(o *state.Object, spec *T)) func(*state.Object, schema.GroupVersion, *envelope, []byte) error {
	return func(o *state.Object, _ schema.GroupVersion, env *envelope, _ []byte) error {
		spec := new(T)
		if err := unmarshalPart(env.Spec, spec); err != nil {
			return fmt.Errorf("spec: %w", err)
		}
		keep(o, spec)
		return nil
	}
}

// istioSpec is the decoder of an Istio kind: its spec read (into a fresh
// message each time) in a served version, then kept by keep.
func istioSpec[T any, P interface {
	*T
	proto.Message
}](keep func(o *state.Object, spec P)) func(*state.Object, schema.GroupVersion, *envelope, []byte) error {
	return func(o *state.Object, gv schema.GroupVersion, env *envelope, _ []byte) error {
		spec := P(new(T))
		if err := decodeSpec(gv, *env, spec); err != nil {
			return err
		}
		keep(o, spec)
		return nil
	}
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
