//go:build !race

// The race detector multiplies the webhook's time several fold, and each of
// these creates must be answered within the chart's 5 s webhook timeout:
// `make test` runs this in its pass without -race.

package integration

import (
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"
)

// burstSize is how many creates run at once (MESHGUARD_BURST changes it
// when measuring by hand).
var burstSize = envInt("MESHGUARD_BURST", 200)

// Two hundred parallel creates through the API server, each routing to a
// Service the cache does not hold, so each denial waits on a live read
// confirming the absence: every one is denied by MG303, none fails on the
// webhook (a timeout, a 429 the API server gave up on). The reviews share
// their reads. The latencies are logged, not asserted.
func TestParallelCreatesNeedingLiveReads(t *testing.T) {
	routingMesh(t)
	var wg sync.WaitGroup
	took := make([]time.Duration, burstSize)
	errs := make([]error, burstSize)
	start := time.Now()
	for i := range burstSize {
		wg.Add(1)
		go func() {
			defer wg.Done()
			vs := obj(t, fmt.Sprintf(`{apiVersion: networking.istio.io/v1, kind: VirtualService, metadata: {name: burst-%d, namespace: rt-legacy}, spec: {hosts: [billing], http: [{route: [{destination: {host: ghost}}]}]}}`, i))
			t0 := time.Now()
			err := k8s.Create(ctx(), vs, client.DryRunAll)
			took[i] = time.Since(t0)
			errs[i] = deniedWith(err, "[MG303]", "ghost")
		}()
	}
	wg.Wait()
	wall := time.Since(start)
	for i, err := range errs {
		if err != nil {
			t.Errorf("create %d: %v", i, err)
		}
	}
	sort.Slice(took, func(a, b int) bool { return took[a] < took[b] })
	t.Logf("%d parallel creates needing a live read: p50 %v, p99 %v, max %v, all in %v",
		burstSize, took[burstSize/2].Round(time.Millisecond), took[burstSize*99/100].Round(time.Millisecond), took[burstSize-1].Round(time.Millisecond), wall.Round(time.Millisecond))
}
