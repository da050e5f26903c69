// Package server assembles `meshguard serve`: a controller-runtime manager
// with the informer cache feeding the state store, the webhook server at
// /validate, health and readiness probes, and Prometheus metrics.
package server

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	istioscheme "istio.io/client-go/pkg/clientset/versioned/scheme"
	authenticationv1 "k8s.io/api/authentication/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/webhook"

	"github.com/meshguard/meshguard/pkg/admission"
	"github.com/meshguard/meshguard/pkg/audit"
	"github.com/meshguard/meshguard/pkg/certs"
	"github.com/meshguard/meshguard/pkg/cluster"
	"github.com/meshguard/meshguard/pkg/config"
	"github.com/meshguard/meshguard/pkg/engine"
	"github.com/meshguard/meshguard/pkg/mesh"
	"github.com/meshguard/meshguard/pkg/rules/registry"
	"github.com/meshguard/meshguard/pkg/state"
	"github.com/meshguard/meshguard/pkg/trust"
)

// Options are the settings of `meshguard serve`.
type Options struct {
	// CertDir holds tls.crt and tls.key; they are reloaded when they change.
	CertDir string
	// Host and Port are where the webhook listens (Host empty: all addresses).
	Host string
	Port int
	// HealthProbeBindAddress serves /healthz and /readyz ("0" disables).
	HealthProbeBindAddress string
	// MetricsBindAddress serves /metrics ("0" disables).
	MetricsBindAddress string
	Config             *config.Config
	// Now is the clock exceptions expire by and reviews are dated with
	// (nil: time.Now; tests set their own).
	Now func() time.Time
	Log logr.Logger
	// Namespace is meshguard's own namespace (leader lease, certificate Secret).
	Namespace string
	// LeaderElection elects the replica that renews the certificate.
	LeaderElection bool
	// AuditInterval is how often the drift audit runs on the cache (0: off).
	AuditInterval time.Duration
	// Reports has the drift audit keep an OpenReports Report per namespace.
	Reports bool
	// Lease is the leader election timing; zero fields take LeaseDefaults.
	Lease Lease
	// ClientCAFile, when set, makes the webhook require a client certificate
	// signed by one of its CAs (the API server's). Only reviews over such a
	// connection are believed about their userInfo; without it, findings
	// about Secrets and ConfigMaps never show their details.
	ClientCAFile string
	// Rotation, when set, has meshguard issue and renew its own serving
	// certificate instead of using CertDir as it is.
	Rotation *Rotation
	// DrainTimeout bounds how long a stopping webhook waits for the reviews
	// in flight (0: DrainTimeout, the API server's longest webhook timeout).
	DrainTimeout time.Duration
}

// Lease is the leader election timing.
type Lease struct {
	// Duration is how long followers wait before taking over a lease that
	// was not renewed (a leader that died without releasing it).
	Duration time.Duration
	// RenewDeadline is how long the leader keeps trying to renew before it
	// gives up leading; the API server may be unreachable that long.
	RenewDeadline time.Duration
	// RetryPeriod is how often every replica tries to acquire or renew.
	RetryPeriod time.Duration
}

// LeaseDefaults ride out API server outages shorter than the renew deadline
// (a lost lease ends the process in controller-runtime): only renewing the
// certificate and the drift audit depend on leading, so a long lease costs
// nothing but a slower hand-off when a leader dies; one that stops cleanly
// releases the lease at once.
var LeaseDefaults = Lease{Duration: 60 * time.Second, RenewDeadline: 45 * time.Second, RetryPeriod: 5 * time.Second}

func (l Lease) orDefaults() Lease {
	if l.Duration == 0 {
		l.Duration = LeaseDefaults.Duration
	}
	if l.RenewDeadline == 0 {
		l.RenewDeadline = LeaseDefaults.RenewDeadline
	}
	if l.RetryPeriod == 0 {
		l.RetryPeriod = LeaseDefaults.RetryPeriod
	}
	return l
}

// Rotation names what certificate rotation manages.
type Rotation struct {
	SecretName, ServiceName, WebhookConfig string
	Interval                               time.Duration
}

// Scheme knows the core kinds and Istio's kinds.
func Scheme() (*runtime.Scheme, error) {
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		return nil, err
	}
	if err := istioscheme.AddToScheme(s); err != nil {
		return nil, err
	}
	if err := audit.AddToScheme(s); err != nil {
		return nil, err
	}
	return s, nil
}

