// Package authz decides whether a class of callers can still reach a
// workload port under the AuthorizationPolicies that apply to it, the way
// istiod builds the RBAC filters of the workload's inbound listener
// (istio/istio pilot/pkg/security/authz/builder/builder.go and
// pilot/pkg/security/authz/model/model.go; selection in
// pilot/pkg/model/authorization.go ListAuthorizationPolicies).
//
// The question is whether a caller is cut off entirely: whether no request
// of the class can be allowed. A rule field meshguard cannot decide for a
// class (a path, a method, a JWT claim, an IP block) counts as matching in
// an ALLOW rule and as not matching in a DENY rule, so an unknown never
// makes a caller look cut off.
package authz

import (
	"slices"
	"sort"
	"strconv"
	"strings"

	"istio.io/api/label"

	"github.com/meshguard/meshguard/pkg/state"
)

// Caller is one class of callers of a workload port.
type Caller struct {
	// Namespace is where the callers run; empty when the class stands for
	// several namespaces (then it is not known).
	Namespace string
	// ServiceAccount is the callers' service account; empty when the class
	// stands for every service account of its namespace.
	ServiceAccount string
	// MTLS: the callers arrive with Istio mTLS the server terminates, so
	// the server knows their principal and namespace. Plaintext callers
	// have neither: source.principals and source.namespaces never match
	// them, and their not- forms always do (the generated matchers read
	// the peer certificate).
	MTLS bool
}

// Principal is the callers' SPIFFE principal without "spiffe://" as
// AuthorizationPolicy writes it, or "" when unknown or plaintext.
func (c Caller) Principal(trustDomain string) string {
	if !c.MTLS || c.ServiceAccount == "" {
		return ""
	}
	return trustDomain + "/ns/" + c.Namespace + "/sa/" + c.ServiceAccount
}

// TrustDomain is the mesh's trust domain and its aliases (mesh config
// trustDomain, trustDomainAliases), as istiod's trustdomain.Bundle holds them.
type TrustDomain struct {
	Name    string
	Aliases []string
}

// DefaultTrustDomain is Istio's default trust domain.
const DefaultTrustDomain = "cluster.local"

// Local reports whether a principal's trust domain (its first of five
// "/"-separated parts) stands for this mesh's: "*" (not enforced), the
// trust domain or an alias (pilot/pkg/security/trustdomain/util.go
// stringMatch: exact, prefix* and *suffix either way), or "cluster.local",
// which always points at the local trust domain (bundle.go
// ReplaceTrustDomainAliases). A principal of another trust domain is kept
// as written and matches no caller of this mesh. Principals not of that
// form are not judged (true).
func (td TrustDomain) Local(principal string) bool {
	parts := strings.Split(principal, "/")
	if len(parts) != 5 || parts[0] == "*" || parts[0] == DefaultTrustDomain {
		return true
	}
	for _, d := range append([]string{td.Name}, td.Aliases...) {
		if tdMatch(parts[0], d) {
			return true
		}
	}
	return false
}

func tdMatch(a, b string) bool {
	pre := func(a, p string) bool {
		return strings.HasSuffix(p, "*") && strings.HasPrefix(a, strings.TrimSuffix(p, "*"))
	}
	suf := func(a, p string) bool {
		return strings.HasPrefix(p, "*") && strings.HasSuffix(a, strings.TrimPrefix(p, "*"))
	}
	return a == b || b == "*" || pre(a, b) || pre(b, a) || suf(a, b) || suf(b, a)
}

// principals returns policy principals as they match this mesh's callers:
// a local one (Local, trust domain not "*") gets the trust domain in place
// of its own, as ReplaceTrustDomainAliases expands it to the trust domain
// and its aliases (pilot/pkg/security/authz/model/model.go
// MigrateTrustDomain, for source.principals and the source.principal
// condition); the callers meshguard judges carry the trust domain itself.
func (td TrustDomain) principals(values []string) []string {
	if len(values) == 0 {
		return values
	}
	out := make([]string, 0, len(values))
	for _, p := range values {
		t, rest, _ := strings.Cut(p, "/")
		if strings.Count(p, "/") != 4 || t == "*" || !td.Local(p) {
			out = append(out, p)
			continue
		}
		out = append(out, td.Name+"/"+rest)
	}
	return out
}

// Request is a caller class on one workload port.
type Request struct {
	Caller Caller
	// Port is the workload (container) port, as to.operation.ports and
	// destination.port name it.
	Port uint32
	// TCP: the port's inbound filter chain is TCP only (a declared non-HTTP
	// protocol), so istiod builds the TCP RBAC filter for it (forTCP).
	TCP bool
}

