package integration

import (
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	reportsv1alpha1 "github.com/openreports/reports-api/apis/openreports.io/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/meshguard/meshguard/pkg/audit"
	"github.com/meshguard/meshguard/pkg/report"
	"github.com/meshguard/meshguard/pkg/trust/trusttest"
)

// The canary outage after admission: a VirtualService sending 10% to v2 is
// admitted; v2's pods then stop being Ready, without any Istio write. The
// drift audit (every second in this suite) records a Warning event MG302 on
// the VirtualService and counts it; once v2 is Ready again, a Resolved event
// and the count back to zero.
func TestDriftAuditReportsACanaryThatDiesAfterAdmission(t *testing.T) {
	createNamespace(t, "drift", map[string]string{"istio-injection": "enabled"})
	createService(t, "drift", "reviews", map[string]string{"app": "reviews"}, port("http", 9080))
	createPod(t, podSpec{ns: "drift", name: "reviews-v1", labels: map[string]string{"app": "reviews", "version": "v1"}, sidecar: true, port: 9080})
	createPod(t, podSpec{ns: "drift", name: "reviews-v2", labels: map[string]string{"app": "reviews", "version": "v2"}, sidecar: true, port: 9080})
	dr := obj(t, `{apiVersion: networking.istio.io/v1, kind: DestinationRule, metadata: {name: reviews, namespace: drift},
  spec: {host: reviews, trafficPolicy: {outlierDetection: {consecutive5xxErrors: 5}}, subsets: [{name: v1, labels: {version: v1}}, {name: v2, labels: {version: v2}}]}}`)
	vs := obj(t, `{apiVersion: networking.istio.io/v1, kind: VirtualService, metadata: {name: reviews-canary, namespace: drift},
  spec: {hosts: [reviews], http: [{route: [{destination: {host: reviews, subset: v1}, weight: 90}, {destination: {host: reviews, subset: v2}, weight: 10}]}]}}`)
	eventually(t, "the rule is admitted", func() error { return k8s.Create(ctx(), dr.DeepCopy()) })
	cleanupObject(t, dr)
	eventually(t, "the canary is admitted while v2 is Ready", func() error { return k8s.Create(ctx(), vs.DeepCopy()) })
	cleanupObject(t, vs)

	start := time.Now()
	setReady(t, "drift", "reviews-v2", false)
	eventually(t, "a Warning MG302 event on the VirtualService", func() error { return hasEvent("drift", "reviews-canary", corev1.EventTypeWarning, "MG302") })
	t.Logf("drift reported %v after v2 went unready", time.Since(start).Round(100*time.Millisecond))
	eventually(t, "the violation is counted", func() error {
		if v := auditViolations("MG302", "VirtualService", "drift"); v != 1 {
			return fmt.Errorf("meshguard_audit_violations = %v", v)
		}
		return nil
	})
	var written string
	eventually(t, "the namespace's Report holds the result", func() error {
		rep, err := reportResult("drift", "MG302", "reviews-canary")
		if err != nil {
			return err
		}
		if rep.res.Result != "fail" || rep.res.Severity != "high" || len(rep.res.Subjects) != 1 || rep.res.Subjects[0].Kind != "VirtualService" ||
			!strings.Contains(rep.res.Description, "v2") || rep.summary.Fail < 1 {
			return fmt.Errorf("unexpected result %+v (summary %+v)", rep.res, rep.summary)
		}
		written = rep.resourceVersion
		return nil
	})
	// `meshguard audit` on the live cluster says the same, with exit 1.
	out, err := exec.Command(meshguardBinary(t), "audit", "-n", "drift", "--kubeconfig", kubeconfig, "-o", "json").Output()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Errorf("meshguard audit: want exit 1, got %v\n%s", err, out)
	}
	var rep report.Report
	if err := json.Unmarshal(out, &rep); err != nil {
		t.Fatalf("meshguard audit -o json: %v\n%s", err, out)
	}
	found := false
	for _, f := range rep.Findings {
		found = found || (f.Rule == "MG302" && f.Operation == "AUDIT" && f.Name == "reviews-canary" && f.Action == "deny")
	}
	if !found || !rep.Denied {
		t.Errorf("meshguard audit does not report the canary: %s", out)
	}
	// Nothing changed: the next cycles publish nothing.
	time.Sleep(2500 * time.Millisecond)
	if rep, err := reportResult("drift", "MG302", "reviews-canary"); err != nil || rep.resourceVersion != written {
		t.Errorf("the Report was rewritten while nothing changed (resourceVersion %s, then %+v, %v)", written, rep, err)
	}

	setReady(t, "drift", "reviews-v2", true)
	eventually(t, "a Resolved event", func() error { return hasEvent("drift", "reviews-canary", corev1.EventTypeNormal, "Resolved") })
	eventually(t, "the count drops", func() error {
		if v := auditViolations("MG302", "VirtualService", "drift"); v != 0 {
			return fmt.Errorf("meshguard_audit_violations = %v", v)
		}
		return nil
	})
	eventually(t, "the result leaves the Report", func() error {
		if _, err := reportResult("drift", "MG302", "reviews-canary"); err == nil {
			return errors.New("the MG302 result is still reported")
		}
		return nil
	})
}

type reported struct {
	res             reportsv1alpha1.ReportResult
	summary         reportsv1alpha1.ReportSummary
	resourceVersion string
}

