package integration

import (
	"fmt"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/meshguard/meshguard/pkg/config"
	"github.com/meshguard/meshguard/pkg/server"
)

const (
	// exceptedNamespace is where the suite's exception payments-retries
	// lets MG306 through for VirtualServices named checkout-*.
	exceptedNamespace = "ex-payments"
	// warnModeNamespace is reviewed by a second webhook with enforcement: warn.
	warnModeNamespace = "mg-warn-mode"
	// controllerNamespace is where the suite's exception router-converges
	// lets MG306 through for writes by the service account router only.
	controllerNamespace = "ex-controller"
)

// retryStorm is a VirtualService with 10 retry attempts: MG306 denies it.
func retryStorm(ns, name string) string {
	return fmt.Sprintf(`{apiVersion: networking.istio.io/v1, kind: VirtualService, metadata: {name: %s, namespace: %s},
  spec: {hosts: [checkout], http: [{route: [{destination: {host: checkout}}], retries: {attempts: 10, perTryTimeout: 1s}}]}}`, name, ns)
}

// A write MG306 denies is admitted with the exception's warning while the
// exception is live, and denied again, with a warning naming the lapsed
// exception, once the webhook's clock passes its expiry.
func TestExceptionAdmitsUntilItExpires(t *testing.T) {
	createNamespace(t, exceptedNamespace, nil)
	expires := suiteConfig().Exceptions[0].Expires

	warnings.take()
	vs := obj(t, retryStorm(exceptedNamespace, "checkout-eu"))
	if err := k8s.Create(ctx(), vs.DeepCopy()); err != nil {
		t.Fatalf("a live exception admits the write: %v", err)
	}
	cleanupObject(t, vs)
	if w := strings.Join(warnings.take(), "\n"); !strings.Contains(w, "[MG306] excepted by payments-retries until "+expires+": ") {
		t.Errorf("warnings lack the exception:\n%s", w)
	}
	// The exception is scoped: another name in the namespace is denied.
	if err := deniedWith(k8s.Create(ctx(), obj(t, retryStorm(exceptedNamespace, "cart"))), "[MG306]"); err != nil {
		t.Error(err)
	}

	clockAhead.Store(int64(3 * 24 * time.Hour))
	t.Cleanup(func() { clockAhead.Store(0) })
	warnings.take()
	err := k8s.Create(ctx(), obj(t, retryStorm(exceptedNamespace, "checkout-us")))
	if e := deniedWith(err, "[MG306]"); e != nil {
		t.Fatalf("an expired exception no longer applies: %v", e)
	}
	if w := strings.Join(warnings.take(), "\n"); !strings.Contains(w, "[MG306] exception payments-retries expired "+expires+" and no longer applies") {
		t.Errorf("warnings do not name the lapsed exception:\n%s", w)
	}
}

// An exception limited to a service account admits that account's write
// (the identity a controller runs as) and still denies the same write from
// anyone else, the suite's own admin included.
func TestExceptionForAServiceAccount(t *testing.T) {
	createNamespace(t, controllerNamespace, nil)
	router := as(t, "system:serviceaccount:"+controllerNamespace+":router")
	other := as(t, "system:serviceaccount:"+controllerNamespace+":deployer")

	warnings.take()
	vs := obj(t, retryStorm(controllerNamespace, "routes"))
	if err := router.Create(ctx(), vs.DeepCopy()); err != nil {
		t.Fatalf("the service account the exception names is admitted: %v", err)
	}
	cleanupObject(t, vs)
	if w := strings.Join(warnings.take(), "\n"); !strings.Contains(w, "[MG306] excepted by router-converges until ") {
		t.Errorf("warnings lack the exception:\n%s", w)
	}
	for name, c := range map[string]client.Client{"another service account": other, "the suite's admin": k8s} {
		if e := deniedWith(c.Create(ctx(), obj(t, retryStorm(controllerNamespace, "routes-2")), client.DryRunAll), "[MG306]"); e != nil {
			t.Errorf("%s: %v", name, e)
		}
	}
}

// enforcement: warn admits a write that would be denied, says so, and
// counts it as would_deny. The namespace is reviewed by a second webhook
// with that configuration (the suite's webhook skips it).
func TestEnforcementWarnAdmitsWithAWouldDenyWarning(t *testing.T) {
	c := suiteConfig()
	c.Enforcement = config.ModeWarn
	port := startWebhook(t, server.Options{Config: c})
	registerForWarnModeNamespace(t, "meshguard-warn-mode", port)

	before := counted(t, "would_deny")
	eventually(t, "the warn-mode webhook reviews the namespace", func() error {
		warnings.take()
		vs := obj(t, retryStorm(warnModeNamespace, "checkout"))
		if err := k8s.Create(ctx(), vs.DeepCopy()); err != nil {
			return fmt.Errorf("want admitted: %w", err)
		}
		_ = k8s.Delete(ctx(), vs)
		if w := strings.Join(warnings.take(), "\n"); !strings.Contains(w, "[MG306] would deny (enforcement: warn): ") {
			return fmt.Errorf("admitted without the would-deny warning (the registration may not have reached the API server yet):\n%s", w)
		}
		return nil
	})
	if after := counted(t, "would_deny"); after <= before {
		t.Errorf("meshguard_admission_reviews_total{decision=would_deny} went from %v to %v", before, after)
	}
}

// registerForWarnModeNamespace registers the chart's webhook as name, sent
// to the webhook on loopback port, for warnModeNamespace only (the suite's
// own webhook skips it, so its verdicts cannot mask these), and creates the
// namespace.
func registerForWarnModeNamespace(t *testing.T, name string, port int) {
	t.Helper()
	main, err := chartWebhook()
	if err != nil {
		t.Fatal(err)
	}
	vwc := &admissionregistrationv1.ValidatingWebhookConfiguration{ObjectMeta: metav1.ObjectMeta{Name: name}, Webhooks: main.Webhooks}
	for i := range vwc.Webhooks {
		w := &vwc.Webhooks[i]
		w.ClientConfig = admissionregistrationv1.WebhookClientConfig{URL: ptr.To(fmt.Sprintf("https://127.0.0.1:%d/validate", port)),
			CABundle: testEnv.WebhookInstallOptions.LocalServingCAData}
		w.NamespaceSelector = &metav1.LabelSelector{MatchLabels: map[string]string{"kubernetes.io/metadata.name": warnModeNamespace}}
	}
	if err := k8s.Create(ctx(), vwc); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = k8s.Delete(ctx(), vwc) })
	createNamespace(t, warnModeNamespace, nil)
}

// counted sums meshguard_admission_reviews_total for a decision.
func counted(t *testing.T, decision string) float64 {
	t.Helper()
	families, err := metrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	sum := 0.0
	for _, f := range families {
		if f.GetName() != "meshguard_admission_reviews_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			if label(m, "decision") == decision {
				sum += m.GetCounter().GetValue()
			}
		}
	}
	return sum
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}
