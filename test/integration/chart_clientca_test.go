package integration

import (
	"crypto/x509"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/meshguard/meshguard/pkg/trust/trusttest"
)

// webhook.clientCA becomes serve --client-ca-file, from whichever source is
// given: the PEM bundle (carried by the chart's ConfigMap, so a new CA rolls
// the pods), or an existing ConfigMap or Secret and its key (mounted on its
// own). By default there is none, and no NetworkPolicy either (no "auto":
// where the API server calls from cannot be found from inside the cluster).
func TestChartRendersTheClientCA(t *testing.T) {
	bundle := trusttest.NewRoot("API server client CA").PEM
	bundleFile := filepath.Join(t.TempDir(), "client-ca.pem")
	if err := os.WriteFile(bundleFile, bundle, 0o600); err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]struct {
		args   []string
		file   string // --client-ca-file, "" for none
		volume func(corev1.Volume) bool
	}{
		"by default there is none": {},
		"a PEM bundle goes into the chart's ConfigMap": {args: []string{"--set-file", "webhook.clientCA.bundle=" + bundleFile},
			file: "/etc/meshguard/client-ca.pem"},
		"an existing Secret is mounted by its key": {args: []string{"--set", "webhook.clientCA.secretName=apiserver-client-ca"},
			file: "/client-ca/ca.crt", volume: func(v corev1.Volume) bool {
				return v.Secret != nil && v.Secret.SecretName == "apiserver-client-ca" && v.Secret.Items[0].Key == "ca.crt"
			}},
		"an existing ConfigMap is mounted by its key": {args: []string{"--set", "webhook.clientCA.configMapName=apiserver-ca", "--set", "webhook.clientCA.key=bundle.pem"},
			file: "/client-ca/bundle.pem", volume: func(v corev1.Volume) bool {
				return v.ConfigMap != nil && v.ConfigMap.Name == "apiserver-ca" && v.ConfigMap.Items[0].Key == "bundle.pem"
			}},
	} {
		t.Run(name, func(t *testing.T) {
			objs, err := renderChart(c.args...)
			if err != nil {
				t.Fatal(err)
			}
			pod := into[appsv1.Deployment](t, objs, "Deployment").Spec.Template.Spec
			args := pod.Containers[0].Args
			i := slices.IndexFunc(args, func(a string) bool { return strings.HasPrefix(a, "--client-ca-file=") })
			switch {
			case c.file == "" && i >= 0:
				t.Errorf("args %v: want no --client-ca-file", args)
			case c.file != "" && (i < 0 || args[i] != "--client-ca-file="+c.file):
				t.Errorf("args %v: want --client-ca-file=%s", args, c.file)
			}
			if c.volume != nil {
				mounted := slices.ContainsFunc(pod.Containers[0].VolumeMounts, func(m corev1.VolumeMount) bool {
					return m.Name == "client-ca" && m.MountPath == "/client-ca" && m.ReadOnly
				})
				if !mounted || !slices.ContainsFunc(pod.Volumes, func(v corev1.Volume) bool { return v.Name == "client-ca" && c.volume(v) }) {
					t.Errorf("volumes %+v, mounts %+v: want the CA mounted read-only at /client-ca", pod.Volumes, pod.Containers[0].VolumeMounts)
				}
			}
			if c.file == "/etc/meshguard/client-ca.pem" {
				pool := x509.NewCertPool()
				if pem := into[corev1.ConfigMap](t, objs, "ConfigMap").Data["client-ca.pem"]; !pool.AppendCertsFromPEM([]byte(pem)) {
					t.Errorf("the ConfigMap's client-ca.pem holds no certificate: %q", pem)
				}
			}
			if slices.Contains(kinds(objs), "NetworkPolicy") {
				t.Error("a NetworkPolicy is rendered without networkPolicy.enabled")
			}
		})
	}
	if _, err := renderChart("--set-file", "webhook.clientCA.bundle="+bundleFile, "--set", "webhook.clientCA.secretName=x"); err == nil ||
		!strings.Contains(err.Error(), "give one of bundle, configMapName or secretName") {
		t.Errorf("two sources of the client CA: %v", err)
	}
}
