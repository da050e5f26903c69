package state_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/meshguard/meshguard/pkg/mesh"
	"github.com/meshguard/meshguard/pkg/state"
)

func coverage(t *testing.T, s *state.Store, ns string) state.Coverage {
	t.Helper()
	var c state.Coverage
	_ = s.View(func(v state.Snapshot) error { c = v.Coverage(ns); return nil })
	return c
}

func TestCoverageFollowsEveryWrite(t *testing.T) {
	s := state.NewStore(mesh.Classify)
	s.SetNamespace(&state.Namespace{Name: "legacy"})
	s.SetPod(&state.Pod{Namespace: "legacy", Name: "web-1", Phase: "Running", Labels: map[string]string{"app": "web"}})
	if c := coverage(t, s, "legacy"); c.UnmeshedServers != 0 || c.AccidentalOutsiders != 1 {
		t.Fatalf("a pod without ports or Service is no server: %+v", c)
	}
	s.SetService(&state.Service{Namespace: "legacy", Name: "web", Selector: map[string]string{"app": "web"}})
	if c := coverage(t, s, "legacy"); c.UnmeshedServers != 1 {
		t.Fatalf("a Service selecting it makes it a server: %+v", c)
	}
	s.SetPod(&state.Pod{Namespace: "legacy", Name: "web-1", Phase: "Running", Labels: map[string]string{"app": "web"}, Sidecar: true})
	if c := coverage(t, s, "legacy"); c.UnmeshedServers != 0 || c.MeshedServers != 1 || c.AccidentalOutsiders != 0 {
		t.Fatalf("the injected pod is meshed: %+v", c)
	}
	s.SetPod(&state.Pod{Namespace: "legacy", Name: "db-0", Phase: "Running", Ports: []state.NamedPort{{Port: 5432}}})
	s.SetNamespace(&state.Namespace{Name: "legacy", Labels: map[string]string{"istio.io/dataplane-mode": "ambient"}})
	if c := coverage(t, s, "legacy"); c.UnmeshedServers != 0 || c.MeshedServers != 2 {
		t.Fatalf("labelling the namespace ambient enrolls db-0: %+v", c)
	}
	s.SetNamespace(&state.Namespace{Name: "legacy"})
	c := coverage(t, s, "legacy")
	var got []*state.Pod
	_ = s.View(func(v state.Snapshot) error { got = v.UnmeshedServers("legacy", 5); return nil })
	if c.UnmeshedServers != 1 || len(got) != 1 || got[0].Name != "db-0" {
		t.Fatalf("unlabelling takes db-0 out again: %+v", got)
	}
	s.DeletePod("legacy", "db-0")
	s.DeleteService("legacy", "web")
	if c := coverage(t, s, "legacy"); c.UnmeshedServers != 0 || c.MeshedServers != 0 {
		t.Fatalf("after deletes: %+v", c)
	}
	var with []string
	_ = s.View(func(v state.Snapshot) error { with = v.NamespacesWithAccidentalOutsiders(); return nil })
	if len(with) != 0 {
		t.Fatalf("no unmeshed pod is left, got %v", with)
	}
}

func TestIstioComponentsAreNeverUncovered(t *testing.T) {
	s := state.NewStore(mesh.Classify)
	for i, labels := range []map[string]string{{"app": "istiod"}, {"istio": "pilot"}, {"k8s-app": "istio-cni-node"}, {"app": "ztunnel"}} {
		s.SetPod(&state.Pod{Namespace: "istio-system", Name: string(rune('a' + i)), Phase: "Running", Labels: labels, Ports: []state.NamedPort{{Port: 15012}}})
	}
	if c := coverage(t, s, "istio-system"); c.UnmeshedServers != 0 || c.AccidentalOutsiders != 0 || c.DeliberateOutsiders != 0 {
		t.Fatalf("Istio components counted: %+v", c)
	}
}

func TestOutsidersAreAccidentalOrDeliberate(t *testing.T) {
	s := state.NewStore(mesh.Classify)
	s.SetNamespace(&state.Namespace{Name: "apps", Labels: map[string]string{"istio-injection": "enabled"}})
	s.SetPod(&state.Pod{Namespace: "apps", Name: "old-1", Phase: "Running"})                       // created before enrolment
	s.SetPod(&state.Pod{Namespace: "apps", Name: "redis-0", Phase: "Running", InjectOptOut: true}) // opted out
	s.SetPod(&state.Pod{Namespace: "apps", Name: "agent-1", Phase: "Running", HostNetwork: true})  // can never get a proxy
	s.SetPod(&state.Pod{Namespace: "apps", Name: "plain-1", Phase: "Pending", DataplaneNone: true})
	s.SetPod(&state.Pod{Namespace: "apps", Name: "job-1", Phase: "Succeeded"}) // finished: neither
	s.SetPod(&state.Pod{Namespace: "apps", Name: "web-1", Phase: "Running", Sidecar: true})
	if c := coverage(t, s, "apps"); c.AccidentalOutsiders != 1 || c.DeliberateOutsiders != 3 {
		t.Fatalf("want 1 accidental and 3 deliberate outsiders: %+v", c)
	}
	var acc, del []string
	var pods []*state.Pod
	_ = s.View(func(v state.Snapshot) error {
		acc, del, pods = v.NamespacesWithAccidentalOutsiders(), v.NamespacesWithDeliberateOutsiders(), v.AccidentalOutsiders("apps", 5)
		return nil
	})
	if len(acc) != 1 || len(del) != 1 || len(pods) != 1 || pods[0].Name != "old-1" {
		t.Fatalf("sets %v %v, accidental pods %v", acc, del, pods)
	}
	s.SetNamespace(&state.Namespace{Name: "apps", Labels: map[string]string{"istio-injection": "disabled"}})
	if c := coverage(t, s, "apps"); c.AccidentalOutsiders != 0 || c.DeliberateOutsiders != 4 {
		t.Fatalf("a namespace opted out keeps its pods out on purpose: %+v", c)
	}
	_ = s.View(func(v state.Snapshot) error { acc = v.NamespacesWithAccidentalOutsiders(); return nil })
	if len(acc) != 0 {
		t.Fatalf("no accidental outsider left, got %v", acc)
	}
}

