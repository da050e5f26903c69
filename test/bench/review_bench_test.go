// Package bench measures meshguard's admission review path and the memory
// its cache keeps per pod. Run with `make bench`.
package bench

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/go-logr/logr"
	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/webhook"

	"github.com/meshguard/meshguard/pkg/admission"
	live "github.com/meshguard/meshguard/pkg/cluster"
	"github.com/meshguard/meshguard/pkg/config"
	"github.com/meshguard/meshguard/pkg/engine"
	"github.com/meshguard/meshguard/pkg/mesh"
	"github.com/meshguard/meshguard/pkg/rules"
	"github.com/meshguard/meshguard/pkg/rules/registry"
	"github.com/meshguard/meshguard/pkg/state"
)

const (
	namespaces   = 1000
	podsPerNS    = 100
	servicesPerN = 10
)

// pod builds a Pod the way the API server would send it: labels, an owner,
// the sidecar status annotation, two containers, a status with conditions.
func pod(ns string, i int, meshed bool) *corev1.Pod {
	app := fmt.Sprintf("svc-%d", i%servicesPerN)
	hash := fmt.Sprintf("%08x", i*7919)[:8]
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: ns, Name: fmt.Sprintf("%s-%s-%05d", app, hash, i), ResourceVersion: fmt.Sprint(100000 + i),
			Labels: map[string]string{"app": app, "version": fmt.Sprintf("v%d", 1+i/90), "pod-template-hash": hash, "team": "payments"},
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: app + "-" + hash,
				UID: "4f1b2c3d-0000-0000-0000-000000000000", Controller: ptr.To(true)}},
			CreationTimestamp: metav1.Now(),
		},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "registry.example/app:1.0",
			Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}, {Name: "metrics", ContainerPort: 9090}}}}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, Conditions: []corev1.PodCondition{
			{Type: corev1.PodReady, Status: corev1.ConditionTrue}, {Type: corev1.ContainersReady, Status: corev1.ConditionTrue}}},
	}
	if meshed {
		p.Annotations = map[string]string{"sidecar.istio.io/status": `{"initContainers":["istio-init"],"containers":["istio-proxy"],"volumes":["istio-envoy","istio-data","istio-podinfo","istio-token","istiod-ca-cert"],"imagePullSecrets":null,"revision":"default"}`}
		p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: "istio-proxy", Image: "istio/proxyv2:1.27.0"})
	}
	return p
}

// cluster fills a store with 100k pods in 1k namespaces, 10k Services, 10k
// DestinationRules and 10k VirtualServices. Every 10th namespace still runs
// one pod outside the mesh; the rest are fully injected. Pods 90-99 of each
// namespace are version v2.
func cluster(store *state.Store, also func(*state.Pod)) { fill(store, also, true) }

// fill builds the state; without routing it holds namespaces, Services and
// pods only, so that heap per pod measures what a pod costs.
func fill(store *state.Store, also func(*state.Pod), routing bool) {
	for n := 0; n < namespaces; n++ {
		ns := fmt.Sprintf("team-%04d", n)
		store.SetNamespace(&state.Namespace{Name: ns, Labels: map[string]string{"istio-injection": "enabled"}})
		for s := 0; s < servicesPerN; s++ {
			name := fmt.Sprintf("svc-%d", s)
			store.SetService(&state.Service{Namespace: ns, Name: name, Selector: map[string]string{"app": name},
				Ports: []state.ServicePort{{Name: "http", Port: 80, TargetPort: 8080}}})
			if !routing {
				continue
			}
			// One DestinationRule and one VirtualService per Service: 10k each.
			store.SetDestinationRule(&state.DestinationRule{Namespace: ns, Name: name, Host: name,
				Policy:  &state.TrafficPolicy{Outlier: &state.Outlier{MaxEjectionPercent: 50}},
				Subsets: []state.Subset{{Name: "v1", Labels: map[string]string{"version": "v1"}}, {Name: "v2", Labels: map[string]string{"version": "v2"}}}})
			store.SetVirtualService(&state.VirtualService{Namespace: ns, Name: name, Hosts: []string{name},
				HTTP: []state.HTTPRoute{{Route: []state.Destination{{Host: name, Subset: "v1"}}}}})
		}
		for i := 0; i < podsPerNS; i++ {
			lp := state.FromPod(pod(ns, i, !(n%10 == 0 && i == 0)))
			store.SetPod(lp)
			if also != nil {
				also(lp)
			}
		}
		if routing {
			// Knative's public Service of a revision: no selector, its
			// endpoints in a slice Knative writes (cached, unlike the
			// endpoint-slice controller's).
			store.SetService(&state.Service{Namespace: ns, Name: "public", Ports: []state.ServicePort{{Name: "http", Port: 80, TargetPort: 8012}}})
			store.SetEndpointSlice(state.FromEndpointSlice(endpointSlice(ns, "public", slicePods)))
		}
	}
	store.SetNamespace(&state.Namespace{Name: "istio-system"})
	store.SetPeerAuthentication(&state.PeerAuthentication{Namespace: "istio-system", Name: "default", Mode: state.ModePermissive})
}

