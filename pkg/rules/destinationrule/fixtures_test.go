package destinationrule_test

import (
	"testing"

	"github.com/meshguard/meshguard/pkg/rules/destinationrule"
	"github.com/meshguard/meshguard/pkg/rules/rulestest"
)

// Expected findings of each rule on its fixtures, keyed by "scenario ns/name".
var fixtures = map[string]map[string][]string{
	"MG201": {
		"service-selector shop/productpage (legacy)": {`deny spec.selector "^after this change the endpoints of productpage.shop.svc.cluster.local cannot terminate the Istio mTLS clients send (productpage-legacy-1): the host's default route sends sidecars in shop there"`},
		"service-selector shop/productpage (meshed)": {},
		"httproute shop/productpage":                 {`deny spec.rules[0].backendRefs[1] "^ISTIO_MUTUAL towards billing.legacy.svc.cluster.local, but 1 of its 1 Ready pods have no sidecar on that port, or one that does not intercept it (billing-0): requests from sidecars in shop fail the TLS handshake"`},
		"httproute shop/productpage (meshed)":        {},
		"preexisting legacy/billing":                 {`warn pre-existing spec.trafficPolicy.tls.mode "ISTIO_MUTUAL towards billing.legacy.svc.cluster.local, but 1 of its 1 Ready pods have no sidecar"`},
		"wildcard istio-system/default":              {`deny spec.trafficPolicy.tls.mode "ISTIO_MUTUAL towards *.local reaches 3 Service(s) whose servers have no proxy to terminate it: legacy/billing (1 of 1 Ready pods without a sidecar on that port: billing-0); default/kubernetes (no selector: its endpoints are outside the mesh); legacy/ledger-db (no selector: its endpoints are outside the mesh) — requests"`},
		"wildcard default/api-server":                {`deny spec.trafficPolicy.tls.mode "ISTIO_MUTUAL towards kubernetes.default.svc.cluster.local, but it has no selector, so its endpoints are outside the mesh"`},
		"port-disabled shop/productpage-plain":       {`deny spec.portLevelMtls "ISTIO_MUTUAL towards productpage.shop.svc.cluster.local, but PeerAuthentication shop/productpage-plain sets DISABLE on that port of 1 of its 1 Ready pods (productpage-1)"`},
		"port-disabled shop/reviews-plain":           {},
		"port-disabled-rule shop/productpage-mtls":   {`deny spec.trafficPolicy.tls.mode "^ISTIO_MUTUAL towards productpage.shop.svc.cluster.local, but PeerAuthentication shop/productpage-plain sets DISABLE on that port of 1 of its 1 Ready pods (productpage-1), whose proxies then accept only plaintext there: requests from sidecars in shop fail the TLS handshake — leave tls unset for this host"`},
		"mixed shop/productpage-mtls":                {`deny spec.trafficPolicy.tls.mode "^ISTIO_MUTUAL towards productpage.shop.svc.cluster.local, but 2 of its 2 Ready pods cannot terminate it on that port (productpage-1, productpage-2): 1 without a sidecar there (or with one that does not intercept it) and 1 where PeerAuthentication shop/productpage-plain sets DISABLE"`},
		"endpointslices serving/orders-db":           {`deny spec.trafficPolicy.tls.mode "^ISTIO_MUTUAL towards orders-db.serving.svc.cluster.local, but 1 of the 1 Ready endpoints its EndpointSlices list have no proxy to terminate it (an address no pod holds): requests from sidecars"`},
		"workloadentries vm/ledger":                  {`deny spec.trafficPolicy.tls.mode "^ISTIO_MUTUAL towards ledger.vm.svc.cluster.local, but 1 of its 1 Ready WorkloadEntries run no proxy to terminate it (WorkloadEntry ledger-vm): requests from sidecars in every namespace without a route or rule of its own for the host fail the TLS handshake — run the Istio proxy on them first"`},
		"mutual legacy/billing":                      {`deny spec.trafficPolicy.tls.mode "^ISTIO_MUTUAL towards billing.legacy.svc.cluster.local, but 1 of its 1 Ready pods have no sidecar on that port, or one that does not intercept it (billing-0): requests from sidecars in"`},
	},
	"MG202": {
		"service-selector shop/productpage":     {`deny spec.selector "^after this change the endpoints of productpage.shop.svc.cluster.local enforce STRICT against the plaintext clients send (payments-1): the host's default route sends sidecars in shop there"`},
		"selector frontend/productpage-api":     {`deny spec.trafficPolicy.tls.mode "^DISABLE sends plaintext from sidecars in frontend selected by app=api to shop/productpage (1 of 1 Ready pods STRICT by PeerAuthentication shop/default: productpage-1)"`},
		"egress-gateway shop/productpage-plain": {`deny spec.trafficPolicy.tls.mode "^DISABLE sends plaintext from sidecars in shop to shop/productpage (1 of 1 Ready pods STRICT by PeerAuthentication istio-system/default: productpage-1)"`},
		"strict shop/productpage-strict":        {`deny spec.mtls.mode "^DestinationRule shop/productpage-plain (tls mode DISABLE) makes sidecars in shop send plaintext to shop/productpage (1 of 1 Ready pods STRICT by PeerAuthentication shop/productpage-strict: productpage-1)"`},
		"strict shop/reviews-strict":            {},
		"several-rules shop/default":            {`deny spec.mtls.mode "^DestinationRules shop/productpage-plain, shop/reviews-plain (tls mode DISABLE) make sidecars in shop send plaintext to shop/productpage (1 of 1 Ready pods STRICT by PeerAuthentication shop/default: productpage-1); shop/reviews (1 of 1 Ready pods"`},
		"strict shop/productpage-port":          {`deny spec.portLevelMtls "^DestinationRule shop/productpage-plain (tls mode DISABLE) makes sidecars in shop send plaintext to shop/productpage (1 of 1 Ready pods STRICT by PeerAuthentication shop/productpage-port: productpage-1)"`},
		"exception shop/productpage-open":       {`deny spec.portLevelMtls "^DestinationRule shop/productpage-plain (tls mode DISABLE) makes sidecars in shop send plaintext to shop/productpage (1 of 1 Ready pods STRICT by PeerAuthentication shop/default: productpage-1)"`},
		"preexisting shop/ratings-plain":        {`warn pre-existing spec.trafficPolicy.tls.mode "DISABLE sends plaintext from sidecars in shop to shop/ratings (1 of 1 Ready pods STRICT by PeerAuthentication shop/ratings-strict"`},
		"wildcard shop/shop-plain":              {`deny spec.trafficPolicy.tls.mode "to shop/ratings (1 of 1 Ready pods STRICT by PeerAuthentication shop/ratings-strict: ratings-1): every connection is reset"`},
		"plaintext shop/ratings":                {`deny spec.trafficPolicy.portLevelSettings[0].tls.mode "DISABLE sends plaintext from sidecars in"`},
	},
	"MG203": {
		"preexisting shop/reviews":      {`warn pre-existing spec.subsets[1].labels "subset v3 selects no Ready pod of Service shop/reviews"`},
		"routed shop/reviews":           {`warn pre-existing spec.subsets[1].labels "subset v3 selects no Ready pod of Service shop/reviews (labels version=v3: 0 running or starting"`},
		"workloadentries vm/helloworld": {`deny spec.subsets[1].labels "^subset next selects no Ready endpoint of Service vm/helloworld (labels version=v2; 1 WorkloadEntry, none Ready), and VirtualService vm/helloworld sends 20% of its traffic there for sidecars in every namespace without a route or rule of its own for the host: those requests fail with 503 — fix the labels, or route 0% to next until its WorkloadEntries are Ready"`},
		"routed shop/reviews (relabel)": {`deny spec.subsets[0].labels "^subset v1 selects no Ready pod of Service shop/reviews (labels version=v2: 1 running or starting, none Ready), and VirtualService shop/reviews sends 90%"`, `warn spec.subsets[1].labels "subset v3 selects no running pod"`},
		"unrouted shop/reviews":         {`warn spec.subsets[2].labels "subset v3 selects no running pod of Service shop/reviews"`},
	},
	"MG204": {
		"teardown legacy/billing":       {},
		"preexisting shop/reviews":      {`warn pre-existing spec.subsets "leaves subset v3 undefined for sidecars in shop, but VirtualService shop/reviews sends 100%"`},
		"shadow frontend/reviews-local": {`deny spec.subsets "this rule would win the DestinationRule lookup of sidecars in frontend for reviews.shop.svc.cluster.local without defining subset v1, but VirtualService frontend/reviews-canary sends 80%"`},
		"shadow frontend/shop-tls": {
			// v2's 20% already failed (its pod is not Ready): only v1 is newly broken.
			`deny spec.subsets "without defining subset v1, but VirtualService frontend/reviews-canary sends 80%"`,
		},
		"removed shop/reviews":          {`deny spec.subsets "^removes subset v1, which sidecars in shop still need, but VirtualService shop/reviews sends 100% of a route's traffic to it"`},
		"removed shop/reviews (delete)": {`deny spec.subsets "deleting the rule leaves subset v1 undefined for sidecars in shop, but VirtualService shop/reviews"`},
		// A second route broken on a path whose first route already failed.
		"second-route shop/reviews":                      {`deny spec.subsets "^removes subset v1, which sidecars in shop still need, but VirtualService shop/reviews sends 100% of a route's traffic to it (spec.http[1].route[0].destination)"`},
		"export-narrowed shop/reviews":                   {`deny spec.exportTo "^exportTo [.] hides this rule, which defines subset v1, from gateway ingress/web (ingress), but VirtualService shop/reviews-edge sends 100% of a route's traffic to it (spec.http[0].route[0].destination): those requests fail with 503 — keep the rule exported to ingress"`},
		"selector frontend/reviews-api":                  {`deny spec.subsets "^this rule, with a workloadSelector, takes the DestinationRule lookup for reviews.shop.svc.cluster.local in frontend: sidecars in frontend that it does not select get no rule for the host at all (istiod no longer looks in the Service's namespace), so subset v1 is undefined for them, but VirtualService frontend/reviews-v1 sends 100%"`},
		"selector frontend/reviews-api (no-v1)":          {`deny spec.subsets "so subset v1 is undefined for them, and the ones it selects miss it too, but VirtualService frontend/reviews-v1"`},
		"selector-catchall frontend/reviews-api (no-v1)": {`deny spec.subsets "^this rule would win the DestinationRule lookup of sidecars in frontend selected by app=api for reviews.shop.svc.cluster.local without defining subset v1"`},
		"selector-delete frontend/reviews-local":         {`deny spec.subsets "^deleting the rule leaves subset v1 undefined for sidecars in frontend, but VirtualService frontend/reviews-v1 sends 100%"`},
		"selector frontend/reviews-batch":                {`deny spec.subsets "^this rule, with a workloadSelector, takes the DestinationRule lookup for reviews.shop.svc.cluster.local in frontend: sidecars in frontend that it does not select"`},
		"second-route shop/reviews (keep-v1)":            {`warn pre-existing spec.subsets "leaves subset v3 undefined for sidecars in shop"`},
	},
	"MG205": {
		"wildcard shop/shop-typo":   {`warn spec.host "host *.shpo.svc.cluster.local matches no Service and no ServiceEntry"`},
		"hosts shop/reviews-dotted": {`warn spec.host "host reviews.shop is not expanded by Istio and matches no"`},
		"hosts shop/nosuch":         {`warn spec.host "host nosuch matches no Service and no ServiceEntry, so this"`},
	},
	"MG206": {
		"duplicates shop/reviews-private": {`warn spec.host "shop/reviews also configures reviews.shop.svc.cluster.local with another exportTo, so istiod does not merge them: sidecars in shop use reviews-private alone and ignore reviews"`},
		"duplicates shop/reviews-extra":   {`warn spec.host "shop/reviews also configures reviews.shop.svc.cluster.local: subsets merge, but only the oldest trafficPolicy (reviews) applies and reviews-extra's is ignored"`, `warn spec.subsets[0].name "subset v1 is also defined by shop/reviews; only one"`},
	},
	"MG207": {
		"outliers shop/reviews": {`warn spec.trafficPolicy "shop/reviews splits traffic across subsets v1, v2, but no"`},
		"outliers shop/ratings": {`warn spec.trafficPolicy.outlierDetection.maxEjectionPercent "maxEjectionPercent 100 lets outlier detection eject every"`},
	},
}

func TestFixtures(t *testing.T) { rulestest.Package(t, destinationrule.All(), fixtures) }
