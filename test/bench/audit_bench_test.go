package bench

import (
	"context"
	"testing"
	"time"

	"github.com/go-logr/logr"

	"github.com/meshguard/meshguard/pkg/audit"
	"github.com/meshguard/meshguard/pkg/config"
	"github.com/meshguard/meshguard/pkg/engine"
	"github.com/meshguard/meshguard/pkg/mesh"
	"github.com/meshguard/meshguard/pkg/rules/registry"
)

// BenchmarkAuditCycle is one drift audit cycle on the 100k-pod state (10k
// Services, DestinationRules and VirtualServices): every routing object
// judged as it stands. The budget is 2 s of one core (README, Performance).
func BenchmarkAuditCycle(b *testing.B) {
	store := mesh.NewStore(mesh.DefaultClusterDomain)
	cluster(store, nil)
	cfg := config.Default()
	d := &audit.Drift{Store: store, Engine: engine.New(registry.Rules(), cfg), Config: cfg, Interval: time.Minute, Log: logr.Discard()}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		d.Cycle(context.Background())
	}
}
