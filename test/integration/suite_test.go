// Package integration runs meshguard's webhook against a real kube-apiserver
// and etcd (envtest) with the Istio CRDs installed and the webhook registered
// as the Helm chart renders it. Every assertion goes through the
// API server, as kubectl's would.
package integration

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap/zapcore"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/meshguard/meshguard/pkg/config"
	"github.com/meshguard/meshguard/pkg/server"
)

var (
	cfg      *rest.Config
	k8s      client.Client
	warnings = &warningRecorder{}
	// kubeconfig is a file for the kubectl tests.
	kubeconfig string
	// readyz is the webhook's readiness endpoint.
	readyz string
	// testEnv is the control plane, for tests that add users.
	testEnv *envtest.Environment
	// clockAhead moves the suite webhook's clock (exceptions expire by it).
	clockAhead atomic.Int64
	// auditLog is the API server's audit log (JSON lines; Istio kinds only).
	auditLog string
)

// suiteNow is the suite webhook's clock: the time, plus what a test moved it.
func suiteNow() time.Time { return time.Now().Add(time.Duration(clockAhead.Load())) }

// warningRecorder captures the warnings the API server relays from the webhook.
type warningRecorder struct {
	mu   sync.Mutex
	seen []string
}

func (w *warningRecorder) HandleWarningHeader(_ int, _ string, text string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.seen = append(w.seen, text)
}

func (w *warningRecorder) take() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := w.seen
	w.seen = nil
	return out
}

func repoRoot() string {
	wd, _ := os.Getwd()
	return filepath.Join(wd, "..", "..")
}

// assets returns the envtest binaries, building them once if needed.
func assets() (string, error) {
	if dir := os.Getenv("KUBEBUILDER_ASSETS"); dir != "" {
		return dir, nil
	}
	out, err := exec.Command("bash", filepath.Join(repoRoot(), "hack", "envtest-binaries.sh")).Output()
	if err != nil {
		return "", fmt.Errorf("hack/envtest-binaries.sh: %w", err)
	}
	return strings.TrimSpace(string(out)), nil
}

// IstioCRDs is the CRD file shipped in the istio.io/api module.
func istioCRDs() (string, error) {
	if f := os.Getenv("ISTIO_CRDS"); f != "" {
		return f, nil
	}
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "istio.io/api").Output()
	if err != nil {
		return "", fmt.Errorf("locating istio.io/api: %w", err)
	}
	return filepath.Join(strings.TrimSpace(string(out)), "kubernetes", "customresourcedefinitions.gen.yaml"), nil
}

