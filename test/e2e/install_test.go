//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/yaml"

	"github.com/meshguard/meshguard/pkg/trust/trusttest"
)

const (
	release   = "meshguard"
	namespace = "meshguard-system"
	denied    = `admission webhook "validate.meshguard.io" denied the request`
)

// install is one run: the node, the tools, and where the repository is.
type install struct {
	*node
	t     *testing.T
	root  string
	helm  string
	image string // repository:tag of the image from make image
}

// TestHelmInstallOnARealNode installs the chart on a kubelet-run node and
// goes through the four steps in order; each needs the one before.
func TestHelmInstallOnARealNode(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Fatal(errNotRoot)
	}
	env := map[string]string{}
	for _, k := range []string{"E2E_BIN", "E2E_IMAGE", "E2E_IMAGE_ARCHIVE", "E2E_PAUSE_ARCHIVE", "HELM", "ISTIO_CRDS"} {
		if env[k] = os.Getenv(k); env[k] == "" {
			t.Fatalf("%s is not set: run make e2e", k)
		}
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	log.SetLogger(logr.Discard())
	begin := time.Now()
	n := startNode(t, env["E2E_BIN"], filepath.Join(root, "_out", "e2e"), []string{env["E2E_PAUSE_ARCHIVE"], env["E2E_IMAGE_ARCHIVE"]})
	in := &install{node: n, t: t, root: root, helm: env["HELM"], image: env["E2E_IMAGE"]}
	t.Logf("node up in %s", time.Since(begin).Round(time.Second))

	in.must("kubectl", "apply", "--server-side", "-f", env["ISTIO_CRDS"])
	in.must("kubectl", "wait", "--for", "condition=established", "--timeout", "60s", "crd", "--all")
	in.must("kubectl", "apply", "-f", "testdata/mesh.yaml")
	in.waitMesh()
	in.must("kubectl", "get", "pods", "-A", "-o", "wide")

	steps := []struct {
		name string
		run  func()
	}{
		{"1 both replicas Ready, the webhook served through its Service with certificates the chart bootstraps", in.installed},
		{"2 kubectl apply of the seed outages is denied with the README's messages, valid writes are admitted", in.outages},
		{"3 writes keep being judged while a replica is replaced and through a rolling update", in.disruptions},
		{"4 helm uninstall leaves no webhook configuration and writes are admitted again", in.uninstalled},
	}
	for _, s := range steps {
		start := time.Now()
		if !t.Run(s.name, func(t *testing.T) { in.t = t; s.run() }) {
			in.t = t
			in.must("kubectl", "get", "pods", "-A", "-o", "wide")
			t.FailNow()
		}
		t.Logf("step %s took %s", s.name[:1], time.Since(start).Round(time.Second))
	}
	in.t = t
}

// waitMesh waits until every workload pod runs, Ready except reviews v2.
func (in *install) waitMesh() {
	in.t.Helper()
	in.wait(3*time.Minute, "the mesh's pods run (reviews v2 not Ready)", func() bool {
		pods, err := in.kube.CoreV1().Pods("").List(context.Background(), metav1.ListOptions{})
		if err != nil || len(pods.Items) < 5 {
			return false
		}
		for _, p := range pods.Items {
			if p.Status.Phase != corev1.PodRunning || isReady(&p) == (p.Labels["version"] == "v2") {
				return false
			}
		}
		return true
	})
}

func (in *install) installed() {
	repo, tag := in.image[:strings.LastIndex(in.image, ":")], in.image[strings.LastIndex(in.image, ":")+1:]
	in.must("helm", "install", release, filepath.Join(in.root, "charts", "meshguard"), "--namespace", namespace,
		"--create-namespace", "--set", "image.repository="+repo, "--set", "image.tag="+tag,
		"--set", "image.pullPolicy=Never", "--wait", "--timeout", "5m")
	in.must("kubectl", "get", "pods,endpointslices", "-n", namespace, "-o", "wide")
	pods := in.meshguardPods()
	if len(pods) != 2 {
		in.t.Fatalf("%d meshguard pods, want 2", len(pods))
	}
	for _, p := range pods {
		if !isReady(&p) || p.Spec.NodeName != nodeName {
			in.t.Fatalf("pod %s not Ready on %s", p.Name, nodeName)
		}
		if c := p.Status.ContainerStatuses[0]; c.Image != in.image && !strings.HasSuffix(c.Image, in.image) {
			in.t.Errorf("pod %s runs %s, want %s", p.Name, c.Image, in.image)
		}
	}
	// The API server knows the webhook only by its Service; the certificate
	// is meshguard's own (no cert-manager): its caBundle and Secret.
	vwc := in.must("kubectl", "get", "validatingwebhookconfiguration", release, "-o",
		`jsonpath={.webhooks[0].clientConfig.service.namespace}/{.webhooks[0].clientConfig.service.name} url={.webhooks[0].clientConfig.url} caBundle={.webhooks[0].clientConfig.caBundle}`)
	if !strings.HasPrefix(vwc, namespace+"/"+release+" url= caBundle=") || strings.HasSuffix(vwc, "caBundle=") {
		in.t.Fatalf("webhook registration: %s", vwc)
	}
	in.must("kubectl", "get", "secret", release+"-webhook-tls", "-n", namespace)
	slices, err := in.kube.DiscoveryV1().EndpointSlices(namespace).List(context.Background(),
		metav1.ListOptions{LabelSelector: discoveryv1.LabelServiceName + "=" + release})
	if err != nil {
		in.t.Fatal(err)
	}
	ready := 0
	for _, s := range slices.Items {
		for _, e := range s.Endpoints {
			if e.Conditions.Ready != nil && *e.Conditions.Ready {
				ready++
			}
		}
	}
	if ready != 2 {
		in.t.Fatalf("the Service has %d Ready endpoints, want 2", ready)
	}
	out, err := in.kubectl("apply", "--dry-run=server", "-f", in.demo("01-mesh-strict.yaml"))
	if err == nil || !strings.Contains(out, denied) {
		in.t.Fatalf("a dry run of mesh-wide STRICT was not judged by meshguard: %v", err)
	}
}