func TestOverlayReplacesOnePolicy(t *testing.T) {
	s := state.NewStore(mesh.Classify)
	s.SetPeerAuthentication(&state.PeerAuthentication{Namespace: "shop", Name: "a", Mode: state.ModeStrict})
	s.SetPeerAuthentication(&state.PeerAuthentication{Namespace: "shop", Name: "b", Mode: state.ModeStrict})
	_ = s.View(func(v state.Snapshot) error {
		after := state.WithPeerAuthentication(v, "shop", "a", nil)
		if got := after.PeerAuthentications("shop"); len(got) != 1 || got[0].Name != "b" {
			t.Errorf("after deleting a: %v", got)
		}
		after = state.WithPeerAuthentication(v, "new", "x", &state.PeerAuthentication{Namespace: "new", Name: "x"})
		if got := after.NamespaceNames(); len(got) != 2 || got[0] != "new" {
			t.Errorf("a policy in a new namespace is listed: %v", got)
		}
		if len(v.PeerAuthentications("shop")) != 2 {
			t.Errorf("the base state changed")
		}
		return nil
	})
}

// The rules that set a TLS mode are indexed as they are written, replaced
// and deleted, and an overlay for a DestinationRule write keeps the index.
func TestDestinationRulesSettingTLS(t *testing.T) {
	s := state.NewStore(func(*state.Pod, *state.Namespace, bool) state.PodClass { return state.PodClass{} })
	mutual := &state.DestinationRule{Namespace: "shop", Name: "reviews", Host: "reviews", Policy: &state.TrafficPolicy{TLS: &state.ClientTLS{Mode: "ISTIO_MUTUAL"}}}
	plainPort := &state.DestinationRule{Namespace: "legacy", Name: "billing", Host: "billing",
		Policy: &state.TrafficPolicy{Ports: map[uint32]*state.PortPolicy{8080: {TLS: &state.ClientTLS{Mode: "DISABLE"}}}}}
	simple := &state.DestinationRule{Namespace: "ext", Name: "api", Host: "api.example.com", Policy: &state.TrafficPolicy{TLS: &state.ClientTLS{Mode: "SIMPLE"}}}
	for _, dr := range []*state.DestinationRule{mutual, plainPort, simple} {
		s.SetDestinationRule(dr)
	}
	names := func(drs []*state.DestinationRule) string {
		var out []string
		for _, dr := range drs {
			out = append(out, dr.Namespace+"/"+dr.Name)
		}
		return strings.Join(out, ",")
	}
	_ = s.View(func(v state.Snapshot) error {
		if got := names(v.DestinationRulesSettingTLS()); got != "legacy/billing,shop/reviews" {
			t.Errorf("indexed %q", got)
		}
		cleared := state.WithDestinationRule(v, "shop", "reviews", &state.DestinationRule{Namespace: "shop", Name: "reviews", Host: "reviews"})
		if got := names(cleared.DestinationRulesSettingTLS()); got != "legacy/billing" {
			t.Errorf("after an overlay that drops the TLS: %q", got)
		}
		return nil
	})
	s.SetDestinationRule(&state.DestinationRule{Namespace: "shop", Name: "reviews", Host: "reviews"})
	s.DeleteDestinationRule("legacy", "billing")
	_ = s.View(func(v state.Snapshot) error {
		if got := names(v.DestinationRulesSettingTLS()); got != "" {
			t.Errorf("after replacing and deleting: %q", got)
		}
		return nil
	})
}

// The namespaces not labelled for the mesh follow namespace writes, and a
// namespace known only from its pods counts as unlabelled.
func TestNamespacesNotLabelledForMeshFollowWrites(t *testing.T) {
	s := state.NewStore(func(*state.Pod, *state.Namespace, bool) state.PodClass { return state.PodClass{} })
	s.SetNamespace(&state.Namespace{Name: "shop", Labels: map[string]string{"istio-injection": "enabled"}})
	s.SetNamespace(&state.Namespace{Name: "mesh-amb", Labels: map[string]string{"istio.io/dataplane-mode": "ambient"}})
	s.SetNamespace(&state.Namespace{Name: "legacy"})
	s.SetNamespace(&state.Namespace{Name: "canary", Labels: map[string]string{"istio.io/rev": "canary"}})
	s.SetPod(&state.Pod{Namespace: "orphans", Name: "p", Phase: "Running"})
	got := func() []string {
		var out []string
		_ = s.View(func(v state.Snapshot) error { out = v.NamespacesNotLabelledForMesh(); return nil })
		return out
	}
	if want := []string{"canary", "legacy", "orphans"}; !slices.Equal(got(), want) {
		t.Fatalf("unlabelled = %v, want %v", got(), want)
	}
	s.SetNamespace(&state.Namespace{Name: "legacy", Labels: map[string]string{"istio-injection": "enabled"}})
	s.SetNamespace(&state.Namespace{Name: "shop"})
	s.DeletePod("orphans", "p")
	if want := []string{"canary", "shop"}; !slices.Equal(got(), want) {
		t.Fatalf("after relabelling, unlabelled = %v, want %v", got(), want)
	}
}