// optionalCRDs are the real CRDs of the OpenReports Report and Prometheus
// Operator kinds, from the modules that publish them.
func optionalCRDs() ([]string, error) {
	out, err := exec.Command("bash", filepath.Join(repoRoot(), "hack", "optional-crds.sh")).Output()
	if err != nil {
		return nil, fmt.Errorf("hack/optional-crds.sh: %w", err)
	}
	return strings.Fields(string(out)), nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	log.SetLogger(zap.New(zap.WriteTo(os.Stderr), zap.Level(zapcore.ErrorLevel)))
	dir, err := assets()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	crds, err := istioCRDs()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	// The webhook is registered exactly as the chart renders it (with a
	// break-glass group, and one namespace left to the enforcement: warn
	// webhook a test starts), so its rules, selectors and matchConditions
	// are what these tests exercise.
	vwc, err := chartWebhook("--set", "breakGlass.groups[0]="+breakGlassGroup, "--set", "webhook.excludedNamespaces[0]="+warnModeNamespace)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	optional, err := optionalCRDs()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	env := &envtest.Environment{
		BinaryAssetsDirectory: dir,
		CRDInstallOptions: envtest.CRDInstallOptions{ErrorIfPathMissing: true,
			Paths: append([]string{crds, filepath.Join(repoRoot(), "test", "fixtures", "crds")}, optional...)},
		WebhookInstallOptions: envtest.WebhookInstallOptions{
			ValidatingWebhooks: []*admissionregistrationv1.ValidatingWebhookConfiguration{vwc},
		},
		ErrorIfCRDPathMissing: true,
	}
	// The API server presents a client certificate and the webhook requires
	// it (serve --client-ca-file): every review through the API server
	// takes the trusted path, where userInfo is believed.
	certs, err := os.MkdirTemp("", "meshguard-apiserver-client-*")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(certs)
	if err := presentClientCertificate(env, certs); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	testEnv = env
	auditDir, err := os.MkdirTemp("", "meshguard-audit-*")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(auditDir)
	if err := configureAudit(env, auditDir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	cfg, err = env.Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, "starting envtest:", err)
		return 1
	}
	defer func() { _ = env.Stop() }()

	user, err := env.AddUser(envtest.User{Name: "tester", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	kc, err := user.KubeConfig()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	f, err := os.CreateTemp("", "meshguard-kubeconfig-*")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.Remove(f.Name())
	_, _ = f.Write(kc)
	_ = f.Close()
	kubeconfig = f.Name()

	probePort, err := freePort()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	wio := &env.WebhookInstallOptions
	mgr, err := server.New(cfg, server.Options{
		Host: wio.LocalServingHost, Port: wio.LocalServingPort, CertDir: wio.LocalServingCertDir,
		HealthProbeBindAddress: fmt.Sprintf("127.0.0.1:%d", probePort), MetricsBindAddress: "0",
		Config: suiteConfig(), Log: zap.New(zap.WriteTo(os.Stderr), zap.Level(zapcore.ErrorLevel)),
		ClientCAFile:  clientCAFile,
		Now:           suiteNow,
		AuditInterval: time.Second, // the drift tests wait for one cycle
		Reports:       true,
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	defer func() { cancel(); <-done }()
	readyz = fmt.Sprintf("http://127.0.0.1:%d/readyz", probePort)
	if err := waitReady(readyz, done); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}

	c := rest.CopyConfig(cfg)
	c.WarningHandler = warnings
	scheme, _ := server.Scheme()
	k8s, err = client.New(c, client.Options{Scheme: scheme})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if err := k8s.Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "istio-system"}}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}

// auditPolicy records, at Metadata level (where admission webhooks'
// audit annotations land), the writes of the kinds meshguard reviews, and
// nothing else: the log stays small.
const auditPolicy = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
- level: Metadata
  verbs: [create, update, patch, delete]
  resources:
  - group: networking.istio.io
  - group: security.istio.io
- level: None
`

// configureAudit makes the API server write its audit log to a file in dir.
func configureAudit(env *envtest.Environment, dir string) error {
	policy := filepath.Join(dir, "policy.yaml")
	if err := os.WriteFile(policy, []byte(auditPolicy), 0o600); err != nil {
		return err
	}
	auditLog = filepath.Join(dir, "audit.log")
	env.ControlPlane.GetAPIServer().Configure().
		Set("audit-policy-file", policy).
		Set("audit-log-path", auditLog).
		Set("audit-log-format", "json")
	return nil
}

// suiteConfig is what the chart's ConfigMap would give with the suite's values.
func suiteConfig() *config.Config {
	c := config.Default()
	c.BreakGlassGroups = []string{breakGlassGroup}
	c.Exceptions = []config.Exception{{Name: "payments-retries", Rules: []string{"MG306"}, Namespaces: []string{exceptedNamespace},
		Kinds: []string{"VirtualService"}, Names: []string{"checkout-*"}, Reason: "vendor SDK retries idempotent calls; INC-4411",
		Expires: time.Now().UTC().AddDate(0, 0, 2).Format(time.DateOnly)}, {
		Name: "router-converges", Rules: []string{"MG306"}, Namespaces: []string{controllerNamespace},
		ServiceAccounts: []string{controllerNamespace + "/router"}, Reason: "the router's writes must converge",
		Expires: time.Now().UTC().AddDate(0, 0, 30).Format(time.DateOnly)}}
	if err := c.Validate(); err != nil {
		panic(err) // the suite's own configuration
	}
	return c
}

// waitReady polls /readyz: the cache has synced and the certificate is served.
func waitReady(url string, done <-chan error) error {
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-done:
			return fmt.Errorf("webhook server stopped: %w", err)
		default:
		}
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	detail := ""
	if resp, err := http.Get(url + "?verbose"); err == nil {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		detail = string(b)
	}
	return fmt.Errorf("webhook not ready at %s after 60s:\n%s", url, detail)
}
