package integration

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// Values the suite installs the chart with: what the webhook configuration
// under test looks like.
const (
	releaseNamespace = "meshguard-system"
	breakGlassGroup  = "meshguard-test:oncall"
)

// helm returns the helm binary, building it once (hack/tools.sh).
func helm() (string, error) {
	if h := os.Getenv("HELM"); h != "" {
		return h, nil
	}
	out, err := exec.Command("bash", filepath.Join(repoRoot(), "hack", "tools.sh"), "helm").Output()
	if err != nil {
		return "", fmt.Errorf("hack/tools.sh helm: %w", err)
	}
	return strings.TrimSpace(string(out)), nil
}

// renderChart runs helm template and returns the rendered objects.
func renderChart(args ...string) ([]*unstructured.Unstructured, error) {
	h, err := helm()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(h, append([]string{"template", "meshguard", filepath.Join(repoRoot(), "charts", "meshguard"),
		"--namespace", releaseNamespace, "--kube-version", "1.37.1"}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("helm template: %v: %s", err, stderr.String())
	}
	var objs []*unstructured.Unstructured
	reader := utilyaml.NewYAMLReader(bufioReader(out))
	for {
		doc, err := reader.Read()
		if err != nil {
			break
		}
		u := &unstructured.Unstructured{}
		if err := yaml.Unmarshal(doc, &u.Object); err != nil {
			return nil, err
		}
		if len(u.Object) > 0 {
			objs = append(objs, u)
		}
	}
	return objs, nil
}

// chartWebhook renders the chart's ValidatingWebhookConfiguration.
func chartWebhook(args ...string) (*admissionregistrationv1.ValidatingWebhookConfiguration, error) {
	objs, err := renderChart(args...)
	if err != nil {
		return nil, err
	}
	for _, o := range objs {
		if o.GetKind() != "ValidatingWebhookConfiguration" {
			continue
		}
		data, _ := yaml.Marshal(o.Object)
		vwc := &admissionregistrationv1.ValidatingWebhookConfiguration{}
		return vwc, yaml.UnmarshalStrict(data, vwc)
	}
	return nil, fmt.Errorf("the chart renders no ValidatingWebhookConfiguration")
}
