package admission_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	mgadmission "github.com/meshguard/meshguard/pkg/admission"
	"github.com/meshguard/meshguard/pkg/config"
)

// longRoutes is a VirtualService of routes whose path prefixes are pad
// bytes long: 2600 routes of 640 bytes is the integration test's 2 MB review.
func longRoutes(routes, pad int) string {
	var b strings.Builder
	b.WriteString(`{"apiVersion":"networking.istio.io/v1","kind":"VirtualService","metadata":{"name":"giant","namespace":"legacy"},"spec":{"hosts":["backend"],"http":[`)
	long := strings.Repeat("x", pad)
	for i := 0; i < routes; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"match":[{"uri":{"prefix":"/api/%05d/%s"}}],"route":[{"destination":{"host":"backend","port":{"number":8080}}}]}`, i, long)
	}
	b.WriteString(`]}}`)
	return b.String()
}

// What one review holds at its peak (live heap, sampled with the collector
// running almost continuously) against what the limiter reserves for it
// (the body + DecodedBytes): the estimate behind limits.memoryBytes. Reports
// peak-B and reserved-B per payload; a ratio above 1 means the estimate
// falls short. Not a test: the sampling depends on the machine.
func BenchmarkReviewMemory(b *testing.B) {
	for _, c := range []struct{ name, kind, object string }{
		{"VirtualService 2600 routes of 640 bytes (2 MB)", "VirtualService", longRoutes(2600, 640)},
		{"VirtualService 2000 short routes", "VirtualService", longRoutes(2000, 0)},
		{"VirtualService 50 hosts × 666 routes", "VirtualService", giantVirtualService(50, 666)},
		{"DestinationRule 500 subsets × 40 port settings", "DestinationRule", giantDestinationRule(500, 40)},
		{"DestinationRule 99 subsets × 10 port settings", "DestinationRule", giantDestinationRule(99, 10)},
	} {
		b.Run(c.name, func(b *testing.B) {
			srv := mgadmission.Limit(&admission.Webhook{Handler: newHandler(config.Default())}, config.DefaultLimits)
			body, _ := json.Marshal(admissionv1.AdmissionReview{
				TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"},
				Request:  ptrTo(request(admissionv1.Create, c.kind, "networking.istio.io", "legacy", c.object).AdmissionRequest)})
			var peak uint64
			for i := 0; i < b.N; i++ {
				peak = max(peak, peakHeap(func() {
					req := httptest.NewRequest(http.MethodPost, "/validate", bytes.NewReader(body))
					req.Header.Set("Content-Type", "application/json")
					srv.ServeHTTP(httptest.NewRecorder(), req)
				}))
			}
			b.ReportMetric(float64(len(body)), "body-B")
			b.ReportMetric(float64(peak), "peak-B")
			b.ReportMetric(float64(int64(len(body))+mgadmission.DecodedBytes(body)), "reserved-B")
		})
	}
}

// peakHeap runs f with the collector at GOGC 5 and returns the highest live
// heap sampled meanwhile, over what was live before.
func peakHeap(f func()) uint64 {
	defer debug.SetGCPercent(debug.SetGCPercent(5))
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc
	var peak atomic.Uint64
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			if m.HeapAlloc > peak.Load() {
				peak.Store(m.HeapAlloc)
			}
			select {
			case <-stop:
				return
			case <-time.After(200 * time.Microsecond):
			}
		}
	}()
	f()
	close(stop)
	<-done
	return peak.Load() - min(base, peak.Load())
}
