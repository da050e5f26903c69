package state_test

import (
	"slices"
	"testing"

	"github.com/meshguard/meshguard/pkg/mesh"
	"github.com/meshguard/meshguard/pkg/state"
)

// The host index answers what a scan of every entry answers, in the same
// order, before and after a write, and through a ServiceEntry write's
// overlay.
func TestServiceEntriesForHostIsTheScanIndexed(t *testing.T) {
	s := state.NewStore(mesh.Classify)
	entries := []*state.ServiceEntry{
		{Namespace: "shop", Name: "payments", Hosts: []string{"api.pay.example.com", "api.pay.example.com"}},
		{Namespace: "egress", Name: "wild", Hosts: []string{"*.example.com"}},
		{Namespace: "all", Name: "everything", Hosts: []string{"*"}},
		{Namespace: "shop", Name: "mixed", Hosts: []string{"db.internal", "*.pay.example.com"}},
		{Namespace: "apps", Name: "payments", Hosts: []string{"api.pay.example.com"}},
		{Namespace: "apps", Name: "vm", Hosts: []string{"vm.apps.svc.cluster.local"}},
	}
	for _, se := range entries {
		s.SetServiceEntry(se)
	}
	hosts := []string{"api.pay.example.com", "db.internal", "vm.apps.svc.cluster.local", "other.org",
		"*.pay.example.com", "*.org", "*", "example.com", "reviews.bookinfo.svc.cluster.local"}
	same := func(when string, snap state.Snapshot) {
		t.Helper()
		for _, h := range hosts {
			got, want := snap.ServiceEntriesForHost(h), state.EntriesForHost(snap.ServiceEntries(), h)
			if !slices.Equal(got, want) {
				t.Errorf("%s: ServiceEntriesForHost(%q) = %v, a scan gives %v", when, h, names(got), names(want))
			}
		}
	}
	view := func(when string, fn func(state.Snapshot)) {
		if err := s.View(func(snap state.Snapshot) error { fn(snap); return nil }); err != nil {
			t.Fatal(err)
		}
	}
	view("stored", func(snap state.Snapshot) {
		same("stored", snap)
		if got := names(snap.ServiceEntriesForHost("api.pay.example.com")); !slices.Equal(got, []string{
			"all/everything", "apps/payments", "egress/wild", "shop/mixed", "shop/payments"}) {
			t.Errorf("api.pay.example.com: %v", got)
		}
		same("overlay", state.WithServiceEntry(snap, "egress", "wild", nil))
	})
	s.DeleteServiceEntry("all", "everything")
	s.SetServiceEntry(&state.ServiceEntry{Namespace: "shop", Name: "mixed", Hosts: []string{"db.internal"}})
	view("after writes", func(snap state.Snapshot) {
		same("after writes", snap)
		if got := names(snap.ServiceEntriesForHost("other.org")); len(got) != 0 {
			t.Errorf("other.org after the catch-all entry went: %v", got)
		}
	})
}

func names(ses []*state.ServiceEntry) []string {
	out := make([]string, 0, len(ses))
	for _, se := range ses {
		out = append(out, se.Namespace+"/"+se.Name)
	}
	return out
}
