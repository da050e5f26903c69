package integration

import (
	"context"
	"fmt"
	"net/http"
	"runtime"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap/zapcore"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/meshguard/meshguard/pkg/server"
)

// cacheShape is the live cluster of BenchmarkServeCacheReady: 20k pods, 2k
// Services, 2k DestinationRules and 2k VirtualServices in 200 namespaces.
const (
	cacheNamespaces = 200
	cachePodsPerNS  = 100
	cacheSvcsPerNS  = 10
)

var fillCache sync.Once

// fillCluster creates the objects through the API server, in parallel and
// without client-side throttling; once per process.
func fillCluster(b *testing.B) {
	fillCache.Do(func() {
		rc := rest.CopyConfig(cfg)
		rc.QPS, rc.Burst = -1, 0
		c, err := client.New(rc, client.Options{Scheme: k8s.Scheme()})
		if err != nil {
			b.Fatal(err)
		}
		// In waves: namespaces, then what lives in them, then the routes.
		// The pods never turn Ready here (no kubelet), so the routes are
		// written by a break-glass user, whose writes the webhook skips.
		bg := rest.CopyConfig(rc)
		bg.Impersonate = rest.ImpersonationConfig{UserName: "bench", Groups: []string{breakGlassGroup, "system:masters"}}
		breakGlass, err := client.New(bg, client.Options{Scheme: k8s.Scheme()})
		if err != nil {
			b.Fatal(err)
		}
		create := func(c client.Client, objs func(ns string, emit func(client.Object))) {
			work := make(chan client.Object, 256)
			var wg sync.WaitGroup
			var mu sync.Mutex
			var failed error
			for range 32 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for o := range work {
						if err := c.Create(context.Background(), o); err != nil {
							mu.Lock()
							failed = fmt.Errorf("%s/%s: %w", o.GetNamespace(), o.GetName(), err)
							mu.Unlock()
						}
					}
				}()
			}
			for n := range cacheNamespaces {
				objs(fmt.Sprintf("cache-%03d", n), func(o client.Object) { work <- o })
			}
			close(work)
			wg.Wait()
			if failed != nil {
				b.Fatal(failed)
			}
		}
		create(c, func(ns string, emit func(client.Object)) {
			emit(&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns, Labels: map[string]string{"istio-injection": "enabled"}}})
		})
		create(c, func(ns string, emit func(client.Object)) {
			for s := range cacheSvcsPerNS {
				svc := fmt.Sprintf("svc-%d", s)
				// Headless: envtest's Service IP range holds 254 addresses.
				emit(&corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: svc}, Spec: corev1.ServiceSpec{ClusterIP: corev1.ClusterIPNone,
					Selector: map[string]string{"app": svc}, Ports: []corev1.ServicePort{port("http", 80)}}})
				emit(obj(b, fmt.Sprintf(`{apiVersion: networking.istio.io/v1, kind: DestinationRule, metadata: {name: %s, namespace: %s},
  spec: {host: %s, subsets: [{name: v1, labels: {version: v1}}, {name: v2, labels: {version: v2}}]}}`, svc, ns, svc)))
			}
			for i := range cachePodsPerNS {
				emit(benchPod(ns, i))
			}
		})
		create(breakGlass, func(ns string, emit func(client.Object)) {
			for s := range cacheSvcsPerNS {
				svc := fmt.Sprintf("svc-%d", s)
				emit(obj(b, fmt.Sprintf(`{apiVersion: networking.istio.io/v1, kind: VirtualService, metadata: {name: %s, namespace: %s},
  spec: {hosts: [%s], http: [{route: [{destination: {host: %s}}]}]}}`, svc, ns, svc, svc)))
			}
		})
	})
}

