package integration

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"
)

// obj parses one manifest.
func obj(t testing.TB, manifest string) *unstructured.Unstructured {
	t.Helper()
	u := &unstructured.Unstructured{}
	if err := yaml.Unmarshal([]byte(manifest), &u.Object); err != nil {
		t.Fatalf("bad test manifest: %v\n%s", err, manifest)
	}
	return u
}

func createService(t *testing.T, ns, name string, selector map[string]string, ports ...corev1.ServicePort) {
	t.Helper()
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: corev1.ServiceSpec{Selector: selector, Ports: ports}}
	if err := k8s.Create(ctx(), svc); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = k8s.Delete(ctx(), svc) })
}

func port(name string, n int32) corev1.ServicePort {
	return corev1.ServicePort{Name: name, Port: n, TargetPort: intstr.FromInt32(n)}
}

func setReady(t *testing.T, ns, name string, ready bool) {
	t.Helper()
	p := &corev1.Pod{}
	if err := k8s.Get(ctx(), client.ObjectKey{Namespace: ns, Name: name}, p); err != nil {
		t.Fatal(err)
	}
	status := corev1.ConditionFalse
	if ready {
		status = corev1.ConditionTrue
	}
	p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: status}}
	if err := k8s.Status().Update(ctx(), p); err != nil {
		t.Fatal(err)
	}
}

// routingMesh builds shop-like namespaces for the routing tests:
// rt-shop (injected): reviews v1 Ready, v2 running but not Ready; ratings with
// two ports and STRICT; rt-legacy: billing without sidecar; a public Gateway.
func routingMesh(t *testing.T) {
	createNamespace(t, "rt-shop", map[string]string{"istio-injection": "enabled"})
	createNamespace(t, "rt-legacy", nil)
	createService(t, "rt-shop", "reviews", map[string]string{"app": "reviews"}, port("http", 9080))
	createPod(t, podSpec{ns: "rt-shop", name: "reviews-v1", labels: map[string]string{"app": "reviews", "version": "v1"}, sidecar: true, port: 9080})
	createPod(t, podSpec{ns: "rt-shop", name: "reviews-v2", labels: map[string]string{"app": "reviews", "version": "v2"}, sidecar: true, port: 9080})
	setReady(t, "rt-shop", "reviews-v2", false)
	createService(t, "rt-shop", "ratings", map[string]string{"app": "ratings"}, port("web", 9080), port("grpc-admin", 9090))
	createPod(t, podSpec{ns: "rt-shop", name: "ratings-1", labels: map[string]string{"app": "ratings"}, sidecar: true, port: 9080})
	createService(t, "rt-legacy", "billing", map[string]string{"app": "billing"}, port("http", 8080))
	createPod(t, podSpec{ns: "rt-legacy", name: "billing-0", labels: map[string]string{"app": "billing"}, port: 8080})
	for _, m := range []string{
		`{apiVersion: security.istio.io/v1, kind: PeerAuthentication, metadata: {name: ratings-strict, namespace: rt-shop}, spec: {selector: {matchLabels: {app: ratings}}, mtls: {mode: STRICT}}}`,
		`{apiVersion: networking.istio.io/v1, kind: Gateway, metadata: {name: public-gw, namespace: istio-system}, spec: {selector: {istio: ingressgateway}, servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: ["*.example.com"]}]}}`,
		`{apiVersion: networking.istio.io/v1, kind: DestinationRule, metadata: {name: reviews, namespace: rt-shop}, spec: {host: reviews, trafficPolicy: {outlierDetection: {consecutive5xxErrors: 5}}, subsets: [{name: v1, labels: {version: v1}}, {name: v2, labels: {version: v2}}]}}`,
		`{apiVersion: networking.istio.io/v1, kind: VirtualService, metadata: {name: storefront, namespace: rt-shop}, spec: {hosts: [shop.example.com], gateways: [istio-system/public-gw], http: [{route: [{destination: {host: reviews, port: {number: 9080}}}]}]}}`,
	} {
		o := obj(t, m)
		eventually(t, "creating "+o.GetName(), func() error { return k8s.Create(ctx(), o) })
		cleanupObject(t, o)
	}
}