// New builds the manager. Start it with mgr.Start(ctx).
func New(restConfig *rest.Config, o Options) (manager.Manager, error) {
	scheme, err := Scheme()
	if err != nil {
		return nil, err
	}
	mgr, err := newManager(restConfig, scheme, o)
	if err != nil {
		return nil, err
	}
	if o.Rotation != nil {
		if err := addRotation(restConfig, scheme, mgr, o); err != nil {
			return nil, err
		}
	}
	// GetWebhookServer also adds the server to the manager's runnables.
	ws := mgr.GetWebhookServer()
	store := mesh.NewStore(o.Config.ClusterDomain)
	regs, unserved, err := cluster.Feed(context.Background(), mgr.GetCache(), mgr.GetRESTMapper(), store)
	if err != nil {
		return nil, err
	}
	for _, k := range unserved {
		// Gateway API Gateways are watched only when their CRD is served at
		// start; one installed later is read directly when a route binds it.
		o.Log.Info("not served, so not watched; objects binding it are confirmed by direct reads", "kind", k.String())
	}
	// The registry is process-wide: the first manager of the process exports
	// its store (a second one exists only in tests).
	if err := metrics.Registry.Register(outsiders{store: store, cfg: o.Config}); err != nil {
		if !errors.As(err, new(prometheus.AlreadyRegisteredError)) {
			return nil, fmt.Errorf("registering the outsiders gauge: %w", err)
		}
	}
	eng := engine.New(registry.Rules(), o.Config)
	eng.Now = o.Now
	admission.ReportExceptions(o.Config, o.Now)
	// Reviews arriving together share their direct reads (a burst of
	// writes confirming the same missing Service, or naming the same Secret).
	live := cluster.Coalesce(mgr.GetAPIReader(), admission.ArrivedAt)
	fetchTrust := func(ctx context.Context, view *trust.View, secrets [][2]string, roots []string) error {
		return cluster.FetchTrust(ctx, live, view, secrets, roots)
	}
	if o.AuditInterval > 0 {
		if err := addDrift(mgr, o, store, eng, fetchTrust); err != nil {
			return nil, err
		}
	}
	if o.ClientCAFile == "" {
		o.Log.Info("No --client-ca-file: a review's userInfo cannot be told from a forged one, so findings about Secrets and ConfigMaps never show their details")
	}
	ws.Register(admission.Path, admission.Limit(&webhook.Admission{WithContextFunc: admission.WithCaller, Handler: &admission.Handler{
		Engine: eng,
		Now:    o.Now,
		Store:  store,
		Config: o.Config,
		Log:    o.Log.WithName("admission"),
		Synced: func() bool { return synced(regs)(nil) == nil },
		Confirm: func(ctx context.Context, refs []state.ObjectRef) ([]*state.Object, []state.ObjectRef, error) {
			return cluster.Confirm(ctx, live, refs)
		},
		Trust: fetchTrust,
		Authorize: func(ctx context.Context, user authenticationv1.UserInfo, ref state.ObjectRef) (bool, error) {
			return cluster.MayGet(ctx, mgr.GetClient(), user, ref)
		},
	}}, o.Config.Limits))
	if err := mgr.AddHealthzCheck("ping", healthz.Ping); err != nil {
		return nil, err
	}
	// Ready only once the state is complete and the serving certificate is
	// loaded: before that a review could miss pods or fail the TLS handshake.
	if err := mgr.AddReadyzCheck("state-synced", synced(regs)); err != nil {
		return nil, err
	}
	if err := mgr.AddReadyzCheck("webhook-serving", ws.StartedChecker()); err != nil {
		return nil, err
	}
	if ts, ok := ws.(*tlsServer); ok {
		return draining{Manager: mgr, ws: ts}, nil
	}
	return mgr, nil
}

// draining is the manager with the stop a rollout needs. When the context
// Start was given ends (SIGTERM), readiness fails at once, before anything
// else stops; then the manager stops its parts, the webhook server last: it
// closes its listener and answers every review it already holds.
type draining struct {
	manager.Manager
	ws *tlsServer
}

func (d draining) Start(ctx context.Context) error {
	run, stop := context.WithCancel(context.WithoutCancel(ctx))
	defer stop()
	go func() {
		select {
		case <-ctx.Done():
			d.ws.drain()
			stop()
		case <-run.Done():
		}
	}()
	return d.Manager.Start(run)
}