// benchPod is an injected pod as a Deployment's ReplicaSet creates it.
func benchPod(ns string, i int) *corev1.Pod {
	svc := fmt.Sprintf("svc-%d", i%cacheSvcsPerNS)
	hash := fmt.Sprintf("%s%d", "7d9f8c6b", i%2)
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("%s-%s-%05d", svc, hash, i),
			Labels:      map[string]string{"app": svc, "version": fmt.Sprintf("v%d", 1+i%2), "pod-template-hash": hash},
			Annotations: map[string]string{"sidecar.istio.io/status": `{"containers":["istio-proxy"],"revision":"default"}`},
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: svc + "-" + hash,
				UID: "0b7e4c2d-1111-4a2b-8c3d-5e6f7a8b9c0d", Controller: ptr.To(true)}}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{
			{Name: "app", Image: "registry.example/app:1.0", Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}}},
			{Name: "istio-proxy", Image: "docker.io/istio/proxyv2:1.27.1"}}},
	}
}

// startMeasured starts serve's manager, waits until /readyz answers 200 and
// returns how long that took and the heap the manager holds then.
func startMeasured(b *testing.B) (time.Duration, int64) {
	b.Helper()
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	probePort, err := freePort()
	if err != nil {
		b.Fatal(err)
	}
	webhookPort, err := freePort()
	if err != nil {
		b.Fatal(err)
	}
	wio := &testEnv.WebhookInstallOptions
	start := time.Now()
	mgr, err := server.New(cfg, server.Options{Host: "127.0.0.1", Port: webhookPort, CertDir: wio.LocalServingCertDir,
		HealthProbeBindAddress: fmt.Sprintf("127.0.0.1:%d", probePort), MetricsBindAddress: "0",
		Config: suiteConfig(), Log: zap.New(zap.Level(zapcore.ErrorLevel))})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	defer func() { cancel(); <-done }()
	url := fmt.Sprintf("http://127.0.0.1:%d/readyz", probePort)
	for {
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Since(start) > 2*time.Minute {
			b.Fatal("not ready after 2 minutes")
		}
		time.Sleep(20 * time.Millisecond)
	}
	ready := time.Since(start)
	runtime.GC()
	runtime.ReadMemStats(&after)
	return ready, int64(after.HeapAlloc) - int64(before.HeapAlloc)
}

// BenchmarkServeCacheReady starts serve's manager (informer cache, webhook,
// probes) against an API server that already holds 20k pods, 2k Services,
// 2k DestinationRules and 2k VirtualServices, and reports the time until
// /readyz answers 200, the heap the new manager holds per pod (everything
// it holds divided by the pods: an upper bound) and what one more pod costs
// (the heap difference after 5k pods more, divided by them). Run with
// `make bench-cache`; not part of make test.
func BenchmarkServeCacheReady(b *testing.B) {
	fillCluster(b)
	const pods = cacheNamespaces * cachePodsPerNS
	var ready time.Duration
	var heap int64
	for b.Loop() {
		var h int64
		ready, h = startMeasured(b)
		if heap == 0 {
			// The first start only: a stopped manager's caches may linger
			// until later collections and blur the next deltas.
			heap = h
		}
	}
	b.StopTimer()
	extra := 5000
	rc := rest.CopyConfig(cfg)
	rc.QPS, rc.Burst = -1, 0
	c, err := client.New(rc, client.Options{Scheme: k8s.Scheme()})
	if err != nil {
		b.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, extra)
	for w := range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < extra; i += 32 {
				if err := c.Create(context.Background(), benchPod(fmt.Sprintf("cache-%03d", i%cacheNamespaces), cachePodsPerNS+i)); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		b.Fatal(err)
	}
	time.Sleep(2 * time.Second) // let the last manager's goroutines end
	_, more := startMeasured(b)
	b.ReportMetric(ready.Seconds(), "s-to-ready")
	b.ReportMetric(float64(heap)/pods, "heap-B/pod")
	b.ReportMetric(float64(more-heap)/float64(extra), "marginal-heap-B/pod")
}
