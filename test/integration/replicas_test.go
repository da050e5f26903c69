package integration

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// replica is one `meshguard serve` process, as a pod of the Deployment runs
// it, listening on loopback ports of its own.
type replica struct {
	name                         string
	cmd                          *exec.Cmd
	port, probePort, metricsPort int
	log                          string
	exited                       chan struct{}
}

func startReplica(t *testing.T, bin, name string, args ...string) *replica {
	t.Helper()
	var ports [3]int
	for i := range ports {
		p, err := freePort()
		if err != nil {
			t.Fatal(err)
		}
		ports[i] = p
	}
	dir := t.TempDir()
	r := &replica{name: name, port: ports[0], probePort: ports[1], metricsPort: ports[2],
		log: filepath.Join(dir, "serve.log"), exited: make(chan struct{})}
	logFile, err := os.Create(r.log)
	if err != nil {
		t.Fatal(err)
	}
	r.cmd = exec.Command(bin, append([]string{"serve", "--cert-dir", filepath.Join(dir, "certs"),
		"--port", strconv.Itoa(r.port), "--health-probe-bind-address", fmt.Sprintf("127.0.0.1:%d", r.probePort),
		"--metrics-bind-address", fmt.Sprintf("127.0.0.1:%d", r.metricsPort), "--log-format", "console"}, args...)...)
	r.cmd.Stdout, r.cmd.Stderr = logFile, logFile
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = r.cmd.Wait(); _ = logFile.Close(); close(r.exited) }()
	t.Cleanup(func() {
		r.kill()
		if t.Failed() {
			out, _ := os.ReadFile(r.log)
			t.Logf("--- log of replica %s (last 4 kB) ---\n%s", r.name, tail(out, 4096))
		}
	})
	return r
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

func (r *replica) kill() {
	if r.cmd.Process != nil {
		_ = r.cmd.Process.Signal(syscall.SIGKILL)
	}
	<-r.exited
}

func (r *replica) running() bool {
	select {
	case <-r.exited:
		return false
	default:
		return true
	}
}

func (r *replica) ready() error {
	if !r.running() {
		return fmt.Errorf("replica %s exited: %v", r.name, r.cmd.ProcessState)
	}
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/readyz", r.probePort))
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("replica %s: /readyz %d", r.name, resp.StatusCode)
	}
	return nil
}

// metric reads one sample from the replica's /metrics (the first series of
// name whose labels include all of want); -1 when absent.
func (r *replica) metric(name string, want ...string) float64 {
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/metrics", r.metricsPort))
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, name+"{") && !strings.HasPrefix(line, name+" ") {
			continue
		}
		match := true
		for _, w := range want {
			match = match && strings.Contains(line, w)
		}
		if !match {
			continue
		}
		if v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64); err == nil {
			return v
		}
	}
	return -1
}

func (r *replica) leads() bool {
	return r.metric("leader_election_master_status", `name="meshguard.io"`) == 1
}

func (r *replica) readyAndLeading() error {
	if err := r.ready(); err != nil {
		return err
	}
	if !r.leads() {
		return fmt.Errorf("replica %s does not lead", r.name)
	}
	return nil
}

// audited: the drift audit has completed a cycle in this replica.
func (r *replica) audited() bool {
	return r.metric("meshguard_audit_last_success_timestamp_seconds") > 0
}

// handshakes verifies every live replica's serving certificate against the
// caBundle the API server holds at that moment, as the API server would: with
// Go's verifier every round and OpenSSL's strict one (-x509_strict, which
// also rejects a leaf without AuthorityKeyId) every fourth.
type handshakes struct {
	host, vwc string
	mu        sync.Mutex
	replicas  []*replica
	ok        int
	failures  []string
	served    map[string][]byte // replica name -> leaf it served last
}

func (h *handshakes) set(rs ...*replica) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.replicas = rs
}

func (h *handshakes) lastServed(name string) []byte {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.served[name]
}