// Verdict says whether a request class is cut off.
type Verdict struct {
	// Denied: no request of the class can be allowed.
	Denied bool
	// Policy is the policy that decides the denial: the DENY policy that
	// matches, or the first ALLOW policy applying when none matches;
	// Rule is the matching DENY rule's index (-1 for ALLOW).
	Policy *state.AuthorizationPolicy
	Rule   int
	// Why explains the denial for a message.
	Why string
}

// Applies reports whether ap applies to a workload of namespace ns with
// labels (a sidecar, or the pods of a Gateway API gateway), as istiod's
// ListAuthorizationPolicies selects for it (pilot/pkg/model/
// authorization.go): policies of the root namespace and of the workload's
// namespace that ShouldAttachPolicy attaches (pilot/pkg/model/
// policyattachment.go). A workload that is no Gateway API gateway (no
// gateway.networking.k8s.io/gateway-name label) takes the policies whose
// selector (none: every workload) matches, never one with targetRefs ("if
// targetRef is specified, ignore the policy altogether"). A gateway's pods
// take those without targetRefs by selector too (the feature
// ENABLE_SELECTOR_BASED_K8S_GATEWAY_POLICY, on by default), and those in
// their own namespace whose targetRef names their Gateway (group
// gateway.networking.k8s.io, kind Gateway, no other namespace). Waypoints
// are not modelled: Service, ServiceEntry and GatewayClass targets attach
// to nothing here.
func Applies(ap *state.AuthorizationPolicy, root, ns string, labels map[string]string) bool {
	if ap.Namespace != root && ap.Namespace != ns {
		return false
	}
	gateway, isGateway := labels[label.IoK8sNetworkingGatewayGatewayName.Name]
	if len(ap.TargetRefs) == 0 {
		for k, v := range ap.Selector {
			if got, ok := labels[k]; !ok || got != v {
				return false
			}
		}
		return true
	}
	if !isGateway || ap.Namespace != ns {
		return false
	}
	for _, t := range ap.TargetRefs {
		if TargetsGateway(t) && (t.Namespace == "" || t.Namespace == ns) && t.Name == gateway {
			return true
		}
	}
	return false
}

// TargetsGateway reports whether a targetRef names a Gateway API Gateway
// (matchesGroupKind with gvk.KubernetesGateway).
func TargetsGateway(t state.PolicyTarget) bool {
	return t.Group == state.GroupGatewayAPI && t.Kind == "Gateway"
}

// Evaluate decides req against the policies applying to the workload, in
// Istio's order: CUSTOM (an external authorizer: not judged, it may allow),
// then DENY, then ALLOW. AUDIT policies only log. A policy annotated
// istio.io/dry-run: "true" goes to the filter's shadow rules and enforces
// nothing (builder.go isDryRun). With any enforced ALLOW policy, a request
// no ALLOW rule matches is denied; an ALLOW policy without rules matches
// nothing (builder.go rbacPolicyMatchNever).
func Evaluate(policies []*state.AuthorizationPolicy, req Request, td TrustDomain) Verdict {
	var allows []*state.AuthorizationPolicy
	for _, ap := range policies {
		if ap.DryRun {
			continue
		}
		switch ap.Action {
		case state.AuthzDeny:
			for i, r := range ap.Rules {
				if matches(r, req, td, false) {
					return Verdict{Denied: true, Policy: ap, Rule: i, Why: "DENY policy " + ap.Namespace + "/" + ap.Name + " spec.rules[" + strconv.Itoa(i) + "] matches it"}
				}
			}
		case state.AuthzAllow:
			allows = append(allows, ap)
		}
	}
	if len(allows) == 0 {
		return Verdict{}
	}
	for _, ap := range allows {
		for _, r := range ap.Rules {
			if matches(r, req, td, true) {
				return Verdict{}
			}
		}
	}
	return Verdict{Denied: true, Policy: allows[0], Rule: -1, Why: "no rule of the ALLOW policies applying matches it"}
}

// matches reports whether rule r can match some request of req. In an ALLOW
// rule on a TCP port, a field istiod cannot build for TCP makes model.go's
// Generate fail and builder.go skip the whole rule ("skipped rule ... on TCP
// filter chain"): the rule never matches. In a DENY rule the same field is
// dropped (model.go checkError ignores the error for DENY and AUDIT), so the
// rule matches more broadly.
func matches(r state.AuthzRule, req Request, td TrustDomain, allow bool) bool {
	if req.TCP && allow && httpOnly(r) {
		return false
	}
	if len(r.From) > 0 {
		any := false
		for _, f := range r.From {
			if sourceMatches(f, req, td, allow) {
				any = true
				break
			}
		}
		if !any {
			return false
		}
	}
	if len(r.To) > 0 {
		any := false
		for _, o := range r.To {
			if operationMatches(o, req, allow) {
				any = true
				break
			}
		}
		if !any {
			return false
		}
	}
	for _, w := range r.When {
		if !conditionMatches(w, req, td, allow) {
			return false
		}
	}
	return true
}

