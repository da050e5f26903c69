package virtualservice_test

import (
	"testing"

	"github.com/meshguard/meshguard/pkg/rules/rulestest"
	"github.com/meshguard/meshguard/pkg/rules/virtualservice"
)

// Expected findings of each rule on its fixtures, keyed by "scenario ns/name".
var fixtures = map[string]map[string][]string{
	"MG301": {
		"gateway-selector shop/reviews-public (v2)": {`deny spec.http[0].route[0].destination.subset "^routes 100% of the route's traffic to subset v2 of reviews.shop.svc.cluster.local, but the DestinationRule proxies in istio-system use for it (istio-system/reviews-ingress) does not define it"`},
		"hidden frontend/reviews-v1":                {`deny spec.http[0].route[0].destination.subset "^routes 100% of the route's traffic to subset v1 of reviews.shop.svc.cluster.local, but sidecars in frontend find no DestinationRule for that host: shop/reviews defines it, but its exportTo does not reach them"`},
		"tcp-port legacy/ledger-db":                 {},
		"growth shop/reviews (raise)":               {`deny spec.http[0].route[1].destination.subset "routes 60% of the route's traffic to subset v3"`},
		"growth shop/reviews (lower)":               {`warn pre-existing spec.http[0].route[1].destination.subset "routes 30% of the route's traffic to subset v3"`},
		"preexisting shop/reviews":                  {`warn pre-existing spec.http[0].route[1].destination.subset "routes 10% of the route's traffic to subset v3 of reviews.shop.svc.cluster.local, but the DestinationRule proxies in shop use"`},
		"gateway shop/reviews-public":               {`deny spec.http[0].route[0].destination.subset "but the DestinationRule proxies in istio-system use for it (istio-system/reviews-gw) does not define it"`},
		"lookup shop/reviews (v2)":                  {`deny spec.http[0].route[0].destination.subset "but the DestinationRule proxies in frontend use for it (frontend/reviews-local) does not define it"`},
		"lookup shop/ratings-v1":                    {`deny spec.http[0].route[0].destination.subset "no DestinationRule for that host exists yet: Envoy has no such cluster and those requests fail with 503 — apply the DestinationRule defining v1 first"`},
		"subsets shop/reviews (v3)":                 {`deny spec.http[0].route[1].destination.subset "routes 10% of the route's traffic to subset v3 of reviews.shop.svc.cluster.local,"`},
		"subsets shop/reviews (mirror)":             {`warn spec.http[0].mirrors[0].destination.subset "mirrors to subset shadow of reviews.shop.svc.cluster.local, which the DestinationRule used in shop does not define: Envoy skips mirroring"`},
	},
	"MG302": {
		"service-targetport shop/details (named-missing)":    {`deny spec.ports "^after this change port 9080 of details.shop.svc.cluster.local has no endpoint: its targetPort \"web\" names no container port of the 1 Ready pod it selects, so that port's endpoints list none: the host's default route, VirtualService shop/details-public send sidecars in every namespace without a route or rule of its own for the host and gateway istio-system/public-gw (istio-system) there, so 100% of that route's traffic fails with 503 — name a container port the pods declare"`},
		"service-create legacy/reports (unready)":            {`deny spec.selector "^Service legacy/reports takes host reports.legacy.svc.cluster.local from ServiceEntry legacy/reports-vm (istiod prefers a Kubernetes Service for its host), and reports.legacy.svc.cluster.local has no Ready pod (1 running, none Ready): the host's default route, VirtualService legacy/reports send sidecars in every namespace without a route or rule of its own for the host and gateway istio-system/public-gw (istio-system) there, so 100% of that route's traffic fails with 503 — give the Service what the entry served (its ports, Ready endpoints) before creating it"`},
		"preexisting shop/reviews":                           {`warn pre-existing spec.http[0].route[1].destination "sends 10% of the route's traffic to subset v2 of reviews, which has no Ready pod"`},
		"ready shop/reviews":                                 {`deny spec.http[0].route[1].destination "^sends 10% of the route's traffic to subset v2 of reviews,"`},
		"fresh shop/details":                                 {`warn pre-existing spec.http[0].route[0].destination "sends 100% of the route's traffic to subset v1 of details, which has no Ready pod (1 running, none Ready)"`},
		"endpointslices serving/hello-mesh":                  {`deny spec.http[0].route[1].destination "^sends 10% of the route's traffic to hello-00002.serving.svc.cluster.local, which has no Ready pod (1 running, none Ready)"`},
		"remote shop/reviews":                                {`warn spec.http[0].route[1].destination "^sends 10% of the route's traffic to subset v2 of reviews, which has no Ready pod (1 running, none Ready): those requests fail with 503 — wait until its pods are Ready, or give it weight 0 (not denied: this mesh spans other clusters, by network network1 on istio-system, whose Ready endpoints for the host meshguard cannot see)"`},
		"eastwest-single-cluster shop/reviews":               {`deny spec.http[0].route[1].destination "^sends 10% of the route's traffic to subset v2 of reviews, which has no Ready pod (1 running, none Ready): those requests fail with 503 — wait until its pods are Ready, or give it weight 0"`},
		"eastwest-network-view shop/reviews":                 {`warn spec.http[0].route[1].destination "(not denied: this mesh spans other clusters, by gateway istio-system/istio-eastwestgateway-5f6-w3n9c asking for a network view (ISTIO_META_REQUESTED_NETWORK_VIEW), whose Ready endpoints"`},
		"eastwest-passthrough shop/reviews":                  {`warn spec.http[0].route[1].destination "(not denied: this mesh spans other clusters, by Gateway istio-system/cross-network-gateway passing mTLS from other networks through (AUTO_PASSTHROUGH), whose Ready endpoints"`},
		"workloadentries vm/helloworld":                      {`deny spec.http[0].route[1].destination "^sends 50% of the route's traffic to subset v2 of helloworld, which has no Ready endpoint (1 WorkloadEntry, none Ready): those requests fail with 503 — wait until its WorkloadEntries are Ready"`},
		"delete shop/podinfo":                                {`deny spec "deleting it sends sidecars in shop to the host's own Service shop/podinfo, which has no Ready pod (0 running, none Ready)"`},
		"serviceentries legacy-apps/details":                 {`deny spec.http[0].route[1].destination "^sends 50% of the route's traffic to subset v2 of details.bookinfo.com, which has no Ready endpoint (1 WorkloadEntry, none Ready)"`},
		"serviceentries legacy-apps/details (pod-not-ready)": {`deny spec.http[0].route[0].destination "^sends 100% of the route's traffic to subset v3 of details.bookinfo.com, which has no Ready pod (1 running, none Ready)"`},
		"serviceentries legacy-apps/mongo":                   {`deny spec.tcp[0].route[0].destination "^sends 100% of the route's traffic to subset c of mymongodb.somedomain, which has no Ready pod (0 running, none Ready)"`},
		"service-selector shop/productpage (unready)":        {`deny spec.selector "^after this change productpage.shop.svc.cluster.local has no Ready pod (1 running, none Ready): the host's default route, VirtualService shop/storefront send sidecars in every namespace without a route or rule of its own for the host and gateway istio-system/public-gw (istio-system) there, so 100% of that route's traffic fails with 503 — keep the selector on Ready pods"`},
		"service-selector shop/productpage (ready)":          {},
		"service-selector shop/reviews":                      {`deny spec.selector "^after this change subset v1 of reviews.shop.svc.cluster.local has no endpoint left: VirtualService shop/reviews sends sidecars in shop there"`},
	},
	"MG303": {
		"preexisting shop/productpage":    {`warn pre-existing spec.http[0].route[0].destination.host "host nosuch resolves to nosuch.shop.svc.cluster.local, but"`},
		"hosts legacy/dotted":             {`deny spec.http[0].route[0].destination.host "host reviews.shop is not expanded by Istio (only names"`},
		"hosts shop/productpage":          {`deny spec.http[0].route[0].destination.host "^host nosuch resolves to nosuch.shop.svc.cluster.local, but"`},
		"hosts shop/nosuch":               {`warn spec.http[0].route[0].destination.host "no client uses this route yet, but when one does it fails: host nosuch resolves to"`},
		"hosts shop/external":             {`warn spec.http[0].route[0].destination.host "host unknown.example.org matches no Service or"`},
		"service-delete shop/productpage": {`deny spec "^without Service shop/productpage its host productpage.shop.svc.cluster.local resolves to nothing (no Service or ServiceEntry: istiod keeps the routes, but builds no cluster for them): VirtualService shop/storefront sends gateway istio-system/public-gw (istio-system) there, so 100% of that route's traffic fails with 503 — move those routes off the host first"`},
		"service-delete shop/reviews":     {`deny spec "^without Service shop/reviews its host reviews.shop.svc.cluster.local resolves to nothing (no Service or ServiceEntry: istiod keeps the routes, but builds no cluster for them): VirtualService shop/checkout sends sidecars in shop there, so 100% of that route's traffic"`},
		"service-delete legacy/billing":   {},
	},
	"MG304": {
		"tcp-second shop/orders-tcp":                 {`deny spec.tcp[0].route[0].destination.port.number "^port 7777 is not a port of Service shop/orders (it exposes 5000): those requests fail with 503"`},
		"tcp-second shop/orders-tcp (port)":          {},
		"serviceentries legacy-apps/details":         {`deny spec.http[0].route[0].destination.port.number "^port 8080 is not a port of ServiceEntry legacy-apps/details-svc (it exposes 80): those requests fail with 503"`},
		"preexisting shop/reviews":                   {`warn pre-existing spec.http[0].route[0].destination.port.number "port 8080 is not a port of Service shop/reviews"`},
		"ports shop/reviews":                         {`deny spec.http[0].route[0].destination.port.number "^port 8080 is not a port of Service shop/reviews (it exposes"`},
		"service-ports shop/productpage (renumber)":  {`deny spec.ports "^port 9080 is no longer a port of Service shop/productpage (it exposes 8080: no cluster for the routed port): VirtualService shop/storefront sends gateway istio-system/public-gw (istio-system) there, so 100% of that route's traffic fails with 503"`},
		"service-create legacy/reports (other-port)": {`deny spec.ports "^Service legacy/reports takes host reports.legacy.svc.cluster.local from ServiceEntry legacy/reports-vm (istiod prefers a Kubernetes Service for its host), and it has no port 8080 (it exposes 80: no cluster for the routed port): VirtualService legacy/reports sends gateway istio-system/public-gw (istio-system) there, so 100% of that route's traffic fails with 503 — give the Service what the entry served"`},
		"ports shop/ratings-public":                  {`deny spec.http[0].route[0].destination.port "no destination port, so Istio uses the port called (80) for gateway istio-system/public-gw (istio-system), but Service shop/ratings exposes 2 ports (9080, 9090) and not that one"`},
	},
	"MG305": {
		"preexisting shop/typo":                     {`warn pre-existing spec.gateways[0] "Gateway shop/public-gw does not exist"`},
		"gateway-api shop/other-host":               {`deny spec.hosts "none of the hosts reviews.example.com matches a server of Gateway shop/bookinfo-gateway (shop/bookinfo.example.com)"`},
		"gateway-api shop/other-namespace":          {`deny spec.hosts "none of the hosts whatever.example.net matches a server of Gateway istio-system/same-namespace (istio-system/*)"`},
		"gateways shop/typo":                        {`deny spec.gateways[0] "Gateway shop/public-gw does not exist (neither an Istio nor a Gateway API one): this VirtualService"`},
		"gateways shop/wrong-host":                  {`deny spec.hosts "none of the hosts shop.example.org matches a server of"`},
		"dot-host shop/internal":                    {`deny spec.hosts "none of the hosts internal.example.com matches a server of Gateway istio-system/internal-gw (./internal.example.com)"`},
		"legacy-names istio-system/legacy-wrong-ns": {`deny spec.gateways[0] "Gateway shop/public-gw does not exist"`},
		"legacy-names shop/dot-ref":                 {`deny spec.gateways[0] "Gateway shop/public-gw does not exist"`},
	},
	"MG306": {
		"preexisting shop/storm": {`warn pre-existing spec.http[0].retries.attempts "5 retries make up to 6 tries per request"`},
		"retries shop/storm":     {`deny spec.http[0].retries.attempts "5 retries make up to 6 tries per request: load multiplies"`, `warn spec.http[0].retries "retries towards reviews without outlier detection keep"`},
		"retries shop/fourxx":    {`warn spec.http[0].retries.retryOn "retryOn 4xx retries client errors, which fail the same way"`},
		"retries shop/slow":      {`warn spec.http[0].retries.perTryTimeout "worst case 3×1s + backoff = 3.05s exceeds the route timeout 2s"`},
		"edges shop/grow":        {`warn spec.http[1].retries "retries towards reviews without outlier detection keep hitting failing endpoints"`},
		"retries shop/reference": {`warn spec.http[0].retries.perTryTimeout "worst case 4×2s + backoff = 8.075s exceeds the route timeout 5s"`},
	},
	"MG307": {
		"mesh shop/reviews-canary":        {`warn spec.hosts "host reviews is also claimed for sidecars (mesh) by VirtualService shop/reviews"`},
		"mesh legacy/reviews-from-legacy": {`warn spec.hosts "host reviews.shop.svc.cluster.local is also claimed for sidecars (mesh) by VirtualService shop/reviews"`},
		"claims shop/storefront-2":        {`warn spec.hosts "host shop.example.com is also claimed on gateway"`},
	},
	"MG308": {
		"order shop/shadowed": {`warn spec.http[1] "http[1] can never match: http[0] above it matches every"`},
	},
	"MG309": {
		"protocol shop/ratings":     {`warn spec.http[0].route "HTTP route to ratings port 9080 (named \"web\") with no"`},
		"protocol legacy/ledger-db": {`warn spec.http[0].route "HTTP route to ledger-db port 5432, which its name declares TCP: sidecars apply only tcp routes there"`},
	},
	"MG310": {
		"headers shop/upper": {`warn spec.http[0].match[0].headers "header X-User is written in upper case: Envoy lower-cases header names, so it matches x-user"`},
	},
}

func TestFixtures(t *testing.T) { rulestest.Package(t, virtualservice.All(), fixtures) }
