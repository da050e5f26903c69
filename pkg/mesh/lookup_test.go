package mesh_test

import (
	"testing"
	"time"

	"github.com/meshguard/meshguard/pkg/mesh"
	"github.com/meshguard/meshguard/pkg/state"
)

func dr(ns, name string, age int, host string, exportTo []string, subsets ...string) *state.DestinationRule {
	d := &state.DestinationRule{Namespace: ns, Name: name, Created: t0.Add(time.Duration(age) * time.Hour), Host: host, ExportTo: exportTo}
	for _, s := range subsets {
		d.Subsets = append(d.Subsets, state.Subset{Name: s})
	}
	return d
}

// The cases follow pilot/pkg/model/push_context.go (destinationRule) and
// destination_rule.go (mergeDestinationRule).
func TestLookup(t *testing.T) {
	const reviews = "reviews.shop.svc.cluster.local"
	cases := []struct {
		name   string
		rules  []*state.DestinationRule
		client string
		want   string // names of the merged rules, "" for none
	}{
		{name: "a client without rules of its own uses the Service's namespace rule",
			rules: []*state.DestinationRule{dr("shop", "reviews", 0, "reviews", nil, "v1")}, client: "frontend", want: "shop/reviews"},
		{name: "a rule in the client's namespace shadows the Service's rule",
			rules:  []*state.DestinationRule{dr("shop", "reviews", 0, "reviews", nil, "v1"), dr("frontend", "local", 1, reviews, nil)},
			client: "frontend", want: "frontend/local"},
		{name: "a wildcard rule in the client's namespace shadows an exact one elsewhere",
			rules:  []*state.DestinationRule{dr("shop", "reviews", 0, "reviews", nil, "v1"), dr("frontend", "all", 1, "*.local", nil)},
			client: "frontend", want: "frontend/all"},
		{name: "a client rule exported elsewhere only is not in the client's own index",
			rules:  []*state.DestinationRule{dr("shop", "reviews", 0, "reviews", nil, "v1"), dr("frontend", "local", 1, reviews, []string{"shop"})},
			client: "frontend", want: "shop/reviews"},
		{name: "a Service rule exported to its own namespace is invisible to others, who fall back to the root",
			rules:  []*state.DestinationRule{dr("shop", "reviews", 0, "reviews", []string{"."}, "v1"), dr("istio-system", "mesh", 1, "*.local", nil)},
			client: "frontend", want: "istio-system/mesh"},
		{name: "the most specific exported rule, if not exported to the client, hides a less specific one",
			rules:  []*state.DestinationRule{dr("shop", "reviews", 0, "reviews", []string{"batch"}), dr("shop", "all", 1, "*.shop.svc.cluster.local", nil)},
			client: "frontend", want: ""},
		{name: "a rule private to its namespace is not among the exported ones at all",
			rules:  []*state.DestinationRule{dr("shop", "reviews", 0, "reviews", []string{"."}), dr("shop", "all", 1, "*.shop.svc.cluster.local", nil)},
			client: "frontend", want: "shop/all"},
		{name: "within a namespace the exact host wins over a wildcard",
			rules:  []*state.DestinationRule{dr("shop", "all", 0, "*.shop.svc.cluster.local", nil), dr("shop", "reviews", 1, "reviews", nil)},
			client: "shop", want: "shop/reviews"},
		{name: "the longer wildcard wins over a shorter one",
			rules:  []*state.DestinationRule{dr("istio-system", "local", 0, "*.local", nil), dr("istio-system", "cluster", 1, "*.cluster.local", nil), dr("istio-system", "any", 2, "*", nil)},
			client: "shop", want: "istio-system/cluster"},
		{name: "rules for one host in one namespace merge, oldest first",
			rules:  []*state.DestinationRule{dr("shop", "b", 1, "reviews", nil, "v2"), dr("shop", "a", 0, "reviews", nil, "v1")},
			client: "frontend", want: "shop/a, shop/b"},
		// EnableEnhancedDestinationRuleMerge: only rules with equal exportTo
		// (or a superset of a non-empty one) merge; the sidecar takes the
		// last entry it can see.
		{name: "rules with different exportTo do not merge: the newer entry wins",
			rules:  []*state.DestinationRule{dr("shop", "a", 0, "reviews", nil, "v1"), dr("shop", "b", 1, "reviews", []string{"."}, "v2")},
			client: "shop", want: "shop/b"},
		{name: "no exportTo and exportTo * are different sets to istiod",
			rules:  []*state.DestinationRule{dr("shop", "a", 0, "reviews", []string{"*"}, "v1"), dr("shop", "b", 1, "reviews", nil, "v2")},
			client: "shop", want: "shop/b"},
		{name: "a superset of a non-empty exportTo merges",
			rules:  []*state.DestinationRule{dr("shop", "a", 0, "reviews", []string{"."}, "v1"), dr("shop", "b", 1, "reviews", []string{".", "frontend"}, "v2")},
			client: "shop", want: "shop/a, shop/b"},
		{name: "another namespace sees only the entries exported to it",
			rules:  []*state.DestinationRule{dr("shop", "a", 0, "reviews", []string{"frontend"}, "v1"), dr("shop", "b", 1, "reviews", []string{"batch"}, "v2")},
			client: "frontend", want: "shop/a"},
		{name: "a root proxy uses a root rule exported to the root namespace alone first",
			rules:  []*state.DestinationRule{dr("shop", "reviews", 0, "reviews", nil, "v1"), dr("istio-system", "gw", 1, reviews, []string{"."})},
			client: "istio-system", want: "istio-system/gw"},
		{name: "a root proxy prefers the Service's rule over public root rules",
			rules:  []*state.DestinationRule{dr("shop", "reviews", 0, "reviews", nil, "v1"), dr("istio-system", "mesh", 1, "*.local", nil)},
			client: "istio-system", want: "shop/reviews"},
		{name: "a rule exported only to the root namespace is not used by other clients",
			rules: []*state.DestinationRule{dr("istio-system", "gw", 1, reviews, []string{"."})}, client: "shop", want: ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := mesh.NewStore(mesh.DefaultClusterDomain)
			for _, d := range c.rules {
				s.SetDestinationRule(d)
			}
			r := mesh.Routing{}
			_ = s.View(func(v state.Snapshot) error {
				if got := r.Lookup(v, reviews, c.client, "shop").Names(); got != c.want {
					t.Errorf("Lookup from %s = %q, want %q", c.client, got, c.want)
				}
				return nil
			})
		})
	}
}

