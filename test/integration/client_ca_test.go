package integration

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/meshguard/meshguard/pkg/server"
	"github.com/meshguard/meshguard/pkg/trust/trusttest"
)

// serve --client-ca-file: only a client presenting a certificate the CA
// signed (the API server, through its AdmissionConfiguration) gets a review;
// readiness is unaffected.
func TestClientCertificateRequired(t *testing.T) {
	apiServerCA := trusttest.NewRoot("API server client CA")
	caFile := filepath.Join(t.TempDir(), "client-ca.pem")
	if err := os.WriteFile(caFile, apiServerCA.PEM, 0o600); err != nil {
		t.Fatal(err)
	}
	port := startWebhook(t, server.Options{ClientCAFile: caFile, Config: suiteConfig()})
	wio := &testEnv.WebhookInstallOptions

	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(wio.LocalServingCAData)
	review := []byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u1","kind":{"group":"example.com","version":"v1","kind":"Widget"},"operation":"CREATE","object":{}}}`)
	post := func(certs []tls.Certificate) (int, error) {
		client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, Certificates: certs, MinVersion: tls.VersionTLS12}}}
		resp, err := client.Post(fmt.Sprintf("https://127.0.0.1:%d/validate", port), "application/json", bytes.NewReader(review))
		if err != nil {
			return 0, err
		}
		resp.Body.Close()
		return resp.StatusCode, nil
	}
	if code, err := post(nil); err == nil {
		t.Errorf("a client without a certificate got HTTP %d", code)
	}
	certPEM, keyPEM := apiServerCA.ValidLeaf("kube-apiserver")
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	if code, err := post([]tls.Certificate{pair}); err != nil || code != http.StatusOK {
		t.Errorf("the API server's certificate: HTTP %d, %v", code, err)
	}
}
