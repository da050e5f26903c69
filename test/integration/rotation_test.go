package integration

import (
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-logr/logr"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/meshguard/meshguard/pkg/certs"
)

func verifies(t *testing.T, certPEM, bundle []byte, host string, at time.Time) error {
	t.Helper()
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(bundle) {
		t.Fatal("caBundle holds no certificate")
	}
	block, _ := pem.Decode(certPEM)
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	_, err = cert.Verify(x509.VerifyOptions{Roots: pool, DNSName: host, CurrentTime: at})
	return err
}

func TestCertificateRotation(t *testing.T) {
	createNamespace(t, "mg-rot", nil)
	// A registration that intercepts nothing, so that only its caBundle matters.
	vwc := &admissionregistrationv1.ValidatingWebhookConfiguration{
		ObjectMeta: metav1.ObjectMeta{Name: "rotation-test"},
		Webhooks: []admissionregistrationv1.ValidatingWebhook{{
			Name: "rotation.meshguard.io", AdmissionReviewVersions: []string{"v1"},
			SideEffects: ptr.To(admissionregistrationv1.SideEffectClassNone),
			ClientConfig: admissionregistrationv1.WebhookClientConfig{Service: &admissionregistrationv1.ServiceReference{
				Namespace: "mg-rot", Name: "meshguard", Path: ptr.To("/validate")}},
			Rules: []admissionregistrationv1.RuleWithOperations{{Operations: []admissionregistrationv1.OperationType{"CREATE"},
				Rule: admissionregistrationv1.Rule{APIGroups: []string{"nothing.example.com"}, APIVersions: []string{"v1"}, Resources: []string{"nothings"}}}},
		}},
	}
	if err := k8s.Create(ctx(), vwc); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = k8s.Delete(ctx(), vwc) })
	dir := t.TempDir()
	start := time.Now()
	r := &certs.Rotator{Client: k8s, Namespace: "mg-rot", SecretName: "meshguard-webhook-tls", ServiceName: "meshguard",
		WebhookConfig: "rotation-test", CertDir: dir, Validity: 90 * 24 * time.Hour, Log: logr.Discard(), Now: func() time.Time { return start }}
	const host = "meshguard.mg-rot.svc"

	current := func() (*corev1.Secret, []byte) {
		sec := &corev1.Secret{}
		if err := k8s.Get(ctx(), client.ObjectKey{Namespace: "mg-rot", Name: "meshguard-webhook-tls"}, sec); err != nil {
			t.Fatal(err)
		}
		got := &admissionregistrationv1.ValidatingWebhookConfiguration{}
		if err := k8s.Get(ctx(), client.ObjectKeyFromObject(vwc), got); err != nil {
			t.Fatal(err)
		}
		return sec, got.Webhooks[0].ClientConfig.CABundle
	}

	// A replica that does not lead waits for the leader to issue.
	if err := r.Ensure(ctx(), false); err != nil {
		t.Fatal(err)
	}
	if err := k8s.Get(ctx(), client.ObjectKey{Namespace: "mg-rot", Name: "meshguard-webhook-tls"}, &corev1.Secret{}); !apierrors.IsNotFound(err) {
		t.Fatalf("a follower issued a certificate: %v", err)
	}
	if err := r.Ensure(ctx(), true); err != nil {
		t.Fatal(err)
	}
	sec, bundle := current()
	files, _ := os.ReadFile(filepath.Join(dir, "tls.crt"))
	if string(files) != string(sec.Data["tls.crt"]) {
		t.Error("tls.crt on disk differs from the Secret")
	}
	if err := verifies(t, sec.Data["tls.crt"], bundle, host, start); err != nil {
		t.Fatalf("the serving certificate must verify against the caBundle: %v", err)
	}
	first := sec.Data["tls.crt"]

	if err := r.Ensure(ctx(), true); err != nil {
		t.Fatal(err)
	}
	if again, _ := current(); again.ResourceVersion != sec.ResourceVersion {
		t.Error("a valid certificate must not be reissued")
	}

	// 70 of 90 days later: within the last third, a non-leader only follows.
	r.Now = func() time.Time { return start.Add(70 * 24 * time.Hour) }
	if err := r.Ensure(ctx(), false); err != nil {
		t.Fatal(err)
	}
	if again, _ := current(); again.ResourceVersion != sec.ResourceVersion {
		t.Error("a replica that does not lead must not renew")
	}
	// The leader renews; the bundle keeps the old CA so old certs still verify.
	if err := r.Ensure(ctx(), true); err != nil {
		t.Fatal(err)
	}
	renewed, bundle := current()
	if string(renewed.Data["tls.crt"]) == string(first) {
		t.Fatal("the certificate was not renewed")
	}
	later := start.Add(70 * 24 * time.Hour)
	if err := verifies(t, renewed.Data["tls.crt"], bundle, host, later); err != nil {
		t.Errorf("the new certificate must verify: %v", err)
	}
	if err := verifies(t, first, bundle, host, later); err != nil {
		t.Errorf("the previous certificate must still verify during the overlap: %v", err)
	}
	// The replica keeps serving the old pair until the API server has had
	// time to see the new CA, then switches.
	if onDisk, _ := os.ReadFile(filepath.Join(dir, "tls.crt")); string(onDisk) != string(first) {
		t.Error("the renewed certificate was served before the caBundle could reach the API server")
	}
	r.Now = func() time.Time { return later.Add(certs.ServeGrace) }
	if err := r.Ensure(ctx(), true); err != nil {
		t.Fatal(err)
	}
	if onDisk, _ := os.ReadFile(filepath.Join(dir, "tls.crt")); string(onDisk) != string(renewed.Data["tls.crt"]) {
		t.Error("the renewed certificate was not written for certwatcher")
	}
}