// httpOnly reports whether r names a field istiod's generators refuse for
// TCP (generator.go: hosts, paths, methods, request headers, request
// principals, audiences, presenters and claims).
func httpOnly(r state.AuthzRule) bool {
	for _, f := range r.From {
		if len(f.HTTPOnly) > 0 {
			return true
		}
	}
	for _, o := range r.To {
		if len(o.HTTPOnly) > 0 {
			return true
		}
	}
	for _, w := range r.When {
		if httpOnlyKey(w.Key) {
			return true
		}
	}
	return false
}

func httpOnlyKey(k string) bool {
	return strings.HasPrefix(k, "request.headers") || strings.HasPrefix(k, "request.auth.")
}

// HTTPOnlyFields lists the fields of r istiod cannot build for TCP, as
// field paths relative to the rule ("to[0].operation.methods").
func HTTPOnlyFields(r state.AuthzRule) []string {
	var out []string
	for i, f := range r.From {
		for _, n := range f.HTTPOnly {
			out = append(out, "from["+strconv.Itoa(i)+"].source."+n)
		}
	}
	for i, o := range r.To {
		for _, n := range o.HTTPOnly {
			out = append(out, "to["+strconv.Itoa(i)+"].operation."+n)
		}
	}
	for i, w := range r.When {
		if httpOnlyKey(w.Key) {
			out = append(out, "when["+strconv.Itoa(i)+"] "+w.Key)
		}
	}
	return out
}

// unknown is the value of a field meshguard cannot decide for a class:
// matching in ALLOW, not matching in DENY.
func unknown(allow bool) bool { return allow }

func sourceMatches(s state.AuthzSource, req Request, td TrustDomain, allow bool) bool {
	if len(s.Other) > 0 || len(s.ServiceAccounts)+len(s.NotServiceAccounts) > 0 {
		return unknown(allow)
	}
	if len(s.HTTPOnly) > 0 && !req.TCP {
		return unknown(allow) // request principals: a JWT some requests carry
	}
	c := req.Caller
	if ok, known := identityMatches(td.principals(s.Principals), td.principals(s.NotPrincipals), c.MTLS, c.Principal(td.Name), c.ServiceAccount != ""); !known {
		return unknown(allow)
	} else if !ok {
		return false
	}
	ok, known := identityMatches(s.Namespaces, s.NotNamespaces, c.MTLS, c.Namespace, c.Namespace != "")
	if !known {
		return unknown(allow)
	}
	return ok
}

// identityMatches evaluates a values/notValues pair over an identity read
// from the peer certificate: none for plaintext callers. known is false
// when the class does not fix the value (every service account of a
// namespace).
func identityMatches(values, notValues []string, mtls bool, got string, fixed bool) (ok, known bool) {
	if len(values)+len(notValues) == 0 {
		return true, true
	}
	if !mtls {
		// No peer identity: a positive matcher fails, a negated one holds.
		return len(values) == 0, true
	}
	if !fixed {
		return false, false
	}
	if len(values) > 0 && !anyMatch(values, got) {
		return false, true
	}
	if anyMatch(notValues, got) {
		return false, true
	}
	return true, true
}

// anyMatch matches Istio's string forms: exact, "*", "prefix*", "*suffix".
func anyMatch(patterns []string, v string) bool {
	for _, p := range patterns {
		switch {
		case p == "*":
			if v != "" {
				return true
			}
		case strings.HasSuffix(p, "*"):
			if strings.HasPrefix(v, strings.TrimSuffix(p, "*")) {
				return true
			}
		case strings.HasPrefix(p, "*"):
			if strings.HasSuffix(v, strings.TrimPrefix(p, "*")) {
				return true
			}
		case p == v:
			return true
		}
	}
	return false
}

func operationMatches(o state.AuthzOperation, req Request, allow bool) bool {
	port := strconv.FormatUint(uint64(req.Port), 10)
	if len(o.Ports) > 0 && !contains(o.Ports, port) || contains(o.NotPorts, port) {
		return false
	}
	if len(o.HTTPOnly) > 0 && !req.TCP {
		return unknown(allow) // some requests have that path or method
	}
	return true
}

