package integration

import (
	"crypto/tls"
	"crypto/x509"

	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/meshguard/meshguard/test/webhookclient"
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
// client certificate to every admission webhook (webhookclient.Present).
func presentClientCertificate(env *envtest.Environment, dir string) (err error) {
	clientCAFile, apiServerCert, err = webhookclient.Present(env, dir)
	return err
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