// slicePods is how many pods a cached EndpointSlice of the benchmarks points at.
const slicePods = 10

// endpointSlice builds a slice as a controller other than Kubernetes' own
// writes it for Service svc: n Ready endpoints targeting pods of ns.
func endpointSlice(ns, svc string, n int) *discoveryv1.EndpointSlice {
	es := &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: svc + "-x7k2p", ResourceVersion: "1",
			Labels: map[string]string{discoveryv1.LabelServiceName: svc, discoveryv1.LabelManagedBy: "endpointslicemirroring-controller.k8s.io"}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Ports:       []discoveryv1.EndpointPort{{Name: ptr.To("http"), Port: ptr.To[int32](8012), Protocol: ptr.To(corev1.ProtocolTCP)}},
	}
	for i := range n {
		app := fmt.Sprintf("svc-%d", i%servicesPerN)
		hash := fmt.Sprintf("%08x", i*7919)[:8]
		es.Endpoints = append(es.Endpoints, discoveryv1.Endpoint{
			Addresses:  []string{fmt.Sprintf("10.%d.%d.%d", i/65536%256, i/256%256, i%256)},
			Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true), Serving: ptr.To(true), Terminating: ptr.To(false)},
			TargetRef:  &corev1.ObjectReference{Kind: "Pod", Namespace: ns, Name: fmt.Sprintf("%s-%s-%05d", app, hash, i)},
			NodeName:   ptr.To("node-1"),
		})
	}
	return es
}

func review(op admissionv1.Operation, ns, name, mode string) []byte {
	pa := func(mode string) string {
		return fmt.Sprintf(`{"apiVersion":"security.istio.io/v1","kind":"PeerAuthentication","metadata":{"name":%q,"namespace":%q,"creationTimestamp":"2026-11-21T00:00:00Z"},"spec":{"mtls":{"mode":%q}}}`, name, ns, mode)
	}
	old := ""
	if op == admissionv1.Update {
		old = pa("PERMISSIVE") // an UPDATE carries the object it replaces
	}
	return admissionReview(op, "security.istio.io", "PeerAuthentication", "peerauthentications", ns, name, pa(mode), old)
}

func admissionReview(op admissionv1.Operation, group, kind, resource, ns, name, obj, old string) []byte {
	r := admissionv1.AdmissionReview{
		TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"},
		Request: &admissionv1.AdmissionRequest{UID: "b5b3", Operation: op, Namespace: ns, Name: name,
			Kind:     metav1.GroupVersionKind{Group: group, Version: "v1", Kind: kind},
			Resource: metav1.GroupVersionResource{Group: group, Version: "v1", Resource: resource},
		},
	}
	if obj != "" { // a DELETE carries only the old object
		r.Request.Object.Raw = []byte(obj)
	}
	if old != "" {
		r.Request.OldObject.Raw = []byte(old)
	}
	b, _ := json.Marshal(r)
	return b
}

// A 90/10 canary update of one of the 10k VirtualServices (v2 has Ready pods).
func BenchmarkReviewVirtualServiceCanary(b *testing.B) {
	vs := func(w1, w2 int) string {
		return fmt.Sprintf(`{"apiVersion":"networking.istio.io/v1","kind":"VirtualService","metadata":{"name":"svc-3","namespace":"team-0421","creationTimestamp":"2026-11-21T00:00:00Z"},"spec":{"hosts":["svc-3"],"http":[{"route":[{"destination":{"host":"svc-3","subset":"v1"},"weight":%d},{"destination":{"host":"svc-3","subset":"v2"},"weight":%d}],"retries":{"attempts":2,"perTryTimeout":"1s"},"timeout":"5s"}]}}`, w1, w2)
	}
	benchReview(b, admissionReview(admissionv1.Update, "networking.istio.io", "VirtualService", "virtualservices", "team-0421", "svc-3", vs(90, 10), vs(100, 0)), true)
}

