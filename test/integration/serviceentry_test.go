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

	update := func(o *unstructured.Unstructured) error {
		cur := &unstructured.Unstructured{}
		cur.SetGroupVersionKind(o.GroupVersionKind())
		if err := k8s.Get(ctx(), client.ObjectKeyFromObject(o), cur); err != nil {
			return err
		}
		o.SetResourceVersion(cur.GetResourceVersion())
		return k8s.Update(ctx(), o)
	}
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
