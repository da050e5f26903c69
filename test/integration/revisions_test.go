package integration

import (
	"fmt"
	"strings"
	"testing"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// The webhook watches Istio's injectors: a namespace labelled for a revision
// no injector serves gets no sidecars, and STRICT over it says so (MG108);
// once an injector serves that revision, it does not.
func TestRevisionWithoutInjector(t *testing.T) {
	createNamespace(t, "rev-green", map[string]string{"istio.io/rev": "green"})
	// A sidecar injector for revision blue. The object selector matches no
	// pod, so the API server never calls it.
	injector := func(name, rev string) *admissionregistrationv1.MutatingWebhookConfiguration {
		none := admissionregistrationv1.SideEffectClassNone
		return &admissionregistrationv1.MutatingWebhookConfiguration{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"istio.io/rev": rev}},
			Webhooks: []admissionregistrationv1.MutatingWebhook{{
				Name:                    "rev.namespace.sidecar-injector.istio.io",
				ClientConfig:            admissionregistrationv1.WebhookClientConfig{URL: ptr.To("https://127.0.0.1:1/inject")},
				NamespaceSelector:       &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "istio.io/rev", Operator: metav1.LabelSelectorOpIn, Values: []string{rev}}}},
				ObjectSelector:          &metav1.LabelSelector{MatchLabels: map[string]string{"meshguard.io/never": "true"}},
				Rules:                   []admissionregistrationv1.RuleWithOperations{{Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create}, Rule: admissionregistrationv1.Rule{APIGroups: []string{""}, APIVersions: []string{"v1"}, Resources: []string{"pods"}}}},
				FailurePolicy:           ptr.To(admissionregistrationv1.Ignore),
				SideEffects:             &none,
				AdmissionReviewVersions: []string{"v1"},
			}}}
	}
	blue := injector("istio-sidecar-injector-blue", "blue")
	if err := k8s.Create(ctx(), blue); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = k8s.Delete(ctx(), blue) })

	strict := func() error {
		warnings.take()
		pa := peerAuth("v1", "rev-green", "strict", "STRICT", nil)
		if err := k8s.Create(ctx(), pa); err != nil {
			return fmt.Errorf("want admitted: %w", err)
		}
		_ = k8s.Delete(ctx(), pa)
		w := strings.Join(warnings.take(), "\n")
		if !strings.Contains(w, "[MG108]") {
			return fmt.Errorf("no MG108 warning:\n%s", w)
		}
		if !strings.Contains(w, "istio.io/rev=green, which no injector serves") {
			return fmt.Errorf("the warning does not name the unserved revision (the injector may not be cached yet):\n%s", w)
		}
		return nil
	}
	eventually(t, "STRICT over a revision nobody injects warns", strict)

	green := injector("istio-sidecar-injector-green", "green")
	if err := k8s.Create(ctx(), green); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = k8s.Delete(ctx(), green) })
	eventually(t, "once an injector serves green, STRICT draws no MG108", func() error {
		warnings.take()
		pa := peerAuth("v1", "rev-green", "strict", "STRICT", nil)
		if err := k8s.Create(ctx(), pa); err != nil {
			return fmt.Errorf("want admitted: %w", err)
		}
		_ = k8s.Delete(ctx(), pa)
		if w := strings.Join(warnings.take(), "\n"); strings.Contains(w, "[MG108]") {
			return fmt.Errorf("still warns:\n%s", w)
		}
		return nil
	})
}
