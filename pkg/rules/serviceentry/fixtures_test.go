package serviceentry_test

import (
	"testing"

	"github.com/meshguard/meshguard/pkg/rules/rulestest"
	"github.com/meshguard/meshguard/pkg/rules/serviceentry"
)

// Expected findings of each rule on its fixtures, keyed by "scenario ns/name".
var fixtures = map[string]map[string][]string{
	"MG601": {
		"delete legacy-apps/details-svc":             {`deny spec "^without this entry details.bookinfo.com is registered by nothing (no Service or ServiceEntry: Envoy has no cluster for it): VirtualService shop/details sends sidecars in shop there, so 100% of that route's traffic fails with 503 — move those routes elsewhere first"`},
		"delete legacy-apps/archive":                 {},
		"ports legacy-apps/details-svc":              {`deny spec.ports "^details.bookinfo.com port 80 is no port of ServiceEntry legacy-apps/details-svc (no cluster for it): VirtualService shop/details sends sidecars in shop there"`},
		"ports legacy-apps/details-svc (add-port)":   {},
		"ports legacy-apps/details-svc (rename)":     {`deny spec.hosts "^after this change details.bookinfo.com is registered by nothing"`},
		"endpoints legacy-apps/mongo":                {`deny spec.endpoints "^subset a of mymongodb.somedomain has no endpoint left: VirtualService shop/mongo sends sidecars in shop there, so 100% of that route's traffic fails with 503 — keep an endpoint that serves them"`},
		"endpoints legacy-apps/mongo (add-endpoint)": {},
		"endpoints legacy-apps/details-svc":          {`deny spec.workloadSelector "^details.bookinfo.com has no endpoint left: VirtualService shop/details"`},
		"passthrough shop/payments-api":              {},
		"preexisting legacy-apps/details-svc":        {`warn pre-existing spec.ports "^details.bookinfo.com port 8080 is no port of ServiceEntry legacy-apps/details-svc"`},
	},
}

func TestFixtures(t *testing.T) { rulestest.Package(t, serviceentry.All(), fixtures) }