// A 90/10 canary of a GAMMA HTTPRoute (parentRef: the Service svc-3) to
// svc-3 and svc-4, both with Ready pods: the same paths as a VirtualService
// canary, through the one route form.
func BenchmarkReviewHTTPRouteCanary(b *testing.B) {
	hr := func(w1, w2 int) string {
		return fmt.Sprintf(`{"apiVersion":"gateway.networking.k8s.io/v1","kind":"HTTPRoute","metadata":{"name":"svc-3","namespace":"team-0421","creationTimestamp":"2026-11-21T00:00:00Z"},"spec":{"parentRefs":[{"group":"","kind":"Service","name":"svc-3"}],"rules":[{"backendRefs":[{"name":"svc-3","port":80,"weight":%d},{"name":"svc-4","port":80,"weight":%d}]}]}}`, w1, w2)
	}
	benchReview(b, admissionReview(admissionv1.Update, "gateway.networking.k8s.io", "HTTPRoute", "httproutes", "team-0421", "svc-3", hr(90, 10), hr(100, 0)), true)
}

// An update of one of the 10k DestinationRules that drops subset v1, which its
// VirtualService still routes to (MG204 looks up routes by host).
func BenchmarkReviewDestinationRuleRemovesRoutedSubset(b *testing.B) {
	dr := func(subsets string) string {
		return fmt.Sprintf(`{"apiVersion":"networking.istio.io/v1","kind":"DestinationRule","metadata":{"name":"svc-3","namespace":"team-0421","creationTimestamp":"2026-11-21T00:00:00Z"},"spec":{"host":"svc-3","trafficPolicy":{"outlierDetection":{"consecutive5xxErrors":5}},"subsets":[%s]}}`, subsets)
	}
	v1 := `{"name":"v1","labels":{"version":"v1"}}`
	v2 := `{"name":"v2","labels":{"version":"v2"}}`
	benchReview(b, admissionReview(admissionv1.Update, "networking.istio.io", "DestinationRule", "destinationrules", "team-0421", "svc-3", dr(v2), dr(v1+","+v2)), false)
}

// serviceDelete is the DELETE review of one of the 10k Services.
func serviceDelete(ns, name string) []byte {
	svc := fmt.Sprintf(`{"apiVersion":"v1","kind":"Service","metadata":{"name":%q,"namespace":%q,"creationTimestamp":"2026-11-21T00:00:00Z"},"spec":{"selector":{"app":%q},"ports":[{"name":"http","port":80,"targetPort":8080}]}}`, name, ns, name)
	r := admissionReview(admissionv1.Delete, "", "Service", "services", ns, name, "", svc)
	return r
}

// Deleting a Service another host's route sends to (svc-5's /reviews route
// to svc-3 in team-0777): every client class of svc-5 and svc-3, before
// and after, denied (MG303).
func BenchmarkReviewServiceDeleteUnderRoute(b *testing.B) {
	benchReview(b, serviceDelete("team-0777", "svc-3"), false)
}

// Deleting a Service only its own VirtualService names: its host loses its
// listener, so nothing is judged beyond finding that out; admitted.
func BenchmarkReviewServiceDeleteUnrouted(b *testing.B) {
	benchReview(b, serviceDelete("team-0421", "svc-7"), true)
}

// Creating a Service whose host nothing registered (the chart sends every
// Service CREATE since issue 25): the review finds no ServiceEntry to take
// the host from and no path that worked; admitted.
func BenchmarkReviewServiceCreate(b *testing.B) {
	svc := `{"apiVersion":"v1","kind":"Service","metadata":{"name":"svc-new","namespace":"team-0777"},"spec":{"selector":{"app":"svc-new"},"ports":[{"name":"http","port":80,"targetPort":8080}]}}`
	benchReview(b, admissionReview(admissionv1.Create, "", "Service", "services", "team-0777", "svc-new", svc, ""), true)
}

var handler http.Handler

