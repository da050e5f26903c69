package integration

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.uber.org/zap/zapcore"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

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
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	probe, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	wio := &testEnv.WebhookInstallOptions
	mgr, err := server.New(cfg, server.Options{
		Host: "127.0.0.1", Port: port, CertDir: wio.LocalServingCertDir, ClientCAFile: caFile,
		HealthProbeBindAddress: fmt.Sprintf("127.0.0.1:%d", probe), MetricsBindAddress: "0",
		Config: suiteConfig(), Log: zap.New(zap.WriteTo(os.Stderr), zap.Level(zapcore.ErrorLevel)),
	})
	if err != nil {
		t.Fatal(err)
	}
	c, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- mgr.Start(c) }()
	defer func() { cancel(); <-done }()
	if err := waitReady(fmt.Sprintf("http://127.0.0.1:%d/readyz", probe), done); err != nil {
		t.Fatal(err)
	}

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
