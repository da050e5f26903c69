package server

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/go-logr/logr"

	"github.com/meshguard/meshguard/pkg/certs"
	"github.com/meshguard/meshguard/pkg/trust/trusttest"
)

func writePair(t *testing.T, dir string) {
	t.Helper()
	cert, key := trusttest.NewRoot("meshguard test CA").ValidLeaf("meshguard.test.svc")
	if err := os.WriteFile(filepath.Join(dir, certs.KeyCert), cert, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, certs.KeyKey), key, 0o600); err != nil {
		t.Fatal(err)
	}
}

func startTLSServer(t *testing.T, dir string, rotation bool) *tlsServer {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	o := Options{Host: "127.0.0.1", Port: port, CertDir: dir, Log: logr.Discard()}
	if rotation {
		o.Rotation = &Rotation{}
	}
	s := newTLSServer(o, nil)
	s.readHeaderTimeout = 300 * time.Millisecond
	s.Register("/validate", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "ok") }))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Start(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Start: %v", err)
		}
	})
	return s
}

func waitStarted(t *testing.T, s *tlsServer) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for s.StartedChecker()(nil) != nil {
		if time.Now().After(deadline) {
			t.Fatalf("not started: %v", s.StartedChecker()(nil))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestWebhookServerServesAndCutsSlowClients(t *testing.T) {
	dir := t.TempDir()
	writePair(t, dir)
	s := startTLSServer(t, dir, false)
	waitStarted(t, s)
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port))

	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} //nolint:gosec
	resp, err := c.Post("https://"+addr+"/validate", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}

	// A client that never finishes its headers is disconnected after the
	// header timeout instead of holding a descriptor.
	conn, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true}) //nolint:gosec
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, "POST /validate HTTP/1.1\r\nHost: meshguard\r\n"); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err = io.ReadAll(conn)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatal("a client stalled in its headers was not disconnected within 5 s")
	}
	if waited := time.Since(start); waited > 3*time.Second {
		t.Errorf("disconnected after %v, want about the 300ms header timeout", waited)
	}

	// TLS 1.0 and 1.1 are refused.
	if _, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true, MaxVersion: tls.VersionTLS11}); err == nil { //nolint:gosec
		t.Error("a TLS 1.1 handshake succeeded")
	}
}

// With rotation, a replica without a certificate is not started (and so not
// ready) until a pair appears, instead of failing.
func TestWebhookServerWaitsForAPair(t *testing.T) {
	dir := t.TempDir()
	s := startTLSServer(t, dir, true)
	time.Sleep(700 * time.Millisecond)
	if s.StartedChecker()(nil) == nil {
		t.Fatal("ready without a certificate")
	}
	writePair(t, dir)
	waitStarted(t, s)
}
