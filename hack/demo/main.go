// Command demo shows meshguard doing its main job on a local control plane:
// it starts kube-apiserver and etcd (the envtest binaries built by hack/),
// installs the Istio CRDs, runs `meshguard serve` with generated certificates,
// registers it as the chart renders it (config/meshguard.yaml), loads a small
// mesh and then runs real
// `kubectl apply` commands, printing what a user would see. Every process it
// starts is stopped on exit, including on Ctrl-C.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"go.uber.org/zap/zapcore"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/yaml"

	"github.com/meshguard/meshguard/pkg/trust/trusttest"
	"github.com/meshguard/meshguard/test/webhookclient"
)

// snapshotKinds is what `meshguard check --state` needs from a cluster.
const snapshotKinds = "namespaces,pods,services,peerauthentications,destinationrules,virtualservices,gateways,serviceentries,sidecars,authorizationpolicies"

type demo struct {
	ctx        context.Context
	kubectl    string
	meshguard  string
	kubeconfig string
	out        string
}

func main() {
	assets := flag.String("assets", os.Getenv("KUBEBUILDER_ASSETS"), "directory with kube-apiserver, etcd and kubectl")
	meshguard := flag.String("meshguard", "bin/meshguard", "meshguard binary")
	crds := flag.String("crds", os.Getenv("ISTIO_CRDS"), "CRD files to install, space-separated: Istio's, and optionally OpenReports' Report and the Gateway API's")
	out := flag.String("out", "_out/demo", "directory for the kubeconfig, logs and the state snapshot")
	flag.Parse()
	log.SetLogger(zap.New(zap.WriteTo(os.Stderr), zap.Level(zapcore.ErrorLevel)))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *assets, *meshguard, *crds, *out); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, assets, meshguard, crds, out string) error {
	if assets == "" || crds == "" {
		return errors.New("--assets and --crds are required (make demo sets them)")
	}
	if err := os.RemoveAll(out); err != nil {
		return err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	banner("Starting a local control plane (kube-apiserver, etcd) with the Istio CRDs")
	vwc, err := chartWebhook("config/meshguard.yaml")
	if err != nil {
		return err
	}
	env := &envtest.Environment{
		BinaryAssetsDirectory: assets,
		CRDInstallOptions:     envtest.CRDInstallOptions{Paths: strings.Fields(crds), ErrorIfPathMissing: true},
		WebhookInstallOptions: envtest.WebhookInstallOptions{
			ValidatingWebhooks: []*admissionregistrationv1.ValidatingWebhookConfiguration{vwc}},
	}
	// The API server presents a client certificate to meshguard, as the
	// README's AdmissionConfiguration sets up, so that findings about
	// Secrets show their details (serve --client-ca-file).
	clientCA, _, err := webhookclient.Present(env, out)
	if err != nil {
		return err
	}
	if _, err = env.Start(); err != nil {
		return fmt.Errorf("starting the control plane: %w", err)
	}
	defer func() {
		banner("Cleaning up: stopping meshguard, kube-apiserver and etcd")
		_ = env.Stop()
	}()
	user, err := env.AddUser(envtest.User{Name: "demo", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		return err
	}
	kc, err := user.KubeConfig()
	if err != nil {
		return err
	}
	d := &demo{ctx: ctx, kubectl: filepath.Join(assets, "kubectl"), meshguard: meshguard,
		kubeconfig: filepath.Join(out, "kubeconfig"), out: out}
	if err := os.WriteFile(d.kubeconfig, kc, 0o600); err != nil {
		return err
	}

	banner("Starting `meshguard serve` and registering it as the Helm chart does")
	wio := env.WebhookInstallOptions
	probe, metrics := freePort(), freePort()
	logFile, err := os.Create(filepath.Join(out, "meshguard.log"))
	if err != nil {
		return err
	}
	defer logFile.Close()
	serveCtx, stopServe := context.WithCancel(ctx)
	defer stopServe()
	serve := exec.CommandContext(serveCtx, meshguard, "serve", "--kubeconfig", d.kubeconfig,
		"--cert-dir", wio.LocalServingCertDir, "--port", fmt.Sprint(wio.LocalServingPort),
		"--health-probe-bind-address", fmt.Sprintf("127.0.0.1:%d", probe),
		"--metrics-bind-address", fmt.Sprintf("127.0.0.1:%d", metrics), "--log-format", "console",
		"--client-ca-file", clientCA,
		// The chart audits every 60s; the demo does not wait that long.
		"--audit-interval", "2s", "--reports")
	serve.Stdout, serve.Stderr = logFile, logFile
	if err := serve.Start(); err != nil {
		return fmt.Errorf("starting meshguard: %w", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- serve.Wait() }()
	defer func() { stopServe(); <-exited }()
	if err := waitReady(ctx, fmt.Sprintf("http://127.0.0.1:%d/readyz", probe), exited); err != nil {
		return fmt.Errorf("%w (see %s)", err, logFile.Name())
	}
	fmt.Printf("meshguard is ready (log: %s)\n", logFile.Name())

	banner("Loading a small mesh: shop is injected (reviews v2 still starting), legacy has no sidecars")
	d.sh("kubectl create namespace istio-system")
	d.sh("kubectl apply -f hack/demo/mesh.yaml")
	if err := markRunning(ctx, user); err != nil {
		return err
	}
	fmt.Println("(pods reported Running through the status subresource, as a kubelet would)")
	d.sh("kubectl get pods -A -L app")
	// The webhook's cache follows the API server through a watch; wait until
	// it has seen the pods before showing the denial.
	if err := d.until("meshguard sees the legacy pods", func() bool {
		out, _ := d.run("kubectl apply --dry-run=server -f hack/demo/01-mesh-strict.yaml")
		return strings.Contains(out, "denied the request")
	}); err != nil {
		return err
	}

	banner("Act 1: the outage, mesh-wide STRICT while legacy has no sidecars")
	if out, err := d.sh("kubectl apply -f hack/demo/01-mesh-strict.yaml"); err == nil || !strings.Contains(out, "[MG101]") {
		return errors.New("the mesh-wide STRICT change was not denied")
	}

	banner("Act 2: the same verdict offline, in CI, from `kubectl get -o yaml`")
	snapshot := filepath.Join(out, "state.yaml")
	state, err := d.run("kubectl get " + snapshotKinds + " -A -o yaml")
	if err != nil {
		return fmt.Errorf("snapshot: %w", err)
	}
	if err := os.WriteFile(snapshot, []byte(state), 0o600); err != nil {
		return err
	}
	fmt.Printf("$ kubectl get %s -A -o yaml > %s\n", snapshotKinds, snapshot)
	if _, err := d.sh("meshguard check -f hack/demo/01-mesh-strict.yaml --state " + snapshot); err == nil {
		return errors.New("meshguard check did not exit 1")
	}

	banner("Act 3: the staged path, PERMISSIVE mesh-wide and STRICT for the injected namespace (legacy's callers are warned about)")
	if _, err := d.sh("kubectl apply -f hack/demo/02-safe-path.yaml"); err != nil {
		return fmt.Errorf("the staged path was denied: %w", err)
	}
	d.sh("kubectl get peerauthentications -A")

	banner("Act 4: a canary sending 10% to reviews v2, whose pods are not Ready yet")
	if out, err := d.sh("kubectl apply -f hack/demo/03-canary.yaml"); err == nil || !strings.Contains(out, "[MG302]") {
		return errors.New("the canary to unready pods was not denied")
	}
	if err := setReady(ctx, user, "shop", "reviews-v2-9f7c1-p4m3z", true); err != nil {
		return err
	}
	fmt.Println("\n(reviews-v2 reports Ready through the status subresource; meshguard's cache follows, nothing restarts)")
	if err := d.until("meshguard sees reviews-v2 Ready", func() bool {
		_, err := d.run("kubectl apply --dry-run=server -f hack/demo/03-canary.yaml")
		return err == nil
	}); err != nil {
		return err
	}
	if _, err := d.sh("kubectl apply -f hack/demo/03-canary.yaml"); err != nil {
		return fmt.Errorf("the canary was denied once its pods were Ready: %w", err)
	}

	banner("Act 5: after admission, reviews v2 crashes: no Istio write, and yet 10% of requests fail")
	if err := setReady(ctx, user, "shop", "reviews-v2-9f7c1-p4m3z", false); err != nil {
		return err
	}
	fmt.Println("(reviews-v2 reports NotReady through the status subresource, as its kubelet would when probes fail)")
	if err := d.untilEvent("shop", "MG302"); err != nil {
		return err
	}
	d.sh("kubectl describe virtualservice reviews -n shop")
	if out, err := d.sh("meshguard audit -n shop"); err == nil || !strings.Contains(out, "[MG302]") {
		return errors.New("meshguard audit did not report the canary")
	}
	d.sh("kubectl get reports -n shop")
	if err := setReady(ctx, user, "shop", "reviews-v2-9f7c1-p4m3z", true); err != nil {
		return err
	}
	fmt.Println("\n(reviews-v2 is Ready again)")
	if err := d.untilEvent("shop", "Resolved"); err != nil {
		return err
	}
	d.sh("kubectl get events -n shop --field-selector involvedObject.kind=VirtualService,involvedObject.name=reviews")

	if err := d.otherOutages(); err != nil {
		return err
	}

	banner("Act 7: the way to yes, the staged STRICT migration for this mesh")
	if _, err := d.sh("meshguard coverage"); err != nil {
		return fmt.Errorf("coverage: %w", err)
	}
	if _, err := d.sh("meshguard plan strict"); err != nil {
		return fmt.Errorf("plan: %w", err)
	}
	planFile := filepath.Join(out, "plan.yaml")
	policies, err := d.run("meshguard plan strict -o yaml")
	if err != nil {
		return fmt.Errorf("plan -o yaml: %w: %s", err, policies)
	}
	if err := os.WriteFile(planFile, []byte(policies), 0o600); err != nil {
		return err
	}
	fmt.Printf("\n$ meshguard plan strict -o yaml > %s\n", planFile)
	if _, err := d.sh("kubectl apply -f " + planFile); err != nil {
		return fmt.Errorf("the plan's policies were denied: %w", err)
	}
	return nil
}

// otherOutages is Act 6: the other writes that took meshes down, each denied
// as kubectl apply shows it.
func (d *demo) otherOutages() error {
	banner("Act 6: the other outages: a subset that does not exist, a retry storm, a gateway bound to nothing, " +
		"an ALLOW policy that shuts out the ingress gateway, a Gateway API canary to a missing Service, a trust override")
	for _, c := range []struct{ file, rule string }{
		{"hack/demo/04-subset-typo.yaml", "[MG301]"},
		{"hack/demo/05-retry-storm.yaml", "[MG306]"},
		{"hack/demo/06-gateway.yaml", "[MG305]"},
		{"hack/demo/08-allow-policy.yaml", "[MG701]"},
		{"hack/demo/09-httproute.yaml", "[MG501]"},
	} {
		if out, err := d.sh("kubectl apply -f " + c.file); err == nil || !strings.Contains(out, c.rule) {
			return fmt.Errorf("%s was not denied with %s", c.file, c.rule)
		}
	}
	// Istio copies the mesh root into every namespace (istio-ca-root-cert);
	// the Secret holds a regional CA instead.
	trustFile := filepath.Join(d.out, "trust.yaml")
	if err := writeTrust(trustFile); err != nil {
		return err
	}
	fmt.Println("\n(the mesh root in istio-ca-root-cert, as istiod publishes it, and a Secret holding a regional CA)")
	if _, err := d.sh("kubectl apply -f " + trustFile); err != nil {
		return err
	}
	if out, err := d.sh("kubectl apply -f hack/demo/07-trust-override.yaml"); err == nil || !strings.Contains(out, "[MG402]") {
		return errors.New("the trust override was not denied with [MG402]")
	}
	return nil
}

// writeTrust writes the mesh root ConfigMaps and a Secret holding another
// CA, both generated now (certificates only, no key is written).
func writeTrust(file string) error {
	meshRoot, regional := trusttest.NewRoot("Istio mesh root"), trusttest.NewRoot("Regional CA eu-west")
	var docs []string
	for _, ns := range []string{"istio-system", "shop"} {
		cm := corev1.ConfigMap{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
			ObjectMeta: metav1.ObjectMeta{Name: "istio-ca-root-cert", Namespace: ns}, Data: map[string]string{"root-cert.pem": string(meshRoot.PEM)}}
		b, err := yaml.Marshal(cm)
		if err != nil {
			return err
		}
		docs = append(docs, string(b))
	}
	sec := corev1.Secret{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
		ObjectMeta: metav1.ObjectMeta{Name: "reviews-ca", Namespace: "shop"}, Data: map[string][]byte{"ca.crt": regional.PEM}}
	b, err := yaml.Marshal(sec)
	if err != nil {
		return err
	}
	docs = append(docs, string(b))
	return os.WriteFile(file, []byte(strings.Join(docs, "---\n")), 0o600)
}

// sh prints a command as a user would type it, runs it and prints its output.
func (d *demo) sh(cmdline string) (string, error) {
	fmt.Printf("\n$ %s\n", cmdline)
	out, err := d.run(cmdline)
	fmt.Print(out)
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		fmt.Printf("(exit code %d)\n", exit.ExitCode())
	}
	return out, err
}

func (d *demo) run(cmdline string) (string, error) {
	args := strings.Fields(cmdline)
	switch args[0] {
	case "kubectl":
		args[0] = d.kubectl
	case "meshguard":
		args[0] = d.meshguard
	}
	cmd := exec.CommandContext(d.ctx, args[0], args[1:]...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+d.kubeconfig)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func (d *demo) until(what string, ok func() bool) error {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if ok() {
			return nil
		}
		select {
		case <-d.ctx.Done():
			return d.ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	return fmt.Errorf("timed out waiting until %s", what)
}

// untilEvent waits for the drift audit to record an event with reason in ns.
func (d *demo) untilEvent(ns, reason string) error {
	return d.until("the drift audit records a "+reason+" event", func() bool {
		out, _ := d.run("kubectl get events -n " + ns + " --field-selector reason=" + reason + " -o name")
		return strings.TrimSpace(out) != ""
	})
}

// setReady reports one pod Ready or not, as its kubelet would once probes
// pass or fail.
func setReady(ctx context.Context, user *envtest.AuthenticatedUser, ns, name string, ready bool) error {
	c, err := client.New(user.Config(), client.Options{})
	if err != nil {
		return err
	}
	var p corev1.Pod
	if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &p); err != nil {
		return err
	}
	status := corev1.ConditionFalse
	if ready {
		status = corev1.ConditionTrue
	}
	p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: status}}
	return c.Status().Update(ctx, &p)
}

// markRunning reports every pod Running, and Ready unless it is annotated to
// start unready, as a kubelet would.
func markRunning(ctx context.Context, user *envtest.AuthenticatedUser) error {
	c, err := client.New(user.Config(), client.Options{})
	if err != nil {
		return err
	}
	var pods corev1.PodList
	if err := c.List(ctx, &pods); err != nil {
		return err
	}
	for i := range pods.Items {
		p := &pods.Items[i]
		p.Status.Phase = corev1.PodRunning
		ready := corev1.ConditionTrue
		if p.Annotations["demo.meshguard.io/starts-unready"] == "true" {
			ready = corev1.ConditionFalse
		}
		p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: ready}}
		if err := c.Status().Update(ctx, p); err != nil {
			return fmt.Errorf("pod %s/%s status: %w", p.Namespace, p.Name, err)
		}
	}
	return nil
}

func waitReady(ctx context.Context, url string, exited <-chan error) error {
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			return fmt.Errorf("meshguard exited: %v", err)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
	}
	return errors.New("meshguard did not become ready in 60s")
}

func freePort() int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func banner(s string) {
	fmt.Printf("\n==> %s\n", s)
}

// chartWebhook reads the ValidatingWebhookConfiguration from the base rendered from the chart.
func chartWebhook(file string) (*admissionregistrationv1.ValidatingWebhookConfiguration, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	for _, doc := range strings.Split(string(data), "\n---") {
		if !strings.Contains(doc, "kind: ValidatingWebhookConfiguration") {
			continue
		}
		vwc := &admissionregistrationv1.ValidatingWebhookConfiguration{}
		if err := yaml.Unmarshal([]byte(doc), vwc); err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		return vwc, nil
	}
	return nil, fmt.Errorf("%s holds no ValidatingWebhookConfiguration", file)
}
