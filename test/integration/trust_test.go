package integration

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/meshguard/meshguard/pkg/trust/trusttest"
)

// The regional-CA outage: a DestinationRule whose CA bundle trusts only a
// regional CA, not the mesh root, for an in-mesh host. It is denied; the
// same rule with a bundle that includes the root is allowed.
func TestRegionalCABundleIsDenied(t *testing.T) {
	meshRoot, regional := trusttest.NewRoot("Istio mesh root"), trusttest.NewRoot("Regional CA eu-west")
	createNamespace(t, "tr-shop", map[string]string{"istio-injection": "enabled"})
	createService(t, "tr-shop", "reviews", map[string]string{"app": "reviews"}, port("https", 443))
	rootCM := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "tr-shop", Name: "istio-ca-root-cert"},
		Data: map[string]string{"root-cert.pem": string(meshRoot.PEM)}}
	if err := k8s.Create(ctx(), rootCM); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = k8s.Delete(ctx(), rootCM) })
	bundle := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "tr-shop", Name: "reviews-ca"},
		Data: map[string][]byte{"ca.crt": regional.PEM}}
	if err := k8s.Create(ctx(), bundle); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = k8s.Delete(ctx(), bundle) })

	dr := func(credential string) string {
		return fmt.Sprintf(`{apiVersion: networking.istio.io/v1, kind: DestinationRule, metadata: {name: reviews-tls, namespace: tr-shop},
  spec: {host: reviews, workloadSelector: {matchLabels: {app: frontend}}, trafficPolicy: {tls: {mode: SIMPLE, credentialName: %s}}}}`, credential)
	}
	t.Run("a missing credential Secret is denied", func(t *testing.T) {
		if e := deniedWith(k8s.Create(ctx(), obj(t, dr("nosuch"))), "[MG401] spec.trafficPolicy.tls.credentialName: Secret nosuch does not exist in tr-shop"); e != nil {
			t.Fatal(e)
		}
	})
	t.Run("a bundle with only the regional CA is denied", func(t *testing.T) {
		err := k8s.Create(ctx(), obj(t, dr("reviews-ca")))
		if e := deniedWith(err, "[MG402] spec.trafficPolicy.tls.credentialName: the CA bundle of Secret tr-shop/reviews-ca holds only CN=Regional CA eu-west,O=meshguard tests and lacks the mesh root CN=Istio mesh root,O=meshguard tests (from ConfigMap tr-shop/istio-ca-root-cert)"); e != nil {
			t.Fatal(e)
		}
	})
	t.Run("check without --state reads the live cluster, Secrets included", func(t *testing.T) {
		f := filepath.Join(t.TempDir(), "dr.yaml")
		if err := os.WriteFile(f, []byte(dr("reviews-ca")), 0o600); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(meshguardBinary(t), "check", "-f", f, "--kubeconfig", kubeconfig).CombinedOutput()
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != 1 || !strings.Contains(string(out), "[MG402]") {
			t.Fatalf("want exit 1 with MG402: %v\n%s", err, out)
		}
	})
	t.Run("the bundle that includes the root is allowed", func(t *testing.T) {
		bundle.Data["ca.crt"] = append(append([]byte{}, regional.PEM...), meshRoot.PEM...)
		if err := k8s.Update(ctx(), bundle); err != nil {
			t.Fatal(err)
		}
		// Secrets are read when the rule is reviewed, so no cache must catch up.
		o := obj(t, dr("reviews-ca"))
		if err := k8s.Create(ctx(), o); err != nil {
			t.Fatalf("want allowed: %v", err)
		}
		cleanupObject(t, o)
	})
}
