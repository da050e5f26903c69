package state_test

import (
	"fmt"
	"testing"

	"github.com/meshguard/meshguard/pkg/mesh"
	"github.com/meshguard/meshguard/pkg/state"
	"github.com/meshguard/meshguard/pkg/state/manifest"
)

// kindCase is, for one kind of the table, a minimal object of it as a
// manifest holds it, and how to tell the store holds it (nil for kinds read
// on demand, which the store never keeps).
type kindCase struct {
	manifest string
	held     func(state.Snapshot) bool
}

// Objects named "x" in namespace "shop".
var kindCases = map[string]kindCase{
	"/Namespace": {`{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"x"}}`,
		func(s state.Snapshot) bool { return s.Namespace("x") != nil }},
	"/Service": {`{"apiVersion":"v1","kind":"Service","metadata":{"name":"x","namespace":"shop"},"spec":{"selector":{"app":"x"},"ports":[{"port":80}]}}`,
		func(s state.Snapshot) bool { return s.Service("shop", "x") != nil }},
	"/Pod": {`{"apiVersion":"v1","kind":"Pod","metadata":{"name":"x","namespace":"shop"},"status":{"phase":"Running"}}`,
		func(s state.Snapshot) bool {
			found := false
			s.ForEachPod("shop", func(p *state.Pod) bool { found = p.Name == "x"; return !found })
			return found
		}},
	"security.istio.io/PeerAuthentication": {`{"apiVersion":"security.istio.io/v1","kind":"PeerAuthentication","metadata":{"name":"x","namespace":"shop"},"spec":{"mtls":{"mode":"STRICT"}}}`,
		func(s state.Snapshot) bool { return len(s.PeerAuthentications("shop")) == 1 }},
	"networking.istio.io/DestinationRule": {`{"apiVersion":"networking.istio.io/v1","kind":"DestinationRule","metadata":{"name":"x","namespace":"shop"},"spec":{"host":"x"}}`,
		func(s state.Snapshot) bool { return len(s.DestinationRules("shop")) == 1 }},
	"networking.istio.io/VirtualService": {`{"apiVersion":"networking.istio.io/v1","kind":"VirtualService","metadata":{"name":"x","namespace":"shop"},"spec":{"hosts":["x"]}}`,
		func(s state.Snapshot) bool { return s.VirtualService("shop", "x") != nil }},
	"networking.istio.io/Gateway": {`{"apiVersion":"networking.istio.io/v1","kind":"Gateway","metadata":{"name":"x","namespace":"shop"},"spec":{"selector":{"istio":"ingressgateway"}}}`,
		func(s state.Snapshot) bool { return s.Gateway("shop", "x") != nil }},
	"networking.istio.io/ServiceEntry": {`{"apiVersion":"networking.istio.io/v1","kind":"ServiceEntry","metadata":{"name":"x","namespace":"shop"},"spec":{"hosts":["api.example.com"]}}`,
		func(s state.Snapshot) bool { return len(s.ServiceEntries()) == 1 }},
	"networking.istio.io/Sidecar": {`{"apiVersion":"networking.istio.io/v1","kind":"Sidecar","metadata":{"name":"x","namespace":"shop"},` +
		`"spec":{"egress":[{"hosts":["./*"]}],"outboundTrafficPolicy":{"mode":"REGISTRY_ONLY"}}}`,
		func(s state.Snapshot) bool {
			all := s.Sidecars()
			return len(all) == 1 && all[0].Outbound == state.RegistryOnly && all[0].Egress[0].Hosts[0] == "./*"
		}},
	"security.istio.io/AuthorizationPolicy": {`{"apiVersion":"security.istio.io/v1","kind":"AuthorizationPolicy","metadata":{"name":"x","namespace":"shop","annotations":{"istio.io/dry-run":"true"}},` +
		`"spec":{"action":"DENY","rules":[{"to":[{"operation":{"methods":["POST"]}}]}]}}`,
		func(s state.Snapshot) bool {
			aps := s.AuthorizationPolicies("shop")
			return len(aps) == 1 && aps[0].Action == state.AuthzDeny && aps[0].DryRun && len(aps[0].Rules) == 1
		}},
	"gateway.networking.k8s.io/Gateway": {`{"apiVersion":"gateway.networking.k8s.io/v1","kind":"Gateway","metadata":{"name":"x","namespace":"shop"},"spec":{"gatewayClassName":"istio"}}`,
		func(s state.Snapshot) bool { return s.KubeGateway("shop", "x") != nil }},
	"gateway.networking.k8s.io/HTTPRoute": {`{"apiVersion":"gateway.networking.k8s.io/v1","kind":"HTTPRoute","metadata":{"name":"x","namespace":"shop"},` +
		`"spec":{"parentRefs":[{"group":"","kind":"Service","name":"reviews"}],"rules":[{"backendRefs":[{"name":"reviews","port":9080}]}]}}`,
		func(s state.Snapshot) bool {
			return s.GatewayRoute(state.KindHTTPRoute, "shop", "x") != nil && len(s.VirtualServicesOnMesh("reviews.shop.svc.cluster.local")) == 1 && s.VirtualService("shop", "x") == nil
		}},
	"gateway.networking.k8s.io/GRPCRoute": {`{"apiVersion":"gateway.networking.k8s.io/v1","kind":"GRPCRoute","metadata":{"name":"x","namespace":"shop"},` +
		`"spec":{"parentRefs":[{"group":"","kind":"Service","name":"reviews"}],"rules":[{"matches":[{"method":{"service":"reviews.Reviews"}}],"backendRefs":[{"name":"reviews","port":9080}]}]}}`,
		func(s state.Snapshot) bool {
			r := s.GatewayRoute(state.KindGRPCRoute, "shop", "x")
			on := s.VirtualServicesOnMesh("reviews.shop.svc.cluster.local")
			return r != nil && r.HTTP[0].Matches[0].Conditions == 1 && len(on) == 1 && on[0].Kind == state.KindGRPCRoute &&
				s.GatewayRoute(state.KindHTTPRoute, "shop", "x") == nil && s.VirtualService("shop", "x") == nil
		}},
	"gateway.networking.k8s.io/ReferenceGrant": {`{"apiVersion":"gateway.networking.k8s.io/v1beta1","kind":"ReferenceGrant","metadata":{"name":"x","namespace":"legacy"},` +
		`"spec":{"from":[{"group":"gateway.networking.k8s.io","kind":"HTTPRoute","namespace":"shop"}],"to":[{"group":"","kind":"Service"}]}}`,
		func(s state.Snapshot) bool {
			return len(s.ReferenceGrants("legacy")) == 1 && state.BackendPermitted(s, "HTTPRoute", "shop", "legacy", "billing") &&
				!state.BackendPermitted(s, "HTTPRoute", "ext", "legacy", "billing")
		}},
	"admissionregistration.k8s.io/MutatingWebhookConfiguration": {`{"apiVersion":"admissionregistration.k8s.io/v1","kind":"MutatingWebhookConfiguration","metadata":{"name":"x"},` +
		`"webhooks":[{"name":"rev.namespace.sidecar-injector.istio.io","namespaceSelector":{"matchExpressions":[{"key":"istio.io/rev","operator":"In","values":["canary"]}]}}]}`,
		func(s state.Snapshot) bool { served, _ := s.ServesRevision("canary"); return served }},
	"discovery.k8s.io/EndpointSlice": {`{"apiVersion":"discovery.k8s.io/v1","kind":"EndpointSlice","metadata":{"name":"x-1","namespace":"shop",` +
		`"labels":{"kubernetes.io/service-name":"x","endpointslice.kubernetes.io/managed-by":"controller.serving.knative.dev"}},"addressType":"IPv4",` +
		`"ports":[{"name":"http","port":8012}],"endpoints":[{"addresses":["10.0.0.1"],"targetRef":{"kind":"Pod","name":"p"}}]}`,
		func(s state.Snapshot) bool {
			found := false
			s.ForEachEndpoint("shop", "x", func(_ *state.EndpointSlice, e *state.Endpoint) bool { found = e.Pod == "p"; return false })
			return found
		}},
	"admissionregistration.k8s.io/ValidatingWebhookConfiguration": {`{"apiVersion":"admissionregistration.k8s.io/v1","kind":"ValidatingWebhookConfiguration","metadata":{"name":"x"},` +
		`"webhooks":[{"name":"validate.x.io","clientConfig":{"service":{"namespace":"shop","name":"x"}}}]}`,
		func(s state.Snapshot) bool { return len(s.APIServerCalls("shop", "x")) == 1 }},
	"apiregistration.k8s.io/APIService": {`{"apiVersion":"apiregistration.k8s.io/v1","kind":"APIService","metadata":{"name":"v1beta1.metrics.k8s.io"},` +
		`"spec":{"group":"metrics.k8s.io","version":"v1beta1","service":{"namespace":"shop","name":"x","port":8443}}}`,
		func(s state.Snapshot) bool { return len(s.APIServerCalls("shop", "x")) == 1 }},
	"apiextensions.k8s.io/CustomResourceDefinition": {`{"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition","metadata":{"name":"widgets.example.com"},` +
		`"spec":{"group":"example.com","names":{"plural":"widgets","kind":"Widget"},"scope":"Namespaced","versions":[{"name":"v1","served":true,"storage":true,"schema":{"openAPIV3Schema":{"type":"object"}}}],` +
		`"conversion":{"strategy":"Webhook","webhook":{"conversionReviewVersions":["v1"],"clientConfig":{"service":{"namespace":"shop","name":"x","path":"/convert"}}}}}}`,
		func(s state.Snapshot) bool { return len(s.APIServerCalls("shop", "x")) == 1 }},
	"networking.istio.io/WorkloadEntry": {`{"apiVersion":"networking.istio.io/v1","kind":"WorkloadEntry","metadata":{"name":"vm-1","namespace":"shop"},` +
		`"spec":{"address":"10.0.0.9","labels":{"app":"x"},"serviceAccount":"x"}}`,
		func(s state.Snapshot) bool {
			found := false
			s.ForEachWorkloadEntry("shop", func(we *state.WorkloadEntry) bool { found = we.Name == "vm-1" && we.Meshed; return false })
			return found
		}},
	"/Secret":    {`{"apiVersion":"v1","kind":"Secret","metadata":{"name":"x","namespace":"shop"},"data":{}}`, nil},
	"/ConfigMap": {`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"istio-ca-root-cert","namespace":"shop"},"data":{}}`, nil},
}

