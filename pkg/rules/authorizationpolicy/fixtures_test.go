package authorizationpolicy_test

import (
	"testing"

	"github.com/meshguard/meshguard/pkg/rules/authorizationpolicy"
	"github.com/meshguard/meshguard/pkg/rules/rulestest"
)

// legacyPlain is the warning every ALLOW policy on a shop workload earns:
// legacy's pods run without a sidecar and may call it in plaintext.
const legacyPlain = `"^plaintext callers in legacy, which may call it, can no longer call`

// Expected findings of each rule on its fixtures, keyed by "scenario ns/name".
var fixtures = map[string]map[string][]string{
	"MG701": {
		"ingress shop/productpage-viewer": {
			`deny spec.rules "^gateway pods in istio-system (service account istio-ingressgateway-service-account), callers by Gateway istio-system/public-gw and VirtualService shop/storefront, can no longer call shop/productpage port 9080: ALLOW policy shop/productpage-viewer applies and no rule of the ALLOW policies applying matches it — add cluster.local/ns/istio-system/sa/istio-ingressgateway-service-account to from.source.principals"`,
			`warn spec.rules "they arrive in plaintext, so no principal or namespace can match them"`},
		"ingress shop/productpage-viewer (gateway-allowed)": {`warn spec.rules ` + legacyPlain + `"`},
		"ingress shop/productpage-viewer (dry-run)":         {},
		"ingress shop/productpage-viewer (audit)":           {},
		"ingress shop/productpage-deny": {
			`deny spec.rules[0] "can no longer call shop/productpage port 9080: DENY policy shop/productpage-deny spec.rules[0] matches it — narrow that rule"`,
			`warn spec.rules[0] ` + legacyPlain + `"`},
		"ingress shop/productpage-deny (post-only)": {},
		"tcp shop/tcp-policy": {
			`deny spec.rules "^sidecars in frontend, callers by VirtualService frontend/tcp-echo, can no longer call shop/tcp-echo port 9000: ALLOW policy shop/tcp-policy applies and no rule of the ALLOW policies applying matches it — on a TCP port istiod drops ALLOW rules with HTTP-only fields"`,
			`warn spec.rules "^sidecars in shop (and plaintext callers in legacy), which may call it, can no longer call shop/tcp-echo port 9000"`},
		"tcp shop/tcp-policy (ports-only)": {`warn spec.rules ` + legacyPlain + `"`},
		"tcp shop/tcp-policy (wrong-sa)": {
			`deny spec.rules "^sidecars in frontend (service account sleep), callers by VirtualService frontend/tcp-echo, can no longer call shop/tcp-echo port 9000:"`,
			`warn spec.rules ` + legacyPlain + `"`},
		"delete shop/frontend-allowed": {
			`deny spec "^sidecars in frontend, callers by a DestinationRule in frontend for the host, can no longer call shop/tcp-echo port 9000: ALLOW policy shop/monitoring applies and no rule of the ALLOW policies applying matches it — keep the policy until the callers are allowed elsewhere, or add namespace frontend"`,
			`warn spec "^sidecars in shop (and plaintext callers in legacy), which may call it, can no longer call shop/tcp-echo port 9000"`},
		"root istio-system/allow-nothing": {
			`deny spec.rules "^gateway pods in istio-system (service account istio-ingressgateway-service-account), callers by Gateway istio-system/public-gw and VirtualService shop/storefront, can no longer call shop/productpage port 9080: ALLOW policy istio-system/allow-nothing applies"`},
		"root istio-system/allow-nothing (dry-run)":     {},
		"root istio-system/allow-nothing (target-refs)": {},
		"named shop/productpage-callers": {
			`deny spec.rules "^plaintext callers in legacy, named by AuthorizationPolicy shop/productpage-callers, can no longer call shop/productpage port 9080: ALLOW policy shop/productpage-callers applies and no rule of the ALLOW policies applying matches it — they arrive in plaintext, so no principal or namespace can match them: enroll them in the mesh first"`},
		"named shop/productpage-callers (shop-only)":  {`warn spec.rules ` + legacyPlain + `"`},
		"strict shop/productpage-callers":             {},
		"strict shop/productpage-callers (shop-only)": {},
		"trustdomain shop/echo-callers": {
			`deny spec.rules "^sidecars in frontend (service account sleep), callers by VirtualService frontend/tcp-echo, can no longer call shop/tcp-echo port 9000: ALLOW policy shop/echo-callers applies and no rule of the ALLOW policies applying matches it — its trust domain is not the mesh's (cluster.local) nor an alias, so no caller here matches it: write cluster.local/ns/frontend/sa/sleep"`,
			`warn spec.rules ` + legacyPlain + `"`},
		"foreign shop/echo-named": {
			`deny spec.rules "^sidecars in frontend (service account sleep), named by AuthorizationPolicy shop/echo-named as example.org/ns/frontend/sa/sleep, can no longer call shop/tcp-echo port 9000:"`,
			`warn spec.rules ` + legacyPlain + `"`},
		"foreign shop/echo-named (no-such-sa)":  {`warn spec.rules ` + legacyPlain + `"`},
		"trustdomain shop/echo-callers (local)": {`warn spec.rules ` + legacyPlain + `"`},
		"gateway istio-ingress/ingress-shop-only": {
			`deny spec.rules "^clients outside the mesh, through listener default by HTTPRoute shop/storefront, can no longer call Gateway istio-ingress/gateway port 80: ALLOW policy istio-ingress/ingress-shop-only applies and no rule of the ALLOW policies applying matches it — they reach a gateway without an Istio certificate, so no principal or namespace can match them"`,
			`warn spec.rules "^clients outside the mesh, which may call it, can no longer call Gateway istio-ingress/gateway port 8080:"`},
		"gateway istio-ingress/ingress-shop-only (ip-blocks)":     {},
		"gateway istio-ingress/ingress-shop-only (other-gateway)": {},
		"gateway istio-ingress/allow-nothing": {
			`deny spec.rules "^clients outside the mesh, through listener default by HTTPRoute shop/storefront, can no longer call Gateway istio-ingress/gateway port 80: ALLOW policy istio-ingress/allow-nothing applies"`,
			`warn spec.rules "^clients outside the mesh, which may call it, can no longer call Gateway istio-ingress/gateway port 8080:"`},
		"gateway istio-ingress/ingress-admin": {},
		"gateway istio-ingress/ingress-admin (not-namespaces)": {
			`deny spec.rules[0] "^clients outside the mesh, through listener default by HTTPRoute shop/storefront, can no longer call Gateway istio-ingress/gateway port 80: DENY policy istio-ingress/ingress-admin spec.rules[0] matches it — narrow that rule"`,
			`warn spec.rules[0] "^clients outside the mesh, which may call it, can no longer call Gateway istio-ingress/gateway port 8080:"`},
		"gateway shop/productpage-viewer": {
			`deny spec.rules "^gateway pods in istio-ingress (service account gateway-istio), callers by Gateway istio-ingress/gateway and HTTPRoute shop/storefront, can no longer call shop/productpage port 9080:"`,
			`warn spec.rules ` + legacyPlain + `"`},
		"gateway mesh/waypoint-callers": {
			`warn spec.targetRefs[0] "^not judged: the policy attaches to the waypoint serving Service mesh/echo, and meshguard does not model who calls through waypoints (ambient)"`},
		"gateway mesh/waypoint-callers (gateway-target)": {
			`warn spec.targetRefs[0] "^not judged: the policy attaches to waypoint Gateway mesh/waypoint"`},
		"gateway mesh/waypoint-callers (dry-run)": {},
		"typo shop/productpage-callers": {
			`deny spec.selector "^gateway pods in istio-system (service account istio-ingressgateway-service-account), callers by Gateway istio-system/public-gw and VirtualService shop/storefront, can no longer call shop/productpage port 9080: ALLOW policy shop/allow-nothing applies and no rule of the ALLOW policies applying matches it — the write moves shop/productpage-callers off these pods (spec.selector no longer matches them): restore it"`,
			`warn spec.selector "^sidecars in shop (and plaintext callers in legacy), which may call it, can no longer call shop/productpage port 9080: ALLOW policy shop/allow-nothing applies"`},
		"typo shop/productpage-callers (selector-kept)": {`warn spec.rules "^plaintext callers in legacy, which may call it, can no longer call shop/productpage port 9080: ALLOW policy shop/allow-nothing applies"`},
		"typo shop/productpage-callers (deleted)": {
			`deny spec "^gateway pods in istio-system (service account istio-ingressgateway-service-account), callers by Gateway istio-system/public-gw and VirtualService shop/storefront, can no longer call shop/productpage port 9080: ALLOW policy shop/allow-nothing applies and no rule of the ALLOW policies applying matches it — keep the policy until the callers are allowed elsewhere"`,
			`warn spec "^sidecars in shop (and plaintext callers in legacy), which may call it,"`},
		"moved shop/viewer": {
			`deny spec.rules "^gateway pods in istio-system (service account istio-ingressgateway-service-account), callers by Gateway istio-system/public-gw and VirtualService shop/storefront, can no longer call shop/productpage port 9080: ALLOW policy shop/viewer applies"`,
			`warn spec.rules ` + legacyPlain + `"`},
		"preexisting shop/productpage-viewer": {
			`warn pre-existing spec.rules "^gateway pods in istio-system"`,
			`warn spec.rules ` + legacyPlain + `"`},
	},
	"MG703": {
		"typo shop/productpage-callers":   {`warn spec.selector "^moves the policy off shop/productpage-1 onto nothing (it matches no pod with a proxy in shop), so Istio applies it nowhere and its ALLOW rules stop deciding who may call them — check spec.selector for a typo"`},
		"typo shop/reviews-deny":          {`warn spec.selector "^moves the policy off shop/reviews-v1-7f9-a1, shop/reviews-v2-5c4-b2 onto nothing (it matches no pod with a proxy in shop), so Istio applies it nowhere and its DENY rules stop refusing anyone there"`},
		"typo istio-system/ratings-audit": {`warn spec.selector "^moves the policy off shop/ratings-1 onto nothing (it matches no pod with a proxy), so Istio applies it nowhere and their requests are no longer audited"`},
		"typo shop/edge-callers":          {`warn spec.targetRefs "^moves the policy off shop/edge-istio-1 onto nothing (no gateway pod belongs to a Gateway it names in shop)"`},
	},
	"MG704": {
		"subset frontend/reviews": {
			`deny spec.http[0].route[1].destination "^sends 50% of the route's traffic from sidecars in frontend to subset v2 of Service shop/reviews, whose pods refuse them: AuthorizationPolicy shop/v2-internal applies there and no rule of the ALLOW policies applying matches it (403, or the connection closed on a TCP port) — allow them in shop/v2-internal"`},
		"deny frontend/reviews": {
			`deny spec.http[0].route[0].destination "^sends 100% of the route's traffic from sidecars in frontend to subset v2 of Service shop/reviews, whose pods refuse them: AuthorizationPolicy shop/v2-not-frontend applies there and its spec.rules[1] matches it (403, or the connection closed on a TCP port) — narrow that rule of shop/v2-not-frontend"`},
		"preexisting frontend/reviews": {
			`warn pre-existing spec.http[0].route[0].destination "^sends 100% of the route's traffic from sidecars in frontend to subset v2 of Service shop/reviews, whose pods refuse them"`},
	},
	"MG702": {
		"pa shop/productpage": {
			`deny spec.mtls.mode "^the DISABLE mode, which turns auto mTLS off, makes sidecars in frontend and in every other namespace without a route or rule of its own for the host reach shop/productpage without mTLS, so they carry no principal or namespace and AuthorizationPolicy shop/frontend-only refuses them (no rule of the ALLOW policies applying matches it)"`},
		"pa shop/productpage (permissive)": {},
		"preexisting shop/productpage": {
			`warn pre-existing spec.mtls.mode "makes sidecars in frontend reach shop/productpage without mTLS"`,
			`warn spec.mtls.mode "^the DISABLE mode, which turns auto mTLS off, makes sidecars in every namespace without a route or rule of its own for the host reach"`},
		"dr frontend/productpage": {
			`deny spec.trafficPolicy.tls.mode "(tls mode DISABLE) makes sidecars in frontend reach shop/productpage without mTLS"`},
		"dr frontend/productpage (mutual)": {},
	},
}

func TestFixtures(t *testing.T) { rulestest.Package(t, authorizationpolicy.All(), fixtures) }