func TestMergedRulesKeepTheOldestDefinitions(t *testing.T) {
	older := dr("shop", "a", 0, "reviews", nil, "v1")
	older.Policy = &state.TrafficPolicy{TLS: &state.ClientTLS{Mode: "ISTIO_MUTUAL"}}
	older.Subsets[0].Labels = map[string]string{"version": "old"}
	newer := dr("shop", "b", 1, "reviews", nil, "v1", "v2")
	newer.Policy = &state.TrafficPolicy{TLS: &state.ClientTLS{Mode: "DISABLE"}}
	s := mesh.NewStore(mesh.DefaultClusterDomain)
	s.SetDestinationRule(newer)
	s.SetDestinationRule(older)
	_ = s.View(func(v state.Snapshot) error {
		rs := mesh.Routing{}.Lookup(v, "reviews.shop.svc.cluster.local", "shop", "shop")
		if owner := rs.PolicyOwner(); owner != older {
			t.Errorf("trafficPolicy owner = %v, want the oldest rule", owner)
		}
		if sub, from := rs.Subset("v1"); sub == nil || from != older || sub.Labels["version"] != "old" {
			t.Errorf("v1 from %v, want the oldest definition", from)
		}
		if sub, from := rs.Subset("v2"); sub == nil || from != newer {
			t.Errorf("v2 from %v, want the newer rule's", from)
		}
		return nil
	})
}

func TestClientNamespaces(t *testing.T) {
	s := mesh.NewStore(mesh.DefaultClusterDomain)
	s.SetDestinationRule(dr("shop", "reviews", 0, "reviews", nil))
	s.SetDestinationRule(dr("frontend", "local", 0, "reviews.shop.svc.cluster.local", nil))
	s.SetDestinationRule(dr("batch", "all", 0, "*.local", nil))
	// The root namespace's rules serve its gateways, not sidecars there.
	s.SetDestinationRule(dr("istio-system", "gateways", 0, "reviews.shop.svc.cluster.local", nil))
	const fqdn = "reviews.shop.svc.cluster.local"
	cases := []struct {
		name string
		vs   *state.VirtualService
		want []string
	}{
		{name: "a mesh route is used in its namespace and in every namespace holding a rule for the host",
			vs: &state.VirtualService{Namespace: "shop"}, want: []string{"batch", "frontend", "shop"}},
		{name: "a mesh route in the root namespace is used there too",
			vs: &state.VirtualService{Namespace: "istio-system"}, want: []string{"batch", "frontend", "istio-system", "shop"}},
		{name: "exportTo limits the namespaces that use it",
			vs: &state.VirtualService{Namespace: "shop", ExportTo: []string{".", "frontend"}}, want: []string{"frontend", "shop"}},
		{name: "a route bound only to a gateway is used by that gateway's namespace",
			vs: &state.VirtualService{Namespace: "shop", Gateways: []string{"istio-system/public"}}, want: []string{"istio-system"}},
		{name: "a route bound to a gateway and mesh is used by both",
			vs: &state.VirtualService{Namespace: "shop", ExportTo: []string{"."}, Gateways: []string{"public", "mesh"}}, want: []string{"shop"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_ = s.View(func(v state.Snapshot) error {
				got := mesh.Routing{}.ClientNamespaces(v, c.vs, fqdn)
				if len(got) != len(c.want) {
					t.Fatalf("got %v, want %v", got, c.want)
				}
				for i := range got {
					if got[i] != c.want[i] {
						t.Fatalf("got %v, want %v", got, c.want)
					}
				}
				return nil
			})
		})
	}
}

