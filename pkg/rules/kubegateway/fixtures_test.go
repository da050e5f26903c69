package kubegateway_test

import (
	"testing"

	"github.com/meshguard/meshguard/pkg/rules/kubegateway"
	"github.com/meshguard/meshguard/pkg/rules/rulestest"
)

// Expected findings of each rule on its fixtures, keyed by "scenario ns/name".
var fixtures = map[string]map[string][]string{
	"MG505": {
		"listeners istio-ingress/gateway": {
			`deny spec "^without this Gateway, HTTPRoute shop/storefront bound to it gets no requests for store.example.com on port 80 from gateway istio-ingress/gateway (istio-ingress): they get 404, or the connection is refused — move those routes to another listener or Gateway first"`,
			`deny spec "^without this Gateway, HTTPRoute shop/reviews-site bound to it gets no requests for reviews.example.com on port 80"`,
		},
		"listeners istio-ingress/staging": {},
		"listeners istio-ingress/gateway (remove-listener)": {
			`deny spec.listeners[0] "^Gateway istio-ingress/gateway has no listener on port 80, HTTPRoute shop/storefront bound to it gets no requests for store.example.com"`,
			`deny spec.listeners[0] "^Gateway istio-ingress/gateway has no listener on port 80, HTTPRoute shop/reviews-site bound to it gets no requests for reviews.example.com"`,
		},
		"listeners istio-ingress/gateway (hostname)": {
			`deny spec.listeners[0] "^no listener of Gateway istio-ingress/gateway accepts store.example.com on port 80 for routes of shop, HTTPRoute shop/storefront"`,
			`deny spec.listeners[0] "^no listener of Gateway istio-ingress/gateway accepts reviews.example.com on port 80 for routes of shop, HTTPRoute shop/reviews-site"`,
		},
		"listeners istio-ingress/gateway (hostname-widened)": {},
		"listeners istio-ingress/gateway (port)": {
			`deny spec.listeners[0] "^Gateway istio-ingress/gateway has no listener on port 80, HTTPRoute shop/storefront"`,
			`deny spec.listeners[0] "^Gateway istio-ingress/gateway has no listener on port 80, HTTPRoute shop/reviews-site"`,
		},
		"listeners istio-ingress/gateway (protocol)": {
			`deny spec.listeners[0] "^no listener of Gateway istio-ingress/gateway on port 80 (http) admits HTTPRoute shop/storefront: its parentRef's sectionName or port, or the listener's protocol or allowedRoutes, exclude it"`,
			`deny spec.listeners[0] "^no listener of Gateway istio-ingress/gateway on port 80 (http) admits HTTPRoute shop/reviews-site"`,
		},
		"listeners istio-ingress/gateway (same)": {
			`deny spec.listeners[0] "^no listener of Gateway istio-ingress/gateway accepts store.example.com on port 80 for routes of shop, HTTPRoute shop/storefront"`,
			`deny spec.listeners[0] "^no listener of Gateway istio-ingress/gateway accepts reviews.example.com on port 80 for routes of shop, HTTPRoute shop/reviews-site"`,
		},
		"listeners istio-ingress/gateway (selector)": {},
		"listeners istio-ingress/gateway (selector-other)": {
			`deny spec.listeners[0] "^no listener of Gateway istio-ingress/gateway on port 80 (http) admits HTTPRoute shop/storefront"`,
			`deny spec.listeners[0] "^no listener of Gateway istio-ingress/gateway on port 80 (http) admits HTTPRoute shop/reviews-site"`,
		},
		"listeners istio-ingress/gateway (rename)": {
			`deny spec.listeners[0] "^no listener of Gateway istio-ingress/gateway on port 80 (web) admits HTTPRoute shop/reviews-site"`,
		},
		"listeners istio-ingress/gateway (kinds)": {
			`deny spec.listeners[0] "^no listener of Gateway istio-ingress/gateway on port 80 (http) admits HTTPRoute shop/storefront"`,
			`deny spec.listeners[0] "^no listener of Gateway istio-ingress/gateway on port 80 (http) admits HTTPRoute shop/reviews-site"`,
		},
		"listeners istio-ingress/gateway (add-https)": {},
		"preexisting istio-ingress/gateway": {
			`warn pre-existing spec.listeners "^no listener of Gateway istio-ingress/gateway accepts blog.example.net on port 80 for routes of shop, HTTPRoute shop/blog bound to it gets no requests"`,
		},
	},
}

func TestFixtures(t *testing.T) { rulestest.Package(t, kubegateway.All(), fixtures) }
