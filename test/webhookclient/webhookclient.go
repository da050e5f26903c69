// Package webhookclient has an envtest kube-apiserver present a client
// certificate to every admission webhook, as a self-managed control plane
// does with the README's AdmissionConfiguration, so that `serve
// --client-ca-file` believes the reviews it sends. The integration suite and
// `make demo` use it.
package webhookclient

import (
	"crypto/tls"
	"fmt"
	"os"
	"path/filepath"

	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/meshguard/meshguard/pkg/trust/trusttest"
)

// Present writes under dir a CA, a pair it signed, the kubeconfig naming the
// pair for any webhook (user "*") and the AdmissionConfiguration pointing at
// it, and gives env's API server --admission-control-config-file. It returns
// the CA file for serve's --client-ca-file and the pair the API server
// presents (for tests that post reviews as it would). Call it before
// env.Start.
func Present(env *envtest.Environment, dir string) (caFile string, pair tls.Certificate, err error) {
	// kube-apiserver reads these files from its own working directory.
	if dir, err = filepath.Abs(dir); err != nil {
		return "", tls.Certificate{}, err
	}
	ca := trusttest.NewRoot("kube-apiserver webhook client CA")
	certPEM, keyPEM := ca.ValidLeaf("kube-apiserver")
	if pair, err = tls.X509KeyPair(certPEM, keyPEM); err != nil {
		return "", tls.Certificate{}, err
	}
	caFile = filepath.Join(dir, "client-ca.pem")
	certFile, keyFile := filepath.Join(dir, "client.crt"), filepath.Join(dir, "client.key")
	kubeconfig, admissionConfig := filepath.Join(dir, "webhook-client.kubeconfig"), filepath.Join(dir, "admission.yaml")
	for name, data := range map[string]string{
		caFile:   string(ca.PEM),
		certFile: string(certPEM),
		keyFile:  string(keyPEM),
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
			return "", tls.Certificate{}, err
		}
	}
	env.ControlPlane.GetAPIServer().Configure().Set("admission-control-config-file", admissionConfig)
	return caFile, pair, nil
}
