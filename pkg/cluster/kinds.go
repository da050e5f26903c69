package cluster

import (
	"fmt"

	networkingv1 "istio.io/client-go/pkg/apis/networking/v1"
	securityv1 "istio.io/client-go/pkg/apis/security/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/selection"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/meshguard/meshguard/pkg/state"
)

// live is how one watched kind of state.Kinds is read from the API server:
// the typed object the informer and listing use, and its lean conversion.
type live struct {
	version string
	obj     func() client.Object
	list    func() client.ObjectList
	// lean turns what the cache or a listing holds into what the store
	// applies; nil when the store keeps nothing of it.
	lean func(runtime.Object) (*state.Object, error)
}

// liveKinds covers every watched kind of state.Kinds (a test holds it to
// that). Kinds read on demand (Secrets, ConfigMaps) are not here: they are
// read one object at a time (see TLSView) and never listed or watched.
var liveKinds = map[schema.GroupKind]live{
	{Kind: "Namespace"}: {"v1", func() client.Object { return &corev1.Namespace{} }, func() client.ObjectList { return &corev1.NamespaceList{} },
		func(o runtime.Object) (*state.Object, error) {
			return &state.Object{NS: state.FromNamespace(o.(*corev1.Namespace))}, nil
		}},
	{Kind: "Service"}: {"v1", func() client.Object { return &corev1.Service{} }, func() client.ObjectList { return &corev1.ServiceList{} },
		func(o runtime.Object) (*state.Object, error) {
			return &state.Object{Service: state.FromService(o.(*corev1.Service))}, nil
		}},
	{Kind: "Pod"}: {"v1", func() client.Object { return &corev1.Pod{} }, func() client.ObjectList { return &corev1.PodList{} },
		func(o runtime.Object) (*state.Object, error) {
			switch p := o.(type) {
			case *state.Pod: // the informer's transform made it lean already
				return &state.Object{Pod: p}, nil
			case *corev1.Pod:
				return &state.Object{Pod: state.FromPod(p)}, nil
			}
			return nil, fmt.Errorf("unexpected %T for a pod", o)
		}},
	{Group: state.GroupSecurity, Kind: "PeerAuthentication"}: {"v1",
		func() client.Object { return &securityv1.PeerAuthentication{} }, func() client.ObjectList { return &securityv1.PeerAuthenticationList{} },
		func(o runtime.Object) (*state.Object, error) {
			pa := o.(*securityv1.PeerAuthentication)
			return &state.Object{PA: state.FromPeerAuthenticationSpec(refOf(&pa.ObjectMeta), &pa.Spec)}, nil
		}},
	{Group: state.GroupSecurity, Kind: "AuthorizationPolicy"}: {"v1",
		func() client.Object { return &securityv1.AuthorizationPolicy{} }, func() client.ObjectList { return &securityv1.AuthorizationPolicyList{} },
		func(o runtime.Object) (*state.Object, error) {
			ap := o.(*securityv1.AuthorizationPolicy)
			return &state.Object{AuthorizationPolicy: state.FromAuthorizationPolicySpec(refOf(&ap.ObjectMeta), ap.Annotations, &ap.Spec)}, nil
		}},
	{Group: state.GroupNetworking, Kind: "DestinationRule"}: {"v1",
		func() client.Object { return &networkingv1.DestinationRule{} }, func() client.ObjectList { return &networkingv1.DestinationRuleList{} },
		func(o runtime.Object) (*state.Object, error) {
			dr := o.(*networkingv1.DestinationRule)
			return &state.Object{DR: state.FromDestinationRuleSpec(refOf(&dr.ObjectMeta), &dr.Spec)}, nil
		}},
	{Group: state.GroupNetworking, Kind: "VirtualService"}: {"v1",
		func() client.Object { return &networkingv1.VirtualService{} }, func() client.ObjectList { return &networkingv1.VirtualServiceList{} },
		func(o runtime.Object) (*state.Object, error) {
			vs := o.(*networkingv1.VirtualService)
			return &state.Object{VS: state.FromVirtualServiceSpec(refOf(&vs.ObjectMeta), &vs.Spec)}, nil
		}},
	{Group: state.GroupNetworking, Kind: "Gateway"}: {"v1",
		func() client.Object { return &networkingv1.Gateway{} }, func() client.ObjectList { return &networkingv1.GatewayList{} },
		func(o runtime.Object) (*state.Object, error) {
			gw := o.(*networkingv1.Gateway)
			return &state.Object{Gateway: state.FromGatewaySpec(refOf(&gw.ObjectMeta), &gw.Spec)}, nil
		}},
	{Group: state.GroupNetworking, Kind: "ServiceEntry"}: {"v1",
		func() client.Object { return &networkingv1.ServiceEntry{} }, func() client.ObjectList { return &networkingv1.ServiceEntryList{} },
		func(o runtime.Object) (*state.Object, error) {
			se := o.(*networkingv1.ServiceEntry)
			return &state.Object{ServiceEntry: state.FromServiceEntrySpec(refOf(&se.ObjectMeta), &se.Spec)}, nil
		}},
	{Group: state.GroupNetworking, Kind: "Sidecar"}: {"v1",
		func() client.Object { return &networkingv1.Sidecar{} }, func() client.ObjectList { return &networkingv1.SidecarList{} },
		func(o runtime.Object) (*state.Object, error) {
			sc := o.(*networkingv1.Sidecar)
			return &state.Object{Sidecar: state.FromSidecarSpec(refOf(&sc.ObjectMeta), &sc.Spec)}, nil
		}},
	// Read unstructured: meshguard does not link the Gateway API's types.
	{Group: state.GroupGatewayAPI, Kind: "Gateway"}: {KubeGatewayGVK.Version,
		func() client.Object {
			u := &unstructured.Unstructured{}
			u.SetGroupVersionKind(KubeGatewayGVK)
			return u
		},
		func() client.ObjectList {
			l := &unstructured.UnstructuredList{}
			l.SetGroupVersionKind(KubeGatewayGVK.GroupVersion().WithKind("GatewayList"))
			return l
		},
		func(o runtime.Object) (*state.Object, error) {
			gw, err := kubeGatewayFrom(o.(*unstructured.Unstructured))
			if err != nil {
				return nil, err
			}
			return &state.Object{KubeGateway: gw}, nil
		}},
	{Group: state.GroupGatewayAPI, Kind: state.KindHTTPRoute}: unstructuredKind(HTTPRouteGVK, func(u *unstructured.Unstructured, spec *state.HTTPRouteSpec) *state.Object {
		return &state.Object{Route: state.FromHTTPRouteSpec(unstructuredRef(u), spec)}
	}),
	{Group: state.GroupGatewayAPI, Kind: state.KindGRPCRoute}: unstructuredKind(GRPCRouteGVK, func(u *unstructured.Unstructured, spec *state.GRPCRouteSpec) *state.Object {
		return &state.Object{Route: state.FromGRPCRouteSpec(unstructuredRef(u), spec)}
	}),
	{Group: state.GroupGatewayAPI, Kind: "ReferenceGrant"}: unstructuredKind(ReferenceGrantGVK, func(u *unstructured.Unstructured, spec *state.ReferenceGrantSpec) *state.Object {
		return &state.Object{ReferenceGrant: state.FromReferenceGrantSpec(unstructuredRef(u), spec)}
	}),
	{Group: state.GroupNetworking, Kind: "WorkloadEntry"}: {"v1",
		func() client.Object { return &networkingv1.WorkloadEntry{} }, func() client.ObjectList { return &networkingv1.WorkloadEntryList{} },
		func(o runtime.Object) (*state.Object, error) {
			we := o.(*networkingv1.WorkloadEntry)
			healthy := ""
			for _, c := range we.Status.Conditions {
				if c.GetType() == "Healthy" {
					healthy = c.GetStatus()
				}
			}
			return &state.Object{WorkloadEntry: state.FromWorkloadEntrySpec(refOf(&we.ObjectMeta), we.Annotations, &we.Spec, healthy)}, nil
		}},
	{Group: state.GroupDiscovery, Kind: "EndpointSlice"}: {"v1",
		func() client.Object { return &discoveryv1.EndpointSlice{} }, func() client.ObjectList { return &discoveryv1.EndpointSliceList{} },
		func(o runtime.Object) (*state.Object, error) {
			if es := state.FromEndpointSlice(o.(*discoveryv1.EndpointSlice)); es != nil {
				return &state.Object{EndpointSlice: es}, nil
			}
			return nil, nil
		}},
}

