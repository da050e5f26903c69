package integration

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Service writes go through the webhook the chart registers for them
// (validate-kubernetes.meshguard.io, failurePolicy Ignore): deleting a
// Service a route sends to, or renumbering the routed port, is denied as
// kubectl would show it, in a dry run too (MG303, MG304); deleting a
// Service nothing names is admitted; the namespace controller's deletes
// never reach the webhook (the chart's matchConditions); once the route
// moves, the delete is admitted at once (confirmed by a direct read).
func TestServiceWritesUnderLiveRoutes(t *testing.T) {
	// kubectl shows the second webhook's name for these.
	deniedWith := func(err error, want ...string) error {
		return deniedBy(`admission webhook "validate-kubernetes.meshguard.io" denied the request: `, err, want...)
	}
	createNamespace(t, "svc-apps", map[string]string{"istio-injection": "enabled"})
	createService(t, "svc-apps", "reviews", map[string]string{"app": "reviews"}, port("http", 8080))
	createPod(t, podSpec{ns: "svc-apps", name: "reviews-1", labels: map[string]string{"app": "reviews"}, sidecar: true, port: 8080})
	createService(t, "svc-apps", "front", map[string]string{"app": "front"}, port("http", 8080))
	createPod(t, podSpec{ns: "svc-apps", name: "front-1", labels: map[string]string{"app": "front"}, sidecar: true, port: 8080})
	createService(t, "svc-apps", "unrouted", map[string]string{"app": "unrouted"}, port("http", 8080))
	vs := obj(t, `{apiVersion: networking.istio.io/v1, kind: VirtualService, metadata: {name: front, namespace: svc-apps},
  spec: {hosts: [front], http: [{match: [{uri: {prefix: /reviews}}], route: [{destination: {host: reviews, port: {number: 8080}}}]},
    {route: [{destination: {host: front}}]}]}}`)
	eventually(t, "creating the route", func() error { return k8s.Create(ctx(), vs.DeepCopy()) })
	cleanupObject(t, vs)

	svc := func(name string) *corev1.Service {
		return &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "svc-apps", Name: name}}
	}
	const gone = "[MG303] spec: without Service svc-apps/reviews its host reviews.svc-apps.svc.cluster.local resolves to nothing"
	t.Run("deleting the routed Service is denied", func(t *testing.T) {
		// A dry run first, until the webhook's cache holds the route (a
		// real delete admitted by a cache still behind would be final).
		eventually(t, "dry-run delete denied", func() error { return deniedWith(k8s.Delete(ctx(), svc("reviews"), client.DryRunAll), gone) })
		if e := deniedWith(k8s.Delete(ctx(), svc("reviews")), gone); e != nil {
			t.Fatal(e)
		}
	})
	t.Run("renumbering the routed port is denied", func(t *testing.T) {
		eventually(t, "update denied", func() error {
			cur := &corev1.Service{}
			if err := k8s.Get(ctx(), client.ObjectKey{Namespace: "svc-apps", Name: "reviews"}, cur); err != nil {
				return err
			}
			cur.Spec.Ports = []corev1.ServicePort{port("http", 9090)}
			return deniedWith(k8s.Update(ctx(), cur), "[MG304] spec.ports: port 8080 is no longer a port of Service svc-apps/reviews (it exposes 9090")
		})
	})
	t.Run("deleting a Service nothing names is admitted", func(t *testing.T) {
		eventually(t, "delete admitted", func() error { return k8s.Delete(ctx(), svc("unrouted")) })
	})
	t.Run("the namespace controller's deletes skip the webhook", func(t *testing.T) {
		nc := as(t, "system:serviceaccount:kube-system:namespace-controller")
		if err := nc.Delete(ctx(), svc("reviews"), client.DryRunAll); err != nil {
			t.Fatalf("the namespace controller's dry-run delete: %v", err)
		}
		other := as(t, "system:serviceaccount:svc-apps:deployer")
		if e := deniedWith(other.Delete(ctx(), svc("reviews"), client.DryRunAll), gone); e != nil {
			t.Fatal(e)
		}
	})
	t.Run("after the route moves", func(t *testing.T) {
		eventually(t, "deleting the route", func() error { return k8s.Delete(ctx(), vs.DeepCopy()) })
		// At once, as `kubectl delete -f` of both would: the webhook
		// confirms the route is gone with a direct read before denying,
		// whatever its cache still shows.
		if err := k8s.Delete(ctx(), svc("reviews")); err != nil {
			t.Fatalf("the delete right after the route's: %v", err)
		}
	})
}

// A Namespace update that ends sidecar injection under STRICT is admitted
// with MG801's warning: running pods keep their sidecars, the next ones
// come without (the webhook sees Namespace updates too).
func TestNamespaceUnlabelledUnderStrictWarns(t *testing.T) {
	createNamespace(t, "ns-ledger", map[string]string{"istio-injection": "enabled"})
	createPod(t, podSpec{ns: "ns-ledger", name: "ledger-1", labels: map[string]string{"app": "ledger"}, sidecar: true, port: 8080})
	pa := peerAuth("v1", "ns-ledger", "ledger-strict", "STRICT", map[string]string{"app": "ledger"})
	eventually(t, "creating the policy", func() error { return k8s.Create(ctx(), pa.DeepCopy()) })
	cleanupObject(t, pa)
	// Each attempt labels the namespace again first: the warning comes with
	// the update that removes the label, once the webhook's cache has the
	// pod and the policy.
	relabel := func(enabled bool) error {
		ns := &corev1.Namespace{}
		if err := k8s.Get(ctx(), client.ObjectKey{Name: "ns-ledger"}, ns); err != nil {
			return err
		}
		if enabled {
			ns.Labels["istio-injection"] = "enabled"
		} else {
			delete(ns.Labels, "istio-injection")
		}
		return k8s.Update(ctx(), ns)
	}
	eventually(t, "unlabelling admitted with a warning", func() error {
		if err := relabel(true); err != nil {
			return err
		}
		warnings.take()
		if err := relabel(false); err != nil {
			return err
		}
		if w := warnings.take(); !slices.ContainsFunc(w, func(s string) bool {
			return strings.Contains(s, "[MG801] 1 pod of ns-ledger (ns-ledger/ledger-1) start without a sidecar when next restarted")
		}) {
			return fmt.Errorf("warnings = %q", w)
		}
		return nil
	})
}