func conditionMatches(w state.AuthzCondition, req Request, td TrustDomain, allow bool) bool {
	c := req.Caller
	switch w.Key {
	case "destination.port":
		port := strconv.FormatUint(uint64(req.Port), 10)
		return (len(w.Values) == 0 || contains(w.Values, port)) && !contains(w.NotValues, port)
	case "source.namespace":
		ok, known := identityMatches(w.Values, w.NotValues, c.MTLS, c.Namespace, c.Namespace != "")
		if !known {
			return unknown(allow)
		}
		return ok
	case "source.principal":
		ok, known := identityMatches(td.principals(w.Values), td.principals(w.NotValues), c.MTLS, c.Principal(td.Name), c.ServiceAccount != "")
		if !known {
			return unknown(allow)
		}
		return ok
	}
	if req.TCP && httpOnlyKey(w.Key) {
		return true // dropped in DENY (ALLOW rules with it were skipped already)
	}
	return unknown(allow)
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// Enforcing reports whether some policy can deny a request: an ALLOW or
// DENY policy that is not dry-run. Without one, Evaluate allows everything.
func Enforcing(policies []*state.AuthorizationPolicy) bool {
	for _, ap := range policies {
		if !ap.DryRun && (ap.Action == state.AuthzAllow || ap.Action == state.AuthzDeny) {
			return true
		}
	}
	return false
}

// NamespacePatterns lists the values policies compare a caller's namespace
// with: from.source.namespaces and notNamespaces, and the source.namespace
// conditions. For callers with mTLS that stand for every service account of
// their namespace (Caller.ServiceAccount empty), Evaluate depends on the
// namespace only through which of these patterns it matches (principals
// are unknown for such a class, whatever its namespace); for plaintext
// callers not at all (identityMatches: no peer identity). So namespaces
// matching the same patterns form one class of callers.
func NamespacePatterns(policies []*state.AuthorizationPolicy) []string {
	var out []string
	for _, ap := range policies {
		for _, r := range ap.Rules {
			for _, f := range r.From {
				out = append(append(out, f.Namespaces...), f.NotNamespaces...)
			}
			for _, w := range r.When {
				if w.Key == "source.namespace" {
					out = append(append(out, w.Values...), w.NotValues...)
				}
			}
		}
	}
	return out
}

// NamespaceClasses cuts sorted, a sorted list of namespaces, into runs
// [bounds[i], bounds[i+1]) whose namespaces match the same patterns (in
// anyMatch's forms), so that one namespace of a run decides for all of it
// (see NamespacePatterns). An exact pattern or one of extra cuts out its
// namespace alone; "prefix*" its contiguous run; "*suffix" each namespace
// it matches; "*" matches every namespace and cuts nothing.
func NamespaceClasses(sorted, patterns, extra []string) []int {
	bounds := []int{0, len(sorted)}
	exact := func(v string) {
		if i, ok := slices.BinarySearch(sorted, v); ok {
			bounds = append(bounds, i, i+1)
		}
	}
	for _, p := range patterns {
		switch {
		case p == "*":
		case strings.HasSuffix(p, "*"):
			pre := strings.TrimSuffix(p, "*")
			lo, _ := slices.BinarySearch(sorted, pre)
			hi := lo + sort.Search(len(sorted)-lo, func(j int) bool { return !strings.HasPrefix(sorted[lo+j], pre) })
			bounds = append(bounds, lo, hi)
		case strings.HasPrefix(p, "*"):
			for i, ns := range sorted {
				if strings.HasSuffix(ns, p[1:]) {
					bounds = append(bounds, i, i+1)
				}
			}
		default:
			exact(p)
		}
	}
	for _, v := range extra {
		exact(v)
	}
	slices.Sort(bounds)
	return slices.Compact(bounds)
}

// ApplyingTo lists the policies of s that apply to a sidecar pod: those of
// the root namespace and of the pod's namespace that Applies selects.
func ApplyingTo(s state.Snapshot, root string, pod *state.Pod) []*state.AuthorizationPolicy {
	var out []*state.AuthorizationPolicy
	for _, ns := range []string{root, pod.Namespace} {
		for _, ap := range s.AuthorizationPolicies(ns) {
			if Applies(ap, root, pod.Namespace, pod.Labels) {
				out = append(out, ap)
			}
		}
		if ns == pod.Namespace {
			break
		}
	}
	return out
}

// TCPPort reports whether a Service port declares a protocol that is not
// HTTP (appProtocol, else the name's prefix), so that istiod builds only a
// TCP filter chain, and the TCP RBAC filter, for it. A port without a
// declared protocol is sniffed: HTTP requests go through the HTTP filter.
func TCPPort(name, appProtocol string) bool {
	proto := strings.ToLower(appProtocol)
	if proto == "" {
		proto, _, _ = strings.Cut(strings.ToLower(name), "-")
	}
	switch proto {
	case "tcp", "tls", "https", "mongo", "mysql", "redis":
		return true
	}
	return false
}
