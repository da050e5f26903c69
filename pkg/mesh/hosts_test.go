package mesh

import (
	"fmt"
	"testing"

	"github.com/meshguard/meshguard/pkg/state"
)

// Score must rank exactly as HostScore of the expanded name does: it is the
// same comparison without building the name.
func TestScoreIsHostScoreOfTheExpandedName(t *testing.T) {
	h := Hosts{}
	hosts := []string{"", "*", "reviews", "reviews.bookinfo", "reviews.bookinfo.svc.cluster.local",
		"*.bookinfo.svc.cluster.local", "*.cluster.local", "review", "reviewsx", "svc", "*.example.com", "api.example.com"}
	namespaces := []string{"bookinfo", "book", "bookinfo.svc", ""}
	fqdns := []string{"reviews.bookinfo.svc.cluster.local", "reviews.bookinfo.svc.cluster.localx",
		"reviews.book.svc.cluster.local", "reviewsx.bookinfo.svc.cluster.local", "reviews.bookinfo.svc",
		"reviews..svc.cluster.local", "api.example.com", "reviews", "reviews.bookinfo.svc.svc.cluster.local", ""}
	for _, host := range hosts {
		for _, ns := range namespaces {
			for _, fqdn := range fqdns {
				want := HostScore(h.FQDN(host, ns), fqdn)
				if got := h.Score(host, ns, fqdn); got != want {
					t.Errorf("Score(%q, %q, %q) = %d, HostScore of the expanded name = %d", host, ns, fqdn, got, want)
				}
			}
		}
	}
	other := Hosts{Domain: "corp.internal"}
	if got := other.Score("reviews", "bookinfo", "reviews.bookinfo.svc.corp.internal"); got == 0 {
		t.Error("a short name does not match its expansion in the configured cluster domain")
	}
	if got := other.Score("reviews", "bookinfo", "reviews.bookinfo.svc.cluster.local"); got != 0 {
		t.Error("a short name matched the default domain where another is configured")
	}
}

func BenchmarkScoreShortNameMiss(b *testing.B) {
	h := Hosts{}
	b.ReportAllocs()
	for b.Loop() {
		h.Score("ratings", "bookinfo", "reviews.bookinfo.svc.cluster.local")
	}
}

// Resolving a host costs the entries that can register it, not every entry
// (5,000 entries of external hosts, one wildcard among them).
func BenchmarkResolveAmongManyServiceEntries(b *testing.B) {
	s := state.NewStore(Classify)
	for i := range 5000 {
		s.SetServiceEntry(&state.ServiceEntry{Namespace: fmt.Sprintf("team-%d", i%100), Name: fmt.Sprintf("ext-%d", i),
			Hosts: []string{fmt.Sprintf("api-%d.partner.example.com", i)}})
	}
	s.SetServiceEntry(&state.ServiceEntry{Namespace: "egress", Name: "corp", Hosts: []string{"*.corp.internal"}})
	h := Hosts{}
	b.ReportAllocs()
	err := s.View(func(snap state.Snapshot) error {
		for b.Loop() {
			if r := h.Resolve(snap, "reviews", "bookinfo"); r.Entry != nil {
				b.Fatal("reviews resolved to an entry")
			}
			if r := h.Resolve(snap, "api-4242.partner.example.com", "team-42"); r.Entry == nil {
				b.Fatal("api-4242 resolved to no entry")
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
}

func TestTranslatedRouteHostsTakeTheConfiguredDomain(t *testing.T) {
	h := Hosts{Domain: "corp.example"}
	if got := h.FQDN(state.InClusterDomain("billing", "legacy"), "shop"); got != "billing.legacy.svc.corp.example" {
		t.Errorf("FQDN = %s", got)
	}
	if got := h.FQDN("billing.legacy.svc.cluster.local", "shop"); got != "billing.legacy.svc.cluster.local" {
		t.Errorf("a host written in full is kept as written, got %s", got)
	}
}
