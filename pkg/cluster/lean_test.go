package cluster

import (
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/utils/ptr"

	"github.com/meshguard/meshguard/pkg/state"
)

// The informer's lean slice keeps everything the store reads: the store's
// slice is the same whether built from the full object or the lean one, and
// the transform is idempotent (client-go may apply it twice).
func TestLeanEndpointSliceKeepsWhatTheStoreReads(t *testing.T) {
	full := &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{Namespace: "serving", Name: "hello-00001-x7k2p", ResourceVersion: "7",
			Labels: map[string]string{discoveryv1.LabelServiceName: "hello-00001", discoveryv1.LabelManagedBy: "endpointslicemirroring-controller.k8s.io",
				"serving.knative.dev/revision": "hello-00001"},
			Annotations:   map[string]string{"endpoints.kubernetes.io/last-change-trigger-time": "2026-12-04T10:00:00Z"},
			ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "kube-controller-manager"}}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Ports:       []discoveryv1.EndpointPort{{Name: ptr.To("http"), Port: ptr.To[int32](8012)}},
		Endpoints: []discoveryv1.Endpoint{
			{Addresses: []string{"10.0.0.7"}, Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true)}, NodeName: ptr.To("node-1"), Zone: ptr.To("a"),
				TargetRef: &corev1.ObjectReference{Kind: "Pod", Namespace: "knative-serving", Name: "activator-5f7-k2m4p", UID: "u1", ResourceVersion: "9"}},
			{Addresses: []string{"10.0.0.8"}, Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(false), Terminating: ptr.To(true)}},
		},
	}
	lean, err := LeanEndpointSlice(full)
	if err != nil {
		t.Fatal(err)
	}
	es := lean.(*discoveryv1.EndpointSlice)
	if got, want := state.FromEndpointSlice(es), state.FromEndpointSlice(full); !reflect.DeepEqual(got, want) {
		t.Errorf("store's slice from the lean object = %+v, want %+v", got, want)
	}
	if es.ManagedFields != nil || es.Annotations != nil || es.Endpoints[0].NodeName != nil || es.Endpoints[0].Addresses != nil {
		t.Errorf("lean slice keeps what nothing reads: %+v", es)
	}
	again, _ := LeanEndpointSlice(es)
	if !reflect.DeepEqual(again, es) {
		t.Errorf("transform is not idempotent: %+v then %+v", es, again)
	}
	tomb, _ := LeanEndpointSlice(toolscache.DeletedFinalStateUnknown{Key: "serving/hello-00001-x7k2p", Obj: full})
	if d := tomb.(toolscache.DeletedFinalStateUnknown); !reflect.DeepEqual(d.Obj, es) {
		t.Errorf("a deletion tombstone's slice is not made lean: %+v", d.Obj)
	}
}