// TestEveryRoutingRuleThroughTheAPIServer applies one offending object per
// rule through the API server, across networking v1alpha3, v1beta1 and v1.
func TestEveryRoutingRuleThroughTheAPIServer(t *testing.T) {
	routingMesh(t)
	versions := []string{"v1alpha3", "v1beta1", "v1"}
	cases := []struct {
		rule, manifest string
		deny           bool // false: allowed with a warning
	}{
		{"MG201", `{kind: DestinationRule, metadata: {name: billing, namespace: rt-legacy}, spec: {host: billing, trafficPolicy: {tls: {mode: ISTIO_MUTUAL}}}}`, true},
		{"MG202", `{kind: DestinationRule, metadata: {name: ratings, namespace: rt-shop}, spec: {host: ratings, trafficPolicy: {tls: {mode: DISABLE}}}}`, true},
		{"MG205", `{kind: DestinationRule, metadata: {name: dotted, namespace: rt-shop}, spec: {host: reviews.rt-shop}}`, false},
		{"MG206", `{kind: DestinationRule, metadata: {name: reviews-extra, namespace: rt-shop}, spec: {host: reviews.rt-shop.svc.cluster.local}}`, false},
		{"MG207", `{kind: DestinationRule, metadata: {name: ratings-eject, namespace: rt-shop}, spec: {host: ratings, trafficPolicy: {outlierDetection: {consecutive5xxErrors: 1, maxEjectionPercent: 100}}}}`, false},
		{"MG301", `{kind: VirtualService, metadata: {name: v9, namespace: rt-shop}, spec: {hosts: [reviews], http: [{route: [{destination: {host: reviews, subset: v9}}]}]}}`, true},
		{"MG303", `{kind: VirtualService, metadata: {name: dotted, namespace: rt-legacy}, spec: {hosts: [billing], http: [{route: [{destination: {host: reviews.rt-shop}}]}]}}`, true},
		{"MG304", `{kind: VirtualService, metadata: {name: badport, namespace: rt-shop}, spec: {hosts: [reviews], http: [{route: [{destination: {host: reviews, subset: v1, port: {number: 8080}}}]}]}}`, true},
		{"MG305", `{kind: VirtualService, metadata: {name: nogw, namespace: rt-shop}, spec: {hosts: [www.example.com], gateways: [public-gw], http: [{route: [{destination: {host: reviews, subset: v1}}]}]}}`, true},
		{"MG306", `{kind: VirtualService, metadata: {name: storm, namespace: rt-shop}, spec: {hosts: [reviews], http: [{route: [{destination: {host: reviews, subset: v1}}], retries: {attempts: 5}}]}}`, true},
		{"MG307", `{kind: VirtualService, metadata: {name: storefront-2, namespace: rt-shop}, spec: {hosts: [shop.example.com], gateways: [istio-system/public-gw], http: [{route: [{destination: {host: reviews, subset: v1, port: {number: 9080}}}]}]}}`, false},
		{"MG308", `{kind: VirtualService, metadata: {name: shadowed, namespace: rt-shop}, spec: {hosts: [reviews], http: [{route: [{destination: {host: reviews, subset: v1}}]}, {match: [{uri: {prefix: /v2}}], route: [{destination: {host: reviews, subset: v1}}]}]}}`, false},
		{"MG309", `{kind: VirtualService, metadata: {name: ratings, namespace: rt-shop}, spec: {hosts: [ratings], http: [{route: [{destination: {host: ratings, port: {number: 9080}}}]}]}}`, false},
		{"MG310", `{kind: VirtualService, metadata: {name: upper, namespace: rt-shop}, spec: {hosts: [reviews], http: [{match: [{headers: {X-User: {exact: jason}}}], route: [{destination: {host: reviews, subset: v1}}]}, {route: [{destination: {host: reviews, subset: v1}}]}]}}`, false},
	}
	for i, c := range cases {
		version := versions[i%len(versions)]
		t.Run(c.rule+" "+version, func(t *testing.T) {
			o := obj(t, c.manifest)
			o.SetAPIVersion("networking.istio.io/" + version)
			eventually(t, c.rule, func() error {
				warnings.take()
				err := k8s.Create(ctx(), o.DeepCopy())
				if c.deny {
					return deniedWith(err, "["+c.rule+"] ")
				}
				if err != nil {
					return fmt.Errorf("want allowed with a warning: %w", err)
				}
				cleanupObject(t, o.DeepCopy())
				for _, w := range warnings.take() {
					if strings.HasPrefix(w, "["+c.rule+"] ") {
						return nil
					}
				}
				return fmt.Errorf("no %s warning", c.rule)
			})
		})
	}
}

