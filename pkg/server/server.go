// Package server assembles `meshguard serve`: a controller-runtime manager
// with the informer cache feeding the state store, the webhook server at
// /validate, health and readiness probes, and Prometheus metrics.
package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/go-logr/logr"
	istioscheme "istio.io/client-go/pkg/clientset/versioned/scheme"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	toolscache "k8s.io/client-go/tools/cache"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/webhook"

	"github.com/meshguard/meshguard/pkg/admission"
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
	Log                logr.Logger
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
	return s, nil
}

// New builds the manager. Start it with mgr.Start(ctx).
func New(restConfig *rest.Config, o Options) (manager.Manager, error) {
	scheme, err := Scheme()
	if err != nil {
		return nil, err
	}
	mgr, err := ctrl.NewManager(restConfig, ctrl.Options{
		Scheme:                 scheme,
		Logger:                 o.Log,
		Cache:                  state.CacheOptions(),
		WebhookServer:          webhook.NewServer(webhook.Options{Host: o.Host, Port: o.Port, CertDir: o.CertDir}),
		HealthProbeBindAddress: o.HealthProbeBindAddress,
		Metrics:                metricsserver.Options{BindAddress: o.MetricsBindAddress},
	})
	if err != nil {
		return nil, fmt.Errorf("creating manager: %w", err)
	}
	// GetWebhookServer also adds the server to the manager's runnables.
	ws := mgr.GetWebhookServer()
	store := mesh.NewStore(o.Config.ClusterDomain)
	regs, err := state.Feed(context.Background(), mgr.GetCache(), store)
	if err != nil {
		return nil, err
	}
	ws.Register(admission.Path, &webhook.Admission{Handler: &admission.Handler{
		Engine: engine.New(registry.Rules(), o.Config),
		Store:  store,
		Config: o.Config,
		Log:    o.Log.WithName("admission"),
		Synced: func() bool { return synced(regs)(nil) == nil },
		Confirm: func(ctx context.Context, refs []state.ObjectRef) ([]*state.Object, error) {
			return state.Confirm(ctx, mgr.GetAPIReader(), refs)
		},
		Trust: func(ctx context.Context, view *trust.View, secrets [][2]string, roots []string) error {
			return state.FetchTrust(ctx, mgr.GetAPIReader(), view, secrets, roots)
		},
	}})
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
	return mgr, nil
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
