package main

import (
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/meshguard/meshguard/pkg/trust/trusttest"
)

// indent prefixes every line of a PEM block for a YAML literal.
func indent(pem []byte, prefix string) string {
	return prefix + strings.ReplaceAll(strings.TrimSpace(string(pem)), "\n", "\n"+prefix)
}

func TestCheckReadsSecretsAndRootFromState(t *testing.T) {
	meshRoot, regional := trusttest.NewRoot("Istio mesh root"), trusttest.NewRoot("Regional CA eu-west")
	expired, expiredKey := meshRoot.Leaf("old client", time.Now().AddDate(-1, 0, 0), time.Now().AddDate(0, 0, -1))
	dir := t.TempDir()
	stateFile := filepath.Join(dir, "state.yaml")
	state := fmt.Sprintf(`apiVersion: v1
kind: List
items:
- {apiVersion: v1, kind: Namespace, metadata: {name: shop}}
- apiVersion: v1
  kind: Service
  metadata: {name: reviews, namespace: shop}
  spec: {selector: {app: reviews}, ports: [{name: https, port: 443}]}
- apiVersion: v1
  kind: Pod
  metadata: {name: reviews-1, namespace: shop, labels: {app: reviews}, annotations: {sidecar.istio.io/status: "{}"}}
  spec: {containers: [{name: reviews, image: reviews, ports: [{containerPort: 443}]}]}
  status: {phase: Running}
- apiVersion: v1
  kind: ConfigMap
  metadata: {name: istio-ca-root-cert, namespace: shop}
  data:
    root-cert.pem: |
%s
- apiVersion: v1
  kind: Secret
  type: Opaque
  metadata: {name: regional-ca, namespace: shop}
  data: {ca.crt: %s}
- apiVersion: v1
  kind: Secret
  type: Opaque
  metadata: {name: full-ca, namespace: shop}
  data: {ca.crt: %s}
- apiVersion: v1
  kind: Secret
  type: kubernetes.io/tls
  metadata: {name: expired-client, namespace: shop}
  data: {tls.crt: %s, tls.key: %s, ca.crt: %s}
`, indent(meshRoot.PEM, "      "), base64.StdEncoding.EncodeToString(regional.PEM),
		base64.StdEncoding.EncodeToString(append(append([]byte{}, regional.PEM...), meshRoot.PEM...)),
		base64.StdEncoding.EncodeToString(expired), base64.StdEncoding.EncodeToString(expiredKey), base64.StdEncoding.EncodeToString(meshRoot.PEM))
	if err := os.WriteFile(stateFile, []byte(state), 0o600); err != nil {
		t.Fatal(err)
	}
	rule := func(secret string) string {
		f := filepath.Join(dir, secret+".yaml")
		_ = os.WriteFile(f, []byte(fmt.Sprintf(`apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews-tls, namespace: shop}
spec: {host: reviews, workloadSelector: {matchLabels: {app: frontend}}, trafficPolicy: {tls: {mode: MUTUAL, credentialName: %s}}}
`, secret)), 0o600)
		return f
	}
	var printed strings.Builder
	code, stdout, stderr := runCheckArgs(t, "-f", rule("regional-ca"), "--state", stateFile)
	printed.WriteString(stdout + stderr)
	if code != 1 || !strings.Contains(stdout, "[MG402] spec.trafficPolicy.tls.credentialName: the CA bundle of Secret shop/regional-ca holds only CN=Regional CA eu-west") {
		t.Errorf("regional-only bundle: exit %d\n%s%s", code, stdout, stderr)
	}
	code, stdout, stderr = runCheckArgs(t, "-f", rule("full-ca"), "--state", stateFile)
	printed.WriteString(stdout + stderr)
	if code != 0 {
		t.Errorf("bundle with the root: exit %d\n%s%s", code, stdout, stderr)
	}
	// A Secret holding a private key, judged and reported: its findings name
	// the Secret and the problem, never the material.
	code, stdout, stderr = runCheckArgs(t, "-f", rule("expired-client"), "--state", stateFile, "-o", "json")
	printed.WriteString(stdout + stderr)
	if code != 1 || !strings.Contains(stdout, "MG403") {
		t.Errorf("expired client pair: exit %d\n%s%s", code, stdout, stderr)
	}
	keyBody := strings.Split(strings.TrimSpace(string(expiredKey)), "\n")[1]
	for _, leak := range []string{"PRIVATE KEY", "BEGIN", keyBody, base64.StdEncoding.EncodeToString(expiredKey)[:40]} {
		if strings.Contains(printed.String(), leak) {
			t.Errorf("check printed key or certificate material (%q)", leak[:min(len(leak), 20)])
		}
	}
}

func TestCheckWithoutSecretsInStateDoesNotJudgeCredentials(t *testing.T) {
	dir := t.TempDir()
	dr := filepath.Join(dir, "dr.yaml")
	_ = os.WriteFile(dr, []byte(`apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews-tls, namespace: shop}
spec: {host: reviews, workloadSelector: {matchLabels: {app: frontend}}, trafficPolicy: {tls: {mode: MUTUAL, credentialName: client-cert}}}
`), 0o600)
	// The routing snapshot holds no Secret at all: credentials are unknown, not missing.
	code, stdout, _ := runCheckArgs(t, "-f", dr, "--state", routingState)
	if code != 0 || strings.Contains(stdout, "MG401") {
		t.Errorf("no Secrets in the state must not mean missing Secrets: exit %d\n%s", code, stdout)
	}
	// With some Secret exported, the one referenced is known to be absent.
	other := filepath.Join(dir, "other-secret.yaml")
	_ = os.WriteFile(other, []byte("apiVersion: v1\nkind: Secret\nmetadata: {name: other, namespace: shop}\ndata: {}\n"), 0o600)
	code, stdout, _ = runCheckArgs(t, "-f", dr, "--state", routingState, "--state", other)
	if code != 1 || !strings.Contains(stdout, "[MG401] spec.trafficPolicy.tls.credentialName: Secret client-cert does not exist in shop") {
		t.Errorf("want MG401: exit %d\n%s", code, stdout)
	}
}