// A Service created under the name a ServiceEntry registered takes the host
// (istiod prefers a Kubernetes Service): created without the port a route
// sends there, it is denied (MG304), in a dry run too; a Service whose host
// nothing registered, and one that keeps the entry's port on Ready pods, are
// admitted. A named targetPort the pods do not declare leaves the routed
// port no endpoint (MG302); a declared name is admitted.
func TestServiceCreateOverAServiceEntryAndTargetPorts(t *testing.T) {
	deniedWith := func(err error, want ...string) error {
		return deniedBy(`admission webhook "validate-kubernetes.meshguard.io" denied the request: `, err, want...)
	}
	createNamespace(t, "svc-vm", map[string]string{"istio-injection": "enabled"})
	createService(t, "svc-vm", "front", map[string]string{"app": "front"}, port("http", 8080))
	createPod(t, podSpec{ns: "svc-vm", name: "front-1", labels: map[string]string{"app": "front"}, sidecar: true, port: 8080})
	createPod(t, podSpec{ns: "svc-vm", name: "reports-1", labels: map[string]string{"app": "reports"}, sidecar: true, port: 8080})
	se := obj(t, `{apiVersion: networking.istio.io/v1, kind: ServiceEntry, metadata: {name: reports-vm, namespace: svc-vm},
  spec: {hosts: [reports.svc-vm.svc.cluster.local], location: MESH_INTERNAL, resolution: STATIC,
    ports: [{number: 8080, name: http, protocol: HTTP}], endpoints: [{address: 10.0.7.12}]}}`)
	eventually(t, "creating the entry", func() error { return k8s.Create(ctx(), se.DeepCopy()) })
	cleanupObject(t, se)
	vs := obj(t, `{apiVersion: networking.istio.io/v1, kind: VirtualService, metadata: {name: front, namespace: svc-vm},
  spec: {hosts: [front], http: [{match: [{uri: {prefix: /reports}}], route: [{destination: {host: reports.svc-vm.svc.cluster.local, port: {number: 8080}}}]},
    {route: [{destination: {host: front}}]}]}}`)
	eventually(t, "creating the route", func() error { return k8s.Create(ctx(), vs.DeepCopy()) })
	cleanupObject(t, vs)

	reports := func(target intstr.IntOrString, n int32) *corev1.Service {
		return &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "svc-vm", Name: "reports"},
			Spec: corev1.ServiceSpec{Selector: map[string]string{"app": "reports"}, Ports: []corev1.ServicePort{{Name: "http", Port: n, TargetPort: target}}}}
	}
	t.Run("a Service taking the entry's host without its port is denied", func(t *testing.T) {
		const want = "[MG304] spec.ports: Service svc-vm/reports takes host reports.svc-vm.svc.cluster.local from ServiceEntry svc-vm/reports-vm"
		eventually(t, "dry-run create denied", func() error {
			return deniedWith(k8s.Create(ctx(), reports(intstr.FromInt32(8080), 80), client.DryRunAll), want)
		})
		if e := deniedWith(k8s.Create(ctx(), reports(intstr.FromInt32(8080), 80)), want); e != nil {
			t.Fatal(e)
		}
	})
	t.Run("a Service no entry registered is admitted", func(t *testing.T) {
		createService(t, "svc-vm", "journal", map[string]string{"app": "journal"}, port("http", 8080))
	})
	t.Cleanup(func() { _ = k8s.Delete(ctx(), reports(intstr.FromInt32(8080), 8080)) })
	t.Run("a Service keeping the entry's port on Ready pods is admitted", func(t *testing.T) {
		if err := k8s.Create(ctx(), reports(intstr.FromInt32(8080), 8080)); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("a named targetPort the pods do not declare is denied", func(t *testing.T) {
		update := func(target intstr.IntOrString, opts ...client.UpdateOption) error {
			cur := &corev1.Service{}
			if err := k8s.Get(ctx(), client.ObjectKey{Namespace: "svc-vm", Name: "reports"}, cur); err != nil {
				return err
			}
			cur.Spec.Ports[0].TargetPort = target
			return k8s.Update(ctx(), cur, opts...)
		}
		eventually(t, "update denied", func() error {
			return deniedWith(update(intstr.FromString("web"), client.DryRunAll),
				`[MG302] spec.ports: after this change port 8080 of reports.svc-vm.svc.cluster.local has no endpoint: its targetPort "web" names no container port`)
		})
		// The pods declare an unnamed 8080: a number is admitted.
		if err := update(intstr.FromInt32(8081), client.DryRunAll); err != nil {
			t.Fatalf("a numeric targetPort: %v", err)
		}
	})
}
