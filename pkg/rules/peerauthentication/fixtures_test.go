package peerauthentication_test

import (
	"testing"

	"github.com/meshguard/meshguard/pkg/rules/peerauthentication"
	"github.com/meshguard/meshguard/pkg/rules/rulestest"
)

// Expected findings of each rule on its fixtures, keyed by "scenario ns/name".
// Every write not listed must produce no finding of that rule.
var fixtures = map[string]map[string][]string{
	"MG101": {
		"mesh-wide istio-system/default":    {"deny"},
		"mesh-wide legacy/strict":           {"deny"},
		"override legacy/migration":         {"deny"},
		"override legacy/migration (unset)": {"deny"},
		"preexisting legacy/strict":         {"warn pre-existing"},
	},
	"MG102": {
		"callers legacy/api-strict": {"warn"},
		"callers shop/strict":       {"warn"},
	},
	"MG103": {
		"ports shop/web-ports": {"deny"},
		"ports shop/db-ports":  {"deny"},
	},
	"MG104": {
		"selector shop/typo": {"warn"},
	},
	"MG105": {
		"conflicts shop/strict": {"deny"},
		"conflicts shop/web-v1": {"deny"},
	},
	"MG106": {
		"weakened shop/strict":          {"warn"},
		"weakened istio-system/default": {"warn"},
		"weakened ambient/amb-plain":    {"warn"},
		"deleted shop/strict":           {"warn"},
	},
	"MG107": {
		"root istio-system/gateway-strict": {"deny"},
	},
	"MG108": {
		"labels batch/strict": {"warn"},
	},
}

func TestFixtures(t *testing.T) {
	for id, want := range fixtures {
		t.Run(id, func(t *testing.T) { rulestest.Expect(t, id, want) })
	}
}

func TestEveryRuleHasFixtures(t *testing.T) {
	for _, r := range peerauthentication.All() {
		if _, ok := fixtures[r.ID()]; !ok {
			t.Errorf("rule %s has no fixture expectations", r.ID())
		}
	}
}
