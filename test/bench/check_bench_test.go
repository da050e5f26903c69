package bench

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"sync"
	"testing"
	"time"

	"github.com/meshguard/meshguard/pkg/check"
	"github.com/meshguard/meshguard/pkg/config"
	"github.com/meshguard/meshguard/pkg/state/manifest"
	"github.com/meshguard/meshguard/test/bench/statefile"
)

// stateFiles writes the export once per process: shape and format.
var stateFiles sync.Map

func exportFile(b *testing.B, s statefile.Shape, format string) string {
	b.Helper()
	key := fmt.Sprint(s, format)
	if f, ok := stateFiles.Load(key); ok {
		return f.(string)
	}
	dir, err := os.MkdirTemp("", "meshguard-bench-*")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { os.RemoveAll(dir) })
	ext := map[string]string{statefile.YAMLDocuments: "yaml", statefile.YAMLList: "yaml", statefile.JSONList: "json"}[format]
	path := filepath.Join(dir, "state."+ext)
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	if err := statefile.Write(f, s, format); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "change.yaml"), []byte(statefile.Change), 0o644); err != nil {
		b.Fatal(err)
	}
	stateFiles.Store(key, path)
	return path
}

// peakHeap samples the live heap while f runs.
func peakHeap(f func()) uint64 {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	var peak uint64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			metrics.Read(sample)
			peak = max(peak, sample[0].Value.Uint64())
			select {
			case <-stop:
				return
			default:
				time.Sleep(time.Millisecond)
			}
		}
	}()
	f()
	close(stop)
	<-done
	return peak
}

// BenchmarkCheck is `meshguard check -f <mesh-wide STRICT> --state <export>`
// end to end, on the shape: 1,000 namespaces of 10 or 100 meshed
// pods, a Service, a DestinationRule and a VirtualService each (14k and 104k
// objects), as YAML documents, as `kubectl get -o yaml` (a List) and as
// `kubectl get -o json`. Reports bytes of input per object and the peak
// heap; `make bench-check` runs it.
func BenchmarkCheck(b *testing.B) {
	for _, pods := range []int{10, 100} {
		shape := statefile.Shape{Namespaces: 1000, PodsPerNS: pods}
		for _, format := range []string{statefile.YAMLDocuments, statefile.YAMLList, statefile.YAMLWrapped, statefile.YAMLFlow, statefile.JSONList} {
			b.Run(fmt.Sprintf("objects=%dk/%s", shape.Objects()/1000, format), func(b *testing.B) {
				path := exportFile(b, shape, format)
				info, _ := os.Stat(path)
				change := filepath.Join(filepath.Dir(path), "change.yaml")
				var peak uint64
				slow := manifest.SlowPathDocuments()
				b.ResetTimer()
				for b.Loop() {
					runtime.GC()
					peak = max(peak, peakHeap(func() {
						code, err := check.Run(context.Background(), check.Options{Files: []string{change}, State: []string{path},
							Output: "text", Config: config.Default()}, io.Discard)
						if err != nil || code != check.ExitOK {
							b.Fatalf("check: exit %d: %v", code, err)
						}
					}))
				}
				b.ReportMetric(float64(info.Size())/float64(shape.Objects()), "input-B/object")
				b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
				b.ReportMetric(float64(manifest.SlowPathDocuments()-slow)/float64(b.N), "slow-path-docs/op")
			})
		}
	}
}
