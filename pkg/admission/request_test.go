package admission_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	admissionv1 "k8s.io/api/admission/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/meshguard/meshguard/pkg/config"
)

const meshStrict = `{"apiVersion":"security.istio.io/v1","kind":"PeerAuthentication","metadata":{"name":"default","namespace":"istio-system"},"spec":{"mtls":{"mode":"STRICT"}}}`

// A request that does not describe the object it carries never came from an
// API server: it is refused as a bad request naming the mismatch, whatever
// the object would be judged (never allowed, never a user's denial).
func TestARequestMustDescribeItsObject(t *testing.T) {
	vs := `{"apiVersion":"networking.istio.io/v1","kind":"VirtualService","metadata":{"name":"r","namespace":"legacy"},"spec":{"hosts":["a"]}}`
	with := func(r admission.Request, f func(*admission.Request)) admission.Request { f(&r); return r }
	for _, c := range []struct {
		name, message string
		req           admission.Request
	}{
		{"a VirtualService review carrying a mesh-wide STRICT PeerAuthentication",
			`request.kind is networking.istio.io/v1 VirtualService but request.object is security.istio.io/v1 PeerAuthentication`,
			with(request(admissionv1.Create, "VirtualService", "networking.istio.io", "istio-system", meshStrict), func(r *admission.Request) { r.Name = "default" })},
		{"an object of another version than the request's",
			`request.kind is security.istio.io/v1beta1 PeerAuthentication but request.object is security.istio.io/v1 PeerAuthentication`,
			with(request(admissionv1.Create, "PeerAuthentication", "security.istio.io", "istio-system", meshStrict), func(r *admission.Request) { r.Kind.Version = "v1beta1" })},
		{"an object of another namespace",
			`request.namespace is "legacy" but request.object.metadata.namespace is "istio-system"`,
			request(admissionv1.Create, "PeerAuthentication", "security.istio.io", "legacy", meshStrict)},
		{"an object of another name",
			`request.name is "other" but request.object.metadata.name is "default"`,
			with(request(admissionv1.Create, "PeerAuthentication", "security.istio.io", "istio-system", meshStrict), func(r *admission.Request) { r.Name = "other" })},
		{"a DELETE without oldObject",
			`the DELETE carries no request.oldObject`,
			with(request(admissionv1.Delete, "VirtualService", "networking.istio.io", "legacy", vs), func(r *admission.Request) { r.OldObject = runtime.RawExtension{} })},
		{"an UPDATE without oldObject",
			`the UPDATE carries no request.oldObject`,
			request(admissionv1.Update, "VirtualService", "networking.istio.io", "legacy", vs)},
		{"an UPDATE whose stored object is another one",
			`request.name is "r" but request.oldObject.metadata.name is "default"`,
			with(request(admissionv1.Update, "PeerAuthentication", "security.istio.io", "istio-system", strings.Replace(meshStrict, `"default"`, `"r"`, 1)), func(r *admission.Request) {
				r.OldObject = runtime.RawExtension{Raw: []byte(meshStrict)}
			})},
		{"a CREATE without object",
			`the CREATE carries no request.object`,
			with(request(admissionv1.Create, "VirtualService", "networking.istio.io", "legacy", vs), func(r *admission.Request) { r.Object = runtime.RawExtension{Raw: []byte("null")} })},
		{"an operation that is not reviewed",
			`request.operation "CONNECT" is not CREATE, UPDATE or DELETE`,
			request(admissionv1.Connect, "VirtualService", "networking.istio.io", "legacy", vs)},
	} {
		t.Run(c.name, func(t *testing.T) {
			resp := newHandler(config.Default()).Handle(context.Background(), c.req)
			if resp.Allowed || resp.Result == nil || resp.Result.Code != http.StatusBadRequest ||
				!strings.Contains(resp.Result.Message, "the request does not describe its object: "+c.message) {
				t.Errorf("allowed=%v %+v, want a 400 saying %q", resp.Allowed, resp.Result, c.message)
			}
		})
	}
	t.Run("a CREATE named by generateName is judged", func(t *testing.T) {
		resp := newHandler(config.Default()).Handle(context.Background(),
			with(request(admissionv1.Create, "PeerAuthentication", "security.istio.io", "legacy", strictLegacy), func(r *admission.Request) { r.Name = "" }))
		if resp.Allowed || resp.Result.Code != http.StatusForbidden || !strings.Contains(resp.Result.Message, "[MG101]") {
			t.Errorf("allowed=%v %+v, want the MG101 denial", resp.Allowed, resp.Result)
		}
	})
}
