package integration

import (
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
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

	setReady(t, "drift", "reviews-v2", true)
	eventually(t, "a Resolved event", func() error { return hasEvent("drift", "reviews-canary", corev1.EventTypeNormal, "Resolved") })
	eventually(t, "the count drops", func() error {
		if v := auditViolations("MG302", "VirtualService", "drift"); v != 0 {
			return fmt.Errorf("meshguard_audit_violations = %v", v)
		}
		return nil
	})
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
