// Package diff compares meshguard's verdicts with istiod's (package judge):
// the conformance corpus and seeded random meshes, each write judged by
// both. A disagreement is a test failure unless a documented exception
// below explains why meshguard differs on purpose.
package diff

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/meshguard/meshguard/test/oracle/judge"
)

// Traffic are the rules whose verdict is a statement about paths istiod can
// check: routes, clusters and subsets, ready endpoints, ports, hosts, TLS
// mode against the server's sidecar and mTLS mode. The others (certificate
// contents and trust bundles, retry amplification, conflicting policies,
// selectors, warnings) are outside what generated config shows, and so are
// callers in other clusters (MG109: this istiod generates no config for
// them; the rule follows pilot/pkg/xds/endpoints/ep_filters.go instead).
var Traffic = map[string]bool{
	"MG101": true, "MG201": true, "MG202": true, "MG203": true, "MG204": true,
	"MG301": true, "MG302": true, "MG303": true, "MG304": true,
	"MG501": true, "MG502": true, "MG504": true, "MG601": true, "MG602": true, "MG603": true,
}

// Meshguard is meshguard's verdict on one write.
type Meshguard struct {
	// Denying lists the rules that deny it.
	Denying []string
}

// TrafficDenied reports whether a traffic rule denies the write.
func (m Meshguard) TrafficDenied() bool {
	return slices.ContainsFunc(m.Denying, func(r string) bool { return Traffic[r] })
}

// Scope is how wide a PeerAuthentication write reaches.
type Scope int

// Scopes.
const (
	NotPolicy Scope = iota
	MeshScope
	NamespaceScope
	WorkloadScope
)

// ScopeOf classifies the written object (before and after: the widest).
func ScopeOf(objs ...*judge.Object) Scope {
	best := NotPolicy
	for _, o := range objs {
		if o == nil || o.GetKind() != "PeerAuthentication" {
			continue
		}
		s := WorkloadScope
		sel, _, _ := nestedMap(o.Object, "spec", "selector", "matchLabels")
		switch {
		case len(sel) > 0 && o.GetNamespace() == "istio-system":
			continue // ignored by Istio
		case len(sel) > 0:
		case o.GetNamespace() == "istio-system":
			s = MeshScope
		default:
			s = NamespaceScope
		}
		if best == NotPolicy || s < best {
			best = s
		}
	}
	return best
}

func nestedMap(m map[string]any, path ...string) (map[string]any, bool, error) {
	cur := m
	for _, p := range path {
		next, ok := cur[p].(map[string]any)
		if !ok {
			return nil, false, nil
		}
		cur = next
	}
	return cur, true, nil
}

// Exception is a documented reason why meshguard and istiod differ on purpose.
type Exception struct {
	Name string
	// Reason is the Istio behaviour or product decision it rests on.
	Reason string
}

// Exceptions are the allow-list: each difference meshguard makes on purpose.
var Exceptions = []Exception{
	{"deliberate-outsiders", "pods kept out of the mesh on purpose (inject: false, dataplane-mode none, istio-injection=disabled, host network) " +
		"lose plaintext access under STRICT exactly as istiod says, but their owners chose that: meshguard warns (MG102) instead of denying"},
	{"outsiders-of-other-namespaces", "namespace-wide STRICT cuts off plaintext callers in other namespaces too; meshguard denies for the " +
		"namespace's own accidental outsiders (the likeliest callers) and warns (MG102) for the rest, because a namespace owner cannot inject another team's pods"},
	{"workload-policy-neighbours", "a workload-level STRICT cuts off every plaintext caller of those pods; meshguard warns (MG102): the policy's author targeted the workload on purpose"},
	{"passthrough-calls", "a sidecar whose Sidecar imports no such host sends the call, under ALLOW_ANY, to the PassthroughCluster: plaintext to " +
		"the cluster IP, past every route and DestinationRule, so STRICT on the server or a Sidecar narrowing can break it, as istiod's config shows. " +
		"meshguard does not judge calls that leave Istio's routing (MG603's catalogue text: ALLOW_ANY, or a mesh config it is not told), and a " +
		"Sidecar's egress hosts declare what its workloads call: the gap is reported, not denied"},
	{"servers-not-ready-yet", "MG101 counts pods that are Pending or not Ready yet as the servers they are about to be: STRICT over them breaks their plaintext callers " +
		"the moment they turn Ready. istiod judges the instant; the case is excused when istiod denies once those pods run Ready"},
}

// ReadyAll returns objs with every Pending or Running pod Running and Ready:
// the state a moment later, when pods still starting serve.
func ReadyAll(objs []judge.Object) []judge.Object {
	out := make([]judge.Object, len(objs))
	for i, o := range objs {
		out[i] = o
		if o.GetKind() != "Pod" {
			continue
		}
		if phase, _, _ := unstructured.NestedString(o.Object, "status", "phase"); phase != "Running" && phase != "Pending" {
			continue
		}
		c := judge.Object{Unstructured: o.DeepCopy(), Source: o.Source}
		_ = unstructured.SetNestedField(c.Object, "Running", "status", "phase")
		_ = unstructured.SetNestedSlice(c.Object, []any{map[string]any{"type": "Ready", "status": "True"}}, "status", "conditions")
		out[i] = c
	}
	return out
}

// Verdict is istiod's reading of a write, ready to compare.
type Verdict struct {
	// Deny: some broken path is one meshguard must deny.
	Deny bool
	// Excused are the exceptions that turned broken paths into warnings.
	Excused []string
	// Reasons describe the broken paths that require a denial.
	Reasons []string
}

// Expect turns the oracle's broken paths into the verdict meshguard must give.
func Expect(step judge.Step, scope Scope) Verdict {
	var v Verdict
	excuse := func(name string) {
		if !slices.Contains(v.Excused, name) {
			v.Excused = append(v.Excused, name)
		}
	}
	for _, b := range step.Broken {
		p := b.After
		if p.Passthrough || (b.Before.Passthrough && !slices.Contains(p.Causes, judge.CauseBlackhole)) {
			// A call that left Istio's routing and breaks, or one that
			// worked through passthrough and now takes a broken route (a
			// Sidecar widened onto a VirtualService to a missing subset):
			// meshguard judges neither. One blackholed after is MG603's.
			excuse("passthrough-calls")
			continue
		}
		if p.ClientKind == judge.Plaintext {
			switch {
			case p.Deliberate:
				excuse("deliberate-outsiders")
				continue
			case scope == WorkloadScope:
				excuse("workload-policy-neighbours")
				continue
			case scope == NamespaceScope && p.ClientNamespace != hostNamespace(p.Host):
				excuse("outsiders-of-other-namespaces")
				continue
			}
		}
		v.Deny = true
		if len(v.Reasons) < 5 {
			v.Reasons = append(v.Reasons, fmt.Sprintf("%s: %d%% failing (was %d%%): %s", p.Key(), p.FailShare, b.Before.FailShare, strings.Join(p.Why, "; ")))
		}
	}
	sort.Strings(v.Excused)
	return v
}

// hostNamespace reads the namespace of name.ns.svc.cluster.local.
func hostNamespace(host string) string {
	parts := strings.Split(host, ".")
	if len(parts) >= 2 {
		return parts[1]
	}
	return ""
}

// Agree reports whether meshguard's verdict matches istiod's.
func Agree(m Meshguard, v Verdict) bool { return m.TrafficDenied() == v.Deny }