func (h *handshakes) run(ctx context.Context, bundleFile string) {
	for round := 0; ctx.Err() == nil; round++ {
		vwc := &admissionregistrationv1.ValidatingWebhookConfiguration{}
		if err := k8s.Get(ctx, client.ObjectKey{Name: h.vwc}, vwc); err != nil {
			continue
		}
		bundle := vwc.Webhooks[0].ClientConfig.CABundle
		h.mu.Lock()
		rs := h.replicas
		h.mu.Unlock()
		for _, r := range rs {
			leaf, err := goHandshake(r.port, h.host, bundle)
			if err == nil && round%4 == 0 {
				err = opensslHandshake(ctx, r.port, h.host, bundle, bundleFile)
			}
			h.mu.Lock()
			// A replica taken out of the probe set (it is about to be
			// killed) may die mid-handshake: that is the kill, not trust.
			if err != nil && ctx.Err() == nil && slices.Contains(h.replicas, r) {
				h.failures = append(h.failures, fmt.Sprintf("%s %s: %v", time.Now().Format("15:04:05.000"), r.name, err))
			} else if err == nil {
				h.ok++
				h.served[r.name] = leaf
			}
			h.mu.Unlock()
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func goHandshake(port int, host string, bundle []byte) ([]byte, error) {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(bundle) {
		return nil, errors.New("the caBundle holds no certificate")
	}
	d := &net.Dialer{Timeout: 2 * time.Second}
	conn, err := tls.DialWithDialer(d, "tcp", fmt.Sprintf("127.0.0.1:%d", port),
		&tls.Config{RootCAs: pool, ServerName: host, MinVersion: tls.VersionTLS12})
	if err != nil {
		return nil, fmt.Errorf("go: %w", err)
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0].Raw, nil
}

func opensslHandshake(ctx context.Context, port int, host string, bundle []byte, bundleFile string) error {
	if err := os.WriteFile(bundleFile, bundle, 0o600); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "openssl", "s_client", "-connect", fmt.Sprintf("127.0.0.1:%d", port),
		"-servername", host, "-verify_hostname", host, "-CAfile", bundleFile, "-verify_return_error", "-x509_strict", "-brief")
	cmd.Stdin = strings.NewReader("")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("openssl: %v: %s", err, strings.TrimSpace(string(out)))
	}
	if !strings.Contains(string(out), "Verification: OK") {
		return fmt.Errorf("openssl: no successful verification: %s", strings.TrimSpace(string(out)))
	}
	return nil
}

func haWebhook(t *testing.T, ns, name string) {
	t.Helper()
	// A registration that intercepts nothing, so that only its caBundle matters.
	vwc := &admissionregistrationv1.ValidatingWebhookConfiguration{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Webhooks: []admissionregistrationv1.ValidatingWebhook{{
			Name: "ha.meshguard.io", AdmissionReviewVersions: []string{"v1"},
			SideEffects: ptr.To(admissionregistrationv1.SideEffectClassNone),
			ClientConfig: admissionregistrationv1.WebhookClientConfig{Service: &admissionregistrationv1.ServiceReference{
				Namespace: ns, Name: "meshguard", Path: ptr.To("/validate")}},
			Rules: []admissionregistrationv1.RuleWithOperations{{Operations: []admissionregistrationv1.OperationType{"CREATE"},
				Rule: admissionregistrationv1.Rule{APIGroups: []string{"nothing.example.com"}, APIVersions: []string{"v1"}, Resources: []string{"nothings"}}}},
		}},
	}
	if err := k8s.Create(ctx(), vwc); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = k8s.Delete(ctx(), vwc) })
}