// The canary story: 10% to a subset whose pods are not Ready is denied; once
// the pods turn Ready (a status update, nothing restarted) the same write passes.
func TestCanaryToUnreadyPodsIsDeniedUntilTheyAreReady(t *testing.T) {
	routingMesh(t)
	canary := obj(t, `{apiVersion: networking.istio.io/v1, kind: VirtualService, metadata: {name: reviews, namespace: rt-shop},
  spec: {hosts: [reviews], http: [{route: [{destination: {host: reviews, subset: v1}, weight: 90}, {destination: {host: reviews, subset: v2}, weight: 10}]}]}}`)
	eventually(t, "canary denied", func() error {
		return deniedWith(k8s.Create(ctx(), canary.DeepCopy()), "[MG302] spec.http[0].route[1].destination: sends 10% of the route's traffic to subset v2 of reviews, which has no Ready pod")
	})
	setReady(t, "rt-shop", "reviews-v2", true)
	eventually(t, "canary allowed once v2 is Ready", func() error { return k8s.Create(ctx(), canary.DeepCopy()) })
	cleanupObject(t, canary)

	// MG203: with the canary in place, a rule edit that leaves v2 selecting
	// no Ready pod is denied: 10% of working traffic would fail.
	broken := obj(t, `{apiVersion: networking.istio.io/v1beta1, kind: DestinationRule, metadata: {name: reviews, namespace: rt-shop},
  spec: {host: reviews, trafficPolicy: {outlierDetection: {consecutive5xxErrors: 5}}, subsets: [{name: v1, labels: {version: v1}}, {name: v2, labels: {version: v2-typo}}]}}`)
	eventually(t, "relabelled subset denied", func() error {
		cur := &unstructured.Unstructured{}
		cur.SetGroupVersionKind(broken.GroupVersionKind())
		if err := k8s.Get(ctx(), client.ObjectKeyFromObject(broken), cur); err != nil {
			return err
		}
		broken.SetResourceVersion(cur.GetResourceVersion())
		return deniedWith(k8s.Update(ctx(), broken.DeepCopy()), "[MG203] spec.subsets[1].labels: subset v2 selects no Ready pod of Service rt-shop/reviews")
	})
}

// Deleting a DestinationRule whose subsets are routed is denied; deleting the
// VirtualService first, then the rule, is allowed.
func TestDeletingRoutedDestinationRule(t *testing.T) {
	routingMesh(t)
	vs := obj(t, `{apiVersion: networking.istio.io/v1alpha3, kind: VirtualService, metadata: {name: reviews-v1, namespace: rt-shop},
  spec: {hosts: [reviews], http: [{route: [{destination: {host: reviews, subset: v1}}]}]}}`)
	eventually(t, "route to v1 allowed", func() error { return k8s.Create(ctx(), vs.DeepCopy()) })
	dr := obj(t, `{apiVersion: networking.istio.io/v1, kind: DestinationRule, metadata: {name: reviews, namespace: rt-shop}}`)
	eventually(t, "deleting the routed rule denied", func() error {
		return deniedWith(k8s.Delete(ctx(), dr.DeepCopy()), "[MG204] spec.subsets: deleting the rule leaves subset v1 undefined for sidecars in rt-shop, but VirtualService rt-shop/reviews-v1 sends 100% of a route's traffic to it")
	})
	t.Run("check against the live cluster judges the same deletes", func(t *testing.T) {
		// The live objects are adopted, so --delete finds both kinds.
		bin, dir := meshguardBinary(t), t.TempDir()
		for _, c := range []struct {
			manifest, want string
			exit           int
		}{
			{`{apiVersion: networking.istio.io/v1, kind: DestinationRule, metadata: {name: reviews, namespace: rt-shop}}`, "[MG204]", 1},
			{`{apiVersion: networking.istio.io/v1, kind: VirtualService, metadata: {name: reviews-v1, namespace: rt-shop}}`, "no findings", 0},
		} {
			f := filepath.Join(dir, "delete.yaml")
			if err := os.WriteFile(f, []byte(c.manifest), 0o600); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command(bin, "check", "--delete", "-f", f, "--kubeconfig", kubeconfig).CombinedOutput()
			code := 0
			var exit *exec.ExitError
			if errors.As(err, &exit) {
				code = exit.ExitCode()
			}
			if code != c.exit || !strings.Contains(string(out), c.want) {
				t.Errorf("check --delete %s: want exit %d with %q, got %d:\n%s", c.manifest, c.exit, c.want, code, out)
			}
		}
	})
	if err := k8s.Delete(ctx(), vs); err != nil {
		t.Fatal(err)
	}
	// Right away: the webhook re-reads the route its cache may still hold.
	if err := k8s.Delete(ctx(), dr.DeepCopy()); err != nil {
		t.Fatalf("deleting the rule right after its only route must pass: %v", err)
	}
}

