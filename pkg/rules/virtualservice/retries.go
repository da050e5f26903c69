package virtualservice

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/meshguard/meshguard/pkg/config"
	"github.com/meshguard/meshguard/pkg/mesh"
	"github.com/meshguard/meshguard/pkg/rules"
	"github.com/meshguard/meshguard/pkg/state"
)

// minBackoff is Envoy's default base interval between retries.
const minBackoff = 25 * time.Millisecond

// retries (MG306) denies retry policies that turn a partial outage into a full
// one: more attempts than the limit (load multiplies per hop). It warns about
// retrying plain 4xx, a worst case that outlasts the route timeout (Envoy caps
// retries by the route timeout, as Istio's HTTPRetry reference notes: wasted
// tries, not broken requests) and retries towards a destination without
// outlier detection.
type retries struct{ vsRule }

func (retries) ID() string { return "MG306" }

func (retries) Reads() []state.Kind {
	return []state.Kind{state.DestinationRuleKind, state.ServiceEntryKind, state.ServiceKind}
}

func (r retries) Check(in *rules.Input) []rules.Finding {
	vs := in.VS
	if vs == nil {
		return nil
	}
	limit := in.Config.RetryLimit
	if limit == 0 {
		limit = config.DefaultRetryLimit
	}
	var out []rules.Finding
	for i, route := range vs.HTTP {
		rt := route.Retries
		if rt == nil || rt.Attempts <= 0 {
			continue
		}
		field := fmt.Sprintf("spec.http[%d].retries", i)
		add := func(action rules.Action, sub, key, msg string) {
			out = append(out, rules.Finding{Rule: r.ID(), Action: action, Field: field + sub, Key: field + key, Message: msg})
		}
		tries := rt.Attempts + 1
		if rt.Attempts > limit {
			add(rules.Deny, ".attempts", "attempts", fmt.Sprintf("%d retries make up to %d tries per request: load multiplies %dx per hop and %.0fx across three hops during an outage — use at most %d",
				rt.Attempts, tries, tries, math.Pow(float64(tries), 3), limit))
		}
		if slices.Contains(strings.Split(strings.ReplaceAll(rt.RetryOn, " ", ""), ","), "4xx") {
			add(rules.Warn, ".retryOn", "retryOn", "retryOn 4xx retries client errors, which fail the same way again and only add load; use retriable-4xx")
		}
		if route.Timeout > 0 && rt.PerTryTimeout > 0 {
			backoff := max(rt.Backoff, minBackoff)
			worst := time.Duration(tries)*rt.PerTryTimeout + time.Duration(rt.Attempts)*backoff
			if worst > route.Timeout {
				// Envoy stops retrying when the route timeout expires, so
				// this wastes tries rather than breaking requests: a warning.
				add(rules.Warn, ".perTryTimeout", "timeout", fmt.Sprintf("worst case %d×%s + backoff = %s exceeds the route timeout %s: the last tries are cut off",
					tries, rt.PerTryTimeout, worst.Round(time.Millisecond), route.Timeout))
			}
		}
		// Advice about outlier detection is given when retries are written,
		// not on every later edit of the route: a controller that only moves
		// weights (Flagger, Argo Rollouts) would hear it on each step.
		if retriesKept(in, i) {
			continue
		}
		for _, d := range route.Route {
			res := in.Routing.Hosts.Resolve(in.State, d.Host, vs.Namespace)
			if res.Service == nil || r.hasOutlierDetection(in, res.FQDN, res.ServiceNamespace, d.Subset) {
				continue
			}
			add(rules.Warn, "", "outlier:"+res.FQDN, fmt.Sprintf("retries towards %s without outlier detection keep hitting failing endpoints; add outlierDetection to its DestinationRule", d.Host))
			break
		}
	}
	return out
}

// hasOutlierDetection reports whether the DestinationRule the VirtualService's
// own namespace finds for the host (Istio's lookup) ejects failing endpoints:
// in its top-level policy (the oldest merged rule's) or the subset's.
func (retries) hasOutlierDetection(in *rules.Input, fqdn, serviceNS, subset string) bool {
	rs := in.Routing.Lookup(in.State, fqdn, in.VS.Namespace, serviceNS)
	if owner := rs.PolicyOwner(); owner != nil && mesh.Ejects(owner.Policy) {
		return true
	}
	sub, _ := rs.Subset(subset)
	return sub != nil && mesh.Ejects(sub.Policy)
}

// retriesKept reports whether an update leaves route i's retries as they
// were (same policy, same destinations' hosts).
func retriesKept(in *rules.Input, i int) bool {
	old := in.Change.OldVS
	if in.Change.Operation != rules.Update || old == nil || i >= len(old.HTTP) {
		return false
	}
	was, now := old.HTTP[i], in.VS.HTTP[i]
	if was.Retries == nil || *was.Retries != *now.Retries || len(was.Route) != len(now.Route) {
		return false
	}
	for j := range now.Route {
		if was.Route[j].Host != now.Route[j].Host || was.Route[j].Subset != now.Route[j].Subset {
			return false
		}
	}
	return true
}