func setup(b *testing.B) http.Handler {
	if handler != nil {
		return handler
	}
	store := mesh.NewStore(mesh.DefaultClusterDomain)
	cluster(store, nil)
	// One route across hosts, for the Service benchmarks: svc-5's sidecars
	// in team-0777 send /reviews to svc-3 (no other benchmark judges
	// team-0777).
	store.SetVirtualService(&state.VirtualService{Namespace: "team-0777", Name: "frontend", Hosts: []string{"svc-5"},
		HTTP: []state.HTTPRoute{{Matches: []state.HTTPMatch{{Conditions: 1}}, Identity: "reviews", Route: []state.Destination{{Host: "svc-3"}}},
			{Route: []state.Destination{{Host: "svc-5", Subset: "v1"}}, Identity: "default"}}})
	// One namespace of 1k pods (900 more meshed replicas of its ten
	// Services), for the Sidecar narrowing: what a Sidecar costs to review
	// must not grow with the pods it governs (no other benchmark judges
	// sidecarNS).
	for i := podsPerNS; i < bigNSPods; i++ {
		store.SetPod(state.FromPod(pod(sidecarNS, i, true)))
	}
	cfg := config.Default()
	wh := &webhook.Admission{Handler: &admission.Handler{Engine: engine.New(registry.Rules(), cfg), Store: store, Config: cfg, Log: logr.Discard()}}
	handler = wh
	return handler
}

// benchReview serves one AdmissionReview per iteration through the real
// webhook handler (JSON decode, evaluate, JSON encode) and reports p50/p99.
func benchReview(b *testing.B, body []byte, wantAllowed bool) {
	h := setup(b)
	durations := make([]time.Duration, 0, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		req := httptest.NewRequest(http.MethodPost, "/validate", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		durations = append(durations, time.Since(start))
		if i == 0 {
			var out admissionv1.AdmissionReview
			// A denial must be the verdict (403 with findings), not a refused request.
			if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil || out.Response == nil || out.Response.Allowed != wantAllowed ||
				!wantAllowed && (out.Response.Result == nil || out.Response.Result.Code != http.StatusForbidden) {
				b.Fatalf("unexpected response %s", rec.Body.String())
			}
		}
	}
	b.StopTimer()
	slices.Sort(durations)
	b.ReportMetric(float64(durations[len(durations)/2].Nanoseconds())/1e3, "p50-µs")
	b.ReportMetric(float64(durations[len(durations)*99/100].Nanoseconds())/1e3, "p99-µs")
}

// A namespace-wide STRICT write over a namespace with an unmeshed pod: the
// deny path, with the before evaluation.
func BenchmarkReviewNamespaceStrictDenied(b *testing.B) {
	benchReview(b, review(admissionv1.Create, "team-0420", "default", "STRICT"), false)
}

// A namespace-wide STRICT write over a fully injected namespace.
func BenchmarkReviewNamespaceStrictAllowed(b *testing.B) {
	benchReview(b, review(admissionv1.Create, "team-0421", "default", "STRICT"), true)
}

// Mesh-wide STRICT over 1k namespaces, 100 of which hold an unmeshed pod.
func BenchmarkReviewMeshWideStrict(b *testing.B) {
	benchReview(b, review(admissionv1.Update, "istio-system", "default", "STRICT"), false)
}

// BenchmarkCachedPodHeap reports the heap a cached pod costs: the lean pod, the
// store's indexes and aggregates, and the informer's own indexer entry (with
// the namespaces and Services the pods live in, but no routing objects).
func BenchmarkCachedPodHeap(b *testing.B) {
	// Measured once: b.N only repeats a result that does not vary.
	before := heap()
	store := mesh.NewStore(mesh.DefaultClusterDomain)
	indexer := toolscache.NewIndexer(toolscache.MetaNamespaceKeyFunc, toolscache.Indexers{toolscache.NamespaceIndex: toolscache.MetaNamespaceIndexFunc})
	fill(store, func(p *state.Pod) { _ = indexer.Add(p) }, false)
	after := heap()
	runtime.KeepAlive(store)
	runtime.KeepAlive(indexer)
	for range b.N {
	}
	b.ReportMetric(float64(after-before)/float64(namespaces*podsPerNS), "B/pod")
}

// BenchmarkCachedEndpointSliceHeap reports the heap a cached endpoint costs:
// the store's lean slice and the informer's (cluster.LeanEndpointSlice), for
// 1k selector-less Services with a slice of 10 endpoints each. Kubernetes'
// own endpoint-slice controller's slices, one per Service with a selector,
// are not watched at all (a label selector on the watch), so at 100k pods
// they cost nothing.
func BenchmarkCachedEndpointSliceHeap(b *testing.B) {
	before := heap()
	store := mesh.NewStore(mesh.DefaultClusterDomain)
	indexer := toolscache.NewIndexer(toolscache.MetaNamespaceKeyFunc, toolscache.Indexers{toolscache.NamespaceIndex: toolscache.MetaNamespaceIndexFunc})
	for n := range namespaces {
		lean, _ := live.LeanEndpointSlice(endpointSlice(fmt.Sprintf("team-%04d", n), "public", slicePods))
		es := lean.(*discoveryv1.EndpointSlice)
		_ = indexer.Add(es)
		store.SetEndpointSlice(state.FromEndpointSlice(es))
	}
	after := heap()
	runtime.KeepAlive(store)
	runtime.KeepAlive(indexer)
	for range b.N {
	}
	b.ReportMetric(float64(after-before)/float64(namespaces*slicePods), "B/endpoint")
}

func heap() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// BenchmarkEvaluateNamespaceStrict is the engine alone (no HTTP, no JSON), to
// tell meshguard's own cost from the webhook plumbing around it.
func BenchmarkEvaluateNamespaceStrict(b *testing.B) {
	store := mesh.NewStore(mesh.DefaultClusterDomain)
	cluster(store, nil)
	e := engine.New(registry.Rules(), config.Default())
	change := &rules.Change{Operation: rules.Create,
		Ref:   state.ObjectRef{Group: state.GroupSecurity, Kind: rules.KindPeerAuthentication, Namespace: "team-0420", Name: "default"},
		NewPA: &state.PeerAuthentication{Namespace: "team-0420", Name: "default", Mode: state.ModeStrict, Created: time.Now()}}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		_ = store.View(func(s state.Snapshot) error {
			if !e.Evaluate(s, change).Denied() {
				b.Fatal("want a denial")
			}
			return nil
		})
	}
}

