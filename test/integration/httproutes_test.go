package integration

import (
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// HTTPRoute writes go through the webhook in both served versions, with the
// Gateway API's own CRDs: a GAMMA route (parentRef: a Service) whose
// backendRef names a Service that does not exist, or another namespace's
// Service without a ReferenceGrant there, is denied (MG501, 500s for
// clients that reached the Service before); the same route is admitted once
// the grant exists (read from the API server when the cache has not seen
// it yet); deleting the grant under the route is denied (MG504), deleting
// the route hands the callers back to the Service, and then the grant goes.
func TestHTTPRouteWritesThroughTheAPIServer(t *testing.T) {
	createNamespace(t, "gapi-apps", map[string]string{"istio-injection": "enabled"})
	createNamespace(t, "gapi-billing", map[string]string{"istio-injection": "enabled"})
	createPod(t, podSpec{ns: "gapi-apps", name: "client-0", labels: map[string]string{"app": "client"}, sidecar: true, port: 8080})
	createService(t, "gapi-apps", "ratings", map[string]string{"app": "ratings"}, port("http", 9080))
	createPod(t, podSpec{ns: "gapi-apps", name: "ratings-1", labels: map[string]string{"app": "ratings"}, sidecar: true, port: 9080})
	createService(t, "gapi-billing", "billing", map[string]string{"app": "billing"}, port("http", 9080))
	createPod(t, podSpec{ns: "gapi-billing", name: "billing-1", labels: map[string]string{"app": "billing"}, sidecar: true, port: 9080})

	route := func(version, backend string) *unstructured.Unstructured {
		o := obj(t, `{kind: HTTPRoute, metadata: {name: ratings, namespace: gapi-apps},
  spec: {parentRefs: [{group: "", kind: Service, name: ratings, port: 9080}], rules: [{backendRefs: [`+backend+`]}]}}`)
		o.SetAPIVersion("gateway.networking.k8s.io/" + version)
		return o
	}
	update := func(o *unstructured.Unstructured) error {
		cur := &unstructured.Unstructured{}
		cur.SetGroupVersionKind(o.GroupVersionKind())
		if err := k8s.Get(ctx(), client.ObjectKeyFromObject(o), cur); err != nil {
			return err
		}
		o.SetResourceVersion(cur.GetResourceVersion())
		return k8s.Update(ctx(), o)
	}
	grant := obj(t, `{apiVersion: gateway.networking.k8s.io/v1beta1, kind: ReferenceGrant, metadata: {name: apps-to-billing, namespace: gapi-billing},
  spec: {from: [{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: gapi-apps}], to: [{group: "", kind: Service, name: billing}]}}`)
	// Cleanups run last first: the grant goes after the route.
	cleanupObject(t, grant)
	good := route("v1", `{name: ratings, port: 9080}`)
	eventually(t, "creating the route", func() error { return k8s.Create(ctx(), good.DeepCopy()) })
	cleanupObject(t, good)

	for _, version := range []string{"v1", "v1beta1"} {
		t.Run("missing Service "+version, func(t *testing.T) {
			eventually(t, "update denied", func() error {
				return deniedWith(update(route(version, `{name: ratings-v9, port: 9080}`)),
					"[MG501] spec.rules[0].backendRefs[0]: no Service ratings-v9.gapi-apps.svc.cluster.local exists, so 100% of the requests HTTPRoute gapi-apps/ratings takes for ratings.gapi-apps.svc.cluster.local:9080")
			})
		})
	}
	cross := route("v1", `{name: billing, namespace: gapi-billing, port: 9080}`)
	t.Run("cross-namespace without a ReferenceGrant", func(t *testing.T) {
		eventually(t, "update denied", func() error {
			return deniedWith(update(cross.DeepCopy()),
				"[MG501] spec.rules[0].backendRefs[0]: no ReferenceGrant in gapi-billing lets HTTPRoutes of gapi-apps refer to Service billing")
		})
	})
	t.Run("cross-namespace with a ReferenceGrant", func(t *testing.T) {
		eventually(t, "creating the grant", func() error { return k8s.Create(ctx(), grant.DeepCopy()) })
		// At once, without waiting for the cache: before denying, the
		// webhook reads the namespace's grants from the API server.
		if err := update(cross.DeepCopy()); err != nil {
			t.Fatalf("update right after the grant: %v", err)
		}
	})
	t.Run("grant deleted under the route", func(t *testing.T) {
		eventually(t, "delete denied", func() error {
			return deniedWith(k8s.Delete(ctx(), grant.DeepCopy()),
				"[MG504] spec: without this ReferenceGrant HTTPRoute gapi-apps/ratings no longer resolves its backendRef to Service gapi-billing/billing")
		})
	})
	t.Run("deleted", func(t *testing.T) {
		eventually(t, "delete admitted", func() error { return k8s.Delete(ctx(), good.DeepCopy()) })
		eventually(t, "grant delete admitted once no route needs it", func() error { return k8s.Delete(ctx(), grant.DeepCopy()) })
	})
}
