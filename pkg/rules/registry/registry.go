// Package registry lists every active rule. It is separate from package rules
// so that rule packages can import the rule types without a cycle.
package registry

import (
	"github.com/meshguard/meshguard/pkg/rules"
	"github.com/meshguard/meshguard/pkg/rules/authorizationpolicy"
	"github.com/meshguard/meshguard/pkg/rules/destinationrule"
	"github.com/meshguard/meshguard/pkg/rules/gateway"
	"github.com/meshguard/meshguard/pkg/rules/httproute"
	"github.com/meshguard/meshguard/pkg/rules/kubegateway"
	"github.com/meshguard/meshguard/pkg/rules/namespace"
	"github.com/meshguard/meshguard/pkg/rules/peerauthentication"
	"github.com/meshguard/meshguard/pkg/rules/referencegrant"
	"github.com/meshguard/meshguard/pkg/rules/serviceentry"
	"github.com/meshguard/meshguard/pkg/rules/sidecar"
	"github.com/meshguard/meshguard/pkg/rules/tlsmaterial"
	"github.com/meshguard/meshguard/pkg/rules/virtualservice"
)

// Rules returns every registered rule, in catalogue order.
func Rules() []rules.Rule {
	var all []rules.Rule
	all = append(all, peerauthentication.All()...)
	all = append(all, destinationrule.All()...)
	all = append(all, virtualservice.All()...)
	all = append(all, tlsmaterial.All()...)
	all = append(all, serviceentry.All()...)
	all = append(all, httproute.All()...)
	all = append(all, referencegrant.All()...)
	all = append(all, kubegateway.All()...)
	all = append(all, gateway.All()...)
	all = append(all, sidecar.All()...)
	all = append(all, authorizationpolicy.All()...)
	return append(all, namespace.All()...)
}
