//go:build !race

// The race detector multiplies memory and time several fold, which would make
// this measurement meaningless: `make test` runs it in a separate pass without -race.

package integration

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	goruntime "runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/client-go/rest"
)

// chartMemoryLimit is the chart's default container memory limit.
const chartMemoryLimit = 512 << 20

var parallel = envInt("MESHGUARD_LOAD_PARALLEL", 50)

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil {
		return v
	}
	return def
}

// Fifty parallel 2 MB VirtualServices through the API server (MESHGUARD_LOAD_PARALLEL
// changes the count when measuring by hand): the webhook's
// resident memory stays under the chart's limit and /readyz stays ready. The
// limiter lets a few reviews run at once and refuses the rest fast; the
// objects are over the route limit and are denied by name either way.
func TestParallelGiantReviewsStayBounded(t *testing.T) {
	createNamespace(t, "load", nil)
	// About 2 MB in few, long routes: the API server's schema validation, on
	// this 2-core machine, then leaves time for the webhook to be reached.
	long := strings.Repeat("x", 640)
	routes := make([]any, 0, 2600)
	for i := 0; i < 2600; i++ {
		routes = append(routes, map[string]any{
			"match": []any{map[string]any{"uri": map[string]any{"prefix": fmt.Sprintf("/api/%05d/%s", i, long)}}},
			"route": []any{map[string]any{"destination": map[string]any{"host": "backend", "port": map[string]any{"number": int64(8080)}}}},
		})
	}
	body, err := json.Marshal(map[string]any{
		"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
		"metadata": map[string]any{"generateName": "giant-", "namespace": "load"},
		"spec":     map[string]any{"hosts": []any{"backend"}, "http": routes},
	})
	if err != nil || len(body) < 1<<20 {
		t.Fatalf("the test object is %d bytes: %v", len(body), err)
	}
	rc := rest.CopyConfig(cfg)
	rc.ContentType, rc.GroupVersion, rc.APIPath = "application/json", &schema.GroupVersion{Group: "networking.istio.io", Version: "v1"}, "/apis"
	rc.NegotiatedSerializer = serializer.NewCodecFactory(runtime.NewScheme()).WithoutConversion()
	rc.Timeout = 60 * time.Second
	raw, err := rest.RESTClientFor(rc)
	if err != nil {
		t.Fatal(err)
	}
	create := func() error { // one dry-run create of the shared body: the client holds one copy
		out, err := raw.Post().Namespace("load").Resource("virtualservices").Param("dryRun", "All").Body(body).DoRaw(ctx())
		if err != nil && len(out) > 0 {
			return fmt.Errorf("%s", out) // the API server's Status, with the webhook's message
		}
		return err
	}
	goruntime.GC()
	base := residentBytes()
	var peak atomic.Int64
	var notReady atomic.Int32
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() { // sample resident memory and readiness while the load runs
		defer close(sampled)
		for {
			if rss := residentBytes(); rss > peak.Load() {
				peak.Store(rss)
			}
			if resp, err := http.Get(readyz); err != nil || resp.StatusCode != http.StatusOK {
				notReady.Add(1)
			} else {
				resp.Body.Close()
			}
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	var wg sync.WaitGroup
	var denied, busy, other atomic.Int32
	for i := 0; i < parallel; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			err := create()
			switch {
			case err != nil && strings.Contains(err.Error(), "limits.routes"):
				denied.Add(1)
			case err != nil && strings.Contains(err.Error(), "429"):
				busy.Add(1)
			default:
				other.Add(1)
				t.Logf("review %d: %v", i, err)
			}
		}(i)
	}
	wg.Wait()
	close(stop)
	<-sampled
	t.Logf("%d parallel %d-byte reviews: %d denied by the route limit, %d refused as busy, %d other (API server timeouts); RSS of the test process (webhook in it) %d MiB before, %d MiB at peak",
		parallel, len(body), denied.Load(), busy.Load(), other.Load(), base>>20, peak.Load()>>20)
	if peak.Load() > chartMemoryLimit {
		t.Errorf("peak RSS %d MiB is over the chart's %d MiB limit", peak.Load()>>20, chartMemoryLimit>>20)
	}
	if notReady.Load() > 0 {
		t.Errorf("/readyz failed %d times under load", notReady.Load())
	}
	if denied.Load() == 0 {
		t.Error("no review reached the webhook's route limit")
	}
}

// residentBytes reads VmRSS of this process (0 where /proc is missing).
func residentBytes() int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}
