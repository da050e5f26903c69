package virtualservice_test

import (
	"testing"

	"github.com/meshguard/meshguard/pkg/rules/rulestest"
	"github.com/meshguard/meshguard/pkg/rules/virtualservice"
)

// Expected findings of each rule on its fixtures, keyed by "scenario ns/name".
var fixtures = map[string]map[string][]string{
	"MG301": {
		"subsets shop/reviews-v3":     {"deny"},
		"subsets shop/reviews-mirror": {"deny"},
	},
	"MG302": {"ready shop/reviews": {"deny"}},
	"MG303": {
		"hosts legacy/dotted": {"deny"},
		"hosts shop/nosuch":   {"deny"},
		"hosts shop/external": {"warn"},
	},
	"MG304": {
		"ports shop/reviews":     {"deny"},
		"ports shop/productpage": {"deny"},
	},
	"MG305": {
		"gateways shop/typo":       {"deny"},
		"gateways shop/wrong-host": {"deny"},
	},
	"MG306": {
		"retries shop/storm":  {"deny", "warn"},
		"retries shop/fourxx": {"deny"},
		"retries shop/slow":   {"deny"},
	},
	"MG307": {"claims shop/storefront-2": {"warn"}},
	"MG308": {"order shop/shadowed": {"warn"}},
	"MG309": {"protocol shop/ratings": {"warn"}},
	"MG310": {"headers shop/upper": {"warn"}},
}

func TestFixtures(t *testing.T) {
	for id, want := range fixtures {
		t.Run(id, func(t *testing.T) { rulestest.Expect(t, id, want) })
	}
}

func TestEveryRuleHasFixtures(t *testing.T) {
	for _, r := range virtualservice.All() {
		if _, ok := fixtures[r.ID()]; !ok {
			t.Errorf("rule %s has no fixture expectations", r.ID())
		}
	}
}
