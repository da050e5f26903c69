package admission_test

import (
	"context"
	"testing"

	admissionv1 "k8s.io/api/admission/v1"

	"github.com/meshguard/meshguard/pkg/config"
)

// benchHandle reviews object (a CREATE in legacy) once per iteration,
// decoding included, and fails if the answer is not the one expected.
func benchHandle(b *testing.B, kind, object string, wantAllowed bool) {
	h := newHandler(config.Default())
	req := request(admissionv1.Create, kind, "networking.istio.io", "legacy", object)
	b.SetBytes(int64(len(object)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if resp := h.Handle(context.Background(), req); resp.Allowed != wantAllowed {
			b.Fatalf("allowed=%v: %v", resp.Allowed, resp.Result)
		}
	}
}

// The largest objects the default limits.cost (100000) admits: what one
// review may cost a replica's CPU.
func BenchmarkReviewAtCostCap(b *testing.B) {
	b.Run("VirtualService 500 hosts × 66 routes (cost 99000)", func(b *testing.B) {
		benchHandle(b, "VirtualService", giantVirtualService(500, 66), true)
	})
	b.Run("VirtualService 50 hosts × 666 routes (cost 99900)", func(b *testing.B) {
		benchHandle(b, "VirtualService", giantVirtualService(50, 666), true)
	})
	b.Run("DestinationRule 99 subsets × 10 port settings (cost 99100)", func(b *testing.B) {
		benchHandle(b, "DestinationRule", giantDestinationRule(99, 10), true)
	})
	b.Run("DestinationRule 315 subsets × 1 port setting (cost 99856)", func(b *testing.B) {
		benchHandle(b, "DestinationRule", giantDestinationRule(315, 1), true)
	})
}

// The payloads, denied by limits.cost before any rule runs.
func BenchmarkReviewOverCostCap(b *testing.B) {
	b.Run("VirtualService 500 hosts × 666 routes", func(b *testing.B) {
		benchHandle(b, "VirtualService", giantVirtualService(500, 666), false)
	})
	b.Run("DestinationRule 500 subsets × 40 port settings", func(b *testing.B) {
		benchHandle(b, "DestinationRule", giantDestinationRule(500, 40), false)
	})
}
