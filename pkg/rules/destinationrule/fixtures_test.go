package destinationrule_test

import (
	"testing"

	"github.com/meshguard/meshguard/pkg/rules/destinationrule"
	"github.com/meshguard/meshguard/pkg/rules/rulestest"
)

// Expected findings of each rule on its fixtures, keyed by "scenario ns/name".
var fixtures = map[string]map[string][]string{
	"MG201": {"mutual legacy/billing": {"deny"}},
	"MG202": {"plaintext shop/ratings": {"deny"}},
	"MG203": {
		"unrouted shop/reviews": {"warn"},
		"routed shop/reviews":   {"deny"},
	},
	"MG204": {
		"removed shop/reviews":          {"deny"},
		"removed shop/reviews (delete)": {"deny"},
	},
	"MG205": {
		"hosts shop/reviews-dotted": {"warn"},
		"hosts shop/nosuch":         {"warn"},
	},
	"MG206": {"duplicates shop/reviews-extra": {"warn", "warn"}},
	"MG207": {
		"outliers shop/reviews": {"warn"},
		"outliers shop/ratings": {"warn"},
	},
}

func TestFixtures(t *testing.T) {
	for id, want := range fixtures {
		t.Run(id, func(t *testing.T) { rulestest.Expect(t, id, want) })
	}
}

func TestEveryRuleHasFixtures(t *testing.T) {
	for _, r := range destinationrule.All() {
		if _, ok := fixtures[r.ID()]; !ok {
			t.Errorf("rule %s has no fixture expectations", r.ID())
		}
	}
}
