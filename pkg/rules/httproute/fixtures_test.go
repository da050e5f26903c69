package httproute_test

import (
	"testing"

	"github.com/meshguard/meshguard/pkg/rules/httproute"
	"github.com/meshguard/meshguard/pkg/rules/rulestest"
)

// Expected findings of each rule on its fixtures, keyed by "scenario ns/name".
var fixtures = map[string]map[string][]string{
	"MG501": {
		"backends shop/ratings (missing-service)":       {`deny spec.rules[0].backendRefs[1] "^no Service ratings-v9.shop.svc.cluster.local exists, so 10% of the requests HTTPRoute shop/ratings takes for ratings.shop.svc.cluster.local:9080 from sidecars in shop get 500 — create the Service"`},
		"backends shop/ratings (port)":                  {`deny spec.rules[0].backendRefs[0] "^Service shop/ratings has no port 7777, so 100% of the requests"`},
		"backends shop/store (cross-namespace)":         {`deny spec.rules[0].backendRefs[0] "^no ReferenceGrant in legacy lets HTTPRoutes of shop refer to Service billing, so 100% of the requests HTTPRoute shop/store takes for store.example.com:80 from gateway istio-ingress/gateway (istio-ingress) get 500 — create the ReferenceGrant in the backend's namespace first"`},
		"backends shop/ratings (cross-namespace-mesh)":  {},
		"backends shop/ratings (canary)":                {},
		"service shop/ratings-v2":                       {`deny spec "^without Service shop/ratings-v2 the backendRef to ratings-v2.shop.svc.cluster.local resolves to nothing (istiod drops it): HTTPRoute shop/productpage sends sidecars in shop there, so 20% of that route's traffic fails with 500 — move those routes off the host first"`},
		"service shop/ratings-v2 (renumber)":            {`deny spec.ports "^port 9080 is no longer a port of Service shop/ratings-v2 (it exposes 8080: no cluster for the routed port): HTTPRoute shop/productpage sends sidecars in shop there, so 20% of that route's traffic fails with 500"`},
		"service shop/ratings-v2 (label)":               {},
		"backends shop/productpage":                     {`deny spec.rules[0].backendRefs[0] "^no Service productpage-v2.shop.svc.cluster.local exists, so 100% of the requests HTTPRoute shop/productpage takes for productpage.shop.svc.cluster.local:9080"`},
		"backends shop/ratings":                         {},
		"grants shop/ratings (granted)":                 {},
		"port-scoped shop/ratings-admin":                {`deny spec.rules[0].backendRefs[0] "^no Service ratings-admin-v2.shop.svc.cluster.local exists, so 100% of the requests HTTPRoute shop/ratings-admin takes for ratings.shop.svc.cluster.local:9090 from sidecars in shop get 500"`},
		"port-scoped shop/ratings-admin (same-service)": {},
		"consumer web/productpage":                      {`deny spec.rules[0].backendRefs[1] "^no Service productpage-v9.shop.svc.cluster.local exists, so 10% of the requests HTTPRoute web/productpage takes for productpage.shop.svc.cluster.local:9080 from sidecars in web get 500"`},
		"consumer legacy/productpage":                   {},
		"handover shop/productpage":                     {`deny spec "^no Service productpage-v9.shop.svc.cluster.local exists, so 10% of the requests HTTPRoute shop/productpage-split takes for productpage.shop.svc.cluster.local:9080 from sidecars in shop get 500 — keep this VirtualService's host until HTTPRoute shop/productpage-split sends to backends that resolve"`},
		"handover shop/productpage (timeout)":           {},
		"grpc shop/ratings-admin":                       {`deny spec.rules[0].backendRefs[1] "^no Service ratings-v9.shop.svc.cluster.local exists, so 10% of the requests GRPCRoute shop/ratings-admin takes for ratings.shop.svc.cluster.local:9090 from sidecars in shop get 500"`},
		"grpc shop/ratings-admin (same-service)":        {},
		"grpc shop/reviews-grpc":                        {},
		"grpc shop/productpage":                         {`deny spec "^without Service shop/productpage the backendRef to productpage.shop.svc.cluster.local resolves to nothing (istiod drops it): GRPCRoute shop/reviews-grpc sends sidecars in shop there, so 20% of that route's traffic fails with 500"`},
		"grants shop/ratings (still-ungranted)":         {`warn pre-existing spec.rules[0].backendRefs[0] "^no ReferenceGrant in legacy lets HTTPRoutes of shop refer to Service ledger-db"`},
	},
	"MG502": {
		"canary shop/ratings (shift)":         {`deny spec.rules[0].backendRefs[1] "^HTTPRoute shop/ratings sends 50% of the requests for ratings.shop.svc.cluster.local:9080 from sidecars in shop to Service shop/ratings-v2, which has no Ready pod (1 running, none Ready): 503"`},
		"canary shop/ratings (weight-zero)":   {},
		"service shop/ratings-v2":             {`deny spec.selector "^after this change ratings-v2.shop.svc.cluster.local has no Ready pod (1 running, none Ready): HTTPRoute shop/productpage sends sidecars in shop there, so 20% of that route's traffic fails with 503"`},
		"canary shop/productpage (unchanged)": {`warn pre-existing spec.rules[0].backendRefs[1] "^HTTPRoute shop/productpage sends 20% of the requests"`},
		"canary shop/productpage":             {},
	},
	"MG503": {
		"attach shop/reviews":                 {},
		"attach shop/ratings":                 {`warn spec.parentRefs "^nothing reached that host before, so nothing breaks yet: no listener of Gateway istio-ingress/gateway accepts ratings.example.net on port 80 for routes of shop: HTTPRoute shop/ratings is not attached"`},
		"attach shop/docs":                    {`warn spec.parentRefs "^no Gateway istio-ingress/gw-typo exists: HTTPRoute shop/docs is not attached there"`},
		"attach shop/legacy-site (unchanged)": {`warn spec.parentRefs "^no listener of Gateway istio-ingress/gateway accepts legacy.example.net on port 80 for routes of shop"`},
		"attach shop/storefront":              {},
		"attach shop/reviews-default":         {},
		"attach shop/reviews-port":            {},
		"attach shop/reviews-internal":        {`warn spec.parentRefs "^nothing reached that host before, so nothing breaks yet: no listener of Gateway istio-ingress/gateway on port 80 (default) admits HTTPRoute shop/reviews-internal: its parentRef's sectionName or port"`},
		"attach shop/reviews-8443":            {`warn spec.parentRefs "no listener of Gateway istio-ingress/gateway on port 80 (default) admits HTTPRoute shop/reviews-8443"`},
		"detach shop/storefront (typo)":       {`deny spec.parentRefs "^no Gateway istio-ingress/gatway exists: HTTPRoute shop/storefront is not attached there and it is no longer attached to istio-ingress/gateway, which served it, so requests for store.example.com get 404"`},
		"detach shop/storefront (rehost)":     {`deny spec.parentRefs "^HTTPRoute shop/storefront was attached to Gateway istio-ingress/gateway and now is for none of its hostnames, so the hosts it served there (store.example.com) get 404: no listener of Gateway istio-ingress/gateway accepts store.example.org"`},
		"detach shop/storefront (moved)":      {},
		"detach shop/outlet":                  {`warn pre-existing spec.parentRefs "^no Gateway istio-ingress/gatway exists: HTTPRoute shop/outlet is not attached there, so requests for outlet.example.com get 404"`},
		"detach shop/storefront (extra-host)": {`warn spec.parentRefs "^nothing reached that host before, so nothing breaks yet: no listener of Gateway istio-ingress/gateway accepts store.example.org"`},
	},
}

func TestFixtures(t *testing.T) { rulestest.Package(t, httproute.All(), fixtures) }
