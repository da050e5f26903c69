package paths_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/meshguard/meshguard/pkg/mesh"
	"github.com/meshguard/meshguard/pkg/paths"
	"github.com/meshguard/meshguard/pkg/state"
)

// sidecarMesh holds a Service "reviews" in shop and meshed client pods in
// each of nss; shop's VirtualService for reviews gives shop a view of its own.
func sidecarMesh(nss ...string) *state.Store {
	s := mesh.NewStore(mesh.DefaultClusterDomain)
	for _, ns := range append([]string{"shop"}, nss...) {
		s.SetNamespace(&state.Namespace{Name: ns})
		s.SetPod(&state.Pod{Namespace: ns, Name: "client", Labels: map[string]string{"app": "client"},
			Phase: "Running", Ready: true, Sidecar: true})
	}
	s.SetService(&state.Service{Namespace: "shop", Name: "reviews", Selector: map[string]string{"app": "reviews"},
		Ports: []state.ServicePort{{Name: "http", Port: 9080, TargetPort: 9080}}})
	s.SetVirtualService(&state.VirtualService{Namespace: "shop", Name: "reviews", Hosts: []string{"reviews"},
		HTTP: []state.HTTPRoute{{Route: []state.Destination{{Host: "reviews"}}}}})
	return s
}

func clientsOfReviews(t *testing.T, s *state.Store, excluded ...string) []paths.Client {
	t.Helper()
	m := paths.Model{Routing: mesh.Routing{Hosts: mesh.Hosts{Domain: mesh.DefaultClusterDomain}, Root: "istio-system"},
		Policies: mesh.Policies{RootNamespace: "istio-system"}, Excluded: excluded}
	sc := paths.NewScope()
	target := paths.Target{Host: "reviews.shop.svc.cluster.local"}
	sc.Add(target)
	var out []paths.Client
	_ = s.View(func(v state.Snapshot) error {
		out = m.Clients(sc, v)[target]
		return nil
	})
	return out
}

// The namespaces with no view of their own form one class, Other, which
// exists only while some of them is not excluded.
func TestClientsGroupOtherNamespacesLeavingExcludedOut(t *testing.T) {
	for _, tc := range []struct {
		name      string
		nss       []string
		excluded  []string
		wantOther bool
	}{
		{"other namespaces with sidecars", []string{"a", "b"}, nil, true},
		{"one of two excluded", []string{"a", "b"}, []string{"b"}, true},
		{"all excluded", []string{"a", "b"}, []string{"a", "b"}, false},
		{"excluded named twice", []string{"a", "b"}, []string{"a", "a"}, true},
		{"excluded namespace without sidecars", []string{"a"}, []string{"kube-system"}, true},
		{"no other namespace", nil, nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := clientsOfReviews(t, sidecarMesh(tc.nss...), tc.excluded...)
			if !slices.Contains(got, paths.Client{Namespace: "shop"}) {
				t.Errorf("clients %v: want shop, which holds the route", got)
			}
			if has := slices.Contains(got, paths.Client{Namespace: paths.Other}); has != tc.wantOther {
				t.Errorf("clients %v: Other class present = %v, want %v", got, has, tc.wantOther)
			}
			// Sorted, so that messages list them alike on every run.
			if !slices.IsSortedFunc(got, func(a, b paths.Client) int { return strings.Compare(a.String(), b.String()) }) {
				t.Errorf("clients %v are not sorted", got)
			}
		})
	}
}

// An excluded namespace holding the route is no client class of its own.
func TestClientsLeaveOutAnExcludedNamespaceWithAView(t *testing.T) {
	got := clientsOfReviews(t, sidecarMesh("a"), "shop")
	if want := []paths.Client{{Namespace: paths.Other}}; !slices.Equal(got, want) {
		t.Errorf("clients %v, want %v", got, want)
	}
}

// A Sidecar write judges only its namespace's sidecars: the classes found
// for it are those of that namespace among every client of the host, on
// both sides of the write, however the Sidecar and the namespace's
// DestinationRules split its pods.
func TestClientsOfASidecarWriteAreItsNamespaceClasses(t *testing.T) {
	narrow := func(sel map[string]string) *state.Sidecar {
		return &state.Sidecar{Namespace: "a", Name: "narrow", Selector: sel, HasSelector: sel != nil,
			Egress: []state.SidecarEgress{{Hosts: []string{"./*"}}}, Outbound: state.RegistryOnly}
	}
	for _, tc := range []struct {
		name          string
		before, after *state.Sidecar // the written Sidecar on each side (nil: none)
		selectorRule  bool           // a holds a DestinationRule selecting its batch pods
		excluded      []string
	}{
		{"the namespace's first Sidecar", nil, narrow(nil), false, nil},
		{"the first Sidecar, over a selector DestinationRule", nil, narrow(nil), true, nil},
		{"a first Sidecar with a workloadSelector", nil, narrow(map[string]string{"app": "batch"}), false, nil},
		{"a workloadSelector Sidecar over a selector DestinationRule", nil, narrow(map[string]string{"app": "client"}), true, nil},
		{"deleting the namespace's Sidecar", narrow(nil), nil, true, nil},
		{"deleting a workloadSelector Sidecar", narrow(map[string]string{"app": "batch"}), nil, false, nil},
		{"the namespace excluded", nil, narrow(nil), false, []string{"a"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := sidecarMesh("a", "b")
			s.SetPod(&state.Pod{Namespace: "a", Name: "batch", Labels: map[string]string{"app": "batch"}, Phase: "Running", Ready: true, Sidecar: true})
			if tc.selectorRule {
				s.SetDestinationRule(&state.DestinationRule{Namespace: "a", Name: "batch", Host: "reviews.shop.svc.cluster.local",
					WorkloadSelector: map[string]string{"app": "batch"}})
			}
			if tc.before != nil {
				s.SetSidecar(tc.before)
			}
			m := paths.Model{Routing: mesh.Routing{Hosts: mesh.Hosts{Domain: mesh.DefaultClusterDomain}, Root: "istio-system"},
				Policies: mesh.Policies{RootNamespace: "istio-system"}, Excluded: tc.excluded}
			target := paths.Target{Host: "reviews.shop.svc.cluster.local"}
			all, own := paths.NewScope(), paths.NewScope()
			all.Add(target)
			own.Add(target)
			own.OnlySidecarsOf("a")
			var got, want []paths.Client
			_ = s.View(func(before state.Snapshot) error {
				after := state.WithSidecar(before, "a", "narrow", tc.after)
				got = m.Clients(own, before, after)[target]
				for _, c := range m.Clients(all, before, after)[target] {
					if c.Gateway == "" && c.Namespace == "a" {
						want = append(want, c)
					}
				}
				return nil
			})
			if !slices.Equal(got, want) {
				t.Errorf("classes %v, want those of a among every client: %v", got, want)
			}
			if len(tc.excluded) == 0 && len(got) == 0 {
				t.Errorf("no class of a judged")
			}
		})
	}
}
