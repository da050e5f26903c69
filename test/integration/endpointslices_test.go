package integration

import (
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// A Service without selector whose endpoints a controller manages (Knative's
// revision Services): the webhook's cache watches those EndpointSlices, so
// ISTIO_MUTUAL towards it is judged by where they point — an address no pod
// holds is denied (MG201), a meshed pod is fine, and the verdict follows the
// slice as it changes, with no Istio write in between.
func TestServiceWithoutSelectorIsJudgedByItsEndpointSlices(t *testing.T) {
	createNamespace(t, "es-serving", map[string]string{"istio-injection": "enabled"})
	createPod(t, podSpec{ns: "es-serving", name: "rev-1", labels: map[string]string{"app": "rev"}, sidecar: true, port: 8012})
	createService(t, "es-serving", "hello-00001", nil, port("http", 80))
	slice := &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{Namespace: "es-serving", Name: "hello-00001-x1", Labels: map[string]string{
			discoveryv1.LabelServiceName: "hello-00001", discoveryv1.LabelManagedBy: "endpointslicemirroring-controller.k8s.io"}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Ports:       []discoveryv1.EndpointPort{{Name: ptr.To("http"), Port: ptr.To(int32(8012))}},
		Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{"192.0.2.10"}}},
	}
	if err := k8s.Create(ctx(), slice); err != nil {
		t.Fatal(err)
	}
	cleanupObject(t, slice)
	dr := obj(t, `{apiVersion: networking.istio.io/v1, kind: DestinationRule, metadata: {name: hello-00001, namespace: es-serving},
  spec: {host: hello-00001, trafficPolicy: {tls: {mode: ISTIO_MUTUAL}}}}`)
	eventually(t, "ISTIO_MUTUAL to an address no pod holds", func() error {
		return deniedWith(k8s.Create(ctx(), dr.DeepCopy(), client.DryRunAll), "[MG201] ", "an address no pod holds")
	})

	// Knative points the endpoints at the revision's meshed pod.
	if err := k8s.Get(ctx(), client.ObjectKeyFromObject(slice), slice); err != nil {
		t.Fatal(err)
	}
	slice.Endpoints = []discoveryv1.Endpoint{{Addresses: []string{"10.244.0.9"}, Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true)},
		TargetRef: &corev1.ObjectReference{Kind: "Pod", Namespace: "es-serving", Name: "rev-1"}}}
	if err := k8s.Update(ctx(), slice); err != nil {
		t.Fatal(err)
	}
	eventually(t, "ISTIO_MUTUAL to a meshed pod behind the slice", func() error {
		if err := k8s.Create(ctx(), dr.DeepCopy(), client.DryRunAll); err != nil {
			return fmt.Errorf("want allowed: %w", err)
		}
		return nil
	})
}
