package integration

import (
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// ServiceEntry writes go through the webhook in every served version: a
// delete or a port drop under a live route is denied (MG601), the same
// change after the route moves is admitted (make-before-break).
func TestServiceEntryWritesUnderLiveRoutes(t *testing.T) {
	createNamespace(t, "se-apps", map[string]string{"istio-injection": "enabled"})
	createPod(t, podSpec{ns: "se-apps", name: "client-0", labels: map[string]string{"app": "client"}, sidecar: true, port: 8080})
	entry := func(version, ports string) *unstructured.Unstructured {
		o := obj(t, `{kind: ServiceEntry, metadata: {name: payments-api, namespace: se-apps},
  spec: {hosts: [payments.example.com], location: MESH_EXTERNAL, resolution: DNS, ports: [`+ports+`]}}`)
		o.SetAPIVersion("networking.istio.io/" + version)
		return o
	}
	both := `{number: 80, name: http, protocol: HTTP}, {number: 8080, name: http-v2, protocol: HTTP}`
	se := entry("v1", both)
	eventually(t, "creating the entry", func() error { return k8s.Create(ctx(), se.DeepCopy()) })
	cleanupObject(t, se)
	vs := obj(t, `{apiVersion: networking.istio.io/v1, kind: VirtualService, metadata: {name: payments, namespace: se-apps},
  spec: {hosts: [payments.example.com], http: [{timeout: 3s, route: [{destination: {host: payments.example.com, port: {number: 8080}}}]}]}}`)
	eventually(t, "creating the route", func() error { return k8s.Create(ctx(), vs.DeepCopy()) })

	update := func(o *unstructured.Unstructured) error { return updateObject(k8s, o) }
	for _, version := range []string{"v1alpha3", "v1beta1", "v1"} {
		t.Run("port dropped "+version, func(t *testing.T) {
			eventually(t, "port drop denied", func() error {
				return deniedWith(update(entry(version, `{number: 80, name: http, protocol: HTTP}`)),
					"[MG601] spec.ports: payments.example.com port 8080 is no port of ServiceEntry se-apps/payments-api")
			})
		})
	}
	t.Run("deleted", func(t *testing.T) {
		eventually(t, "delete denied", func() error {
			return deniedWith(k8s.Delete(ctx(), entry("v1beta1", both)), "[MG601] spec: without this entry payments.example.com is registered by nothing")
		})
	})
	t.Run("after the route moves", func(t *testing.T) {
		eventually(t, "deleting the route", func() error { return k8s.Delete(ctx(), vs.DeepCopy()) })
		eventually(t, "port drop admitted", func() error { return update(entry("v1", `{number: 80, name: http, protocol: HTTP}`)) })
		eventually(t, "delete admitted", func() error { return k8s.Delete(ctx(), entry("v1", both)) })
	})
}

// Deleting an Istio Gateway that a VirtualService is bound to is denied
// (MG602); once the VirtualService is gone, the delete is admitted.
func TestGatewayDeleteUnderBoundRoutes(t *testing.T) {
	createNamespace(t, "gw-apps", map[string]string{"istio-injection": "enabled"})
	createNamespace(t, "gw-ingress", nil)
	createPod(t, podSpec{ns: "gw-ingress", name: "web-ingress-1", labels: map[string]string{"istio": "ingressgateway", "app": "web-ingress"}, sidecar: true, port: 8080})
	createService(t, "gw-apps", "shop", map[string]string{"app": "shop"}, port("http", 8080))
	createPod(t, podSpec{ns: "gw-apps", name: "shop-1", labels: map[string]string{"app": "shop"}, sidecar: true, port: 8080})
	gw := obj(t, `{apiVersion: networking.istio.io/v1beta1, kind: Gateway, metadata: {name: web, namespace: gw-ingress},
  spec: {selector: {istio: ingressgateway, app: web-ingress}, servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: [shop.example.com]}]}}`)
	eventually(t, "creating the Gateway", func() error { return k8s.Create(ctx(), gw.DeepCopy()) })
	cleanupObject(t, gw)
	vs := obj(t, `{apiVersion: networking.istio.io/v1, kind: VirtualService, metadata: {name: shop, namespace: gw-apps},
  spec: {hosts: [shop.example.com], gateways: [gw-ingress/web], http: [{route: [{destination: {host: shop, port: {number: 8080}}}]}]}}`)
	eventually(t, "creating the route", func() error { return k8s.Create(ctx(), vs.DeepCopy()) })
	eventually(t, "delete denied", func() error {
		return deniedWith(k8s.Delete(ctx(), gw.DeepCopy()), "[MG602] spec: without this Gateway, VirtualService gw-apps/shop bound to it gets no requests for shop.example.com on port 80")
	})
	eventually(t, "deleting the route", func() error { return k8s.Delete(ctx(), vs.DeepCopy()) })
	eventually(t, "delete admitted", func() error { return k8s.Delete(ctx(), gw.DeepCopy()) })
}

// A namespace's first Sidecar with narrow egress hosts under REGISTRY_ONLY
// cuts its clients off from a Service they call through the mesh (MG603),
// in every served version; with the host imported, or without a mode of its
// own (the mesh config decides), it is admitted.
func TestSidecarNarrowingCutsCallers(t *testing.T) {
	createNamespace(t, "sc-front", map[string]string{"istio-injection": "enabled"})
	createNamespace(t, "sc-back", map[string]string{"istio-injection": "enabled"})
	createPod(t, podSpec{ns: "sc-front", name: "web-1", labels: map[string]string{"app": "web"}, sidecar: true, port: 8080})
	createService(t, "sc-back", "api", map[string]string{"app": "api"}, port("http", 8080))
	createPod(t, podSpec{ns: "sc-back", name: "api-1", labels: map[string]string{"app": "api"}, sidecar: true, port: 8080})
	sidecar := func(version, hosts, mode string) *unstructured.Unstructured {
		o := obj(t, `{kind: Sidecar, metadata: {name: default, namespace: sc-front},
  spec: {egress: [{hosts: [`+hosts+`]}]`+mode+`}}`)
		o.SetAPIVersion("networking.istio.io/" + version)
		return o
	}
	const registryOnly = `, outboundTrafficPolicy: {mode: REGISTRY_ONLY}`
	// createDenied creates o expecting a denial; one admitted while the
	// webhook's cache has not seen the pods yet is deleted and retried.
	createDenied := func(o *unstructured.Unstructured, want string) error {
		err := k8s.Create(ctx(), o.DeepCopy())
		if err == nil {
			_ = k8s.Delete(ctx(), o.DeepCopy())
		}
		return deniedWith(err, want)
	}
	for _, version := range []string{"v1alpha3", "v1beta1", "v1"} {
		t.Run("first Sidecar "+version, func(t *testing.T) {
			eventually(t, "narrow Sidecar denied", func() error {
				return createDenied(sidecar(version, `"./*", "istio-system/*"`, registryOnly),
					"[MG603] spec.egress: Sidecar sc-front/default imports none of 2 hosts: api.sc-back.svc.cluster.local on port 8080, kubernetes.default.svc.cluster.local on port 443 for sidecars in sc-front")
			})
		})
	}
	t.Run("dry-run", func(t *testing.T) {
		eventually(t, "dry-run denied alike", func() error {
			return deniedWith(k8s.Create(ctx(), sidecar("v1", `"./*"`, registryOnly), client.DryRunAll), "[MG603] spec.egress:")
		})
	})
	t.Run("host imported", func(t *testing.T) {
		// The API server's Service is called too (meshguard cannot tell who
		// does not): a REGISTRY_ONLY Sidecar must import it as well.
		sc := sidecar("v1", `"./*", "istio-system/*", "sc-back/*", "default/kubernetes.default.svc.cluster.local"`, registryOnly)
		eventually(t, "admitted", func() error { return k8s.Create(ctx(), sc.DeepCopy()) })
		cleanupObject(t, sc)
		eventually(t, "narrowing it denied", func() error {
			cur := &unstructured.Unstructured{}
			cur.SetGroupVersionKind(sc.GroupVersionKind())
			if err := k8s.Get(ctx(), client.ObjectKeyFromObject(sc), cur); err != nil {
				return err
			}
			nu := sidecar("v1", `"./*"`, registryOnly)
			nu.SetResourceVersion(cur.GetResourceVersion())
			return deniedWith(k8s.Update(ctx(), nu), "[MG603] spec.egress: Sidecar sc-front/default imports none of 2 hosts: api.sc-back.svc.cluster.local on port 8080")
		})
		eventually(t, "delete admitted (it widens)", func() error { return k8s.Delete(ctx(), sc.DeepCopy()) })
	})
	t.Run("mesh config decides", func(t *testing.T) {
		sc := sidecar("v1beta1", `"./*", "istio-system/*"`, "")
		eventually(t, "admitted", func() error { return k8s.Create(ctx(), sc.DeepCopy()) })
		cleanupObject(t, sc)
	})
}