func TestExported(t *testing.T) {
	for _, c := range []struct {
		exportTo  []string
		owner, ns string
		want      bool
	}{
		{nil, "shop", "web", true},
		{[]string{"*"}, "shop", "web", true},
		{[]string{"."}, "shop", "shop", true},
		{[]string{"."}, "shop", "web", false},
		{[]string{"web"}, "shop", "web", true},
		{[]string{"web"}, "shop", "shop", false},
		{[]string{".", "web"}, "shop", "batch", false},
	} {
		if got := mesh.Exported(c.exportTo, c.owner, c.ns); got != c.want {
			t.Errorf("Exported(%v, %s, %s) = %v, want %v", c.exportTo, c.owner, c.ns, got, c.want)
		}
	}
}

func selectorDR(ns, name string, age int, host string, exportTo []string, selector map[string]string, subsets ...string) *state.DestinationRule {
	d := dr(ns, name, age, host, exportTo, subsets...)
	d.WorkloadSelector = selector
	return d
}

// Rules with a workloadSelector: push_context.go setDestinationRules puts
// them in their namespace's local index only (exported to "." alone) and
// merges them first; sidecar.go SidecarScope.DestinationRule gives a proxy
// the first one selecting it, else the last rule without a selector, and
// push_context.go destinationRule never falls back to the Service's
// namespace once the client's namespace has rules for the host.
func TestLookupForSelectedWorkloads(t *testing.T) {
	const reviews = "reviews.shop.svc.cluster.local"
	app := map[string]string{"app": "productpage"}
	cases := []struct {
		name     string
		rules    []*state.DestinationRule
		workload map[string]string
		want     string
	}{
		{name: "a selected proxy uses the selector rule",
			rules:    []*state.DestinationRule{selectorDR("frontend", "sel", 0, reviews, nil, app, "v1"), dr("shop", "reviews", 1, "reviews", nil, "v1", "v2")},
			workload: map[string]string{"app": "productpage", "version": "v1"}, want: "frontend/sel"},
		{name: "an unselected proxy of that namespace gets no rule: the Service's is not consulted",
			rules:    []*state.DestinationRule{selectorDR("frontend", "sel", 0, reviews, nil, app, "v1"), dr("shop", "reviews", 1, "reviews", nil, "v1", "v2")},
			workload: map[string]string{"app": "other"}, want: ""},
		{name: "a catch-all without exportTo does not merge into the selector rule and serves the others",
			rules:    []*state.DestinationRule{selectorDR("frontend", "sel", 5, reviews, nil, app, "v1"), dr("frontend", "all", 0, reviews, nil, "v2")},
			workload: app, want: "frontend/sel"},
		{name: "the catch-all serves the unselected",
			rules: []*state.DestinationRule{selectorDR("frontend", "sel", 5, reviews, nil, app, "v1"), dr("frontend", "all", 0, reviews, nil, "v2")},
			want:  "frontend/all"},
		{name: "a catch-all exported to '.' merges into the selector rule, which comes first whatever its age",
			rules:    []*state.DestinationRule{selectorDR("frontend", "sel", 5, reviews, nil, app, "v1"), dr("frontend", "all", 0, reviews, []string{"."}, "v2")},
			workload: app, want: "frontend/sel, frontend/all"},
		{name: "a catch-all exported to '.' that merged into a selector rule stands nowhere else",
			rules: []*state.DestinationRule{selectorDR("frontend", "sel", 5, reviews, nil, app, "v1"), dr("frontend", "all", 0, reviews, []string{"."}, "v2")},
			want:  ""},
		{name: "rules with equal selectors merge, different ones stay apart",
			rules: []*state.DestinationRule{selectorDR("frontend", "a", 0, reviews, nil, app, "v1"), selectorDR("frontend", "b", 1, reviews, nil, app, "v2"),
				selectorDR("frontend", "c", 2, reviews, nil, map[string]string{"team": "x"}, "v3")},
			workload: map[string]string{"app": "productpage", "team": "x"}, want: "frontend/a, frontend/b"},
		{name: "a selector rule of another namespace is never seen",
			rules:    []*state.DestinationRule{selectorDR("shop", "sel", 0, "reviews", nil, app, "v1"), dr("shop", "reviews", 1, "reviews", nil, "v2")},
			workload: app, want: "shop/reviews"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := mesh.NewStore(mesh.DefaultClusterDomain)
			for _, d := range c.rules {
				s.SetDestinationRule(d)
			}
			_ = s.View(func(v state.Snapshot) error {
				rs := mesh.Routing{}.LookupFor(v, reviews, "frontend", "shop", c.workload)
				if got := rs.Names(); got != c.want {
					t.Errorf("LookupFor(%v) = %q, want %q", c.workload, got, c.want)
				}
				if rs.Unselected != (c.want == "") {
					t.Errorf("Unselected = %v", rs.Unselected)
				}
				return nil
			})
		})
	}
}
