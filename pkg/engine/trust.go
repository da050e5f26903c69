package engine

import (
	"context"
	"slices"
	"time"

	"github.com/meshguard/meshguard/pkg/config"
	"github.com/meshguard/meshguard/pkg/state"
	"github.com/meshguard/meshguard/pkg/trust"
)

// TrustFetcher reads, uncached, the Secrets (namespace and name) and the
// mesh-root ConfigMaps of rootNamespaces into view, reducing each to what the
// trust rules judge (cluster.FetchTrust against the API server). The engine
// does no I/O itself: the webhook, check and the drift audit pass theirs.
type TrustFetcher func(ctx context.Context, view *trust.View, secrets [][2]string, rootNamespaces []string) error

// NewTrustView returns an empty view of TLS material judged at at, with the
// configuration's fleet trust anchors.
func NewTrustView(cfg *config.Config, at time.Time) *trust.View {
	view := trust.NewView(at)
	view.Anchors, view.FleetHosts = cfg.Anchors, cfg.FleetHosts
	return view
}

// GatherTrust reads into view what the trust rules need to judge the
// DestinationRules drs picks from the state: the credential Secrets their
// TLS settings name (with "-cacert" companions) and the mesh roots that
// apply. Secrets view holds already are not read again, so a view kept
// across the writes of one `check` reads each once. The snapshot is released
// before any read. It is the one gathering of TLS material for the webhook
// (the rules a write touches), check (the same) and the drift audit (every
// rule, once a cycle).
func GatherTrust(ctx context.Context, cfg *config.Config, store *state.Store, view *trust.View, fetch TrustFetcher,
	drs func(state.Snapshot) []*state.DestinationRule) error {
	var secrets [][2]string
	var roots []string
	_ = store.View(func(s state.Snapshot) error {
		refs, rs := RoutingFor(cfg).MaterialNeeds(s, drs(s)...)
		for _, r := range refs {
			if _, done := view.Secrets[r.Namespace+"/"+r.Name]; !done {
				secrets = append(secrets, [2]string{r.Namespace, r.Name})
			}
		}
		roots = slices.Compact(slices.Sorted(slices.Values(rs)))
		return nil
	})
	if len(secrets) == 0 && len(roots) == 0 {
		return nil
	}
	return fetch(ctx, view, secrets, roots)
}

// ChangedRules picks, for GatherTrust, the rules a change writes: the one
// it replaces or deletes and the one it writes.
func ChangedRules(old, cur *state.DestinationRule) func(state.Snapshot) []*state.DestinationRule {
	return func(state.Snapshot) []*state.DestinationRule { return []*state.DestinationRule{old, cur} }
}
