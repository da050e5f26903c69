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
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/funcr"

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
	s, stop := startServing(t, dir, rotation, 0, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "ok") }))
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Errorf("Start: %v", err)
		}
	})
	return s
}

// startServing starts a webhook server on a free loopback port; stop ends
// its context and returns what Start returned.
func startServing(t *testing.T, dir string, rotation bool, drain time.Duration, h http.Handler) (s *tlsServer, stop func() error) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	o := Options{Host: "127.0.0.1", Port: port, CertDir: dir, Log: logr.Discard(), DrainTimeout: drain}
	if rotation {
		o.Rotation = &Rotation{}
	}
	s = newTLSServer(o, nil)
	s.readHeaderTimeout = 300 * time.Millisecond
	s.Register("/validate", h)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Start(ctx) }()
	var once sync.Once
	var stopErr error
	return s, func() error {
		once.Do(func() { cancel(); stopErr = <-done })
		return stopErr
	}
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

// eventually waits, without a deadline that depends on the machine's speed
// beyond a generous one, for cond to hold.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited 30 s: %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A stop while reviews are in flight, over HTTP/2 (the API server's
// protocol) and HTTP/1.1: readiness fails, new connections are refused, Start
// waits, and every review already received is answered in full, its
// context never cancelled by the stop.
func TestStopDrainsReviewsInFlight(t *testing.T) {
	dir := t.TempDir()
	writePair(t, dir)
	const h2Streams, h1Conns = 6, 3
	entered, release := make(chan struct{}, h2Streams+h1Conns), make(chan struct{})
	s, stop := startServing(t, dir, false, 0, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		entered <- struct{}{}
		<-release
		if err := r.Context().Err(); err != nil {
			http.Error(w, "review cancelled: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		_, _ = io.WriteString(w, "answered "+r.Proto)
	}))
	t.Cleanup(func() {
		select {
		case <-release:
		default:
			close(release)
		}
		_ = stop()
	})
	waitStarted(t, s)
	url := "https://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)) + "/validate"
	tlsConf := &tls.Config{InsecureSkipVerify: true} //nolint:gosec
	h2 := &http.Client{Transport: &http.Transport{TLSClientConfig: tlsConf.Clone(), ForceAttemptHTTP2: true}}
	type answer struct {
		code int
		body string
		err  error
	}
	answers := make(chan answer, h2Streams+h1Conns)
	send := func(c *http.Client) {
		resp, err := c.Post(url, "application/json", nil)
		if err != nil {
			answers <- answer{err: err}
			return
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		answers <- answer{resp.StatusCode, string(body), err}
	}
	for i := 0; i < h2Streams; i++ {
		go send(h2)
	}
	for i := 0; i < h1Conns; i++ {
		h1 := &http.Client{Transport: &http.Transport{TLSClientConfig: tlsConf.Clone(), TLSNextProto: map[string]func(string, *tls.Conn) http.RoundTripper{}}}
		go send(h1)
	}
	// Every request must reach the handler before the stop; one answered
	// before that (refused, reset) fails the test here, with its error,
	// instead of leaving it waiting.
	for i := 0; i < h2Streams+h1Conns; i++ {
		select {
		case <-entered:
		case a := <-answers:
			t.Fatalf("a review was answered before the stop, %d of %d in the handler: %d %q %v", i, h2Streams+h1Conns, a.code, a.body, a.err)
		case <-time.After(30 * time.Second):
			t.Fatalf("waited 30 s: %d of %d reviews reached the handler", i, h2Streams+h1Conns)
		}
	}

	stopped := make(chan error, 1)
	go func() { stopped <- stop() }()
	eventually(t, "readiness fails", func() bool { return s.StartedChecker()(nil) != nil })
	eventually(t, "new connections are refused", func() bool {
		c, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)))
		if err == nil {
			c.Close()
		}
		return err != nil
	})
	select {
	case err := <-stopped:
		t.Fatalf("Start returned (%v) with %d reviews unanswered", err, h2Streams+h1Conns)
	default:
	}
	close(release)
	var h2Answers int
	for i := 0; i < h2Streams+h1Conns; i++ {
		a := <-answers
		if a.err != nil || a.code != http.StatusOK || !strings.HasPrefix(a.body, "answered") {
			t.Errorf("a review in flight at the stop got: HTTP %d %q %v", a.code, a.body, a.err)
		}
		if a.body == "answered HTTP/2.0" {
			h2Answers++
		}
	}
	if h2Answers != h2Streams {
		t.Errorf("%d answers over HTTP/2, want %d", h2Answers, h2Streams)
	}
	if err := <-stopped; err != nil {
		t.Errorf("Start: %v", err)
	}
}

// A review that never ends cannot hold the process: the drain gives up after
// its timeout and closes the connection.
func TestDrainIsBounded(t *testing.T) {
	dir := t.TempDir()
	writePair(t, dir)
	entered, release := make(chan struct{}, 1), make(chan struct{})
	defer close(release)
	s, stop := startServing(t, dir, false, 100*time.Millisecond, http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		entered <- struct{}{}
		<-release
	}))
	waitStarted(t, s)
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} //nolint:gosec
	failed := make(chan error, 1)
	go func() {
		resp, err := c.Post("https://"+net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port))+"/validate", "application/json", nil)
		if err == nil {
			resp.Body.Close()
		}
		failed <- err
	}()
	<-entered
	if err := stop(); err != nil {
		t.Errorf("Start: %v", err)
	}
	if err := <-failed; err == nil {
		t.Error("the endless review was answered")
	}
}

// A caller refused at the handshake (no client certificate where one is
// required: the readiness check itself, or a port scanner) is logged at
// debug level only, not once every probe period.
func TestRefusedHandshakesAreDebugOnly(t *testing.T) {
	dir := t.TempDir()
	writePair(t, dir)
	var logged []string
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	var mu sync.Mutex
	o := Options{Host: "127.0.0.1", Port: port, CertDir: dir, Log: funcr.New(func(prefix, args string) {
		mu.Lock()
		defer mu.Unlock()
		logged = append(logged, args)
	}, funcr.Options{Verbosity: 1})}
	s := newTLSServer(o, []func(*tls.Config){func(c *tls.Config) { c.ClientAuth = tls.RequireAnyClientCert }})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Start(ctx) }()
	waitStarted(t, s)
	// The checker's handshake and the server's refusal: make sure the
	// server has handled it by making a second, full exchange after it.
	for i := 0; i < 3; i++ {
		if c, err := tls.Dial("tcp", s.addr(), &tls.Config{InsecureSkipVerify: true}); err == nil { //nolint:gosec
			_, _ = c.Read(make([]byte, 1)) // the server's alert
			c.Close()
		}
	}
	cancel()
	<-done
	mu.Lock()
	defer mu.Unlock()
	refused := 0
	for _, m := range logged {
		if strings.Contains(m, "handshake") {
			refused++
			if !strings.Contains(m, `"level"=1`) {
				t.Errorf("a refused handshake logged above debug level: %s", m)
			}
		}
	}
	if refused == 0 {
		t.Errorf("the refused handshakes did not reach the webhook's log: %q", logged)
	}
}