func (in *install) outages() {
	in.deny(in.demo("01-mesh-strict.yaml"),
		"[MG101] spec.mtls.mode: mesh-wide STRICT would reject plaintext from 2 pods outside the mesh in 1 namespace (legacy)",
		"(Deployment invoices)", "legacy/reporting-0 (StatefulSet reporting)", "— inject or enroll them")
	in.admit(in.demo("02-safe-path.yaml"))
	in.admit("testdata/reviews-destinationrule.yaml")
	in.deny(in.demo("03-canary.yaml"),
		"[MG302] spec.http[0].route[1].destination: sends 10% of the route's traffic to subset v2 of reviews, which has no Ready pod",
		"(1 running, none Ready)", "— wait until its pods are Ready, or give it weight 0")
	in.admit("testdata/reviews-v1.yaml")
	in.trustObjects()
	in.deny(in.demo("07-trust-override.yaml"),
		"[MG402]", "holds only", "CERTIFICATE_VERIFY_FAILED — add the mesh root to the bundle")
}

// disruptions keeps writing, a denied one and an admitted one in turn, while
// one replica is deleted and replaced and while helm upgrade rolls both.
// Every write must get meshguard's verdict: none may fail to reach it.
func (in *install) disruptions() {
	j := in.startJudging()
	victim := in.meshguardPods()[0].Name
	in.must("kubectl", "delete", "pod", "-n", namespace, victim, "--wait=false")
	in.wait(3*time.Minute, "the deleted replica is gone, replaced, and both are Ready", func() bool {
		return in.replaced(map[string]bool{victim: true})
	})
	j.check(in.t, "while a replica was deleted and replaced")
	old := map[string]bool{}
	for _, p := range in.meshguardPods() {
		old[p.Name] = true
	}
	in.must("helm", "upgrade", release, filepath.Join(in.root, "charts", "meshguard"), "--namespace", namespace,
		"--reuse-values", "--set-string", "podAnnotations.e2e/rollout="+fmt.Sprint(time.Now().Unix()), "--wait", "--timeout", "5m")
	in.wait(3*time.Minute, "the rollout replaced both replicas and the old ones are gone", func() bool {
		return in.replaced(old)
	})
	j.check(in.t, "through the rolling update")
	j.stop()
}

func (in *install) uninstalled() {
	in.must("helm", "uninstall", release, "--namespace", namespace, "--wait", "--timeout", "3m")
	if out := in.must("kubectl", "get", "validatingwebhookconfigurations", "-o", "name"); strings.Contains(out, "meshguard") {
		in.t.Fatalf("a webhook configuration is left: %s", out)
	}
	in.admit(in.demo("01-mesh-strict.yaml"))
}

// judge writes all the time; check says whether every write so far got a
// verdict from meshguard.
type judge struct {
	mu       sync.Mutex
	verdicts int
	failures []string
	done     chan struct{}
	wg       sync.WaitGroup
}

// startJudging sends, every 100 ms, a dry-run update that meshguard denies
// (the canary of hack/demo/03-canary.yaml, 10% to reviews v2, which has no
// Ready pod) and one it admits (a label on the VirtualService routing to
// v1), through the API server as kubectl would.
func (in *install) startJudging() *judge {
	c, err := client.New(in.cfg, client.Options{})
	if err != nil {
		in.t.Fatal(err)
	}
	ctx := context.Background()
	label := &unstructured.Unstructured{}
	label.SetAPIVersion("networking.istio.io/v1")
	label.SetKind("VirtualService")
	if err := c.Get(ctx, client.ObjectKey{Namespace: "shop", Name: "reviews"}, label); err != nil {
		in.t.Fatal(err)
	}
	canary := &unstructured.Unstructured{}
	data, err := os.ReadFile(in.demo("03-canary.yaml"))
	if err != nil {
		in.t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, &canary.Object); err != nil {
		in.t.Fatal(err)
	}
	canary.SetResourceVersion(label.GetResourceVersion())
	label.SetLabels(map[string]string{"e2e": "judged"})
	j := &judge{done: make(chan struct{})}
	j.wg.Add(1)
	go func() {
		defer j.wg.Done()
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-j.done:
				return
			case <-tick.C:
			}
			err := c.Update(ctx, canary.DeepCopy(), client.DryRunAll)
			j.record(err != nil && strings.Contains(err.Error(), denied) && strings.Contains(err.Error(), "[MG302]"), "the canary to reviews v2", err)
			err = c.Update(ctx, label.DeepCopy(), client.DryRunAll)
			j.record(err == nil, "a label on VirtualService reviews", err)
		}
	}()
	return j
}

