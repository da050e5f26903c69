package gateway_test

import (
	"testing"

	"github.com/meshguard/meshguard/pkg/rules/gateway"
	"github.com/meshguard/meshguard/pkg/rules/rulestest"
)

// Expected findings of each rule on its fixtures, keyed by "scenario ns/name".
var fixtures = map[string]map[string][]string{
	"MG602": {
		"bound istio-ingress/web":                   {`deny spec "^without this Gateway, VirtualService shop/storefront-web bound to it gets no requests for shop.example.com on port 80 from gateway istio-ingress/web (istio-ingress): they get 404, or the connection is refused — move or delete those VirtualServices first"`},
		"bound istio-ingress/staging":               {},
		"bound istio-ingress/web (drop-host)":       {`deny spec.servers "^no server of Gateway istio-ingress/web accepts shop.example.com on port 80, VirtualService shop/storefront-web bound to it gets no requests"`},
		"bound istio-ingress/web (selector)":        {`deny spec.selector "^Gateway istio-ingress/web selects no gateway pod in istio-ingress, VirtualService shop/storefront-web"`},
		"bound istio-ingress/web (port)":            {`deny spec.servers "^no server of Gateway istio-ingress/web accepts shop.example.com on port 80,"`},
		"bound istio-ingress/web (widen)":           {},
		"bound istio-ingress/web (namespaced)":      {},
		"bound istio-ingress/web (other-namespace)": {`deny spec.servers "^no server of Gateway istio-ingress/web accepts shop.example.com on port 80,"`},
		"preexisting istio-ingress/web":             {`warn pre-existing spec.servers "^no server of Gateway istio-ingress/web accepts blog.example.org on port 80, VirtualService shop/blog bound to it gets no requests"`},
	},
}

func TestFixtures(t *testing.T) { rulestest.Package(t, gateway.All(), fixtures) }
