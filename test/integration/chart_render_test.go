package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/meshguard/meshguard/pkg/config"
	"github.com/meshguard/meshguard/pkg/state"
)

func TestChartLintsStrictly(t *testing.T) {
	h, err := helm()
	if err != nil {
		t.Fatal(err)
	}
	chart := filepath.Join(repoRoot(), "charts", "meshguard")
	files, _ := filepath.Glob(filepath.Join(chart, "ci", "*-values.yaml"))
	for _, values := range append([]string{""}, files...) {
		args := []string{"lint", "--strict", "--kube-version", "1.37.1", chart}
		if values != "" {
			args = append(args, "-f", values)
		}
		if out, err := exec.Command(h, args...).CombinedOutput(); err != nil {
			t.Errorf("helm %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

// The grace period and the drain follow the webhook timeout and the preStop
// sleep; a sleep of 0 renders no lifecycle hook.
func TestChartShutdownFollowsTheWebhookTimeout(t *testing.T) {
	objs, err := renderChart("--set", "webhook.timeoutSeconds=10", "--set", "shutdown.preStopSleepSeconds=0")
	if err != nil {
		t.Fatal(err)
	}
	pod := into[appsv1.Deployment](t, objs, "Deployment").Spec.Template.Spec
	if g := pod.TerminationGracePeriodSeconds; g == nil || *g != 0+10+10 {
		t.Errorf("terminationGracePeriodSeconds = %v, want 20", g)
	}
	if c := pod.Containers[0]; c.Lifecycle != nil || !slices.Contains(c.Args, "--drain-timeout=10s") {
		t.Errorf("lifecycle %+v, args %v: want no hook and --drain-timeout=10s", c.Lifecycle, c.Args)
	}
}

func TestChartRejectsUnknownAndInvalidValues(t *testing.T) {
	for _, set := range []string{"bogus=1", "webhook.timeoutSeconds=30", "webhook.failurePolicy=Maybe", "config.rules.MG101=block", "shutdown.preStopSleepSeconds=-1", "webhook.clientCA.pem=x"} {
		if _, err := renderChart("--set", set); err == nil {
			t.Errorf("--set %s rendered; the schema must reject it", set)
		}
	}
}

// into converts a rendered object into a typed one.
func into[T any](t *testing.T, objs []*unstructured.Unstructured, kind string) *T {
	t.Helper()
	for _, o := range objs {
		if o.GetKind() == kind {
			data, _ := yaml.Marshal(o.Object)
			out := new(T)
			if err := yaml.UnmarshalStrict(data, out); err != nil {
				t.Fatalf("%s: %v", kind, err)
			}
			return out
		}
	}
	t.Fatalf("the chart renders no %s", kind)
	return nil
}

func kinds(objs []*unstructured.Unstructured) []string {
	var out []string
	for _, o := range objs {
		out = append(out, o.GetKind())
	}
	return out
}

func TestChartDefaultsHaveTheProductionShape(t *testing.T) {
	objs, err := renderChart()
	if err != nil {
		t.Fatal(err)
	}
	dep := into[appsv1.Deployment](t, objs, "Deployment")
	if *dep.Spec.Replicas != 2 {
		t.Errorf("replicas = %d, want 2", *dep.Spec.Replicas)
	}
	pod := dep.Spec.Template.Spec
	if a := pod.Affinity; a == nil || a.PodAntiAffinity == nil || len(a.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution) == 0 {
		t.Error("want preferred pod anti-affinity")
	}
	psc := pod.SecurityContext
	if psc == nil || !*psc.RunAsNonRoot || *psc.RunAsUser != 65532 || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("pod securityContext = %+v", psc)
	}
	c := pod.Containers[0]
	if sc := c.SecurityContext; sc == nil || !*sc.ReadOnlyRootFilesystem || *sc.AllowPrivilegeEscalation || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) {
		t.Errorf("container securityContext = %+v", c.SecurityContext)
	}
	if c.ReadinessProbe == nil || c.ReadinessProbe.HTTPGet.Path != "/readyz" || c.LivenessProbe == nil || c.LivenessProbe.HTTPGet.Path != "/healthz" {
		t.Error("want /readyz and /healthz probes")
	}
	if c.Resources.Requests.Cpu().IsZero() || c.Resources.Requests.Memory().IsZero() || c.Resources.Limits.Memory().IsZero() {
		t.Errorf("resources = %+v", c.Resources)
	}
	for _, arg := range []string{"--cert-rotation", "--leader-elect", "--config=/etc/meshguard/config.yaml", "--port=9443", "--drain-timeout=5s"} {
		if !slices.Contains(c.Args, arg) {
			t.Errorf("args %v lack %s", c.Args, arg)
		}
	}
	// A stopping pod keeps serving 5 s (no shell in the image: the sleep
	// action), then drains for up to the webhook's 5 s timeout; the grace
	// period covers both with room for the rest of the manager.
	if c.Lifecycle == nil || c.Lifecycle.PreStop == nil || c.Lifecycle.PreStop.Sleep == nil || c.Lifecycle.PreStop.Sleep.Seconds != 5 {
		t.Errorf("lifecycle = %+v, want a preStop sleep of 5 s", c.Lifecycle)
	}
	if g := pod.TerminationGracePeriodSeconds; g == nil || *g != 5+5+10 {
		t.Errorf("terminationGracePeriodSeconds = %v, want 20 (preStop 5 + webhook timeout 5 + 10)", g)
	}

	svc := into[corev1.Service](t, objs, "Service")
	if p := svc.Spec.Ports[0]; p.Port != 443 || p.TargetPort.StrVal != "webhook" {
		t.Errorf("service port = %+v, want 443 -> webhook", p)
	}
	if !slices.ContainsFunc(c.Ports, func(p corev1.ContainerPort) bool { return p.Name == "webhook" && p.ContainerPort == 9443 }) {
		t.Error("container port webhook must be 9443")
	}
	if pdb := into[policyv1.PodDisruptionBudget](t, objs, "PodDisruptionBudget"); pdb.Spec.MinAvailable.IntValue() != 1 {
		t.Errorf("PDB minAvailable = %v", pdb.Spec.MinAvailable)
	}

	vwc := into[admissionregistrationv1.ValidatingWebhookConfiguration](t, objs, "ValidatingWebhookConfiguration")
	wh := vwc.Webhooks[0]
	if wh.Name != "validate.meshguard.io" || *wh.FailurePolicy != admissionregistrationv1.Fail || *wh.MatchPolicy != admissionregistrationv1.Equivalent ||
		*wh.SideEffects != admissionregistrationv1.SideEffectClassNone || *wh.TimeoutSeconds != 5 || !slices.Equal(wh.AdmissionReviewVersions, []string{"v1"}) {
		t.Errorf("webhook settings = %+v", wh)
	}
	resources := map[string]bool{}
	for _, w := range vwc.Webhooks {
		for _, r := range w.Rules {
			if w.Name == wh.Name && (!slices.Equal(r.APIVersions, []string{"*"}) || !slices.Equal(r.Operations, []admissionregistrationv1.OperationType{"CREATE", "UPDATE", "DELETE"})) {
				t.Errorf("rule = %+v", r)
			}
			for _, res := range r.Resources {
				for _, g := range r.APIGroups {
					resources[g+"/"+res] = true
				}
			}
		}
	}
	// Every kind meshguard reviews, and nothing else.
	for _, k := range state.Kinds {
		if res := k.Group + "/" + k.Resource; k.Reviewed != resources[res] {
			t.Errorf("the webhook intercepts %s: %v; meshguard reviews it: %v", res, resources[res], k.Reviewed)
		}
	}
	excluded := wh.NamespaceSelector.MatchExpressions[0].Values
	if !slices.Contains(excluded, "kube-system") || !slices.Contains(excluded, releaseNamespace) || slices.Contains(excluded, "istio-system") {
		t.Errorf("namespaceSelector excludes %v; want kube-system and the release namespace, not istio-system", excluded)
	}
	if len(wh.MatchConditions) != 0 {
		t.Error("no break-glass groups by default")
	}

	cr := into[rbacv1.ClusterRole](t, objs, "ClusterRole")
	for _, r := range cr.Rules {
		if slices.Contains(r.Verbs, "*") || slices.Contains(r.Resources, "*") || slices.Contains(r.APIGroups, "*") {
			t.Errorf("wildcard in %+v", r)
		}
		if (slices.Contains(r.Resources, "secrets") || slices.Contains(r.Resources, "configmaps")) && !slices.Equal(r.Verbs, []string{"get"}) {
			t.Errorf("secrets and configmaps may only be read with get, cluster-wide: %+v", r)
		}
		if slices.Contains(r.APIGroups, "openreports.io") {
			t.Errorf("write access to Reports is granted only with audit.reports.enabled: %+v", r)
		}
	}
	if !slices.Contains(kinds(objs), "Pod") {
		t.Error("want the helm test selftest pod")
	}
	for _, k := range []string{"PrometheusRule", "ServiceMonitor"} {
		if slices.Contains(kinds(objs), k) {
			t.Errorf("%s is rendered by default; it needs its CRD and is opt-in", k)
		}
	}
}

// Services and Namespaces have a registration of their own that fails open
// (a meshguard outage never blocks kube-system, a controller or helm
// uninstall), reviews every Service write (a CREATE can take a
// ServiceEntry's host) but never a Namespace's CREATE or DELETE, and never sees the namespace controller's or the garbage
// collector's deletes; break-glass groups skip it too.
func TestChartKubernetesWritesFailOpenAndExemptControllers(t *testing.T) {
	vwc, err := chartWebhook("--set", "breakGlass.groups[0]=platform:oncall")
	if err != nil {
		t.Fatal(err)
	}
	if len(vwc.Webhooks) != 2 {
		t.Fatalf("webhooks = %d, want the Istio one and the Kubernetes-writes one", len(vwc.Webhooks))
	}
	wh := vwc.Webhooks[1]
	if wh.Name != "validate-kubernetes.meshguard.io" || *wh.FailurePolicy != admissionregistrationv1.Ignore {
		t.Errorf("webhook %s failurePolicy %s, want validate-kubernetes.meshguard.io Ignore", wh.Name, *wh.FailurePolicy)
	}
	ops := map[string][]admissionregistrationv1.OperationType{}
	for _, r := range wh.Rules {
		for _, res := range r.Resources {
			ops[res] = r.Operations
		}
	}
	if !slices.Equal(ops["services"], []admissionregistrationv1.OperationType{"CREATE", "UPDATE", "DELETE"}) || !slices.Equal(ops["namespaces"], []admissionregistrationv1.OperationType{"UPDATE"}) || len(ops) != 2 {
		t.Errorf("operations = %v, want services CREATE, UPDATE, DELETE and namespaces UPDATE", ops)
	}
	var exprs []string
	for _, mc := range wh.MatchConditions {
		exprs = append(exprs, mc.Expression)
	}
	all := strings.Join(exprs, "\n")
	for _, want := range []string{"'system:serviceaccount:kube-system:namespace-controller'", "'system:serviceaccount:kube-system:generic-garbage-collector'", "'platform:oncall'"} {
		if !strings.Contains(all, want) {
			t.Errorf("matchConditions %q lack %s", exprs, want)
		}
	}
	excluded := wh.NamespaceSelector.MatchExpressions[0].Values
	if !slices.Contains(excluded, "kube-system") || !slices.Contains(excluded, releaseNamespace) || slices.Contains(excluded, "istio-system") {
		t.Errorf("namespaceSelector excludes %v; want kube-system and the release namespace, not istio-system (its egress gateway Service is routed to)", excluded)
	}
	off, err := chartWebhook("--set", "kubernetesWrites.enabled=false")
	if err != nil {
		t.Fatal(err)
	}
	if len(off.Webhooks) != 1 {
		t.Errorf("kubernetesWrites.enabled=false still registers %d webhooks", len(off.Webhooks))
	}
}

// The ClusterRole grants exactly how the webhook reads each kind of
// state.Kinds: get, list and watch for the watched ones, get alone for the
// ones read on demand. A kind added to the table without its RBAC rule fails
// here, as does a watched kind whose listing the chart forgot.
func TestChartGrantsWhatTheKindsTableReads(t *testing.T) {
	objs, err := renderChart()
	if err != nil {
		t.Fatal(err)
	}
	rules := into[rbacv1.ClusterRole](t, objs, "ClusterRole").Rules
	for _, k := range state.Kinds {
		var verbs []string
		for _, r := range rules {
			if slices.Contains(r.APIGroups, k.Group) && slices.Contains(r.Resources, k.Resource) && len(r.ResourceNames) == 0 {
				verbs = append(verbs, r.Verbs...)
			}
		}
		slices.Sort(verbs)
		want := []string{"get", "list", "watch"}
		if k.Access == state.OnDemand {
			want = []string{"get"}
		}
		if !slices.Equal(slices.Compact(verbs), want) {
			t.Errorf("%s: the ClusterRole grants %v, want %v", k, verbs, want)
		}
	}
}

// With the audit off, the webhook records no events and is granted none.
func TestChartAuditOffGrantsNoEvents(t *testing.T) {
	objs, err := renderChart("--set", "audit.interval=0s")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range into[rbacv1.ClusterRole](t, objs, "ClusterRole").Rules {
		if slices.Contains(r.Resources, "events") {
			t.Errorf("events granted with the audit off: %+v", r)
		}
	}
}

// With reports on, the webhook may write Reports and is told to; with the
// observability values, every opt-in object is rendered.
func TestChartObservability(t *testing.T) {
	objs, err := renderChart("-f", filepath.Join(repoRoot(), "charts", "meshguard", "ci", "observability-values.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	cr := into[rbacv1.ClusterRole](t, objs, "ClusterRole")
	granted := false
	for _, r := range cr.Rules {
		if slices.Contains(r.APIGroups, "openreports.io") {
			granted = slices.Equal(r.Resources, []string{"reports"}) && !slices.Contains(r.Verbs, "watch")
		}
	}
	if !granted {
		t.Errorf("want get/list/create/update/delete on openreports.io reports (no watch): %+v", cr.Rules)
	}
	dep := into[appsv1.Deployment](t, objs, "Deployment")
	if args := dep.Spec.Template.Spec.Containers[0].Args; !slices.Contains(args, "--reports") || !slices.Contains(args, "--audit-interval=30s") {
		t.Errorf("serve is not told to publish Reports every 30s: %v", args)
	}
	for _, k := range []string{"PrometheusRule", "ServiceMonitor"} {
		if !slices.Contains(kinds(objs), k) {
			t.Errorf("no %s rendered", k)
		}
	}
}

func TestChartBreakGlassAndCertManager(t *testing.T) {
	ci := filepath.Join(repoRoot(), "charts", "meshguard", "ci")
	objs, err := renderChart("-f", filepath.Join(ci, "breakglass-values.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	wh := into[admissionregistrationv1.ValidatingWebhookConfiguration](t, objs, "ValidatingWebhookConfiguration").Webhooks[0]
	if len(wh.MatchConditions) != 1 || !strings.Contains(wh.MatchConditions[0].Expression, "'platform:oncall'") {
		t.Errorf("matchConditions = %+v", wh.MatchConditions)
	}
	if cm := into[corev1.ConfigMap](t, objs, "ConfigMap"); !strings.Contains(cm.Data["config.yaml"], `breakGlassGroups: ["platform:oncall","system:masters-emergency"]`) {
		t.Errorf("the handler's config lacks the groups:\n%s", cm.Data["config.yaml"])
	}

	objs, err = renderChart("-f", filepath.Join(ci, "certmanager-values.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"Certificate", "Issuer", "ServiceMonitor"} {
		if !slices.Contains(kinds(objs), k) {
			t.Errorf("cert-manager variant renders no %s", k)
		}
	}
	vwc := into[admissionregistrationv1.ValidatingWebhookConfiguration](t, objs, "ValidatingWebhookConfiguration")
	if vwc.Annotations["cert-manager.io/inject-ca-from"] != releaseNamespace+"/meshguard-webhook" {
		t.Errorf("annotations = %v", vwc.Annotations)
	}
	dep := into[appsv1.Deployment](t, objs, "Deployment")
	if slices.Contains(dep.Spec.Template.Spec.Containers[0].Args, "--cert-rotation") {
		t.Error("no in-process rotation with cert-manager")
	}
}

// The config file the chart renders is read by the same loader `serve` and
// `check --config` use, strictly (unknown keys are errors), with every value
// the chart sets arriving intact.
func TestChartConfigLoadsThroughTheConfigLoader(t *testing.T) {
	expires := time.Now().UTC().AddDate(0, 0, 30).Format(time.DateOnly)
	for name, args := range map[string][]string{
		"defaults": nil,
		"overrides": {"--set", "config.rules.MG101=warn", "--set", "config.retryLimit=2", "--set", "breakGlass.groups[0]=sre",
			"--set", "config.rootNamespace=mesh-root", "--set", "config.fleetHosts[0]=*.global", "--set", "config.enforcement=warn",
			"--set-json", `config.exceptions=[{"name":"payments-retries","rules":["MG306"],"namespaces":["payments"],"serviceAccounts":["payments/deployer"],"reason":"INC-4411","expires":"` + expires + `"}]`},
	} {
		t.Run(name, func(t *testing.T) {
			objs, err := renderChart(args...)
			if err != nil {
				t.Fatal(err)
			}
			cm := into[corev1.ConfigMap](t, objs, "ConfigMap")
			path := filepath.Join(t.TempDir(), "config.yaml")
			if err := os.WriteFile(path, []byte(cm.Data["config.yaml"]), 0o600); err != nil {
				t.Fatal(err)
			}
			c, err := config.Load(path)
			if err != nil {
				t.Fatalf("the chart's config file does not load: %v\n%s", err, cm.Data["config.yaml"])
			}
			want := config.Default()
			if name == "overrides" {
				want.Rules = map[string]config.Enforcement{"MG101": config.EnforceWarn}
				want.RetryLimit, want.BreakGlassGroups, want.RootNamespace, want.FleetHosts = 2, []string{"sre"}, "mesh-root", []string{"*.global"}
			}
			if c.RootNamespace != want.RootNamespace || c.RetryLimit != want.RetryLimit || c.ClusterDomain != want.ClusterDomain ||
				!slices.Equal(c.ExcludedNamespaces, want.ExcludedNamespaces) || !slices.Equal(c.BreakGlassGroups, want.BreakGlassGroups) ||
				!slices.Equal(c.FleetHosts, want.FleetHosts) || len(c.Rules) != len(want.Rules) || c.Rules["MG101"] != want.Rules["MG101"] {
				t.Errorf("loaded %+v, want %+v", c, want)
			}
			if name == "overrides" && (c.Enforcement != config.ModeWarn || len(c.Exceptions) != 1 || c.Exceptions[0].Name != "payments-retries" ||
				c.Exceptions[0].Expires != expires || !c.Exceptions[0].Matches("MG306", "VirtualService", "payments", "checkout") ||
				!slices.Equal(c.Exceptions[0].ServiceAccounts, []string{"payments/deployer"})) {
				t.Errorf("enforcement %q, exceptions %+v: want warn and payments-retries until %s", c.Enforcement, c.Exceptions, expires)
			}
		})
	}
}
