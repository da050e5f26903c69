package mesh

import "testing"

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
