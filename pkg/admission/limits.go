package admission

import (
	"fmt"

	"github.com/meshguard/meshguard/pkg/config"
	"github.com/meshguard/meshguard/pkg/rules"
)

// checkLimits returns a denial line when the reviewed object has more
// routes, hosts or subsets than rules walk in one review (empty when within).
// Such an object is refused outright: naming the field and the limit is more
// useful than a webhook that runs out of memory under failurePolicy Fail.
func checkLimits(l config.Limits, c *rules.Change) string {
	l = l.WithDefaults()
	over := func(field string, n, limit int, key string) string {
		return fmt.Sprintf("%s: %d entries are over the %d meshguard reviews in one object (limits.%s in its configuration) — split the object, or raise the limit", field, n, limit, key)
	}
	if vs := c.NewVS; vs != nil {
		if len(vs.Hosts) > l.Hosts {
			return over("spec.hosts", len(vs.Hosts), l.Hosts, "hosts")
		}
		routes := len(vs.TCP) + len(vs.TLS)
		for _, r := range vs.HTTP {
			routes += 1 + len(r.Route) + len(r.Mirrors) + len(r.Matches)
		}
		for _, rt := range vs.TCP {
			routes += len(rt)
		}
		for _, rt := range vs.TLS {
			routes += len(rt)
		}
		if routes > l.Routes {
			return over("spec.http, spec.tcp and spec.tls", routes, l.Routes, "routes")
		}
	}
	if dr := c.NewDR; dr != nil && len(dr.Subsets) > l.Subsets {
		return over("spec.subsets", len(dr.Subsets), l.Subsets, "subsets")
	}
	return ""
}
