package referencegrant_test

import (
	"testing"

	"github.com/meshguard/meshguard/pkg/rules/referencegrant"
	"github.com/meshguard/meshguard/pkg/rules/rulestest"
)

// Expected findings of each rule on its fixtures, keyed by "scenario ns/name".
var fixtures = map[string]map[string][]string{
	"MG504": {
		"grants legacy/shop-to-billing":                   {`deny spec "^without this ReferenceGrant HTTPRoute shop/ratings no longer resolves its backendRef to Service legacy/billing, so 100% of the requests for ratings.example.com:80 from gateway istio-ingress/gateway (istio-ingress) get 500"`},
		"grants legacy/shop-to-billing (other-namespace)": {`deny spec.from "^as written, this ReferenceGrant no longer permits it: HTTPRoute shop/ratings no longer resolves its backendRef to Service legacy/billing"`},
		"grants legacy/shop-to-billing (widened)":         {},
		"grants legacy/shop-to-billing (unchanged)":       {},
		"grants legacy/ext-to-billing":                    {`warn pre-existing spec "^no ReferenceGrant in legacy permits the backendRef of HTTPRoute shop/productpage to Service legacy/ledger-db, before this write as after it: 10% of the requests"`},
	},
}

func TestFixtures(t *testing.T) { rulestest.Package(t, referencegrant.All(), fixtures) }
