package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/go-logr/logr"
	"github.com/go-logr/zapr"
	"github.com/spf13/pflag"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/meshguard/meshguard/pkg/config"
	"github.com/meshguard/meshguard/pkg/rules"
	"github.com/meshguard/meshguard/pkg/server"
)

func serve(args []string) int {
	fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
	certDir := fs.String("cert-dir", "/tmp/k8s-webhook-server/serving-certs", "directory holding tls.crt and tls.key (reloaded when they change)")
	port := fs.Int("port", 9443, "port the webhook serves TLS on")
	probes := fs.String("health-probe-bind-address", ":8081", "address of /healthz and /readyz")
	metrics := fs.String("metrics-bind-address", ":8080", "address of /metrics (0 disables)")
	root := fs.String("root-namespace", "", "Istio root namespace (default istio-system, or the config file's)")
	configFile := fs.String("config", "", "configuration file (enforcement per rule, excluded namespaces, break-glass groups)")
	kubeconfig := fs.String("kubeconfig", "", "kubeconfig (default: $KUBECONFIG, then in-cluster config)")
	anchors := fs.String("fleet-trust-anchors", "", "PEM file of fleet trust anchors (overrides the config file's fleetTrustAnchors)")
	logLevel := fs.String("log-level", "info", "log level: info or debug")
	logFormat := fs.String("log-format", "json", "log format: json or console")
	namespace := fs.String("namespace", os.Getenv("POD_NAMESPACE"), "meshguard's own namespace (default $POD_NAMESPACE): leader lease and certificate Secret")
	leaderElect := fs.Bool("leader-elect", false, "elect one replica to renew the serving certificate")
	auditInterval := fs.Duration("audit-interval", 60*time.Second, "how often the drift audit judges every object on the cache (0 disables; the leader only)")
	reports := fs.Bool("reports", false, "with the drift audit: keep an OpenReports Report (openreports.io/v1alpha1) per namespace with its findings")
	leaseDuration := fs.Duration("leader-elect-lease-duration", server.LeaseDefaults.Duration, "how long followers wait before taking over a lease its holder stopped renewing")
	renewDeadline := fs.Duration("leader-elect-renew-deadline", server.LeaseDefaults.RenewDeadline, "how long the leader retries renewing (an API server outage it rides out) before it stops leading and exits")
	retryPeriod := fs.Duration("leader-elect-retry-period", server.LeaseDefaults.RetryPeriod, "how often replicas try to acquire or renew the lease")
	clientCA := fs.String("client-ca-file", "", "PEM bundle of CAs; when set, only clients with a certificate they signed (the API server) may send reviews, and only then is a review's userInfo believed (without it, findings never show details of Secrets and ConfigMaps)")
	rotate := fs.Bool("cert-rotation", false, "issue and renew the serving certificate in-process (Secret --cert-secret, caBundle of --webhook-config)")
	certSecret := fs.String("cert-secret", "meshguard-webhook-tls", "with --cert-rotation: the Secret holding the serving certificate")
	webhookConfig := fs.String("webhook-config", "meshguard", "with --cert-rotation: the ValidatingWebhookConfiguration whose caBundle is kept in step")
	service := fs.String("service", "meshguard", "with --cert-rotation: the Service the certificate is issued for")
	drain := fs.Duration("drain-timeout", server.DrainTimeout, "on SIGTERM, how long to wait for the reviews in flight after readiness fails and the listener closes (set it to the webhook's timeoutSeconds)")
	fs.AddGoFlagSet(flag.CommandLine)
	if err := fs.Parse(args); err != nil {
		if err == pflag.ErrHelp {
			return 0
		}
		return 2
	}
	log, err := newLogger(*logLevel, *logFormat)
	if err != nil {
		fmt.Fprintf(os.Stderr, "meshguard serve: %v\n", err)
		return 2
	}
	ctrl.SetLogger(log)
	setup := log.WithName("setup")
	cfg, err := config.Load(*configFile)
	if err == nil {
		if err = rules.CheckConfig(cfg); err != nil {
			err = fmt.Errorf("config %s: %w", *configFile, err)
		}
	}
	if err != nil {
		setup.Error(err, "Invalid configuration")
		return 2
	}
	if *root != "" {
		cfg.RootNamespace = *root
	}
	if *anchors != "" {
		cfg.FleetTrustAnchors = *anchors
		if err := cfg.LoadAnchors(); err != nil {
			setup.Error(err, "Invalid fleet trust anchors")
			return 2
		}
	}
	rc, err := restConfig(*kubeconfig)
	if err != nil {
		setup.Error(err, "No cluster configuration")
		return 1
	}
	opts := server.Options{
		CertDir: *certDir, Port: *port, HealthProbeBindAddress: *probes, MetricsBindAddress: *metrics,
		Config: cfg, Log: log, Namespace: *namespace, LeaderElection: *leaderElect, ClientCAFile: *clientCA,
		AuditInterval: *auditInterval, Reports: *reports, DrainTimeout: *drain,
		Lease: server.Lease{Duration: *leaseDuration, RenewDeadline: *renewDeadline, RetryPeriod: *retryPeriod},
	}
	if *rotate {
		opts.Rotation = &server.Rotation{SecretName: *certSecret, ServiceName: *service, WebhookConfig: *webhookConfig}
	}
	mgr, err := server.New(rc, opts)
	if err != nil {
		setup.Error(err, "Cannot build the webhook server")
		return 1
	}
	setup.Info("Starting", "version", version, "port", *port, "rootNamespace", cfg.RootNamespace)
	if err := mgr.Start(ctrl.SetupSignalHandler()); err != nil {
		setup.Error(err, "Server stopped")
		return 1
	}
	return 0
}

func newLogger(level, format string) (logr.Logger, error) {
	zc := zap.NewProductionConfig()
	switch level {
	case "info":
	case "debug":
		zc.Level = zap.NewAtomicLevelAt(zapcore.DebugLevel)
	default:
		return logr.Logger{}, fmt.Errorf("--log-level: %q is not info or debug", level)
	}
	switch format {
	case "json":
	case "console":
		zc.Encoding = "console"
		zc.EncoderConfig = zap.NewDevelopmentEncoderConfig()
	default:
		return logr.Logger{}, fmt.Errorf("--log-format: %q is not json or console", format)
	}
	zl, err := zc.Build()
	if err != nil {
		return logr.Logger{}, err
	}
	return zapr.NewLogger(zl), nil
}

// restConfig reads --kubeconfig, then $KUBECONFIG, ~/.kube/config and the
// in-cluster configuration, as controller-runtime does.
func restConfig(kubeconfig string) (*rest.Config, error) {
	if kubeconfig != "" {
		rc, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
		if err != nil {
			return nil, err
		}
		// As controller-runtime's GetConfig does for in-cluster and
		// KUBECONFIG: no client-side throttling (the API server's priority
		// and fairness governs), so a burst of reviews needing a direct read
		// is not queued behind client-go's default 5 QPS.
		if rc.QPS == 0 {
			rc.QPS = -1
		}
		return rc, nil
	}
	return ctrl.GetConfig()
}
