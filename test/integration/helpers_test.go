package integration

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap/zapcore"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/meshguard/meshguard/pkg/server"
)

const deniedPrefix = `admission webhook "validate.meshguard.io" denied the request: `

func ctx() context.Context { return context.Background() }

func createNamespace(t *testing.T, name string, labels map[string]string) {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}
	if err := k8s.Create(ctx(), ns); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
}

type podSpec struct {
	ns, name    string
	labels      map[string]string
	sidecar     bool
	port        int32
	phase       corev1.PodPhase
	hostNetwork bool
	ownerKind   string
	ownerName   string
}

// createPod creates a pod and then gives it a real status through the status
// subresource (envtest runs no kubelet). It is deleted when the test ends.
func createPod(t *testing.T, s podSpec) {
	t.Helper()
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: s.ns, Name: s.name, Labels: s.labels},
		Spec: corev1.PodSpec{
			HostNetwork: s.hostNetwork,
			Containers:  []corev1.Container{{Name: "app", Image: "app"}},
		},
	}
	if s.port != 0 {
		p.Spec.Containers[0].Ports = []corev1.ContainerPort{{ContainerPort: s.port}}
	}
	if s.sidecar {
		p.Annotations = map[string]string{"sidecar.istio.io/status": `{"containers":["istio-proxy"]}`}
		p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: "istio-proxy", Image: "proxyv2"})
	}
	if s.ownerKind != "" {
		p.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: s.ownerKind, Name: s.ownerName, UID: "0000", Controller: ptr.To(true)}}
	}
	if err := k8s.Create(ctx(), p); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = k8s.Delete(ctx(), p, client.GracePeriodSeconds(0)) })
	phase := s.phase
	if phase == "" {
		phase = corev1.PodRunning
	}
	p.Status = corev1.PodStatus{Phase: phase}
	if phase == corev1.PodRunning {
		p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}
	}
	if err := k8s.Status().Update(ctx(), p); err != nil {
		t.Fatal(err)
	}
}

func deletePod(t *testing.T, ns, name string) {
	t.Helper()
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	if err := k8s.Delete(ctx(), p, client.GracePeriodSeconds(0)); err != nil {
		t.Fatal(err)
	}
}

// peerAuth builds a PeerAuthentication in the given served version.
func peerAuth(version, ns, name, mode string, selector map[string]string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "security.istio.io/" + version,
		"kind":       "PeerAuthentication",
		"metadata":   map[string]any{"namespace": ns, "name": name},
		"spec":       map[string]any{"mtls": map[string]any{"mode": mode}},
	}}
	if selector != nil {
		m := map[string]any{}
		for k, v := range selector {
			m[k] = v
		}
		u.Object["spec"].(map[string]any)["selector"] = map[string]any{"matchLabels": m}
	}
	return u
}

// eventually retries f until it returns nil: the webhook's cache follows the
// API server through a watch, a moment behind the test's own writes.
func eventually(t *testing.T, what string, f func() error) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	var err error
	for time.Now().Before(deadline) {
		if err = f(); err == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s: still failing after 30s: %v", what, err)
}

// deniedWith checks err is a webhook denial containing every want.
func deniedWith(err error, want ...string) error { return deniedBy(deniedPrefix, err, want...) }

// deniedBy checks err is a denial by the webhook whose kubectl prefix is
// given (validate-kubernetes.meshguard.io for Services and Namespaces).
func deniedBy(prefix string, err error, want ...string) error {
	if err == nil {
		return errors.New("allowed, want denied")
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, prefix) {
		return fmt.Errorf("not a meshguard denial: %v", err)
	}
	for _, w := range want {
		if !strings.Contains(msg, w) {
			return fmt.Errorf("denial lacks %q: %s", w, msg)
		}
	}
	return nil
}

func cleanupObject(t *testing.T, obj client.Object) {
	t.Cleanup(func() {
		if err := k8s.Delete(ctx(), obj); err != nil && !apierrors.IsNotFound(err) {
			t.Errorf("cleanup of %s: %v", obj.GetName(), err)
		}
	})
}

// startWebhook runs a second webhook server in the test process, on
// loopback with the suite's serving certificate, until the test ends, and
// returns its port. o supplies what differs (configuration, client CA).
func startWebhook(t *testing.T, o server.Options) int {
	t.Helper()
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	probe, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	o.Host, o.Port, o.CertDir = "127.0.0.1", port, testEnv.WebhookInstallOptions.LocalServingCertDir
	o.HealthProbeBindAddress, o.MetricsBindAddress = fmt.Sprintf("127.0.0.1:%d", probe), "0"
	o.Log = zap.New(zap.WriteTo(os.Stderr), zap.Level(zapcore.ErrorLevel))
	mgr, err := server.New(cfg, o)
	if err != nil {
		t.Fatal(err)
	}
	run, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- mgr.Start(run) }()
	t.Cleanup(func() { stop(); <-done })
	if err := waitReady(fmt.Sprintf("http://127.0.0.1:%d/readyz", probe), done); err != nil {
		t.Fatal(err)
	}
	return port
}
