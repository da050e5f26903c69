package integration

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"path/filepath"

	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/meshguard/meshguard/pkg/trust/trusttest"
)

var (
	// clientCAFile is the CA the suite's webhook trusts for callers
	// (serve --client-ca-file, chart webhook.clientCA).
	clientCAFile string
	// apiServerCert is the client certificate the suite's kube-apiserver
	// presents to webhooks; tests that post reviews directly as the API
	// server would present it too (apiServerTLS).
	apiServerCert tls.Certificate
)

// presentClientCertificate has the control plane's kube-apiserver present a
// client certificate to every admission webhook, as a self-managed control
// plane does with README's AdmissionConfiguration: a CA, a pair it signed,
// the kubeconfig naming the pair for any webhook (user "*") and the
// AdmissionConfiguration pointing at it are written under dir, and the
// API server gets --admission-control-config-file.
func presentClientCertificate(env *envtest.Environment, dir string) error {
	ca := trusttest.NewRoot("kube-apiserver webhook client CA")
	certPEM, keyPEM := ca.ValidLeaf("kube-apiserver")
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return err
	}
	apiServerCert = pair
	clientCAFile = filepath.Join(dir, "client-ca.pem")
	certFile, keyFile := filepath.Join(dir, "client.crt"), filepath.Join(dir, "client.key")
	kubeconfig, admissionConfig := filepath.Join(dir, "webhook-client.kubeconfig"), filepath.Join(dir, "admission.yaml")
	for name, data := range map[string]string{
		clientCAFile: string(ca.PEM),
		certFile:     string(certPEM),
		keyFile:      string(keyPEM),
		kubeconfig: fmt.Sprintf(`apiVersion: v1
kind: Config
users:
- name: "*"
  user:
    client-certificate: %s
    client-key: %s
`, certFile, keyFile),
		admissionConfig: fmt.Sprintf(`apiVersion: apiserver.config.k8s.io/v1
kind: AdmissionConfiguration
plugins:
- name: ValidatingAdmissionWebhook
  configuration:
    apiVersion: apiserver.config.k8s.io/v1
    kind: WebhookAdmissionConfiguration
    kubeConfigFile: %s
`, kubeconfig),
	} {
		if err := os.WriteFile(name, []byte(data), 0o600); err != nil {
			return err
		}
	}
	env.ControlPlane.GetAPIServer().Configure().Set("admission-control-config-file", admissionConfig)
	return nil
}

// apiServerTLS is what a test posting reviews straight to the suite's
// webhook presents, as the API server would: it trusts the serving
// certificate and presents the API server's client certificate.
func apiServerTLS() *tls.Config {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(testEnv.WebhookInstallOptions.LocalServingCAData)
	return &tls.Config{RootCAs: pool, ServerName: testEnv.WebhookInstallOptions.LocalServingHost,
		Certificates: []tls.Certificate{apiServerCert}, MinVersion: tls.VersionTLS12}
}
