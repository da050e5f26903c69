package state

// Access is how the webhook reads a kind from the live cluster.
type Access int

const (
	// Watched kinds are kept in step by an informer (get, list, watch).
	Watched Access = iota
	// WatchedIfServed kinds are watched when their CRD is installed and
	// skipped, not an error, when it is not (the Gateway API).
	WatchedIfServed
	// OnDemand kinds are read one object at a time during a review and never
	// cached (get only, never list or watch): Secrets and ConfigMaps, so that
	// no private key sits in memory and no cluster-wide listing of Secrets is
	// granted.
	OnDemand
)

// Kind is one kind of object meshguard reads: from manifests and state
// files, and from the live cluster. Kinds is the one table of them; the
// decoder, the store, the informers, the cluster listing and the chart's
// RBAC rules each cover every entry, and tests hold them to it (pkg/state,
// pkg/cluster, test/integration's chart tests).
type Kind struct {
	Group, Kind string
	// Resource is the plural resource name (RBAC, error messages).
	Resource string
	// Versions are the served versions meshguard decodes, oldest first;
	// for the Istio kinds every one carries the same spec.
	Versions []string
	// Namespaced is false for cluster-scoped kinds.
	Namespaced bool
	Access     Access
	// Reviewed kinds are judged on write (the webhook's rules, check's -f);
	// the others are state the judgement reads.
	Reviewed bool
}

// The kinds meshguard reads, by name (rules declare what they read with them).
var (
	// Namespaces and Services are state and, since issue 25, reviewed
	// writes too (MG8xx, and the path rules whose causes they bring).
	NamespaceKind           = Kind{Kind: "Namespace", Resource: "namespaces", Versions: []string{"v1"}, Access: Watched, Reviewed: true}
	ServiceKind             = Kind{Kind: "Service", Resource: "services", Versions: []string{"v1"}, Namespaced: true, Access: Watched, Reviewed: true}
	PodKind                 = Kind{Kind: "Pod", Resource: "pods", Versions: []string{"v1"}, Namespaced: true, Access: Watched}
	PeerAuthenticationKind  = Kind{Group: GroupSecurity, Kind: "PeerAuthentication", Resource: "peerauthentications", Versions: securityVersions, Namespaced: true, Access: Watched, Reviewed: true}
	DestinationRuleKind     = Kind{Group: GroupNetworking, Kind: "DestinationRule", Resource: "destinationrules", Versions: networkingVersions, Namespaced: true, Access: Watched, Reviewed: true}
	VirtualServiceKind      = Kind{Group: GroupNetworking, Kind: "VirtualService", Resource: "virtualservices", Versions: networkingVersions, Namespaced: true, Access: Watched, Reviewed: true}
	GatewayKind             = Kind{Group: GroupNetworking, Kind: "Gateway", Resource: "gateways", Versions: networkingVersions, Namespaced: true, Access: Watched, Reviewed: true}
	AuthorizationPolicyKind = Kind{Group: GroupSecurity, Kind: "AuthorizationPolicy", Resource: "authorizationpolicies", Versions: securityVersions, Namespaced: true, Access: Watched, Reviewed: true}
	ServiceEntryKind        = Kind{Group: GroupNetworking, Kind: "ServiceEntry", Resource: "serviceentries", Versions: networkingVersions, Namespaced: true, Access: Watched, Reviewed: true}
	SidecarKind             = Kind{Group: GroupNetworking, Kind: "Sidecar", Resource: "sidecars", Versions: networkingVersions, Namespaced: true, Access: Watched, Reviewed: true}
	// KubeGatewayKind is the Gateway API's Gateway: reviewed, since deleting
	// or narrowing one detaches the routes bound to it.
	KubeGatewayKind = Kind{Group: GroupGatewayAPI, Kind: "Gateway", Resource: "gateways", Versions: []string{"v1beta1", "v1"}, Namespaced: true, Access: WatchedIfServed, Reviewed: true}
	// HTTPRouteKind is the Gateway API's HTTPRoute, read in the one route
	// form (FromHTTPRouteSpec).
	HTTPRouteKind = Kind{Group: GroupGatewayAPI, Kind: KindHTTPRoute, Resource: "httproutes", Versions: []string{"v1beta1", "v1"}, Namespaced: true, Access: WatchedIfServed, Reviewed: true}
	// GRPCRouteKind is the Gateway API's GRPCRoute (served in v1 only since
	// Gateway API v1.1), read in the same route form (FromGRPCRouteSpec).
	GRPCRouteKind = Kind{Group: GroupGatewayAPI, Kind: KindGRPCRoute, Resource: "grpcroutes", Versions: []string{"v1"}, Namespaced: true, Access: WatchedIfServed, Reviewed: true}
	// GatewayRouteKinds are the Gateway API routes in the one route form.
	GatewayRouteKinds = []Kind{HTTPRouteKind, GRPCRouteKind}
	// ReferenceGrantKind: which cross-namespace backendRefs resolve;
	// reviewed, since deleting or narrowing one unresolves live routes.
	ReferenceGrantKind = Kind{Group: GroupGatewayAPI, Kind: "ReferenceGrant", Resource: "referencegrants", Versions: []string{"v1beta1", "v1"}, Namespaced: true, Access: WatchedIfServed, Reviewed: true}
	// InjectorKind: which istio.io/rev values an injector serves, and the
	// Services its webhooks (any configuration's, not only Istio's) make the
	// kube-apiserver call.
	InjectorKind = Kind{Group: GroupAdmission, Kind: MutatingWebhookConfiguration, Resource: "mutatingwebhookconfigurations", Versions: []string{"v1"}, Access: Watched}
	// The other objects that make the kube-apiserver call a Service, a
	// plaintext caller to Istio (see APIServerCall): validating webhooks,
	// aggregated APIs, CRD conversion webhooks. Only the Service references
	// are kept.
	ValidatingWebhookKind = Kind{Group: GroupAdmission, Kind: ValidatingWebhookConfiguration, Resource: "validatingwebhookconfigurations", Versions: []string{"v1"}, Access: Watched}
	APIServiceKind        = Kind{Group: GroupAPIRegistration, Kind: APIService, Resource: "apiservices", Versions: []string{"v1"}, Access: Watched}
	CRDKind               = Kind{Group: GroupAPIExtensions, Kind: CustomResourceDefinition, Resource: "customresourcedefinitions", Versions: []string{"v1"}, Access: Watched}
	// SecretKind: a DestinationRule's or Gateway's credentialName.
	SecretKind = Kind{Kind: "Secret", Resource: "secrets", Versions: []string{"v1"}, Namespaced: true, Access: OnDemand}
	// ConfigMapKind: istio-ca-root-cert, the mesh root; other ConfigMaps are not read.
	ConfigMapKind = Kind{Kind: "ConfigMap", Resource: "configmaps", Versions: []string{"v1"}, Namespaced: true, Access: OnDemand}
)

