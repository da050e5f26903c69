package plan_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/meshguard/meshguard/pkg/check"
	"github.com/meshguard/meshguard/pkg/config"
	"github.com/meshguard/meshguard/pkg/plan"
	"github.com/meshguard/meshguard/pkg/state"
)

// meshes is how many generated meshes the safety property is checked on.
const meshes = 500

// regressions are seeds that once broke a property; they run first, always.
var regressions []int64

// TestPlanIsSafeOnGeneratedMeshes checks the plan's promise on generated
// cluster states: `meshguard check --state S -f <plan -o yaml>` exits 0 for
// every S; on every S whose outsiders are all deliberate the plan ends with
// mesh-wide STRICT; and running the plan's commands, then planning again,
// reaches mesh-wide STRICT.
func TestPlanIsSafeOnGeneratedMeshes(t *testing.T) {
	seeds := append([]int64(nil), regressions...)
	for i := int64(1); i <= meshes; i++ {
		seeds = append(seeds, i)
	}
	dir := t.TempDir()
	reachedStrict, blockedFirst := 0, 0
	for _, seed := range seeds {
		g := generate(seed)
		statePath := filepath.Join(dir, fmt.Sprintf("state-%d.yaml", seed))
		if err := os.WriteFile(statePath, []byte(g.yaml()), 0o600); err != nil {
			t.Fatal(err)
		}
		cfg := config.Default()
		sess := load(t, cfg, statePath)
		p := plan.Strict(sess, cfg, g.holdouts)
		if !p.Mesh.Ready && !p.Mesh.Already {
			blockedFirst++
		}
		if len(p.Skipped) > 0 {
			t.Errorf("seed %d: the plan proposed writes the engine denies: %v", seed, p.Skipped)
		}
		var out bytes.Buffer
		if err := plan.WritePlan(&out, "yaml", p); err != nil {
			t.Fatal(err)
		}
		planPath := filepath.Join(dir, fmt.Sprintf("plan-%d.yaml", seed))
		if err := os.WriteFile(planPath, out.Bytes(), 0o600); err != nil {
			t.Fatal(err)
		}
		var report bytes.Buffer
		code, err := check.Run(context.Background(), check.Options{Files: []string{planPath}, State: []string{statePath}, Output: "text", Config: cfg}, &report)
		if code != check.ExitOK {
			t.Errorf("seed %d: meshguard check --state S -f <plan> exited %d (%v):\n%s\nplan:\n%s\nstate kept in %s", seed, code, err, report.String(), out.String(), statePath)
			continue
		}
		if g.allDeliberate() && (p.Mesh.Policy == nil || last(p) != p.Mesh.Policy) {
			t.Errorf("seed %d: every outsider is deliberate, but the plan does not end with mesh-wide STRICT:\n%s", seed, out.String())
		}
		// Follow the plan: run its commands (label, restart), then plan again.
		p.Simulate(sess)
		again := plan.Strict(sess, cfg, g.holdouts)
		if !again.Mesh.Ready && !again.Mesh.Already {
			t.Errorf("seed %d: after the plan's commands, mesh-wide STRICT is still blocked by %v", seed, again.Mesh.Blocking)
		} else if again.Mesh.Policy == nil || len(again.Skipped) > 0 {
			t.Errorf("seed %d: the final mesh-wide STRICT was not admitted: %v", seed, again.Skipped)
		} else {
			reachedStrict++
		}
	}
	t.Logf("%d generated meshes, %d of them not ready for mesh-wide STRICT at first; %d reached it by following the plan", len(seeds), blockedFirst, reachedStrict)
	if blockedFirst < len(seeds)/3 {
		t.Errorf("only %d meshes start blocked: the generator no longer exercises the migration", blockedFirst)
	}
}