// A Service created a moment before the VirtualService that routes to it may
// not be in the cache yet; the webhook confirms with a direct read instead of
// denying.
func TestServiceAppliedJustBeforeItsRouteIsFound(t *testing.T) {
	routingMesh(t)
	createPod(t, podSpec{ns: "rt-shop", name: "details-1", labels: map[string]string{"app": "details"}, sidecar: true, port: 9080})
	// Wait until the pod is cached (its route would otherwise fail MG302):
	// a workload policy selecting it stops drawing MG104 once it is.
	eventually(t, "pod cached", func() error {
		probe := peerAuth("v1", "rt-shop", "probe", "PERMISSIVE", map[string]string{"app": "details"})
		warnings.take()
		if err := k8s.Create(ctx(), probe, client.DryRunAll); err != nil {
			return err
		}
		for _, w := range warnings.take() {
			if strings.HasPrefix(w, "[MG104]") {
				return fmt.Errorf("pod not cached yet")
			}
		}
		return nil
	})
	createService(t, "rt-shop", "details", map[string]string{"app": "details"}, port("http", 9080))
	vs := obj(t, `{apiVersion: networking.istio.io/v1, kind: VirtualService, metadata: {name: details, namespace: rt-shop}, spec: {hosts: [details], http: [{route: [{destination: {host: details}}]}]}}`)
	if err := k8s.Create(ctx(), vs); err != nil {
		t.Fatalf("the route to a Service created just before must pass: %v", err)
	}
	cleanupObject(t, vs)
}

// A VirtualService may bind a Gateway API Gateway by name: the webhook watches
// gateways.gateway.networking.k8s.io when the CRD is served (the suite installs
// a stand-in), and confirms a miss with a direct read.
func TestVirtualServiceBindingAGatewayAPIGateway(t *testing.T) {
	createNamespace(t, "gw-api", map[string]string{"istio-injection": "enabled"})
	createService(t, "gw-api", "web", map[string]string{"app": "web"}, port("http", 80))
	createPod(t, podSpec{ns: "gw-api", name: "web-1", labels: map[string]string{"app": "web"}, sidecar: true, port: 80})
	vs := obj(t, `{apiVersion: networking.istio.io/v1, kind: VirtualService, metadata: {name: web, namespace: gw-api},
  spec: {hosts: [web.example.com], gateways: [web-gateway], http: [{route: [{destination: {host: web}}]}]}}`)
	const missing = "[MG305] spec.gateways[0]: Gateway gw-api/web-gateway does not exist (neither an Istio nor a Gateway API one)"
	eventually(t, "binding a Gateway that does not exist denied, for that reason alone", func() error {
		err := k8s.Create(ctx(), vs.DeepCopy(), client.DryRunAll)
		if err != nil && strings.Contains(err.Error(), "[MG302]") {
			return errors.New("the cache has not seen web-1 Ready yet")
		}
		return deniedWith(err, missing)
	})
	gw := obj(t, `{apiVersion: gateway.networking.k8s.io/v1, kind: Gateway, metadata: {name: web-gateway, namespace: gw-api},
  spec: {gatewayClassName: istio, listeners: [{name: http, hostname: web.example.com, port: 80, protocol: HTTP}]}}`)
	if err := k8s.Create(ctx(), gw); err != nil {
		t.Fatal(err)
	}
	cleanupObject(t, gw)
	// Right away: a cache that has not seen the Gateway yet confirms with a direct read.
	if err := k8s.Create(ctx(), vs.DeepCopy(), client.DryRunAll); err != nil {
		t.Fatalf("a route bound to an existing Gateway API Gateway must pass: %v", err)
	}
	other := obj(t, `{apiVersion: networking.istio.io/v1, kind: VirtualService, metadata: {name: other, namespace: gw-api},
  spec: {hosts: [other.example.com], gateways: [web-gateway], http: [{route: [{destination: {host: web}}]}]}}`)
	eventually(t, "a host the listener does not accept is denied", func() error {
		return deniedWith(k8s.Create(ctx(), other, client.DryRunAll),
			"[MG305] spec.hosts: none of the hosts other.example.com matches a server of Gateway gw-api/web-gateway")
	})
}
