package diff

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/meshguard/meshguard/test/oracle/gen"
	"github.com/meshguard/meshguard/test/oracle/judge"
)

var meshguardBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "meshguard-oracle-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	meshguardBin, err = BuildMeshguard(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil {
		return v
	}
	return def
}

// knownGaps are disagreements of the seeds CI runs that are meshguard
// misses (istiod breaks a path, meshguard admits), each found by this
// harness, written up in the README and left open in issue 25. They are
// logged on every run and never excuse a false denial; keyed "seed/case".
var knownGaps = map[string]string{
	// A Service write's paths follow sidecar and gateway clients only; the
	// pods outside the mesh that call the Service in plaintext are not
	// traced, so a selector moved onto no pod is admitted.
	"1/10": "Service selector onto no pod, only plaintext callers traced by istiod",
	"1/66": "Service selector onto no pod, only plaintext callers traced by istiod",
	// Denied before for a wrong reason: meshguard gave the sidecars the
	// oldest VirtualService's (http-only) routes on a TCP port, so their
	// default route failed; with the tcp route istiod uses they work.
	"1/91": "Service selector onto no Ready pod, only plaintext callers break",
}

// Seeded random meshes and writes, each judged by meshguard check and by
// istiod. ORACLE_N cases (default 50 here; make oracle runs 2000) from
// ORACLE_SEED (default: the time, printed).
func TestRandomMeshesAgainstIstiod(t *testing.T) {
	judge.Quiet()
	n := envInt("ORACLE_N", 50)
	seed := uint64(envInt("ORACLE_SEED", int(time.Now().UnixNano()%1e9)))
	t.Logf("ORACLE_SEED=%d ORACLE_N=%d", seed, n)
	coverage := map[string]int{}
	var disagreements, known, judged, skipped int
	start := time.Now()
	for i := 0; i < n; i++ {
		r := rand.New(rand.NewPCG(seed, uint64(i)))
		c := gen.Generate(r)
		for _, f := range c.Features {
			coverage[f]++
		}
		dir := filepath.Join(t.TempDir(), "case")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := WriteYAML(filepath.Join(dir, "state.yaml"), c.State); err != nil {
			t.Fatal(err)
		}
		if err := WriteYAML(filepath.Join(dir, "change.yaml"), []judge.Object{c.Change}); err != nil {
			t.Fatal(err)
		}
		mg, _, err := RunCheck(meshguardBin, filepath.Join(dir, "state.yaml"), filepath.Join(dir, "change.yaml"), c.Delete)
		if err != nil {
			t.Fatalf("case %d (seed %d): %v", i, seed, err)
		}
		steps, err := judge.Judge(judge.Input{State: c.State, Change: []judge.Object{c.Change}, Delete: c.Delete})
		if err != nil {
			t.Fatalf("case %d (seed %d): %v", i, seed, err)
		}
		step := steps[0]
		if len(step.Unjudged) > 0 {
			skipped++
			continue
		}
		judged++
		for _, b := range step.Broken {
			coverage["broken:"+b.After.ClientKind]++
		}
		v := Expect(step, ScopeOf(c.Old, &c.Change))
		for _, e := range v.Excused {
			coverage["excused:"+e]++
		}
		if Agree(mg, v) {
			continue
		}
		if mg.TrafficDenied() && slices.Equal(mg.Denying, []string{"MG101"}) {
			later, err := judge.Judge(judge.Input{State: ReadyAll(c.State), Change: []judge.Object{c.Change}, Delete: c.Delete})
			if err != nil {
				t.Fatalf("case %d (seed %d): %v", i, seed, err)
			}
			if Expect(later[0], ScopeOf(c.Old, &c.Change)).Deny {
				coverage["excused:servers-not-ready-yet"]++
				continue
			}
		}
		if why, ok := knownGaps[fmt.Sprintf("%d/%d", seed, i)]; ok && !mg.TrafficDenied() && v.Deny {
			// Reported, not failed: a meshguard miss already written up.
			// A case whose verdicts change leaves this list's reach.
			known++
			t.Logf("case %d: known gap, meshguard admits what istiod breaks: %s", i, why)
			continue
		}
		disagreements++
		name := fmt.Sprintf("random-%d-%d", seed, i)
		repro := writeCase(t, name, c.State, c.Change, c.Delete, "deny "+strings.Join(mg.Denying, ","), v)
		t.Errorf("case %d: %s %s %s/%s: meshguard denies %v, istiod deny=%v\n  %s\n  case: %s", i, c.Op, c.Change.GetKind(),
			c.Change.GetNamespace(), c.Change.GetName(), mg.Denying, v.Deny, strings.Join(v.Reasons, "\n  "), repro)
	}
	t.Logf("%d cases in %v (%v each): %d judged, %d outside what istiod models here, %d disagreements, %d known gaps",
		n, time.Since(start).Round(time.Second), (time.Since(start) / time.Duration(max(n, 1))).Round(time.Millisecond), judged, skipped, disagreements, known)
	var keys []string
	for k := range coverage {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "  %-36s %d\n", k, coverage[k])
	}
	t.Logf("coverage:\n%s", b.String())
}