func load(t *testing.T, cfg *config.Config, path string) *check.Session {
	t.Helper()
	sess, err := check.LoadState(context.Background(), cfg, []string{path}, nil, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	return sess
}

func last(p plan.Plan) *plan.Policy {
	pols := p.Policies()
	return pols[len(pols)-1]
}

func TestCoverageJSONShape(t *testing.T) {
	g := generate(7)
	path := filepath.Join(t.TempDir(), "state.yaml")
	if err := os.WriteFile(path, []byte(g.yaml()), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	sess := load(t, cfg, path)
	var cov plan.Coverage
	_ = sess.Store().View(func(s state.Snapshot) error { cov = plan.Compute(s, cfg); return nil })
	var out bytes.Buffer
	if err := plan.WriteCoverage(&out, "json", cov); err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	ns := doc["namespaces"].([]any)[0].(map[string]any)
	for _, k := range []string{"name", "enrolment", "mode", "modeSource", "meshedServers", "unmeshedServers", "ambientPods", "unmeshedOwners", "strictSafe"} {
		if _, ok := ns[k]; !ok {
			t.Errorf("namespace row lacks %q: %v", k, ns)
		}
	}
	if len(ns) != 9 {
		t.Errorf("namespace row has keys beyond the contract: %v", ns)
	}
	m := doc["mesh"].(map[string]any)
	for _, k := range []string{"mode", "strictSafe", "blockingNamespaces"} {
		if _, ok := m[k]; !ok {
			t.Errorf("mesh line lacks %q: %v", k, m)
		}
	}
}

// gen is a generated cluster state.
type gen struct {
	docs       []string
	holdouts   []string
	accidental int // accidental outsiders outside excluded namespaces
	heldOut    map[string]bool
	accByNS    map[string]int
}

func (g *gen) yaml() string { return strings.Join(g.docs, "---\n") }

// allDeliberate: no accidental outsider at all (held-out namespaces are not
// exempt until they are labelled).
func (g *gen) allDeliberate() bool { return g.accidental == 0 }

// generate builds a random mesh: namespaces enrolled, partly enrolled, never
// enrolled, opted out or ambient; pods with and without proxies, finished,
// on the host network, opted out; existing mesh, namespace and workload policies.
func generate(seed int64) *gen {
	r := rand.New(rand.NewSource(seed))
	g := &gen{heldOut: map[string]bool{}, accByNS: map[string]int{}}
	g.docs = append(g.docs, "apiVersion: v1\nkind: Namespace\nmetadata: {name: istio-system}\n",
		"apiVersion: v1\nkind: Pod\nmetadata: {name: istiod-1, namespace: istio-system, labels: {app: istiod}}\nspec: {containers: [{name: discovery, ports: [{containerPort: 15012}]}]}\nstatus: {phase: Running}\n",
		"apiVersion: v1\nkind: Namespace\nmetadata: {name: kube-system}\n",
		"apiVersion: v1\nkind: Pod\nmetadata: {name: coredns-1, namespace: kube-system, labels: {k8s-app: kube-dns}}\nspec: {containers: [{name: coredns, ports: [{containerPort: 53}]}]}\nstatus: {phase: Running}\n")
	switch r.Intn(5) {
	case 0:
		g.policy("istio-system", "default", "STRICT", "")
	case 1:
		g.policy("istio-system", "default", "PERMISSIVE", "")
	case 2:
		g.policy("istio-system", "mesh", "DISABLE", "")
	}
	kinds := []string{"injection", "revision", "ambient", "none", "disabled", "dataplane-none", "partial"}
	for i, n := 0, 2+r.Intn(6); i < n; i++ {
		ns := fmt.Sprintf("ns%d", i)
		kind := kinds[r.Intn(len(kinds))]
		labels := map[string]string{}
		switch kind {
		case "injection", "partial":
			labels["istio-injection"] = "enabled"
		case "revision":
			labels["istio.io/rev"] = "canary"
		case "ambient":
			labels["istio.io/dataplane-mode"] = "ambient"
		case "disabled":
			labels["istio-injection"] = "disabled"
		case "dataplane-none":
			labels["istio.io/dataplane-mode"] = "none"
		}
		g.docs = append(g.docs, fmt.Sprintf("apiVersion: v1\nkind: Namespace\nmetadata: {name: %s, labels: %s}\n", ns, jsonOf(labels)))
		switch r.Intn(5) {
		case 0:
			g.policy(ns, "default", "STRICT", "")
		case 1:
			g.policy(ns, "migration", "PERMISSIVE", "")
		case 2:
			g.policy(ns, "default", "UNSET", "")
		}
		if r.Intn(4) == 0 {
			g.policy(ns, "app0-strict", []string{"STRICT", "PERMISSIVE", "DISABLE"}[r.Intn(3)], "app0")
		}
		if r.Intn(3) == 0 {
			g.docs = append(g.docs, fmt.Sprintf("apiVersion: v1\nkind: Service\nmetadata: {name: app0, namespace: %s}\nspec: {selector: {app: app0}, ports: [{name: http, port: 80, targetPort: 8080}]}\n", ns))
		}
		for j, m := 0, r.Intn(7); j < m; j++ {
			g.pod(r, ns, j, kind)
		}
		if r.Intn(6) == 0 {
			g.holdouts = append(g.holdouts, ns)
			g.heldOut[ns] = true
		}
	}
	return g
}

func (g *gen) policy(ns, name, mode, app string) {
	sel := ""
	if app != "" {
		sel = fmt.Sprintf("selector: {matchLabels: {app: %s}}, ", app)
	}
	g.docs = append(g.docs, fmt.Sprintf("apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {name: %s, namespace: %s}\nspec: {%smtls: {mode: %s}}\n", name, ns, sel, mode))
}

func (g *gen) pod(r *rand.Rand, ns string, j int, kind string) {
	app := fmt.Sprintf("app%d", r.Intn(3))
	labels := map[string]string{"app": app}
	annotations := map[string]string{}
	enrolledNS := kind == "injection" || kind == "revision"
	sidecar := enrolledNS && r.Intn(5) > 0 || kind == "partial" && r.Intn(2) == 0 || kind == "none" && r.Intn(8) == 0
	optOut := r.Intn(6) == 0
	if optOut {
		if r.Intn(2) == 0 {
			annotations["sidecar.istio.io/inject"] = "false"
		} else {
			labels["sidecar.istio.io/inject"] = "false"
		}
		sidecar = false
	}
	dataplaneNone := kind == "ambient" && r.Intn(4) == 0
	if dataplaneNone {
		labels["istio.io/dataplane-mode"] = "none"
	}
	if sidecar {
		annotations["sidecar.istio.io/status"] = "{}"
	}
	hostNetwork := r.Intn(10) == 0
	phase := []string{"Running", "Running", "Running", "Pending", "Succeeded", "Failed"}[r.Intn(6)]
	owner := ""
	name := fmt.Sprintf("%s-%d", app, j)
	switch r.Intn(6) {
	case 0, 1:
		labels["pod-template-hash"] = "h" + fmt.Sprint(j)
		owner = fmt.Sprintf("ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: %s-h%d, uid: u, controller: true}], ", app, j)
	case 2:
		owner = fmt.Sprintf("ownerReferences: [{apiVersion: apps/v1, kind: StatefulSet, name: %s, uid: u, controller: true}], ", app)
	case 3:
		owner = fmt.Sprintf("ownerReferences: [{apiVersion: apps/v1, kind: DaemonSet, name: %s, uid: u, controller: true}], ", app)
	case 4:
		owner = fmt.Sprintf("ownerReferences: [{apiVersion: batch/v1, kind: Job, name: %s, uid: u, controller: true}], ", app)
	}
	ports := ""
	if r.Intn(2) == 0 {
		ports = ", ports: [{containerPort: 8080}]"
	}
	g.docs = append(g.docs, fmt.Sprintf("apiVersion: v1\nkind: Pod\nmetadata: {name: %s, namespace: %s, %slabels: %s, annotations: %s}\nspec: {hostNetwork: %t, containers: [{name: c%s}]}\nstatus: {phase: %s}\n",
		name, ns, owner, jsonOf(labels), jsonOf(annotations), hostNetwork, ports, phase))
	// Mirror the engine's classification to know what the property expects.
	live := phase != "Succeeded" && phase != "Failed"
	meshed := sidecar || kind == "ambient" && !dataplaneNone
	deliberate := optOut || dataplaneNone || hostNetwork || kind == "disabled" || kind == "dataplane-none"
	if live && !meshed && !deliberate {
		g.accidental++
		g.accByNS[ns]++
	}
}

func jsonOf(m map[string]string) string {
	b, _ := json.Marshal(m)
	return string(b)
}

// A namespace of VMs (Istio's VM install page) has no meshed pod, but a VM's
// proxy enforces the namespace's STRICT: a sidecar-less pod there blocks it,
// as MG101 says; a VM without a proxy enforces nothing.
func TestCoverageCountsVMProxiesAsServers(t *testing.T) {
	vms := `
apiVersion: v1
kind: Namespace
metadata: {name: vm}
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: {name: mysqldb-vm, namespace: vm}
spec: {address: 10.128.0.20, labels: {app: mysqldb}, serviceAccount: mysqldb-vm}
---
apiVersion: v1
kind: Pod
metadata: {name: db-migrate-k2x9p, namespace: vm, labels: {job-name: db-migrate}}
spec: {containers: [{name: migrate}]}
status: {phase: Running}
---
apiVersion: v1
kind: Namespace
metadata: {name: vm-plain}
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: {name: billing-vm, namespace: vm-plain}
spec: {address: 10.128.0.40, labels: {app: billing, security.istio.io/tlsMode: disabled}}
---
apiVersion: v1
kind: Pod
metadata: {name: db-migrate-q7w3t, namespace: vm-plain, labels: {job-name: db-migrate}}
spec: {containers: [{name: migrate}]}
status: {phase: Running}
`
	path := filepath.Join(t.TempDir(), "state.yaml")
	if err := os.WriteFile(path, []byte(vms), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	sess := load(t, cfg, path)
	var cov plan.Coverage
	_ = sess.Store().View(func(s state.Snapshot) error { cov = plan.Compute(s, cfg); return nil })
	want := map[string]bool{"vm": false, "vm-plain": true}
	for _, row := range cov.Namespaces {
		if safe, ok := want[row.Name]; ok && row.StrictSafe != safe {
			t.Errorf("%s: strictSafe = %v, want %v", row.Name, row.StrictSafe, safe)
		}
	}
}
