package integration

import (
	"fmt"
	"strings"
	"testing"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// The kube-apiserver calls a ValidatingWebhookConfiguration's Service with
// TLS of its own: STRICT over the meshed pods behind it is denied as kubectl
// shows it, a PERMISSIVE exception on the target port lets STRICT through,
// and deleting that exception is denied in turn.
func TestStrictOverAWebhookServerTheAPIServerCalls(t *testing.T) {
	const ns = "as-hooks"
	createNamespace(t, ns, map[string]string{"istio-injection": "enabled"})
	createPod(t, podSpec{ns: ns, name: "hook-0", labels: map[string]string{"app": "hook"}, sidecar: true, port: 9443})
	createService(t, ns, "hook", map[string]string{"app": "hook"},
		corev1.ServicePort{Name: "https", Port: 443, TargetPort: intstr.FromInt32(9443)})
	// Registered for a resource nobody writes, so the API server never
	// actually calls it during the suite.
	none := admissionregistrationv1.SideEffectClassNone
	vwc := &admissionregistrationv1.ValidatingWebhookConfiguration{ObjectMeta: metav1.ObjectMeta{Name: "as-hooks-validating"},
		Webhooks: []admissionregistrationv1.ValidatingWebhook{{
			Name:                    "validate.hooks.example.com",
			ClientConfig:            admissionregistrationv1.WebhookClientConfig{Service: &admissionregistrationv1.ServiceReference{Namespace: ns, Name: "hook", Path: ptr.To("/validate")}},
			Rules:                   []admissionregistrationv1.RuleWithOperations{{Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create}, Rule: admissionregistrationv1.Rule{APIGroups: []string{"hooks.example.com"}, APIVersions: []string{"v1"}, Resources: []string{"widgets"}}}},
			FailurePolicy:           ptr.To(admissionregistrationv1.Ignore),
			SideEffects:             &none,
			AdmissionReviewVersions: []string{"v1"},
		}}}
	if err := k8s.Create(ctx(), vwc); err != nil {
		t.Fatal(err)
	}
	cleanupObject(t, vwc)

	want := []string{"[MG101] spec.mtls.mode: STRICT would reject the kube-apiserver, which calls Service as-hooks/hook port 443 (target port 9443 on 1 meshed pod: hook-0) for ValidatingWebhookConfiguration as-hooks-validating (webhook validate.hooks.example.com)",
		"portLevelMtls {9443: {mode: PERMISSIVE}}"}
	// The webhook's cache learns of the configuration through its watch.
	eventually(t, "the webhook sees the API server's call", func() error {
		return deniedWith(k8s.Create(ctx(), peerAuth("v1", ns, "default", "STRICT", nil), client.DryRunAll), want...)
	})
	if out := kubectlApply(t, peerAuthYAML(ns, "default", "STRICT")); !strings.Contains(out, deniedPrefix+want[0]) {
		t.Fatalf("kubectl apply:\n%s", out)
	}

	exception := obj(t, fmt.Sprintf(`{apiVersion: security.istio.io/v1, kind: PeerAuthentication, metadata: {name: hook-port, namespace: %s},
  spec: {selector: {matchLabels: {app: hook}}, portLevelMtls: {"9443": {mode: PERMISSIVE}}}}`, ns))
	if err := k8s.Create(ctx(), exception.DeepCopy()); err != nil {
		t.Fatalf("the exception: %v", err)
	}
	cleanupObject(t, exception)
	eventually(t, "STRICT is admitted once the exception is cached", func() error {
		strict := peerAuth("v1", ns, "default", "STRICT", nil)
		if err := k8s.Create(ctx(), strict); err != nil {
			return err
		}
		cleanupObject(t, strict) // runs before the exception's cleanup
		return nil
	})
	eventually(t, "deleting the exception is denied", func() error {
		return deniedWith(k8s.Delete(ctx(), exception.DeepCopy(), client.DryRunAll), "[MG101]", "Service as-hooks/hook port 443")
	})
}