// reportResult finds rule's result about object name in the namespace's
// meshguard Report.
func reportResult(ns, rule, name string) (reported, error) {
	var rep reportsv1alpha1.Report
	if err := k8s.Get(ctx(), client.ObjectKey{Namespace: ns, Name: audit.ReportName}, &rep); err != nil {
		return reported{}, err
	}
	for _, res := range rep.Results {
		if res.Policy == rule && len(res.Subjects) > 0 && res.Subjects[0].Name == name {
			return reported{res: res, summary: rep.Summary, resourceVersion: rep.ResourceVersion}, nil
		}
	}
	return reported{}, fmt.Errorf("no %s result on %s in Report %s/%s (%d results)", rule, name, ns, rep.Name, len(rep.Results))
}

func hasEvent(ns, name, eventType, reason string) error {
	var events corev1.EventList
	if err := k8s.List(ctx(), &events, client.InNamespace(ns)); err != nil {
		return err
	}
	for _, e := range events.Items {
		if e.InvolvedObject.Name == name && e.InvolvedObject.UID != "" && e.Type == eventType && e.Reason == reason {
			return nil
		}
	}
	return fmt.Errorf("no %s %s event on %s/%s among %d events", eventType, reason, ns, name, len(events.Items))
}

// auditViolations reads meshguard_audit_violations for one rule, kind and namespace (0 when absent).
func auditViolations(rule, kind, ns string) float64 {
	return gauge("meshguard_audit_violations", map[string]string{"rule": rule, "kind": kind, "namespace": ns})
}

// A pod without a sidecar lands in a namespace already STRICT (pods are not
// reviewed): the namespace's policy now breaks a caller, and the drift audit
// says so on the PeerAuthentication.
func TestDriftAuditReportsAnOutsiderArrivingUnderStrict(t *testing.T) {
	createNamespace(t, "drift-strict", map[string]string{"istio-injection": "enabled"})
	createPod(t, podSpec{ns: "drift-strict", name: "api-1", labels: map[string]string{"app": "api"}, sidecar: true, port: 9090})
	strict := peerAuth("v1", "drift-strict", "default", "STRICT", nil)
	eventually(t, "namespace STRICT admitted while covered", func() error { return k8s.Create(ctx(), strict) })
	cleanupObject(t, strict)
	createPod(t, podSpec{ns: "drift-strict", name: "batch-1", port: 8080})
	eventually(t, "a Warning MG101 event on the policy", func() error { return hasEvent("drift-strict", "default", corev1.EventTypeWarning, "MG101") })
	eventually(t, "the violation is counted", func() error {
		if v := auditViolations("MG101", "PeerAuthentication", "drift-strict"); v != 1 {
			return fmt.Errorf("meshguard_audit_violations = %v", v)
		}
		return nil
	})
}

// The credential Secret a DestinationRule's client TLS names is deleted
// after admission (a namespace clean-up, a failed cert-manager renewal): the
// sidecars lose the material and the connections fail. The drift audit reads
// the named Secrets each cycle (get by name, never list or watch) and reports
// MG401 on the rule, then Resolved once the Secret is back.
func TestDriftAuditReportsADeletedCredentialSecret(t *testing.T) {
	meshRoot := trusttest.NewRoot("Istio mesh root")
	createNamespace(t, "drift-tls", map[string]string{"istio-injection": "enabled"})
	createService(t, "drift-tls", "reviews", map[string]string{"app": "reviews"}, port("https", 443))
	rootCM := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "drift-tls", Name: "istio-ca-root-cert"},
		Data: map[string]string{"root-cert.pem": string(meshRoot.PEM)}}
	if err := k8s.Create(ctx(), rootCM); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = k8s.Delete(ctx(), rootCM) })
	credential := func() *corev1.Secret {
		return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "drift-tls", Name: "reviews-ca"},
			Data: map[string][]byte{"ca.crt": meshRoot.PEM}}
	}
	if err := k8s.Create(ctx(), credential()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = k8s.Delete(ctx(), credential()) })
	dr := obj(t, `{apiVersion: networking.istio.io/v1, kind: DestinationRule, metadata: {name: reviews-tls, namespace: drift-tls},
  spec: {host: reviews, workloadSelector: {matchLabels: {app: frontend}}, trafficPolicy: {tls: {mode: SIMPLE, credentialName: reviews-ca}}}}`)
	eventually(t, "the rule is admitted while its Secret exists", func() error { return k8s.Create(ctx(), dr.DeepCopy()) })
	cleanupObject(t, dr)

	if err := k8s.Delete(ctx(), credential()); err != nil {
		t.Fatal(err)
	}
	eventually(t, "a Warning MG401 event on the DestinationRule", func() error {
		return hasEvent("drift-tls", "reviews-tls", corev1.EventTypeWarning, "MG401")
	})
	eventually(t, "the violation is counted and reported", func() error {
		if v := auditViolations("MG401", "DestinationRule", "drift-tls"); v != 1 {
			return fmt.Errorf("meshguard_audit_violations = %v", v)
		}
		rep, err := reportResult("drift-tls", "MG401", "reviews-tls")
		if err != nil {
			return err
		}
		if !strings.Contains(rep.res.Description, "Secret reviews-ca does not exist in drift-tls") {
			return fmt.Errorf("unexpected result %q", rep.res.Description)
		}
		return nil
	})

	if err := k8s.Create(ctx(), credential()); err != nil {
		t.Fatal(err)
	}
	eventually(t, "a Resolved event", func() error {
		return hasEvent("drift-tls", "reviews-tls", corev1.EventTypeNormal, "Resolved")
	})
	if v := auditViolations("MG401", "DestinationRule", "drift-tls"); v != 0 {
		t.Errorf("meshguard_audit_violations = %v after the Secret came back", v)
	}
}
