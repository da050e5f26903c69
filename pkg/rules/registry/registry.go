// Package registry lists every active rule. It is separate from package rules
// so that rule packages can import the rule types without a cycle.
package registry

import (
	"github.com/meshguard/meshguard/pkg/rules"
	"github.com/meshguard/meshguard/pkg/rules/peerauthentication"
)

// Rules returns every registered rule, in catalogue order.
func Rules() []rules.Rule {
	return peerauthentication.All()
}
