package integration

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"io"
	"strings"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Forty connections to the webhook's port that send a review's headers and
// then its body a byte at a time (more than the limiter's in-flight reviews
// and queue together, 36): writes through the API server are still judged,
// none fails on a 429, because a body being read holds no place in the
// limiter (only the bytes it has sent, within a budget).
func TestSlowBodiesDoNotBlockWrites(t *testing.T) {
	const ns, slow = "slow-bodies", 40
	createNamespace(t, ns, nil)
	wio := &testEnv.WebhookInstallOptions
	addr := fmt.Sprintf("%s:%d", wio.LocalServingHost, wio.LocalServingPort)
	for i := 0; i < slow; i++ {
		// They present the API server's certificate: the port requires one.
		c, err := tls.Dial("tcp", addr, apiServerTLS())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		// The server answers 100 Continue once its handler reads the body.
		if _, err := io.WriteString(c, "POST /validate?timeout=5s HTTP/1.1\r\nHost: meshguard\r\nContent-Type: application/json\r\nContent-Length: 4096\r\nExpect: 100-continue\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		if status, err := bufio.NewReader(c).ReadString('\n'); err != nil || !strings.Contains(status, "100 Continue") {
			t.Fatalf("slow client %d: the webhook did not start reading its body: %q %v", i, status, err)
		}
		if _, err := io.WriteString(c, `{"apiVersion":`); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 10; i++ {
		if err := k8s.Create(ctx(), peerAuth("v1", ns, fmt.Sprintf("ok-%d", i), "PERMISSIVE", nil), client.DryRunAll); err != nil {
			t.Errorf("a write beside %d slow bodies failed: %v", slow, err)
		}
		storm := obj(t, fmt.Sprintf(`{apiVersion: networking.istio.io/v1, kind: VirtualService, metadata: {name: storm-%d, namespace: %s}, spec: {hosts: [a], http: [{retries: {attempts: 50}, route: [{destination: {host: a}}]}]}}`, i, ns))
		if err := deniedWith(k8s.Create(ctx(), storm, client.DryRunAll), "[MG306]"); err != nil {
			t.Errorf("a dangerous write beside %d slow bodies: %v", slow, err)
		}
	}
}