// Two replicas with leader election and in-process rotation, the chart's
// shape. Neither has a certificate at start and the Secret does not exist:
// only the leader issues; the other waits, then serves the same pair. Only
// the leader audits. The Secret is deleted under them, the leader is killed
// and the Secret is deleted again under the new leader: a client verifying
// each replica against the live caBundle (Go and OpenSSL, strict) never
// fails a handshake.
func TestRotationAcrossReplicasNeverBreaksTrust(t *testing.T) {
	const ns, secretName, vwcName = "mg-ha", "meshguard-ha-tls", "ha-test"
	createNamespace(t, ns, nil)
	haWebhook(t, ns, vwcName)
	bin := meshguardBinary(t)
	args := []string{"--kubeconfig", kubeconfig, "--namespace", ns, "--leader-elect",
		// Short leases so that a killed leader is replaced within seconds.
		"--leader-elect-lease-duration", "6s", "--leader-elect-renew-deadline", "4s", "--leader-elect-retry-period", "1s",
		"--cert-rotation", "--cert-secret", secretName, "--webhook-config", vwcName, "--service", "meshguard",
		"--audit-interval", "1s"}
	a, b := startReplica(t, bin, "a", args...), startReplica(t, bin, "b", args...)
	eventually(t, "both replicas ready", func() error { return errors.Join(a.ready(), b.ready()) })

	var leader, follower *replica
	eventually(t, "one replica leads", func() error {
		switch {
		case a.leads() && !b.leads():
			leader, follower = a, b
		case b.leads() && !a.leads():
			leader, follower = b, a
		default:
			return fmt.Errorf("leader_election_master_status: a %v, b %v", a.metric("leader_election_master_status"), b.metric("leader_election_master_status"))
		}
		return nil
	})
	eventually(t, "the leader audits", func() error {
		if !leader.audited() {
			return errors.New("no audit cycle completed on the leader")
		}
		return nil
	})
	if follower.audited() {
		t.Error("the follower ran the drift audit; only the leader publishes")
	}

	h := &handshakes{host: "meshguard." + ns + ".svc", vwc: vwcName, served: map[string][]byte{}}
	h.set(a, b)
	probeCtx, stopProbing := context.WithCancel(context.Background())
	probing := make(chan struct{})
	go func() { h.run(probeCtx, filepath.Join(t.TempDir(), "bundle.pem")); close(probing) }()
	defer func() { stopProbing(); <-probing }()

	current := func() []byte {
		sec := &corev1.Secret{}
		if err := k8s.Get(ctx(), client.ObjectKey{Namespace: ns, Name: secretName}, sec); err != nil {
			return nil
		}
		return sec.Data["tls.crt"]
	}
	leafDER := func(pemBytes []byte) string {
		certs := parseCerts(t, pemBytes)
		if len(certs) == 0 {
			return ""
		}
		return string(certs[0].Raw)
	}
	reissued := func(what string, serving ...*replica) {
		t.Helper()
		before := current()
		if err := k8s.Delete(ctx(), &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: secretName}}); err != nil {
			t.Fatal(err)
		}
		var after []byte
		eventually(t, what+": the leader issues a new certificate", func() error {
			if after = current(); after == nil || string(after) == string(before) {
				return errors.New("no new Secret yet")
			}
			return nil
		})
		eventually(t, what+": every replica serves the new certificate", func() error {
			for _, r := range serving {
				if string(h.lastServed(r.name)) != leafDER(after) {
					return fmt.Errorf("replica %s still serves the previous certificate", r.name)
				}
			}
			return nil
		})
	}

	reissued("Secret deleted", a, b)

	// The leader dies without releasing its lease.
	h.set(follower)
	leader.kill()
	eventually(t, "the other replica takes over", func() error {
		if !follower.leads() || !follower.audited() {
			return errors.New("the survivor does not lead yet")
		}
		return nil
	})
	reissued("Secret deleted under the new leader", follower)

	stopProbing()
	<-probing
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.failures) > 0 {
		t.Errorf("%d failed handshakes (of %d):\n%s", len(h.failures), h.ok+len(h.failures), strings.Join(h.failures, "\n"))
	}
	if h.ok < 50 {
		t.Errorf("only %d handshakes succeeded; the probe did not run", h.ok)
	}
	t.Logf("%d handshakes verified against the live caBundle, none failed", h.ok)
	if n := len(parseCerts(t, webhookBundle(t, vwcName))); n > 4 {
		t.Errorf("the caBundle carries %d CAs", n)
	}
}