// newManager builds the controller-runtime manager: the lean cache, the
// webhook's TLS server (client certificates required when a CA is given),
// probes, metrics and leader election.
func newManager(restConfig *rest.Config, scheme *runtime.Scheme, o Options) (manager.Manager, error) {
	var tlsOpts []func(*tls.Config)
	if o.ClientCAFile != "" {
		pool, err := clientCAs(o.ClientCAFile)
		if err != nil {
			return nil, err
		}
		// Only the API server, presenting a certificate this CA signed (its
		// AdmissionConfiguration kubeConfigFile), may send reviews.
		tlsOpts = append(tlsOpts, func(c *tls.Config) {
			c.ClientCAs, c.ClientAuth = pool, tls.RequireAndVerifyClientCert
		})
	}
	lease := o.Lease.orDefaults()
	if lease.RenewDeadline >= lease.Duration || lease.RetryPeriod >= lease.RenewDeadline {
		return nil, fmt.Errorf("leader election: want retry period < renew deadline < lease duration, got %s, %s, %s",
			lease.RetryPeriod, lease.RenewDeadline, lease.Duration)
	}
	mgr, err := ctrl.NewManager(restConfig, ctrl.Options{
		Scheme:                 scheme,
		Logger:                 o.Log,
		Cache:                  cluster.CacheOptions(),
		WebhookServer:          newTLSServer(o, tlsOpts),
		HealthProbeBindAddress: o.HealthProbeBindAddress,
		Metrics:                metricsserver.Options{BindAddress: o.MetricsBindAddress},
		LeaderElection:         o.LeaderElection,
		LeaderElectionID:       "meshguard.io",
		LeaseDuration:          &lease.Duration,
		RenewDeadline:          &lease.RenewDeadline,
		RetryPeriod:            &lease.RetryPeriod,
		// serve returns as soon as the manager stops, so the lease can be
		// handed over at once on a rollout instead of after LeaseDuration.
		LeaderElectionReleaseOnCancel: true,
		LeaderElectionNamespace:       o.Namespace,
		// The webhook drains last: room for the other parts to stop first.
		GracefulShutdownTimeout: ptr.To(drainTimeout(o) + 5*time.Second),
	})
	if err != nil {
		return nil, fmt.Errorf("creating manager: %w", err)
	}
	return mgr, nil
}

// addDrift adds the drift audit: every interval, the admitted objects judged
// as they stand, published as metrics, events and (optionally) Reports.
func addDrift(mgr manager.Manager, o Options, store *state.Store, eng *engine.Engine, fetchTrust engine.TrustFetcher) error {
	drift := &audit.Drift{Store: store, Engine: eng, Config: o.Config, Interval: o.AuditInterval,
		Reader: mgr.GetAPIReader(), Events: mgr.GetEventRecorder("meshguard"), Log: o.Log.WithName("audit"),
		Trust: fetchTrust}
	if o.Reports {
		drift.Reports = &audit.Reports{Client: mgr.GetClient(), Reader: mgr.GetAPIReader(), Mapper: mgr.GetRESTMapper(),
			Log: o.Log.WithName("reports")}
	}
	return mgr.Add(drift)
}

func drainTimeout(o Options) time.Duration {
	if o.DrainTimeout > 0 {
		return o.DrainTimeout
	}
	return DrainTimeout
}

func synced(regs []toolscache.ResourceEventHandlerRegistration) healthz.Checker {
	return func(*http.Request) error {
		for _, r := range regs {
			if !r.HasSynced() {
				return errors.New("cluster state not synced yet")
			}
		}
		return nil
	}
}

// addRotation issues or loads the serving certificate before the webhook
// server starts (it needs the files), then keeps it valid on every replica:
// the leader renews, the others follow the Secret.
func addRotation(restConfig *rest.Config, scheme *runtime.Scheme, mgr manager.Manager, o Options) error {
	if o.Namespace == "" {
		return errors.New("certificate rotation needs meshguard's namespace (--namespace or POD_NAMESPACE)")
	}
	direct, err := client.New(restConfig, client.Options{Scheme: scheme})
	if err != nil {
		return err
	}
	r := &certs.Rotator{Client: direct, Namespace: o.Namespace, SecretName: o.Rotation.SecretName,
		ServiceName: o.Rotation.ServiceName, WebhookConfig: o.Rotation.WebhookConfig, CertDir: o.CertDir,
		Log: o.Log.WithName("certs")}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// With leader election only the leader ever issues: a replica that finds
	// no Secret keeps what it serves, or (with nothing to serve) waits, not
	// ready, until the leader has issued (tlsServer.awaitFiles).
	if err := r.Ensure(ctx, !o.LeaderElection); err != nil {
		return fmt.Errorf("serving certificate: %w", err)
	}
	interval := o.Rotation.Interval
	if interval == 0 {
		interval = 10 * time.Minute
	}
	var elected <-chan struct{}
	if o.LeaderElection {
		elected = mgr.Elected()
	}
	return mgr.Add(everyReplica(func(ctx context.Context) error { return r.Run(ctx, interval, elected) }))
}

// everyReplica is a runnable that runs whether or not this replica leads.
type everyReplica func(context.Context) error

func (f everyReplica) Start(ctx context.Context) error { return f(ctx) }
func (everyReplica) NeedLeaderElection() bool          { return false }

// clientCAs reads the PEM bundle of CAs allowed to sign client certificates.
func clientCAs(path string) (*x509.CertPool, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--client-ca-file: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(data) {
		return nil, fmt.Errorf("--client-ca-file %s: no PEM certificate in it", path)
	}
	return pool, nil
}