func key(k state.Kind) string { return k.Group + "/" + k.Kind }

// Every kind of the table decodes to a typed object (not a bare reference),
// and the store keeps each watched kind on Apply and drops it on Remove. A
// kind added to the table without decoding or store support fails here.
func TestEveryKindDecodesAndRoundTripsThroughTheStore(t *testing.T) {
	for _, k := range state.Kinds {
		t.Run(key(k), func(t *testing.T) {
			c, ok := kindCases[key(k)]
			if !ok {
				t.Fatalf("no case for %s: add a minimal manifest and a store check to kindCases", key(k))
			}
			o, err := manifest.Decode([]byte(c.manifest))
			if err != nil {
				t.Fatal(err)
			}
			if o.Ref.Group != k.Group || o.Ref.Kind != k.Kind {
				t.Fatalf("decoded as %s/%s", o.Ref.Group, o.Ref.Kind)
			}
			if !o.Kept() {
				t.Fatalf("decoded to a bare reference: the decoder does not handle %s", key(k))
			}
			if k.Access == state.OnDemand {
				if c.held != nil {
					t.Fatal("a kind read on demand is never kept in the store")
				}
				return
			}
			store := mesh.NewStore(mesh.DefaultClusterDomain)
			store.SetNamespace(&state.Namespace{Name: "shop"})
			store.Apply(o)
			if !holds(store, c.held) {
				t.Fatal("Apply did not keep it")
			}
			store.Remove(o.Ref)
			if holds(store, c.held) {
				t.Fatal("Remove did not drop it")
			}
		})
	}
	for k := range kindCases {
		found := false
		for _, kind := range state.Kinds {
			found = found || key(kind) == k
		}
		if !found {
			t.Errorf("case %s names no kind of the table", k)
		}
	}
}

