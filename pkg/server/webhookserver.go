package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	"sigs.k8s.io/controller-runtime/pkg/certwatcher"
	"sigs.k8s.io/controller-runtime/pkg/healthz"

	"github.com/meshguard/meshguard/pkg/certs"
)

// Timeouts of the webhook's HTTP server. controller-runtime's own server
// fixes a 32 s header timeout and no read or write timeout; these bound what
// a slow or stalled client can hold. Reviews are small and fast, and the API
// server itself gives up after the webhook's timeoutSeconds (at most 30).
const (
	ReadHeaderTimeout = 10 * time.Second
	// ReadTimeout covers the whole request (the limiter's tighter body
	// deadline applies first); WriteTimeout the whole response.
	ReadTimeout  = 30 * time.Second
	WriteTimeout = 30 * time.Second
	// IdleTimeout matches the API server's keep-alive (http.DefaultTransport).
	IdleTimeout = 90 * time.Second
	// DrainTimeout is how long a stopping server waits for the reviews in
	// flight by default: the longest webhook timeout the API server allows,
	// after which no caller is left waiting for them.
	DrainTimeout = 30 * time.Second
)

// tlsServer serves the webhook over TLS, reloading the pair in CertDir when
// it changes (controller-runtime's certwatcher). It satisfies webhook.Server,
// so the manager runs it like its default server, which it replaces for
// the timeouts above and for waiting until a pair exists (with rotation, a
// replica without a certificate waits for the leader to issue one).
type tlsServer struct {
	host    string
	port    int
	certDir string
	tlsOpts []func(*tls.Config)
	// awaitFiles: start serving only once CertDir holds a pair.
	awaitFiles bool
	log        logr.Logger
	// readHeaderTimeout is ReadHeaderTimeout unless a test shortens it.
	readHeaderTimeout time.Duration
	// drainTimeout bounds how long Start waits, once stopped, for the
	// reviews in flight.
	drainTimeout time.Duration

	mux     *http.ServeMux
	mu      sync.Mutex
	started bool
	// draining is set once the process is stopping: /readyz fails from then on.
	draining atomic.Bool
}

func newTLSServer(o Options, tlsOpts []func(*tls.Config)) *tlsServer {
	return &tlsServer{host: o.Host, port: o.Port, certDir: o.CertDir, tlsOpts: tlsOpts, awaitFiles: o.Rotation != nil,
		log: o.Log.WithName("webhook"), readHeaderTimeout: ReadHeaderTimeout, drainTimeout: drainTimeout(o), mux: http.NewServeMux()}
}

// drain makes readiness fail: the process is stopping, and the API server
// should send its reviews to another replica. The server keeps serving until
// its context ends.
func (s *tlsServer) drain() {
	if !s.draining.Swap(true) {
		s.log.Info("Stopping: not ready any more, serving the reviews already sent")
	}
}

func (s *tlsServer) NeedLeaderElection() bool                { return false }
func (s *tlsServer) Register(path string, hook http.Handler) { s.mux.Handle(path, hook) }
func (s *tlsServer) WebhookMux() *http.ServeMux              { return s.mux }

func (s *tlsServer) addr() string { return net.JoinHostPort(s.host, strconv.Itoa(s.port)) }

// Start serves until ctx ends, then drains: readiness fails, the listener
// closes (HTTP/2 connections get a GOAWAY, so the API server opens new ones
// elsewhere), and every review already received is finished and answered
// before Start returns, for up to drainTimeout. A review's own context does
// not end with ctx: only its caller (or its own deadline) ends it.
func (s *tlsServer) Start(ctx context.Context) error {
	for logged := false; s.awaitFiles && !certs.HasPair(s.certDir); logged = true {
		if !logged {
			s.log.Info("No serving certificate yet; waiting for the leader to issue one", "certDir", s.certDir)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(500 * time.Millisecond):
		}
	}
	watcher, err := certwatcher.New(filepath.Join(s.certDir, certs.KeyCert), filepath.Join(s.certDir, certs.KeyKey))
	if err != nil {
		return fmt.Errorf("loading the serving certificate: %w", err)
	}
	go func() {
		if err := watcher.Start(ctx); err != nil {
			s.log.Error(err, "Certificate watcher stopped")
		}
	}()
	cfg := &tls.Config{NextProtos: []string{"h2"}, MinVersion: tls.VersionTLS12, GetCertificate: watcher.GetCertificate}
	for _, opt := range s.tlsOpts {
		opt(cfg)
	}
	ln, err := tls.Listen("tcp", s.addr(), cfg)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           s.mux,
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
		MaxHeaderBytes:    1 << 20,
		ReadHeaderTimeout: s.readHeaderTimeout,
		ReadTimeout:       ReadTimeout,
		WriteTimeout:      WriteTimeout,
		IdleTimeout:       IdleTimeout,
		ErrorLog:          log.New(serverLog{s.log}, "", 0),
	}
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		<-ctx.Done()
		s.drain()
		shutdown, cancel := context.WithTimeout(context.Background(), s.drainTimeout)
		defer cancel()
		if err := srv.Shutdown(shutdown); err != nil {
			// Past the bound no API server still waits for these answers.
			s.log.Error(err, "Reviews still in flight after the drain timeout; closing their connections", "drainTimeout", s.drainTimeout)
			_ = srv.Close()
		}
	}()
	s.mu.Lock()
	s.started = true
	s.mu.Unlock()
	s.log.Info("Serving webhook", "address", s.addr())
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	<-drained
	return nil
}

// serverLog carries the HTTP server's own complaints into the webhook's log.
// A failed TLS handshake is debug (V(1)): port scanners make them, and so
// does the readiness check every few seconds when client certificates are
// required (it presents none).
type serverLog struct{ log logr.Logger }

func (l serverLog) Write(p []byte) (int, error) {
	detail := strings.TrimSpace(string(p))
	if strings.Contains(detail, "TLS handshake error") {
		l.log.V(1).Info("TLS handshake failed", "detail", detail)
	} else {
		l.log.Info("HTTP server error", "detail", detail)
	}
	return len(p), nil
}

// StartedChecker is ready once the server completes a TLS handshake.
func (s *tlsServer) StartedChecker() healthz.Checker {
	return func(*http.Request) error {
		s.mu.Lock()
		started := s.started
		s.mu.Unlock()
		if !started {
			return errors.New("webhook server has not started yet")
		}
		if s.draining.Load() {
			return errors.New("webhook server is stopping")
		}
		host := s.host
		if host == "" {
			host = "127.0.0.1"
		}
		d := &net.Dialer{Timeout: 10 * time.Second}
		// Only reachability is checked here: the certificate's names are the
		// Service's, not this address.
		conn, err := tls.DialWithDialer(d, "tcp", net.JoinHostPort(host, strconv.Itoa(s.port)), &tls.Config{InsecureSkipVerify: true}) //nolint:gosec
		if err != nil {
			return fmt.Errorf("webhook server is not reachable: %w", err)
		}
		return conn.Close()
	}
}