func (j *judge) record(ok bool, what string, err error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if ok {
		j.verdicts++
		return
	}
	j.failures = append(j.failures, fmt.Sprintf("%s %s: %v", time.Now().Format("15:04:05.000"), what, err))
}

func (j *judge) check(t *testing.T, when string) {
	t.Helper()
	j.mu.Lock()
	defer j.mu.Unlock()
	t.Logf("%s: %d writes judged, %d not", when, j.verdicts, len(j.failures))
	if len(j.failures) > 0 || j.verdicts == 0 {
		t.Fatalf("writes not judged %s:\n%s", when, strings.Join(j.failures, "\n"))
	}
	j.verdicts = 0
}

func (j *judge) stop() { close(j.done); j.wg.Wait() }

// trustObjects writes the mesh root where Istio publishes it
// (istio-ca-root-cert) and a Secret holding a regional CA instead.
func (in *install) trustObjects() {
	ctx := context.Background()
	meshRoot, regional := trusttest.NewRoot("Istio mesh root"), trusttest.NewRoot("Regional CA eu-west")
	for _, ns := range []string{"istio-system", "shop"} {
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "istio-ca-root-cert", Namespace: ns},
			Data: map[string]string{"root-cert.pem": string(meshRoot.PEM)}}
		if _, err := in.kube.CoreV1().ConfigMaps(ns).Create(ctx, cm, metav1.CreateOptions{}); err != nil {
			in.t.Fatal(err)
		}
	}
	sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "reviews-ca", Namespace: "shop"},
		Data: map[string][]byte{"ca.crt": regional.PEM}}
	if _, err := in.kube.CoreV1().Secrets("shop").Create(ctx, sec, metav1.CreateOptions{}); err != nil {
		in.t.Fatal(err)
	}
}

func (in *install) deny(file string, want ...string) {
	in.t.Helper()
	out, err := in.kubectl("apply", "-f", file)
	if err == nil || !strings.Contains(out, denied) {
		in.t.Fatalf("kubectl apply -f %s was not denied by meshguard", file)
	}
	for _, w := range want {
		if !strings.Contains(out, w) {
			in.t.Errorf("kubectl apply -f %s: the denial does not say %q", file, w)
		}
	}
}

func (in *install) admit(file string) {
	in.t.Helper()
	if _, err := in.kubectl("apply", "-f", file); err != nil {
		in.t.Fatalf("kubectl apply -f %s was not admitted", file)
	}
}

func (in *install) demo(file string) string { return filepath.Join(in.root, "hack", "demo", file) }

// replaced says whether none of the old pods is left, terminating or not,
// and two others are Ready.
func (in *install) replaced(old map[string]bool) bool {
	pods, err := in.kube.CoreV1().Pods(namespace).List(context.Background(),
		metav1.ListOptions{LabelSelector: "app.kubernetes.io/name=meshguard"})
	if err != nil {
		return false
	}
	for _, p := range pods.Items {
		if old[p.Name] || !isReady(&p) {
			return false
		}
	}
	return len(pods.Items) == 2
}

func (in *install) meshguardPods() []corev1.Pod {
	pods, err := in.kube.CoreV1().Pods(namespace).List(context.Background(),
		metav1.ListOptions{LabelSelector: "app.kubernetes.io/name=meshguard"})
	if err != nil {
		in.t.Fatal(err)
	}
	var out []corev1.Pod
	for _, p := range pods.Items {
		if p.DeletionTimestamp == nil {
			out = append(out, p)
		}
	}
	return out
}

// kubectl and helm run as a user would, their output in the test log.
func (in *install) kubectl(args ...string) (string, error) {
	return in.cmd(filepath.Join(in.bin, "kubectl"), args...)
}

func (in *install) cmd(bin string, args ...string) (string, error) {
	in.t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+in.kubeconfig)
	out, err := cmd.CombinedOutput()
	in.t.Logf("$ %s %s\n%s", filepath.Base(bin), strings.Join(args, " "), out)
	return string(out), err
}

func (in *install) must(name string, args ...string) string {
	in.t.Helper()
	bin := filepath.Join(in.bin, name)
	if name == "helm" {
		bin = in.helm
	}
	out, err := in.cmd(bin, args...)
	if err != nil {
		in.t.Fatalf("%s: %v", name, err)
	}
	return out
}

func (in *install) wait(d time.Duration, what string, ok func() bool) {
	in.t.Helper()
	if err := in.until(d, what, ok); err != nil {
		in.t.Fatal(err)
	}
}

func isReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}