func holds(store *state.Store, held func(state.Snapshot) bool) bool {
	var ok bool
	_ = store.View(func(s state.Snapshot) error { ok = held(s); return nil })
	return ok
}

// Istio kinds are decoded in every version the table lists, and in no other.
func TestIstioKindsDecodeInTheirServedVersionsOnly(t *testing.T) {
	for _, k := range state.Kinds {
		if k.Group != state.GroupSecurity && k.Group != state.GroupNetworking {
			continue
		}
		for _, v := range append([]string{"v2"}, k.Versions...) {
			doc := fmt.Sprintf(`{"apiVersion":"%s/%s","kind":%q,"metadata":{"name":"x","namespace":"shop"}}`, k.Group, v, k.Kind)
			_, err := manifest.Decode([]byte(doc))
			if served := v != "v2"; served != (err == nil) {
				t.Errorf("%s %s: err = %v", key(k), v, err)
			}
		}
	}
}

// The API server's calls are indexed by the Service they reach, with the
// port the reference names (443 when it names none); an update replaces the
// object's calls, and a MutatingWebhookConfiguration that stops injecting
// stops counting as an injector while its webhooks still count as calls.
func TestAPIServerCallsFollowTheirObjects(t *testing.T) {
	decode := func(doc string) *state.Object {
		t.Helper()
		o, err := manifest.Decode([]byte(doc))
		if err != nil {
			t.Fatal(err)
		}
		return o
	}
	store := mesh.NewStore(mesh.DefaultClusterDomain)
	injector := `{"apiVersion":"admissionregistration.k8s.io/v1","kind":"MutatingWebhookConfiguration","metadata":{"name":"istio-sidecar-injector"},` +
		`"webhooks":[{"name":"rev.namespace.sidecar-injector.istio.io","clientConfig":{"service":{"namespace":"istio-system","name":"istiod"}},` +
		`"namespaceSelector":{"matchLabels":{"istio.io/rev":"canary"}}}]}`
	store.Apply(decode(injector))
	calls := func(ns, name string) []state.APIServerCall {
		var out []state.APIServerCall
		_ = store.View(func(s state.Snapshot) error { out = s.APIServerCalls(ns, name); return nil })
		return out
	}
	served := func() bool {
		var ok bool
		_ = store.View(func(s state.Snapshot) error { ok, _ = s.ServesRevision("canary"); return nil })
		return ok
	}
	got := calls("istio-system", "istiod")
	if len(got) != 1 || got[0].Port != 443 || got[0].Caller() != "MutatingWebhookConfiguration istio-sidecar-injector (webhook rev.namespace.sidecar-injector.istio.io)" || !served() {
		t.Fatalf("calls = %+v, served = %v", got, served())
	}
	// The same configuration, renamed webhook and another Service: no longer an injector.
	store.Apply(decode(`{"apiVersion":"admissionregistration.k8s.io/v1","kind":"MutatingWebhookConfiguration","metadata":{"name":"istio-sidecar-injector"},` +
		`"webhooks":[{"name":"other.example.com","clientConfig":{"service":{"namespace":"tools","name":"hook","port":8443}}}]}`))
	if got := calls("istio-system", "istiod"); len(got) != 0 {
		t.Errorf("the replaced call stays: %+v", got)
	}
	if got := calls("tools", "hook"); len(got) != 1 || got[0].Port != 8443 {
		t.Errorf("calls to tools/hook = %+v", got)
	}
	if served() {
		t.Error("a configuration that no longer injects still serves its old revision")
	}
	// A webhook by URL calls no Service.
	store.Apply(decode(`{"apiVersion":"admissionregistration.k8s.io/v1","kind":"ValidatingWebhookConfiguration","metadata":{"name":"external"},` +
		`"webhooks":[{"name":"v.example.com","clientConfig":{"url":"https://hooks.example.com/validate"}}]}`))
	var nss []string
	_ = store.View(func(s state.Snapshot) error { nss = s.NamespacesCalledByAPIServer(); return nil })
	if fmt.Sprint(nss) != "[tools]" {
		t.Errorf("namespaces called = %v, want [tools]", nss)
	}
	store.Remove(state.InjectorKind.Ref("", "istio-sidecar-injector"))
	if got := calls("tools", "hook"); len(got) != 0 {
		t.Errorf("calls outlive their configuration: %+v", got)
	}
}
