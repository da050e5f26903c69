package registry_test

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/meshguard/meshguard/pkg/rules"
	"github.com/meshguard/meshguard/pkg/rules/registry"
)

func TestEveryRuleIsCatalogued(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range registry.Rules() {
		if seen[r.ID()] {
			t.Errorf("rule %s registered twice", r.ID())
		}
		seen[r.ID()] = true
		e, ok := rules.Lookup(r.ID())
		switch {
		case !ok:
			t.Errorf("rule %s is registered but not in the catalogue", r.ID())
		case e.Retired:
			t.Errorf("rule %s is registered but marked retired", r.ID())
		case e.Kind != r.Kind():
			t.Errorf("rule %s reviews %s but the catalogue says %s", r.ID(), r.Kind(), e.Kind)
		}
	}
	for _, e := range rules.Catalogue {
		if !e.Retired && !seen[e.ID] {
			t.Errorf("catalogue entry %s has no registered rule", e.ID)
		}
	}
}

func TestCatalogueEntriesAreWellFormed(t *testing.T) {
	id := regexp.MustCompile(`^MG[0-9]{3}$`)
	seen := map[string]bool{}
	for _, e := range rules.Catalogue {
		if !id.MatchString(e.ID) {
			t.Errorf("%q is not an ID of the form MG + three digits", e.ID)
		}
		if seen[e.ID] {
			t.Errorf("ID %s is used twice", e.ID)
		}
		seen[e.ID] = true
		if e.Title == "" || e.Description == "" || e.Fix == "" {
			t.Errorf("%s needs a title, a description and a fix hint", e.ID)
		}
		if e.Default != rules.Deny && e.Default != rules.Warn {
			t.Errorf("%s: default action %q is not deny or warn", e.ID, e.Default)
		}
	}
}

// The README's rule table is generated from the catalogue; regenerate it with
// `make readme-rules` when this fails.
func TestReadmeRuleTableMatchesCatalogue(t *testing.T) {
	data, err := os.ReadFile("../../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	const begin, end = "<!-- rules:begin -->\n", "<!-- rules:end -->"
	s := string(data)
	i, j := strings.Index(s, begin), strings.Index(s, end)
	if i < 0 || j < i {
		t.Fatalf("README.md lacks the %q ... %q markers", strings.TrimSpace(begin), end)
	}
	if got, want := s[i+len(begin):j], rules.MarkdownTable(); got != want {
		t.Errorf("README rule table is out of date; run `make readme-rules`.\ngot:\n%s\nwant:\n%s", got, want)
	}
}