func init() {
	for gk, l := range callerReaders {
		liveKinds[gk] = l
	}
}

// selectors narrow the watch and the listing of a kind on the server side to
// the objects the store keeps (a kind not here: all of them).
var selectors = map[schema.GroupKind]labels.Selector{
	{Group: state.GroupDiscovery, Kind: "EndpointSlice"}: notControllerManaged,
}

// notControllerManaged selects the EndpointSlices the store keeps: not those
// of Kubernetes' endpoint-slice controller (state.FromEndpointSlice), so
// neither the cache nor a listing ever holds one per selected pod.
var notControllerManaged = labels.NewSelector().Add(mustRequirement(state.ManagedByLabel, selection.NotEquals, state.ControllerManaged))

func mustRequirement(key string, op selection.Operator, value string) labels.Requirement {
	r, err := labels.NewRequirement(key, op, []string{value})
	if err != nil {
		panic(err) // constant arguments
	}
	return *r
}

// liveKind returns how kind k is read live.
func liveKind(k state.Kind) (live, error) {
	l, ok := liveKinds[schema.GroupKind{Group: k.Group, Kind: k.Kind}]
	if !ok {
		return live{}, fmt.Errorf("internal error: no live reader for %s", k)
	}
	return l, nil
}

// The Gateway API versions meshguard reads HTTPRoutes, GRPCRoutes and ReferenceGrants
// in (v1beta1 HTTPRoutes carry the same spec; the API server converts).
var (
	HTTPRouteGVK      = schema.GroupVersionKind{Group: state.GroupGatewayAPI, Version: "v1", Kind: state.KindHTTPRoute}
	GRPCRouteGVK      = schema.GroupVersionKind{Group: state.GroupGatewayAPI, Version: "v1", Kind: state.KindGRPCRoute}
	ReferenceGrantGVK = schema.GroupVersionKind{Group: state.GroupGatewayAPI, Version: "v1beta1", Kind: "ReferenceGrant"}
)

// unstructuredRef is the reference of a namespaced object read unstructured.
func unstructuredRef(u *unstructured.Unstructured) state.ObjectRef {
	return state.ObjectRef{Group: u.GroupVersionKind().Group, Kind: u.GetKind(), Namespace: u.GetNamespace(), Name: u.GetName(), Created: u.GetCreationTimestamp().Time}
}
