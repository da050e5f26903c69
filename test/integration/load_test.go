//go:build !race

// The race detector multiplies memory and time several fold, which would make
// this measurement meaningless: `make test` runs it in a separate pass without -race.

package integration

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	goruntime "runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"
	"sigs.k8s.io/yaml"
)

var parallel = envInt("MESHGUARD_LOAD_PARALLEL", 50)

// Fifty parallel 2 MB AdmissionReviews sent straight to the webhook's HTTPS
// endpoint, as the API server would send them (MESHGUARD_LOAD_PARALLEL
// changes the count when measuring by hand), in a process run with the
// chart's GOGC and GOMEMLIMIT: every request gets an answer — a denial
// naming the route limit, or a fast 429 when limits.memoryBytes or the
// limiter's queue is full — the resident memory stays under the chart's
// limit, and /readyz stays ready. Nothing here depends on how fast the
// machine is: the client waits as long as the webhook takes (bounded by its
// own timeouts), and the first review read is always judged whatever the
// speed (bodies still arriving cannot take the memory it needs). (Through the
// API server, whose webhook timeout is 5 s, a slow machine turns the same
// load into 504s: a measurement, not a verdict.)
func TestParallelGiantReviewsStayBounded(t *testing.T) {
	// The process runs as the chart runs it: GOGC from its values, and
	// GOMEMLIMIT the container's memory limit.
	memoryLimit, gogc := chartRuntime(t)
	defer debug.SetGCPercent(debug.SetGCPercent(gogc))
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(memoryLimit))
	body := giantReview(t)
	client := webhookClient(t)
	url := fmt.Sprintf("https://%s:%d/validate", testEnv.WebhookInstallOptions.LocalServingHost, testEnv.WebhookInstallOptions.LocalServingPort)

	goruntime.GC()
	base := residentBytes()
	var peak atomic.Int64
	var notReady atomic.Int32
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() { // sample resident memory and readiness while the load runs
		defer close(sampled)
		probe := &http.Client{Timeout: time.Minute}
		for {
			if rss := residentBytes(); rss > peak.Load() {
				peak.Store(rss)
			}
			if resp, err := probe.Get(readyz); err != nil || resp.StatusCode != http.StatusOK {
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
	var denied, busy atomic.Int32
	var mu sync.Mutex
	var other []string
	for i := 0; i < parallel; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			verdict, err := post(client, url, body)
			switch {
			case err == nil && verdict == "limits.routes":
				denied.Add(1)
			case err == nil && verdict == "busy":
				busy.Add(1)
			default:
				mu.Lock()
				other = append(other, fmt.Sprintf("review %d: %s %v", i, verdict, err))
				mu.Unlock()
			}
		}(i)
	}
	wg.Wait()
	close(stop)
	<-sampled
	t.Logf("%d parallel %d-byte reviews: %d denied by the route limit, %d refused as busy; RSS of the test process (webhook in it; GOGC=%d GOMEMLIMIT=%dMiB) %d MiB before, %d MiB at peak",
		parallel, len(body), denied.Load(), busy.Load(), gogc, memoryLimit>>20, base>>20, peak.Load()>>20)
	for _, o := range other {
		t.Errorf("not answered as expected: %s", o)
	}
	if peak.Load() > memoryLimit {
		t.Errorf("peak RSS %d MiB is over the chart's %d MiB limit", peak.Load()>>20, memoryLimit>>20)
	}
	if notReady.Load() > 0 {
		t.Errorf("/readyz failed %d times under load", notReady.Load())
	}
	if denied.Load() == 0 {
		t.Error("no review reached the webhook's route limit")
	}
}

// chartRuntime reads the chart's default container memory limit (its
// GOMEMLIMIT too) and GOGC from its values.
func chartRuntime(t *testing.T) (memoryLimit int64, gogc int) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot(), "charts", "meshguard", "values.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var values struct {
		Resources struct {
			Limits struct {
				Memory resource.Quantity `json:"memory"`
			} `json:"limits"`
		} `json:"resources"`
		GoRuntime struct {
			GOGC int `json:"gogc"`
		} `json:"goRuntime"`
	}
	if err := yaml.Unmarshal(data, &values); err != nil {
		t.Fatal(err)
	}
	memoryLimit = values.Resources.Limits.Memory.Value()
	if memoryLimit <= 0 || values.GoRuntime.GOGC <= 0 {
		t.Fatalf("the chart's values give no memory limit or GOGC: %+v", values)
	}
	return memoryLimit, values.GoRuntime.GOGC
}

// giantReview is an AdmissionReview of a dry-run VirtualService CREATE of
// about 2 MB in few, long routes: over the route limit, so denied by name.
func giantReview(t *testing.T) []byte {
	t.Helper()
	long := strings.Repeat("x", 640)
	routes := make([]any, 0, 2600)
	for i := 0; i < 2600; i++ {
		routes = append(routes, map[string]any{
			"match": []any{map[string]any{"uri": map[string]any{"prefix": fmt.Sprintf("/api/%05d/%s", i, long)}}},
			"route": []any{map[string]any{"destination": map[string]any{"host": "backend", "port": map[string]any{"number": int64(8080)}}}},
		})
	}
	obj, err := json.Marshal(map[string]any{
		"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
		"metadata": map[string]any{"name": "giant", "namespace": "load"},
		"spec":     map[string]any{"hosts": []any{"backend"}, "http": routes},
	})
	if err != nil {
		t.Fatal(err)
	}
	body := reviewBody(t, "giant", "networking.istio.io", "VirtualService", "load", "giant", string(obj))
	if len(body) < 1<<20 {
		t.Fatalf("the test review is %d bytes", len(body))
	}
	return body
}

// webhookClient trusts the envtest serving certificate and presents the API
// server's client certificate; its timeout only bounds a hung webhook, far
// beyond what any review takes.
func webhookClient(t *testing.T) *http.Client {
	t.Helper()
	return &http.Client{Timeout: 5 * time.Minute, Transport: &http.Transport{
		TLSClientConfig: apiServerTLS(), MaxConnsPerHost: parallel}}
}

// post sends one review and says how it was answered: "limits.routes" for a
// denial naming the route limit, "busy" for the limiter's 429, else what came back.
func post(c *http.Client, url string, body []byte) (string, error) {
	resp, err := c.Post(url, "application/json", bytes.NewReader(body))
	if err == nil && resp.StatusCode == http.StatusTooManyRequests {
		resp.Body.Close()
		return "busy", nil
	}
	_, allowed, message, err := answer(resp, err)
	switch {
	case err != nil:
		return "", err
	case !allowed && strings.Contains(message, "limits.routes"):
		return "limits.routes", nil
	}
	return fmt.Sprintf("allowed=%v %s", allowed, message), nil
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
