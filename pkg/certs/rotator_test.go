package certs_test

import (
	"bytes"
	"context"
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
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/meshguard/meshguard/pkg/certs"
)

func rotator(t *testing.T, c client.Client) *certs.Rotator {
	return &certs.Rotator{Client: c, Namespace: "meshguard-system", SecretName: "tls", ServiceName: "meshguard",
		WebhookConfig: "meshguard", CertDir: filepath.Join(t.TempDir(), "certs"), Log: logr.Discard()}
}

func newClient(objs ...client.Object) client.Client {
	vwc := &admissionregistrationv1.ValidatingWebhookConfiguration{ObjectMeta: metav1.ObjectMeta{Name: "meshguard"},
		Webhooks: []admissionregistrationv1.ValidatingWebhook{{Name: "validate.meshguard.io"}}}
	return fake.NewClientBuilder().WithScheme(clientgoscheme.Scheme).WithObjects(append(objs, vwc)...).Build()
}

func secret(t *testing.T, c client.Client) *corev1.Secret {
	t.Helper()
	s := &corev1.Secret{}
	if err := c.Get(context.Background(), client.ObjectKey{Namespace: "meshguard-system", Name: "tls"}, s); err != nil {
		t.Fatal(err)
	}
	return s
}

func bundle(t *testing.T, c client.Client) []*x509.Certificate {
	t.Helper()
	vwc := &admissionregistrationv1.ValidatingWebhookConfiguration{}
	if err := c.Get(context.Background(), client.ObjectKey{Name: "meshguard"}, vwc); err != nil {
		t.Fatal(err)
	}
	return parse(t, vwc.Webhooks[0].ClientConfig.CABundle)
}

func parse(t *testing.T, data []byte) []*x509.Certificate {
	t.Helper()
	var out []*x509.Certificate
	for rest := data; ; {
		var b *pem.Block
		if b, rest = pem.Decode(rest); b == nil {
			return out
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, c)
	}
}

func TestAFollowerWaitsForTheLeaderToIssue(t *testing.T) {
	c := newClient()
	if err := rotator(t, c).Ensure(context.Background(), false); err != nil {
		t.Fatal(err)
	}
	err := c.Get(context.Background(), client.ObjectKey{Namespace: "meshguard-system", Name: "tls"}, &corev1.Secret{})
	if !apierrors.IsNotFound(err) {
		t.Errorf("a follower issued a certificate: %v", err)
	}
}

// The outage seen in a probe: the Secret is deleted and one replica re-issues
// while the other still serves the old certificate. The caBundle must keep
// the old CA, and the old leaf must still verify against it.
func TestReissueKeepsTheCAStillInUse(t *testing.T) {
	c := newClient()
	r := rotator(t, c)
	if err := r.Ensure(context.Background(), true); err != nil {
		t.Fatal(err)
	}
	first := secret(t, c)
	oldLeaf := parse(t, first.Data[certs.KeyCert])[0]
	if err := c.Delete(context.Background(), first); err != nil {
		t.Fatal(err)
	}
	if err := rotator(t, c).Ensure(context.Background(), true); err != nil {
		t.Fatal(err)
	}
	second := secret(t, c)
	newLeaf := parse(t, second.Data[certs.KeyCert])[0]
	cas := bundle(t, c)
	if len(cas) != 2 {
		t.Fatalf("caBundle holds %d CAs, want the new one and the one still in use", len(cas))
	}
	if cas[0].Subject.String() == cas[1].Subject.String() {
		t.Errorf("two CAs share the subject %q", cas[0].Subject)
	}
	pool := x509.NewCertPool()
	for _, ca := range cas {
		pool.AddCert(ca)
	}
	for name, leaf := range map[string]*x509.Certificate{"old": oldLeaf, "new": newLeaf} {
		if _, err := leaf.Verify(x509.VerifyOptions{Roots: pool, DNSName: "meshguard.meshguard-system.svc"}); err != nil {
			t.Errorf("the %s serving certificate does not verify against the caBundle: %v", name, err)
		}
		if len(leaf.AuthorityKeyId) == 0 {
			t.Errorf("the %s serving certificate names no AuthorityKeyId", name)
		}
	}
	// Each leaf names its own CA.
	if string(newLeaf.AuthorityKeyId) != string(parse(t, second.Data[certs.KeyCA])[0].SubjectKeyId) {
		t.Error("the new leaf's AuthorityKeyId is not its CA's SubjectKeyId")
	}
}

// Trust before serving: a replica that already serves a pair switches to a
// newly issued one only ServeGrace after issue, once the API server has had
// time to see the caBundle with the new CA; a replica with nothing to serve
// takes it at once.
func TestANewPairIsServedOnlyAfterTheCABundleHadTimeToArrive(t *testing.T) {
	c := newClient()
	r := rotator(t, c)
	now := time.Now()
	r.Now = func() time.Time { return now }
	if err := r.Ensure(context.Background(), true); err != nil {
		t.Fatal(err)
	}
	first := secret(t, c).Data[certs.KeyCert]
	if got, _ := os.ReadFile(filepath.Join(r.CertDir, certs.KeyCert)); !bytes.Equal(got, first) {
		t.Fatal("with no files the first pair is written at once")
	}
	if err := c.Delete(context.Background(), secret(t, c)); err != nil {
		t.Fatal(err)
	}
	if err := r.Ensure(context.Background(), true); err != nil {
		t.Fatal(err)
	}
	second := secret(t, c).Data[certs.KeyCert]
	if len(bundle(t, c)) != 2 {
		t.Fatal("the caBundle must trust the new CA and the one still served")
	}
	if got, _ := os.ReadFile(filepath.Join(r.CertDir, certs.KeyCert)); !bytes.Equal(got, first) {
		t.Error("the new pair was served in the same pass that added its CA to the caBundle")
	}
	fresh := rotator(t, c)
	fresh.Now = r.Now
	if err := fresh.Ensure(context.Background(), false); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(filepath.Join(fresh.CertDir, certs.KeyCert)); !bytes.Equal(got, second) {
		t.Error("a replica with nothing to serve must take the new pair at once")
	}
	now = now.Add(certs.ServeGrace)
	if err := r.Ensure(context.Background(), false); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(filepath.Join(r.CertDir, certs.KeyCert)); !bytes.Equal(got, second) {
		t.Error("after ServeGrace the new pair must be served")
	}
}