// Kinds are the kinds meshguard reads, in the order a listing of the live
// cluster loads them (namespaces before what lives in them).
var Kinds = []Kind{NamespaceKind, ServiceKind, PodKind, PeerAuthenticationKind, DestinationRuleKind, VirtualServiceKind,
	GatewayKind, ServiceEntryKind, SidecarKind, KubeGatewayKind, HTTPRouteKind, GRPCRouteKind, ReferenceGrantKind, AuthorizationPolicyKind, InjectorKind, ValidatingWebhookKind, APIServiceKind, CRDKind, SecretKind, ConfigMapKind, EndpointSliceKind, WorkloadEntryKind}

// APIServerCallerKinds are the kinds whose objects make the kube-apiserver
// call Services.
var APIServerCallerKinds = []Kind{InjectorKind, ValidatingWebhookKind, APIServiceKind, CRDKind}

// ReviewedKinds lists the names of the reviewed kinds (ObjectRef.ReviewKind),
// in table order.
func ReviewedKinds() []string {
	var out []string
	for _, k := range Kinds {
		if k.Reviewed {
			out = append(out, k.Ref("", "").ReviewKind())
		}
	}
	return out
}

// Same reports whether k and o are the same kind (group and kind).
func (k Kind) Same(o Kind) bool { return k.Group == o.Group && k.Kind == o.Kind }

// Served versions of the Istio kinds.
var (
	securityVersions   = []string{"v1beta1", "v1"}
	networkingVersions = []string{"v1alpha3", "v1beta1", "v1"}
)

// KindOf returns the table's entry for group and kind.
func KindOf(group, kind string) (Kind, bool) {
	for _, k := range Kinds {
		if k.Group == group && k.Kind == kind {
			return k, true
		}
	}
	return Kind{}, false
}

// Ref names an object of this kind.
func (k Kind) Ref(ns, name string) ObjectRef {
	return ObjectRef{Group: k.Group, Kind: k.Kind, Namespace: ns, Name: name}
}

// String is the kind as kubectl names it: "pods", "gateways.gateway.networking.k8s.io".
func (k Kind) String() string {
	if k.Group == "" {
		return k.Resource
	}
	return k.Resource + "." + k.Group
}
