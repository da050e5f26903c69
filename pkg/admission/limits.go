package admission

import (
	"fmt"

	"github.com/meshguard/meshguard/pkg/config"
	"github.com/meshguard/meshguard/pkg/rules"
)

// checkLimits returns a denial line when the reviewed object has more
// routes, hosts or subsets than rules walk in one review, or costs more than
// a review may spend on one object (empty when within). Such an object is
// refused outright: naming the field and the limit is more useful than a
// webhook that runs out of memory or time under failurePolicy Fail.
func checkLimits(l config.Limits, c *rules.Change) string {
	l = l.WithDefaults()
	over := func(field string, n, limit int, key string) string {
		return fmt.Sprintf("%s: %d entries are over the %d meshguard reviews in one object (limits.%s in its configuration) — split the object, or raise the limit", field, n, limit, key)
	}
	if vs := c.NewVS; vs != nil {
		if len(vs.Hosts) > l.Hosts {
			return over("spec.hosts", len(vs.Hosts), l.Hosts, "hosts")
		}
		if routes := routeEntries(vs); routes > l.Routes {
			return over("spec.http, spec.tcp and spec.tls", routes, l.Routes, "routes")
		}
	}
	if dr := c.NewDR; dr != nil && len(dr.Subsets) > l.Subsets {
		return over("spec.subsets", len(dr.Subsets), l.Subsets, "subsets")
	}
	return checkCost(l.Cost, c)
}

// checkCost returns a denial line when the object c writes costs more than
// limit, saying what the cost is made of and what to split.
func checkCost(limit int, c *rules.Change) string {
	cost := Cost(c)
	if cost <= limit {
		return ""
	}
	var made, split string
	switch {
	case c.NewVS != nil:
		vs := c.NewVS
		made = fmt.Sprintf("spec.hosts × (spec.http, spec.tcp and spec.tls + spec.gateways): %d hosts × (%d routes, matches and destinations + %d gateways)",
			max(1, len(vs.Hosts)), routeEntries(vs), len(vs.Gateways))
		split = "split the hosts, or the routes, over several VirtualServices"
	case c.NewDR != nil:
		made = fmt.Sprintf("spec.subsets × portLevelSettings: (1 + %d subsets) × (1 + %d port-level settings of the rule and its subsets)",
			len(c.NewDR.Subsets), portSettings(c.NewDR))
		split = "keep fewer subsets or port-level settings in one rule (subsets inherit the rule's trafficPolicy)"
	case c.NewPA != nil:
		made = fmt.Sprintf("spec.portLevelMtls: 1 + %d ports", len(c.NewPA.PortModes))
		split = "split the ports over policies with narrower selectors"
	}
	return fmt.Sprintf("%s cost %d, over the %d meshguard reviews in one object (limits.cost in its configuration) — %s, or raise the limit", made, cost, limit, split)
}
