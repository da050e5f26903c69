package rules

import (
	"fmt"
	"maps"
	"slices"

	"github.com/meshguard/meshguard/pkg/config"
)

// Entry describes one rule of the catalogue.
type Entry struct {
	ID          string
	Kind        string
	Title       string
	Default     Action
	Description string
	Fix         string
	// Retired rules keep their row so that IDs are never reused.
	Retired bool
}

// Catalogue lists every rule ID ever assigned. It backs `meshguard rules`,
// the README table and the meta-tests that keep rules and docs in step.
var Catalogue = []Entry{
	{
		ID: "MG101", Kind: KindPeerAuthentication, Default: Deny,
		Title:       "STRICT while plaintext callers remain",
		Description: "STRICT newly enforced by meshed servers across a namespace by its own policy while that namespace holds pods outside the mesh nobody opted out; the mesh-wide STRICT newly reaching a namespace (a PERMISSIVE override removed or unset), or mesh-wide STRICT itself, while such pods run anywhere, PERMISSIVE namespaces included. Pods without a proxy send plaintext, which the STRICT servers reject; gateways and waypoints enforce no PeerAuthentication. Callers that are no pods count at any level, workload policies and deleted exceptions included: clients outside the cluster through LoadBalancer, NodePort or externalIP Services, and the kube-apiserver, which calls the Services that Validating/MutatingWebhookConfigurations, APIServices and CRD conversion webhooks name (read for that, cluster-scoped) with TLS of its own, not Istio mTLS, so STRICT on their pods' target port breaks admission, an API group or a CRD cluster-wide.",
		Fix:         "Inject or enroll the listed pods (label the namespace, restart their owners) and keep the target PERMISSIVE until then; if they never call meshed workloads, opt them out with sidecar.istio.io/inject: \"false\". For the API server and outside callers, keep the target port PERMISSIVE (portLevelMtls in a PeerAuthentication selecting the pods) or exclude it from inbound interception.",
	},
	{
		ID: "MG102", Kind: KindPeerAuthentication, Default: Warn,
		Title:       "STRICT newly enforced beside plaintext callers",
		Description: "STRICT starts to be enforced while pods kept out of the mesh on purpose, pods outside the mesh in other namespaces, or a workload policy's unmeshed neighbours may call the workloads in plaintext.",
		Fix:         "Inject or enroll the calling pods, or confirm they never call the STRICT workloads.",
	},
	{
		ID: "MG103", Kind: KindPeerAuthentication, Default: Deny,
		Title:       "portLevelMtls key is not a workload port",
		Description: "A portLevelMtls key is no container (target) port of the selected pods; Service ports do not count.",
		Fix:         "Key portLevelMtls by the container port the Service targets.",
	},
	{
		ID: "MG104", Kind: KindPeerAuthentication, Default: Warn,
		Title:       "Workload selector matches no pod",
		Description: "The policy's selector selects no pod in its namespace, so it applies to nothing.",
		Fix:         "Check the selector labels against the pods' labels.",
	},
	{
		ID: "MG105", Kind: KindPeerAuthentication, Default: Deny,
		Title:       "Conflicting policies at one level",
		Description: "A second namespace-wide (or mesh-wide) policy in one namespace, or a second policy selecting the same workloads: Istio silently keeps only the oldest.",
		Fix:         "Edit the existing policy instead of adding another.",
	},
	{
		ID: "MG106", Kind: KindPeerAuthentication, Default: Warn,
		Title:       "mTLS weakened",
		Description: "Mesh- or namespace-wide DISABLE, STRICT lowered to PERMISSIVE or DISABLE (including deleting a STRICT policy), or DISABLE on ambient workloads.",
		Fix:         "Prefer PERMISSIVE during migrations and scope any exception to the workloads that need it.",
	},
	{
		ID: "MG107", Kind: KindPeerAuthentication, Default: Deny,
		Title:       "Workload selector in the root namespace",
		Description: "Istio ignores PeerAuthentications with a selector in the root namespace.",
		Fix:         "Move the policy to the workloads' namespace, or drop the selector to make it mesh-wide.",
	},
	{
		ID: "MG108", Kind: KindPeerAuthentication, Default: Warn,
		Title:       "STRICT over a namespace not labelled for injection",
		Description: "STRICT applies to a namespace without istio-injection, istio.io/rev or ambient labels: pods created later get no proxy.",
		Fix:         "Label the namespace for injection (istio-injection=enabled) or ambient.",
	},
	{
		ID: "MG109", Kind: KindPeerAuthentication, Default: Deny,
		Title:       "DISABLE on pods other networks reach",
		Description: "DISABLE over meshed pods of Services an east-west gateway exposes to other networks (AUTO_PASSTHROUGH): traffic crosses networks only as Istio mTLS, so clients in other clusters lose those pods.",
		Fix:         "Keep those pods PERMISSIVE, or stop exposing their hosts across networks first.",
	},
	{
		ID: "MG201", Kind: KindDestinationRule, Default: Deny,
		Title:       "ISTIO_MUTUAL towards pods without a proxy",
		Description: "Working traffic broken because clients send Istio mTLS (ISTIO_MUTUAL, or auto mTLS to a port the sidecar does not intercept) to servers that cannot terminate it: pods without a sidecar or ambient enrolment, a Service without selector (kubernetes.default, hand-managed endpoints), or a port a PeerAuthentication sets DISABLE. Judged for DestinationRule, VirtualService, PeerAuthentication, HTTPRoute and GRPCRoute writes; wildcard hosts (*.local) for every Service they govern. Service writes too: a selector moved onto pods without a proxy under routed traffic.",
		Fix:         "Inject the server pods first, or use DISABLE for the host until they are.",
	},
	{
		ID: "MG202", Kind: KindDestinationRule, Default: Deny,
		Title:       "DISABLE towards a STRICT server",
		Description: "TLS mode DISABLE towards servers that enforce STRICT mTLS, wildcard hosts included: every plaintext connection is reset. Judged for the writes MG201 judges (HTTPRoute and GRPCRoute writes included). Service writes too: a selector moved onto STRICT pods that clients reach in plaintext.",
		Fix:         "Use ISTIO_MUTUAL, or remove the tls block to let auto mTLS decide.",
	},
	{
		ID: "MG203", Kind: KindDestinationRule, Default: Deny,
		Title:       "Subset without running pods",
		Description: "A subset that selects no Ready endpoint of the host's Service (its pods, or the WorkloadEntries of VMs it selects). Denies when routed traffic that worked would fail (weight > 0 or sole destination, or a growing share); warns for subsets nothing routes to, and for a fresh install whose pods are not Ready yet.",
		Fix:         "Fix the subset labels, or route 0% to the subset until its pods run.",
	},
	{
		ID: "MG204", Kind: KindDestinationRule, Default: Deny,
		Title:       "Removing a subset still in use",
		Description: "A write that leaves a subset a VirtualService routes or mirrors to undefined for some namespace whose proxies use it: removing the subset or the rule, or a new or changed rule that wins that namespace's DestinationRule lookup without the subset (shadowing).",
		Fix:         "Move the routes off the subset first, then remove it; give a shadowing rule the subsets its namespace routes to.",
	},
	{
		ID: "MG205", Kind: KindDestinationRule, Default: Warn,
		Title:       "Host matches nothing",
		Description: "The rule's host matches no Service and no ServiceEntry (including `name.ns` forms Istio does not expand).",
		Fix:         "Use the Service's short name or its full name.ns.svc.cluster.local.",
	},
	{
		ID: "MG206", Kind: KindDestinationRule, Default: Warn,
		Title:       "Duplicate DestinationRules",
		Description: "Two DestinationRules for one host in one namespace: subsets merge but only the oldest trafficPolicy applies, or, when their exportTo differ, istiod does not merge them and the namespace's sidecars use one alone; or a subset name defined twice.",
		Fix:         "Merge the rules into one.",
	},
	{
		ID: "MG207", Kind: KindDestinationRule, Default: Warn,
		Title:       "Outlier detection gaps",
		Description: "Outlier detection able to eject every endpoint (maxEjectionPercent 100), or traffic split across subsets without outlier detection.",
		Fix:         "Keep maxEjectionPercent below 100; add outlierDetection for canaries.",
	},
	{
		ID: "MG301", Kind: KindVirtualService, Default: Deny,
		Title:       "Route to an undefined subset",
		Description: "A route or mirror to a subset that the DestinationRule found by Istio's lookup (client namespace, then the Service's, then the root) does not define, for any namespace whose proxies use the VirtualService.",
		Fix:         "Define the subset in that DestinationRule first (make-before-break: the rule before the route).",
	},
	{
		ID: "MG302", Kind: KindVirtualService, Default: Deny,
		Title:       "Traffic to a backend with no ready pod",
		Description: "Weight > 0 (or the sole destination) to a subset or host with no Ready endpoint (pod, or a VM's healthy WorkloadEntry), where that traffic worked before; a fresh install (nothing reached the host yet) warns. Service writes too: a selector change, or a named targetPort no selected pod declares (Kubernetes gives that port no endpoint on them), that leaves a routed host or subset with no Ready endpoint; a Service created over a ServiceEntry's host (istiod prefers the Kubernetes Service) without Ready pods.",
		Fix:         "Wait until the pods are Ready, or give the destination weight 0.",
	},
	{
		ID: "MG303", Kind: KindVirtualService, Default: Deny,
		Title:       "Destination host resolves to nothing",
		Description: "A destination host that resolves to no Service (short names, cluster names, and `name.ns` forms Istio does not expand) on a route some client uses; warns for routes no client uses yet and for unregistered external names. Service writes too: deleting a Service that routes (sidecar or gateway) send to; istiod keeps the route to a cluster it no longer builds (503). Deleting a Service no configuration names is not judged.",
		Fix:         "Write the Service's short name or name.ns.svc.cluster.local; register external hosts with a ServiceEntry.",
	},
	{
		ID: "MG304", Kind: KindVirtualService, Default: Deny,
		Title:       "Wrong or missing destination port",
		Description: "A destination port the Service does not expose, or no port towards a multi-port Service from a gateway route or towards another host than the one served. Service writes too: removing or renumbering a port that routes name, or creating a Service that takes a ServiceEntry's host (istiod prefers the Kubernetes Service) without the port routes name there.",
		Fix:         "Set destination.port.number to one of the Service's ports.",
	},
	{
		ID: "MG305", Kind: KindVirtualService, Default: Deny,
		Title:       "Gateway binding to nothing",
		Description: "A gateway reference to a Gateway that does not exist, or hosts matching none of the bound Gateway's servers.",
		Fix:         "Create the Gateway, fix the reference, or align the hosts.",
	},
	{
		ID: "MG306", Kind: KindVirtualService, Default: Deny,
		Title:       "Retry storm",
		Description: "Retries above the limit (default 3): load multiplies by (1 + attempts) per hop. Warns on retryOn with plain 4xx, on a worst-case retry time ((1 + attempts) x perTryTimeout plus backoff) beyond the route timeout (Envoy cuts the tries short), and on retries without outlier detection.",
		Fix:         "Retry at most 3 times, on retriable-4xx, within the route timeout.",
	},
	{
		ID: "MG307", Kind: KindVirtualService, Default: Warn,
		Title:       "Host claimed twice on a gateway",
		Description: "Two VirtualServices claim the same host on the same gateway, the sidecars' mesh gateway included.",
		Fix:         "Merge the routes into one VirtualService per host and gateway.",
	},
	{
		ID: "MG308", Kind: KindVirtualService, Default: Warn,
		Title:       "Unreachable route",
		Description: "A route after a catch-all route can never match.",
		Fix:         "Move the catch-all route last.",
	},
	{
		ID: "MG309", Kind: KindVirtualService, Default: Warn,
		Title:       "HTTP route to a port without protocol",
		Description: "HTTP routes used by sidecars towards a Service port without an http-/grpc-/https- name prefix or appProtocol (Istio may treat it as TCP), or one whose name declares TCP, where http routes never apply.",
		Fix:         "Name the port http-<name> or set appProtocol.",
	},
	{
		ID: "MG310", Kind: KindVirtualService, Default: Warn,
		Title:       "Upper-case header match",
		Description: "Header matches with upper-case names: Envoy lower-cases them (they match), but Istio's API wants lower-case keys.",
		Fix:         "Write header names in lower case.",
	},
	{
		ID: "MG601", Kind: KindServiceEntry, Default: Deny,
		Title:       "ServiceEntry write breaks routes",
		Description: "A ServiceEntry write under live routes: deleting it or dropping a host or port that a VirtualService still sends to (istiod keeps the route, the cluster is gone: 503), or changing its endpoints or workloadSelector so that routed traffic finds no Ready endpoint or endpoints that refuse what clients send. The causes of MG303, MG304, MG302 and MG201/MG202, said in the entry's fields, where the write is. Calls that lose their listener leave Istio's routing (passthrough or blackhole, by DNS and the mesh config) and are not judged.",
		Fix:         "Move the routes off the entry's host or port first; keep an endpoint that serves them.",
	},
	{
		ID: "MG602", Kind: KindGateway, Default: Deny,
		Title:       "Gateway write drops bound routes",
		Description: "An Istio Gateway write that takes bound VirtualServices' hosts off the gateway: deleting it, a selector that picks none of the gateway pods that served them, or servers that no longer accept a bound host on a port (404, or connection refused). The reverse of MG305. Audit does not judge Gateways as they stand (a Gateway's existence breaks no path).",
		Fix:         "Move or delete the VirtualServices bound to it first; switch a selector once the new gateway pods run.",
	},
	{
		ID: "MG501", Kind: KindHTTPRoute, Default: Deny,
		Title:       "HTTPRoute backendRef resolves to nothing",
		Description: "An HTTPRoute or GRPCRoute write (istiod converts both into the same routes; GRPCRoute's broken paths are explained by MG501 to MG503 like HTTPRoute's) that sends traffic reaching it to a backendRef that resolves to nothing: no such Service, no such port on it, no port, a kind other than Service, or, on a Gateway parent, another namespace's Service no ReferenceGrant there permits (sidecars do not enforce grants: istiod converts a route's mesh parents with enforceRefGrant false). istiod drops the backend and its share of requests gets 500 (the Gateway API spec). A route on the mesh applies to the sidecars of its own namespace (a consumer route) or, in the Service's namespace, to every namespace without a consumer route of its own. Denied when it breaks requests that worked; a route whose host nothing reached before warns. Service writes too: deleting a backend Service, or removing its port; and a VirtualService write that stops taking a host hands its clients to such a route (spec.hosts, or spec for a delete). TLS failures a route write brings (mTLS to servers without a sidecar, plaintext into STRICT) are MG201's and MG202's.",
		Fix:         "Create the Service (and port) first, or a ReferenceGrant in the backend's namespace from HTTPRoutes of the route's namespace; then the route.",
	},
	{
		ID: "MG502", Kind: KindHTTPRoute, Default: Deny,
		Title:       "HTTPRoute weight to backends without Ready endpoints",
		Description: "An HTTPRoute or GRPCRoute write that sends weight to a Service with no Ready endpoint (503), where requests worked before. Service writes too: a selector change that leaves a backend with no Ready pod; and a VirtualService write that hands its host to such a route.",
		Fix:         "Shift weight once the backend's pods are Ready.",
	},
	{
		ID: "MG503", Kind: KindHTTPRoute, Default: Deny,
		Title:       "HTTPRoute not attached to its Gateway",
		Description: "An HTTPRoute or GRPCRoute whose Gateway parentRef names no Gateway, a Gateway without pods, or listeners that do not accept it (hostnames that do not intersect, allowedRoutes namespaces): istiod does not attach it and requests for its hostnames that no other route takes get 404. A warning when the route attaches nowhere new: the routes that served the host stay as they were, and a route's write that moves a host to another Gateway that accepts it is not judged (like a VirtualService's hosts change). Denied when the write takes the route off a Gateway that served it and leaves it attached there for none of its hostnames, or moves it to a Gateway that does not exist (a misspelt parentRef, as a controller such as Flagger writes from its Canary's gatewayRefs): the hosts it served get 404, as for a VirtualService bound to a missing Gateway (MG305). Deleting or narrowing the Gateway that live routes use is the Gateway write's to judge.",
		Fix:         "Name an existing Gateway and a hostname its listener accepts (or allowedRoutes namespaces: All).",
	},
	{
		ID: "MG504", Kind: KindReferenceGrant, Default: Deny,
		Title:       "ReferenceGrant write unresolves live routes",
		Description: "Deleting or narrowing a ReferenceGrant (its from or to entries) that HTTPRoutes or GRPCRoutes of other namespaces, attached to a Gateway, rely on for a backendRef into its namespace (sidecars do not enforce grants): the backend no longer resolves and its share of requests gets 500. The reverse of MG501's missing grant.",
		Fix:         "Move those routes to other backends first, or keep the grant.",
	},
	{
		ID: "MG505", Kind: KindKubeGateway, Default: Deny,
		Title:       "Gateway API Gateway write detaches routes",
		Description: "A Gateway API Gateway write that detaches routes attached to it (HTTPRoutes, GRPCRoutes, and VirtualServices binding it by name): deleting it, removing a listener, moving a listener to another port or protocol, a listener hostname the routes' hostnames no longer intersect, or allowedRoutes (namespaces narrowed from All to Same or a selector, kinds) that no longer admit them; a parentRef's sectionName or port keeps a route on the listener it names (istiod's referenceAllowed). Requests for their hostnames get 404, or the connection is refused. MG503's cause judged from the Gateway's side, where it breaks requests that worked. Audit does not judge Gateways as they stand.",
		Fix:         "Move those routes to another listener or Gateway first (or widen allowedRoutes), then change the listener.",
	},
	{
		ID: "MG603", Kind: KindSidecar, Default: Deny,
		Title:       "Sidecar write blackholes called hosts",
		Description: "A Sidecar write (create, update or delete) after which the Sidecar that applies to a client class (a workloadSelector match in its namespace, else the namespace's, else the root namespace's: istiod's getSidecarScope) imports no host it reached before on a port, under outboundTrafficPolicy REGISTRY_ONLY: the proxies send those calls to the BlackHoleCluster (502). Creating a namespace's first Sidecar with narrow egress hosts is the classic outage. Under ALLOW_ANY (the Sidecar's mode, or a mesh config meshguard is not told) the call leaves Istio's routing for passthrough and is not judged; neither are hosts only port-bound egress listeners could import. Audit does not judge Sidecars as they stand.",
		Fix:         "Add the host (\"namespace/host\" or \"namespace/*\") to spec.egress[].hosts before narrowing.",
	},
	{
		ID: "MG701", Kind: KindAuthorizationPolicy, Default: Deny,
		Title:       "AuthorizationPolicy cuts callers off",
		Description: "An AuthorizationPolicy write after which a caller of a workload port can send no request that is allowed (CUSTOM not judged, then DENY, then ALLOW: with an ALLOW policy applying, what no rule allows is denied), evaluated as istiod builds the RBAC filters: plaintext callers have no principal or namespace, HTTP-only fields skip an ALLOW rule on a TCP port and widen a DENY rule, dry-run and AUDIT policies change nothing. Denies for callers the configuration proves (a Gateway and VirtualService or HTTPRoute routing to the workload, a client namespace's VirtualService or DestinationRule for the host) and for plaintext pods of a namespace the ALLOW policy itself names (they can never match it); warns, naming them, for namespaces that merely may call. Policies attach as istiod's ShouldAttachPolicy does: a targetRef of kind Gateway (gateway.networking.k8s.io), and selector policies, apply to that Gateway API Gateway's pods, whose callers are the clients outside the mesh on each listener (no principal, no namespace): denied where a route attached to the listener proves them, warned otherwise. An update that moves an ALLOW off its pods while another ALLOW (allow-nothing) stays is judged like any other write. Not judged, and said so: policies attached to waypoints (targetRefs of kind Service, ServiceEntry or GatewayClass, or a waypoint's Gateway: a warning), CUSTOM (an external authorizer may allow), the clients of Istio Gateway deployments (their listeners' ports are container ports meshguard does not map), and fields meshguard cannot see (paths, methods, headers, JWT claims, IP blocks: they count as matching in ALLOW and not in DENY).",
		Fix:         "Allow the caller's principal or namespace in an ALLOW rule, narrow the DENY rule, or keep the policy until callers are allowed elsewhere.",
	},
	{
		ID: "MG702", Kind: KindAuthorizationPolicy, Default: Deny,
		Title:       "Write strips callers' identity under a policy",
		Description: "A PeerAuthentication or DestinationRule write after which callers that reached a sidecar workload with mTLS arrive without it (a DISABLE port turns auto mTLS off; a rule's tls DISABLE or SIMPLE sends no Istio certificate), so the RBAC filter finds no principal or namespace and an ALLOW policy requiring one (or a DENY policy with notPrincipals/notNamespaces) refuses every request: 403, or the connection closed on a TCP port.",
		Fix:         "Keep mTLS towards those workloads (PERMISSIVE or STRICT, ISTIO_MUTUAL), or allow the callers without a source.",
	},
	{
		ID: "MG703", Kind: KindAuthorizationPolicy, Default: Warn,
		Title:       "Policy moved off its workloads onto none",
		Description: "An AuthorizationPolicy update whose selector or targetRefs no longer match any pod with a proxy (a Gateway API gateway's pods by their Gateway's name), while the policy before applied to some: a typo. Istio attaches it to nothing (policyattachment.go ShouldAttachPolicy), so a DENY stops refusing and an ALLOW stops deciding for the pods it left; callers that leaves with nothing allowing them are MG701's. Policies created, or kept, on no workload are not warned about: their pods may not run yet.",
		Fix:         "Correct the selector's labels or the targetRef's Gateway name.",
	},
	{
		ID: "MG704", Kind: KindAuthorizationPolicy, Default: Deny,
		Title:       "Route sends callers to pods whose policy refuses them",
		Description: "A VirtualService or HTTPRoute write after which a client class that reached the host is sent to a destination (a subset, another backend, or the host's default route once the route is gone) whose sidecar pods' AuthorizationPolicies refuse every request it can send: an ALLOW policy with no rule for the caller, or a DENY rule matching it (the message names the policy, and the rule index for a DENY). Judged by the path model for each client class as it arrives (principal and namespace under mTLS, none in plaintext), as istiod builds the RBAC filter. Sidecars of namespaces without a route or rule of their own for the host only warn. A DestinationRule write whose subset newly selects refusing pods breaks the same paths; it is reported by MG702, whose message speaks of the mTLS a write strips.",
		Fix:         "Allow the callers in the policy (principal or namespace), narrow the DENY rule, or route them to workloads that admit them.",
	},
	{
		ID: "MG801", Kind: KindNamespace, Default: Warn,
		Title:       "Namespace stops sidecar injection under STRICT",
		Description: "A Namespace update that ends sidecar injection (istio-injection=enabled or a served istio.io/rev removed, or istio-injection=disabled set) while a STRICT PeerAuthentication depends on its pods' sidecars: mesh-wide STRICT rejects the plaintext their next pods send, or STRICT on their own ports governs servers outside the mesh. A warning, not a denial: sidecars are injected when a pod is created, so running pods keep theirs and no path breaks with this write; the pods come back without one at their next restart (MG108's cause, from the namespace's side; MG101 in the drift audit once they do). Services and Namespaces have no other MG8xx rule: a Service write's broken paths are explained by the rules of their cause (MG303 host gone, MG304 port gone, MG302/MG502 no Ready endpoint, MG201/MG202 endpoints refusing what clients send, MG501 HTTPRoute backend gone). Namespace deletes are not reviewed.",
		Fix:         "Keep the namespace labelled until the STRICT policies are PERMISSIVE (or the workloads are enrolled in ambient), then restart them.",
	},
	{
		ID: "MG802", Kind: KindNamespace, Default: Deny,
		Title:       "Namespace leaves ambient under STRICT",
		Description: "A Namespace update that removes istio.io/dataplane-mode=ambient: istio-cni takes the pods enrolled by the label out of the mesh at once (cni/pkg/nodeagent informers.go), and they send plaintext, which mesh-wide STRICT, or STRICT over the pods still in the mesh in their namespace, rejects (MG101's cause, now). Warns when the label becomes none (kept out on purpose, as MG102) or only their own ports were STRICT.",
		Fix:         "Enroll the pods another way first (sidecars, or their own ambient label), or make the policy PERMISSIVE first.",
	},
	{
		ID: "MG401", Kind: KindDestinationRule, Default: Deny,
		Title:       "credentialName Secret missing",
		Description: "credentialName names a Secret that does not exist where the proxy reads it: the rule's namespace for sidecars (with a workloadSelector), otherwise the namespaces of the gateways that route to the host. With no such gateway yet nothing reads it: a warning.",
		Fix:         "Create the Secret in that namespace before referencing it.",
	},
	{
		ID: "MG402", Kind: KindDestinationRule, Default: Deny,
		Title:       "CA bundle lacks the mesh root",
		Description: "The CA bundle used for an in-mesh host (its pods run a proxy) or a fleet host contains neither the mesh root (istio-ca-root-cert) nor a configured fleet trust anchor: every handshake fails with CERTIFICATE_VERIFY_FAILED.",
		Fix:         "Include the mesh root (or the fleet anchor) in the bundle.",
	},
	{
		ID: "MG403", Kind: KindDestinationRule, Default: Deny,
		Title:       "Unusable certificate material",
		Description: "Certificate material that does not parse, has expired or is not yet valid, or a client certificate that does not match its key; an unusable mesh root is a warning on the rules that use it.",
		Fix:         "Replace the material in the Secret.",
	},
	{
		ID: "MG404", Kind: KindDestinationRule, Default: Warn,
		Title:       "TLS without server verification",
		Description: "SIMPLE/MUTUAL TLS with insecureSkipVerify: true.",
		Fix:         "Verify the server with a CA bundle.",
	},
	{
		ID: "MG405", Kind: KindDestinationRule, Default: Warn,
		Title:       "caCertificates file replaces the mesh root",
		Description: "A caCertificates file path replaces the mesh trust root for an in-mesh host; meshguard cannot read the file.",
		Fix:         "Prefer credentialName, or make sure the file holds the mesh root.",
	},
	{
		ID: "MG406", Kind: KindDestinationRule, Default: Warn,
		Title:       "Certificate expiring soon",
		Description: "A certificate in the referenced material expires within 30 days.",
		Fix:         "Renew the certificate.",
	},
}

// Lookup returns the catalogue entry for id.
func Lookup(id string) (Entry, bool) {
	for _, e := range Catalogue {
		if e.ID == id {
			return e, true
		}
	}
	return Entry{}, false
}

// CheckConfig reports the first rule ID a configuration names (an override
// or an exception) that the catalogue does not hold: a typo there would
// silently change nothing.
func CheckConfig(c *config.Config) error {
	ids := c.RuleIDs()
	for _, id := range slices.Sorted(maps.Keys(ids)) {
		if e, ok := Lookup(id); !ok {
			return fmt.Errorf("%s: %s is not a meshguard rule (see `meshguard rules`)", ids[id], id)
		} else if e.Retired {
			return fmt.Errorf("%s: %s is retired and never reports", ids[id], id)
		}
	}
	return nil
}
