package engine_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/meshguard/meshguard/pkg/config"
	"github.com/meshguard/meshguard/pkg/engine"
	"github.com/meshguard/meshguard/pkg/mesh"
	"github.com/meshguard/meshguard/pkg/state"
	"github.com/meshguard/meshguard/pkg/trust"
)

// fetchLog records what GatherTrust asks the cluster for.
type fetchLog struct {
	calls          int
	secrets        [][2]string
	rootNamespaces []string
	err            error
}

func (f *fetchLog) fetch(_ context.Context, view *trust.View, secrets [][2]string, roots []string) error {
	f.calls++
	f.secrets, f.rootNamespaces = secrets, roots
	for _, s := range secrets {
		view.Secrets[s[0]+"/"+s[1]] = nil
	}
	return f.err
}

// tlsRule selects workloads, so that the sidecars of its namespace read its
// credential (without a selector only gateways routing there would).
func tlsRule(ns, name, mode, credential string) *state.DestinationRule {
	return &state.DestinationRule{Namespace: ns, Name: name, Host: "api.example.com", WorkloadSelector: map[string]string{"app": "client"},
		Policy: &state.TrafficPolicy{TLS: &state.ClientTLS{Mode: mode, CredentialName: credential}}}
}

func TestGatherTrustReadsTheNamedSecretsAndRootsOnce(t *testing.T) {
	cfg := config.Default()
	store := mesh.NewStore(cfg.ClusterDomain)
	store.SetNamespace(&state.Namespace{Name: "shop"})
	dr := tlsRule("shop", "api", "MUTUAL", "api-client")
	view := engine.NewTrustView(cfg, time.Now())
	log := &fetchLog{}
	if err := engine.GatherTrust(context.Background(), cfg, store, view, log.fetch, engine.ChangedRules(nil, dr)); err != nil {
		t.Fatal(err)
	}
	if want := [][2]string{{"shop", "api-client"}, {"shop", "api-client-cacert"}}; !slices.Equal(log.secrets, want) {
		t.Errorf("secrets read %v, want %v", log.secrets, want)
	}
	// MUTUAL verifies the server: the rule's namespace and the root
	// namespace may hold the mesh root; each is asked for once.
	if want := []string{cfg.RootNamespace, "shop"}; !slices.Equal(log.rootNamespaces, want) {
		t.Errorf("roots read in %v, want %v", log.rootNamespaces, want)
	}

	// The same view again (check keeps one across its writes): the Secrets
	// it holds are not read again.
	if err := engine.GatherTrust(context.Background(), cfg, store, view, log.fetch, engine.ChangedRules(dr, dr)); err != nil {
		t.Fatal(err)
	}
	if len(log.secrets) != 0 {
		t.Errorf("secrets read again: %v", log.secrets)
	}
}

func TestGatherTrustReadsNothingForRulesWithoutTLSMaterial(t *testing.T) {
	cfg := config.Default()
	store := mesh.NewStore(cfg.ClusterDomain)
	log := &fetchLog{}
	drs := engine.ChangedRules(nil, tlsRule("shop", "api", "ISTIO_MUTUAL", ""))
	if err := engine.GatherTrust(context.Background(), cfg, store, engine.NewTrustView(cfg, time.Now()), log.fetch, drs); err != nil {
		t.Fatal(err)
	}
	if log.calls != 0 {
		t.Errorf("fetched %d times for a rule naming no material", log.calls)
	}
}

func TestGatherTrustReturnsTheReadError(t *testing.T) {
	cfg := config.Default()
	store := mesh.NewStore(cfg.ClusterDomain)
	log := &fetchLog{err: errors.New("forbidden")}
	drs := engine.ChangedRules(nil, tlsRule("shop", "api", "SIMPLE", "api-ca"))
	if err := engine.GatherTrust(context.Background(), cfg, store, engine.NewTrustView(cfg, time.Now()), log.fetch, drs); err == nil || err.Error() != "forbidden" {
		t.Errorf("err = %v, want the fetcher's", err)
	}
}

func TestNewTrustViewCarriesTheFleetAnchors(t *testing.T) {
	cfg := config.Default()
	cfg.FleetHosts = []string{"*.global"}
	at := time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC)
	v := engine.NewTrustView(cfg, at)
	if !v.At.Equal(at) || !slices.Equal(v.FleetHosts, cfg.FleetHosts) || len(v.Secrets) != 0 {
		t.Errorf("view = %+v", v)
	}
}