// sidecarNS holds bigNSPods pods in the review state (setup).
const (
	sidecarNS = "team-0555"
	bigNSPods = 1000
)

// A namespace's first Sidecar narrowing its egress to its own namespace
// under REGISTRY_ONLY (MG603): every Service of the other 999 namespaces
// changes import for the 1k pods of sidecarNS, so each is judged.
func BenchmarkReviewSidecarNarrowing(b *testing.B) {
	sc := fmt.Sprintf(`{"apiVersion":"networking.istio.io/v1","kind":"Sidecar","metadata":{"name":"default","namespace":%q,"creationTimestamp":"2026-11-21T00:00:00Z"},"spec":{"egress":[{"hosts":["./*","istio-system/*"]}],"outboundTrafficPolicy":{"mode":"REGISTRY_ONLY"}}}`, sidecarNS)
	benchReview(b, admissionReview(admissionv1.Create, "networking.istio.io", "Sidecar", "sidecars", sidecarNS, "default", sc, ""), false)
}

// authorizationPolicy is an AdmissionReview creating an AuthorizationPolicy.
func authorizationPolicy(ns, name, spec string) []byte {
	obj := fmt.Sprintf(`{"apiVersion":"security.istio.io/v1","kind":"AuthorizationPolicy","metadata":{"name":%q,"namespace":%q},"spec":%s}`, name, ns, spec)
	return admissionReview(admissionv1.Create, "security.istio.io", "AuthorizationPolicy", "authorizationpolicies", ns, name, obj, "")
}

// A namespace ALLOW policy (the namespace's own callers only) over a team's
// 10 Services: every namespace with sidecars is a potential caller (MG701
// warns, admitted).
func BenchmarkReviewNamespaceAllowPolicy(b *testing.B) {
	benchReview(b, authorizationPolicy("team-0421", "own-namespace", `{"rules":[{"from":[{"source":{"namespaces":["team-0421"]}}]}]}`), true)
}

// A root-namespace ALLOW policy for every workload of the mesh: judged for
// every routed host (10k), each against the callers routing proves.
func BenchmarkReviewRootAllowPolicy(b *testing.B) {
	benchReview(b, authorizationPolicy("istio-system", "mesh-callers", `{"rules":[{"from":[{"source":{"principals":["cluster.local/ns/*"]}}]}]}`), true)
}
