package integration

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/meshguard/meshguard/pkg/config"
	"github.com/meshguard/meshguard/pkg/server"
)

// auditEvent is what these tests read of an audit.k8s.io/v1 Event.
type auditEvent struct {
	Stage     string `json:"stage"`
	Verb      string `json:"verb"`
	ObjectRef struct {
		Resource  string `json:"resource"`
		Namespace string `json:"namespace"`
		Name      string `json:"name"`
	} `json:"objectRef"`
	Annotations map[string]string `json:"annotations"`
}

// webhookName is the chart's webhook: the API server records meshguard's
// audit annotations under it.
const webhookName = "validate.meshguard.io"

// auditAnnotations waits for the API server's audit event of the create of
// a VirtualService ns/name and returns meshguard's annotations on it, by
// the keys the audit log holds ("validate.meshguard.io/verdict", ...).
func auditAnnotations(t *testing.T, ns, name string) map[string]string {
	t.Helper()
	var found map[string]string
	eventually(t, "the audit event of "+ns+"/"+name, func() error {
		f, err := os.Open(auditLog)
		if err != nil {
			return err
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			var e auditEvent
			if json.Unmarshal(sc.Bytes(), &e) != nil || e.Stage != "ResponseComplete" || e.Verb != "create" ||
				e.ObjectRef.Resource != "virtualservices" || e.ObjectRef.Namespace != ns || e.ObjectRef.Name != name {
				continue
			}
			found = map[string]string{}
			for k, v := range e.Annotations {
				if len(k) > len(webhookName) && k[:len(webhookName)+1] == webhookName+"/" {
					found[k] = v
				}
			}
			if len(found) > 0 {
				t.Logf("audit event of %s %s/%s: %v", e.Verb, ns, name, found)
				return nil
			}
		}
		return fmt.Errorf("no audit event with meshguard's annotations yet in %s", auditLog)
	})
	return found
}

// Every reviewed write leaves its verdict in the API server's audit log:
// a denial with its rules and the paths it breaks, a write an exception lets
// through with the exception's name, and a write enforcement: warn admits
// as would-deny.
func TestAuditLogRecordsTheVerdict(t *testing.T) {
	t.Run("a canary to unready pods is denied, with the paths it breaks", func(t *testing.T) {
		routingMesh(t)
		canary := obj(t, `{apiVersion: networking.istio.io/v1, kind: VirtualService, metadata: {name: audit-canary, namespace: rt-shop},
  spec: {hosts: [reviews], http: [{route: [{destination: {host: reviews, subset: v1}, weight: 90}, {destination: {host: reviews, subset: v2}, weight: 10}]}]}}`)
		eventually(t, "the denial", func() error { return deniedWith(k8s.Create(ctx(), canary.DeepCopy()), "[MG302]") })
		got := auditAnnotations(t, "rt-shop", "audit-canary")
		if got[webhookName+"/verdict"] != "denied" || !slices.Contains(strings.Split(got[webhookName+"/rules"], ","), "MG302") {
			t.Errorf("audit annotations %v, want verdict denied for MG302", got)
		}
		if n, err := strconv.Atoi(got[webhookName+"/broken-paths"]); err != nil || n < 1 {
			t.Errorf("broken-paths %q, want at least 1 (the sidecars' path to reviews)", got[webhookName+"/broken-paths"])
		}
	})
	t.Run("an exception is named", func(t *testing.T) {
		createNamespace(t, exceptedNamespace, nil)
		vs := obj(t, retryStorm(exceptedNamespace, "checkout-audit"))
		if err := k8s.Create(ctx(), vs.DeepCopy()); err != nil {
			t.Fatalf("a live exception admits the write: %v", err)
		}
		cleanupObject(t, vs)
		got := auditAnnotations(t, exceptedNamespace, "checkout-audit")
		want := map[string]string{webhookName + "/verdict": "excepted", webhookName + "/exception": "payments-retries"}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%s = %q, want %q (all: %v)", k, got[k], v, got)
			}
		}
	})
	t.Run("enforcement: warn records would-deny", func(t *testing.T) {
		c := suiteConfig()
		c.Enforcement = config.ModeWarn
		port := startWebhook(t, server.Options{Config: c})
		registerForWarnModeNamespace(t, "meshguard-warn-audit", port)
		name, attempt := "", 0
		eventually(t, "the warn-mode webhook reviews the namespace", func() error {
			attempt++
			name = fmt.Sprintf("checkout-warned-%d", attempt)
			warnings.take()
			vs := obj(t, retryStorm(warnModeNamespace, name))
			if err := k8s.Create(ctx(), vs.DeepCopy()); err != nil {
				return fmt.Errorf("want admitted: %w", err)
			}
			cleanupObject(t, vs)
			if w := strings.Join(warnings.take(), "\n"); !strings.Contains(w, "[MG306] would deny (enforcement: warn): ") {
				return fmt.Errorf("admitted without review (the registration may not have reached the API server yet):\n%s", w)
			}
			return nil
		})
		got := auditAnnotations(t, warnModeNamespace, name)
		if got[webhookName+"/verdict"] != "would-deny" || !slices.Contains(strings.Split(got[webhookName+"/rules"], ","), "MG306") {
			t.Errorf("audit annotations %v, want verdict would-deny for MG306", got)
		}
	})
}