func webhookBundle(t *testing.T, name string) []byte {
	t.Helper()
	vwc := &admissionregistrationv1.ValidatingWebhookConfiguration{}
	if err := k8s.Get(ctx(), client.ObjectKey{Name: name}, vwc); err != nil {
		t.Fatal(err)
	}
	return vwc.Webhooks[0].ClientConfig.CABundle
}

func parseCerts(t *testing.T, data []byte) []*x509.Certificate {
	t.Helper()
	var out []*x509.Certificate
	for rest := data; ; {
		var block *pem.Block
		if block, rest = pem.Decode(rest); block == nil {
			return out
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, c)
	}
}

// outage is a TCP proxy in front of the API server that can be cut: every
// connection through it is closed and new ones are refused until restored,
// which is what a replica sees when the API server is down.
type outage struct {
	addr, upstream string
	mu             sync.Mutex
	ln             net.Listener
	conns          map[net.Conn]bool
}

func newOutageProxy(t *testing.T, upstream string) *outage {
	t.Helper()
	o := &outage{upstream: upstream, conns: map[net.Conn]bool{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	o.addr = ln.Addr().String()
	o.serve(ln)
	t.Cleanup(o.cut)
	return o
}

func (o *outage) serve(ln net.Listener) {
	o.mu.Lock()
	o.ln = ln
	o.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.DialTimeout("tcp", o.upstream, 2*time.Second)
			if err != nil {
				c.Close()
				continue
			}
			o.mu.Lock()
			o.conns[c], o.conns[up] = true, true
			o.mu.Unlock()
			go func() { _, _ = io.Copy(up, c); up.Close() }()
			go func() { _, _ = io.Copy(c, up); c.Close() }()
		}
	}()
}

func (o *outage) cut() {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.ln != nil {
		o.ln.Close()
		o.ln = nil
	}
	for c := range o.conns {
		c.Close()
	}
	o.conns = map[net.Conn]bool{}
}

func (o *outage) restore(t *testing.T) {
	t.Helper()
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		t.Fatalf("reopening %s: %v", o.addr, err)
	}
	o.serve(ln)
}

// The API server is unreachable for 20 s while a replica leads (the chart's
// lease timing): the replica neither exits nor stops serving, and leads
// again once the API server is back.
func TestReplicaRidesOutAnAPIServerOutage(t *testing.T) {
	const ns = "mg-outage"
	createNamespace(t, ns, nil)
	haWebhook(t, ns, "outage-test")
	kc, err := clientcmd.LoadFromFile(kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	var upstream string
	for _, c := range kc.Clusters {
		upstream = strings.TrimPrefix(c.Server, "https://")
	}
	proxy := newOutageProxy(t, upstream)
	for _, c := range kc.Clusters {
		c.Server = "https://" + proxy.addr
	}
	proxied := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*kc, proxied); err != nil {
		t.Fatal(err)
	}
	r := startReplica(t, meshguardBinary(t), "solo", "--kubeconfig", proxied, "--namespace", ns, "--leader-elect",
		"--cert-rotation", "--cert-secret", "meshguard-outage-tls", "--webhook-config", "outage-test", "--service", "meshguard",
		"--audit-interval", "1s")
	eventually(t, "the replica is ready and leads", r.readyAndLeading)
	bundle := webhookBundle(t, "outage-test")
	host := "meshguard." + ns + ".svc"

	proxy.cut()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if !r.running() {
			t.Fatalf("the replica exited during the outage: %v", r.cmd.ProcessState)
		}
		if _, err := goHandshake(r.port, host, bundle); err != nil {
			t.Fatalf("the replica stopped serving during the outage: %v", err)
		}
		time.Sleep(time.Second)
	}
	proxy.restore(t)
	eventually(t, "the replica leads and is ready after the outage", r.readyAndLeading)
}
