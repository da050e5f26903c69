package cluster

import (
	"testing"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/meshguard/meshguard/pkg/state"
)

// The cache keeps a CRD's conversion webhook and nothing of its schemas,
// and what it keeps still reads as the same call; the transform can run
// twice on one object.
func TestCachedCRDKeepsOnlyItsConversionService(t *testing.T) {
	u := &unstructured.Unstructured{Object: map[string]interface{}{
		"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
		"metadata": map[string]interface{}{"name": "certificates.cert-manager.io", "resourceVersion": "7",
			"annotations": map[string]interface{}{"big": "x"}},
		"spec": map[string]interface{}{
			"group":    "cert-manager.io",
			"versions": []interface{}{map[string]interface{}{"name": "v1", "schema": map[string]interface{}{"openAPIV3Schema": map[string]interface{}{"type": "object"}}}},
			"conversion": map[string]interface{}{"strategy": "Webhook", "webhook": map[string]interface{}{
				"clientConfig": map[string]interface{}{"service": map[string]interface{}{"namespace": "cert-manager", "name": "cert-manager-webhook", "port": int64(443)}}}},
		},
		"status": map[string]interface{}{"acceptedNames": map[string]interface{}{"kind": "Certificate"}},
	}}
	for range 2 {
		if _, err := leanCaller(u); err != nil {
			t.Fatal(err)
		}
	}
	if _, found, _ := unstructured.NestedFieldNoCopy(u.Object, "spec", "versions"); found {
		t.Error("the schemas are cached")
	}
	if _, found := u.Object["status"]; found || len(u.GetAnnotations()) > 0 || u.GetResourceVersion() != "7" {
		t.Errorf("cached %v", u.Object)
	}
	l := liveKinds[schema.GroupKind{Group: state.GroupAPIExtensions, Kind: state.CustomResourceDefinition}]
	o, err := l.lean(u)
	if err != nil {
		t.Fatal(err)
	}
	if c := o.Caller; c == nil || len(c.Calls) != 1 || c.Calls[0].Service != "cert-manager-webhook" || c.Calls[0].Port != 443 {
		t.Errorf("lean = %+v", o.Caller)
	}
}

// Webhook configurations are cached without CA bundles or rules; an
// injector keeps the selectors that name its revisions.
func TestCachedWebhookConfigurationsDropBundlesAndRules(t *testing.T) {
	mwc := &admissionregistrationv1.MutatingWebhookConfiguration{Webhooks: []admissionregistrationv1.MutatingWebhook{{
		Name:         "rev.namespace.sidecar-injector.istio.io",
		ClientConfig: admissionregistrationv1.WebhookClientConfig{CABundle: []byte("pem")},
		Rules:        []admissionregistrationv1.RuleWithOperations{{}},
	}}}
	mwc.Webhooks[0].NamespaceSelector = nil
	if _, err := leanCaller(mwc); err != nil {
		t.Fatal(err)
	}
	if w := mwc.Webhooks[0]; w.ClientConfig.CABundle != nil || w.Rules != nil {
		t.Errorf("cached %+v", w)
	}
}
