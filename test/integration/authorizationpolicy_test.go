package integration

import (
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/client"
)

// An ALLOW policy that leaves out the ingress gateway a Gateway and a
// VirtualService route through is denied in every served version and in a
// server-side dry run (MG701); the same policy allowing the gateway's
// principal is admitted, and so is a DENY of everything in dry-run mode.
func TestAuthorizationPolicyCuttingIngressCaller(t *testing.T) {
	createNamespace(t, "az-apps", map[string]string{"istio-injection": "enabled"})
	createNamespace(t, "az-ingress", nil)
	createPod(t, podSpec{ns: "az-ingress", name: "web-ingress-1", labels: map[string]string{"istio": "ingressgateway", "app": "web-ingress"}, sidecar: true, port: 8080})
	createService(t, "az-apps", "shop", map[string]string{"app": "shop"}, port("http", 8080))
	createPod(t, podSpec{ns: "az-apps", name: "shop-1", labels: map[string]string{"app": "shop"}, sidecar: true, port: 8080})
	gw := obj(t, `{apiVersion: networking.istio.io/v1, kind: Gateway, metadata: {name: web, namespace: az-ingress},
  spec: {selector: {istio: ingressgateway, app: web-ingress}, servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: [shop.example.com]}]}}`)
	eventually(t, "creating the Gateway", func() error { return k8s.Create(ctx(), gw.DeepCopy()) })
	cleanupObject(t, gw)
	vs := obj(t, `{apiVersion: networking.istio.io/v1, kind: VirtualService, metadata: {name: shop, namespace: az-apps},
  spec: {hosts: [shop.example.com], gateways: [az-ingress/web], http: [{route: [{destination: {host: shop, port: {number: 8080}}}]}]}}`)
	eventually(t, "creating the route", func() error { return k8s.Create(ctx(), vs.DeepCopy()) })
	cleanupObject(t, vs)

	want := "[MG701] spec.rules: gateway pods in az-ingress (service account default), callers by Gateway az-ingress/web and VirtualService az-apps/shop, can no longer call az-apps/shop port 8080: ALLOW policy az-apps/shop-viewers applies"
	for _, version := range []string{"v1beta1", "v1"} {
		t.Run("own namespace only "+version, func(t *testing.T) {
			ap := obj(t, `{kind: AuthorizationPolicy, metadata: {name: shop-viewers, namespace: az-apps},
  spec: {selector: {matchLabels: {app: shop}}, action: ALLOW, rules: [{from: [{source: {namespaces: [az-apps]}}]}]}}`)
			ap.SetAPIVersion("security.istio.io/" + version)
			eventually(t, "denied", func() error { return deniedWith(k8s.Create(ctx(), ap.DeepCopy()), want) })
			eventually(t, "denied in a dry run", func() error { return deniedWith(k8s.Create(ctx(), ap.DeepCopy(), client.DryRunAll), want) })
		})
	}
	t.Run("dry-run policy", func(t *testing.T) {
		ap := obj(t, `{apiVersion: security.istio.io/v1, kind: AuthorizationPolicy,
  metadata: {name: deny-all, namespace: az-apps, annotations: {istio.io/dry-run: "true"}},
  spec: {selector: {matchLabels: {app: shop}}, action: DENY, rules: [{}]}}`)
		eventually(t, "admitted", func() error { return k8s.Create(ctx(), ap.DeepCopy()) })
		cleanupObject(t, ap)
	})
	t.Run("gateway allowed", func(t *testing.T) {
		ap := obj(t, `{apiVersion: security.istio.io/v1, kind: AuthorizationPolicy, metadata: {name: shop-viewers, namespace: az-apps},
  spec: {selector: {matchLabels: {app: shop}}, action: ALLOW, rules: [{from: [{source: {namespaces: [az-apps]}}, {source: {principals: [cluster.local/ns/az-ingress/sa/default]}}]}]}}`)
		eventually(t, "admitted", func() error { return k8s.Create(ctx(), ap.DeepCopy()) })
		cleanupObject(t, ap)
	})
}
