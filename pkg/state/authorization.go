package state

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"istio.io/api/annotation"
	securityv1beta1 "istio.io/api/security/v1beta1"
	typev1beta1 "istio.io/api/type/v1beta1"
)

// AuthzAction is an AuthorizationPolicy action as the API spells it.
type AuthzAction string

// The actions of istio.io/api/security/v1beta1 AuthorizationPolicy_Action.
const (
	AuthzAllow  AuthzAction = "ALLOW"
	AuthzDeny   AuthzAction = "DENY"
	AuthzAudit  AuthzAction = "AUDIT"
	AuthzCustom AuthzAction = "CUSTOM"
)

// AuthorizationPolicy is the lean, version-independent form of a
// security.istio.io AuthorizationPolicy: what decides which callers of a
// workload port are allowed (see pkg/authz).
type AuthorizationPolicy struct {
	Namespace, Name string
	Action          AuthzAction
	// Selector is nil without workloadSelector (a selector with no labels
	// is treated like none, as for PeerAuthentication).
	Selector map[string]string
	// TargetRefs are the gateways, waypoints or Services the policy names
	// (spec.targetRefs, else the deprecated spec.targetRef, as
	// pilot/pkg/model/policyattachment.go GetTargetRefs reads them); with
	// any, it never attaches to a sidecar by selector.
	TargetRefs []PolicyTarget
	// DryRun: istio.io/dry-run is "true"; the rules go to the RBAC filter's
	// shadow rules and change no traffic (builder.go isDryRun).
	DryRun bool
	// Rules are spec.rules in order; nil rules (a YAML "- {}" is not nil)
	// are kept as empty ones.
	Rules []AuthzRule
}

// PolicyTarget is one targetRef of a policy.
type PolicyTarget struct {
	// Group is the canonical group: "" for the core group (Service).
	Group, Kind, Name string
	// Namespace is the targetRef's namespace as written ("": the policy's).
	Namespace string
	// Field is its field path: spec.targetRefs[i] or spec.targetRef.
	Field string
}

// AuthzRule is one spec.rules entry.
type AuthzRule struct {
	From []AuthzSource
	To   []AuthzOperation
	When []AuthzCondition
}

// AuthzSource is one from[].source.
type AuthzSource struct {
	Principals, NotPrincipals           []string
	Namespaces, NotNamespaces           []string
	ServiceAccounts, NotServiceAccounts []string
	// Other names the source fields meshguard does not evaluate (ipBlocks,
	// remoteIpBlocks, requestPrincipals, trustDomains), empty when none.
	Other []string
	// HTTPOnly names the fields Istio cannot build for TCP
	// (requestPrincipals, notRequestPrincipals).
	HTTPOnly []string
}

// AuthzOperation is one to[].operation.
type AuthzOperation struct {
	Ports, NotPorts []string
	// HTTPOnly names the fields Istio cannot build for TCP: hosts, paths,
	// methods and their not- forms.
	HTTPOnly []string
}

// AuthzCondition is one when[] condition.
type AuthzCondition struct {
	Key               string
	Values, NotValues []string
}

// FromAuthorizationPolicySpec builds the lean policy from the spec shared
// by every served version (security v1beta1 and v1 carry the same proto).
func FromAuthorizationPolicySpec(meta ObjectRef, annotations map[string]string, spec *securityv1beta1.AuthorizationPolicy) *AuthorizationPolicy {
	ap := &AuthorizationPolicy{Namespace: meta.Namespace, Name: meta.Name, Action: AuthzAllow}
	ap.DryRun = strings.EqualFold(strings.TrimSpace(annotations[annotation.IoIstioDryRun.Name]), "true")
	if spec == nil {
		return ap
	}
	ap.Action = AuthzAction(spec.GetAction().String())
	if sel := spec.GetSelector().GetMatchLabels(); len(sel) > 0 {
		ap.Selector = sel
	}
	for i, t := range spec.GetTargetRefs() {
		ap.TargetRefs = append(ap.TargetRefs, policyTarget(t, fmt.Sprintf("spec.targetRefs[%d]", i)))
	}
	if t := spec.GetTargetRef(); len(ap.TargetRefs) == 0 && t != nil {
		ap.TargetRefs = []PolicyTarget{policyTarget(t, "spec.targetRef")}
	}
	for _, r := range spec.GetRules() {
		var lr AuthzRule
		for _, f := range r.GetFrom() {
			s := f.GetSource()
			src := AuthzSource{
				Principals: s.GetPrincipals(), NotPrincipals: s.GetNotPrincipals(),
				Namespaces: s.GetNamespaces(), NotNamespaces: s.GetNotNamespaces(),
				ServiceAccounts: s.GetServiceAccounts(), NotServiceAccounts: s.GetNotServiceAccounts(),
			}
			for _, f := range []struct {
				name string
				set  bool
			}{{"ipBlocks", len(s.GetIpBlocks())+len(s.GetNotIpBlocks()) > 0}, {"remoteIpBlocks", len(s.GetRemoteIpBlocks())+len(s.GetNotRemoteIpBlocks()) > 0},
				{"trustDomains", len(s.GetTrustDomains())+len(s.GetNotTrustDomains()) > 0}} {
				if f.set {
					src.Other = append(src.Other, f.name)
				}
			}
			if len(s.GetRequestPrincipals()) > 0 {
				src.HTTPOnly = append(src.HTTPOnly, "requestPrincipals")
			}
			if len(s.GetNotRequestPrincipals()) > 0 {
				src.HTTPOnly = append(src.HTTPOnly, "notRequestPrincipals")
			}
			lr.From = append(lr.From, src)
		}
		for _, t := range r.GetTo() {
			o := t.GetOperation()
			op := AuthzOperation{Ports: o.GetPorts(), NotPorts: o.GetNotPorts()}
			for _, f := range []struct {
				name string
				vals []string
			}{{"hosts", o.GetHosts()}, {"notHosts", o.GetNotHosts()}, {"methods", o.GetMethods()}, {"notMethods", o.GetNotMethods()},
				{"paths", o.GetPaths()}, {"notPaths", o.GetNotPaths()}} {
				if len(f.vals) > 0 {
					op.HTTPOnly = append(op.HTTPOnly, f.name)
				}
			}
			lr.To = append(lr.To, op)
		}
		for _, w := range r.GetWhen() {
			lr.When = append(lr.When, AuthzCondition{Key: w.GetKey(), Values: w.GetValues(), NotValues: w.GetNotValues()})
		}
		ap.Rules = append(ap.Rules, lr)
	}
	return ap
}

// policyTarget reads a targetRef, its group made canonical as
// istio pkg/config/model.go CanonicalGroup does ("core" and "" are the
// core group).
func policyTarget(t *typev1beta1.PolicyTargetReference, field string) PolicyTarget {
	g := t.GetGroup()
	if g == "core" {
		g = ""
	}
	return PolicyTarget{Group: g, Kind: t.GetKind(), Name: t.GetName(), Namespace: t.GetNamespace(), Field: field}
}

// HasSelector reports whether the policy is workload-specific.
func (ap *AuthorizationPolicy) HasSelector() bool { return len(ap.Selector) > 0 }

// SetAuthorizationPolicy adds or replaces an AuthorizationPolicy.
func (s *Store) SetAuthorizationPolicy(ap *AuthorizationPolicy) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.index(ap.Namespace)
	n.aps[ap.Name] = ap
	n.apList = sortedAuthorizationPolicies(n.aps)
}

// DeleteAuthorizationPolicy removes an AuthorizationPolicy.
func (s *Store) DeleteAuthorizationPolicy(ns, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.nss[ns]
	if n == nil {
		return
	}
	delete(n.aps, name)
	n.apList = sortedAuthorizationPolicies(n.aps)
	s.gc(ns, n)
}

func sortedAuthorizationPolicies(m map[string]*AuthorizationPolicy) []*AuthorizationPolicy {
	out := make([]*AuthorizationPolicy, 0, len(m))
	for _, ap := range m {
		out = append(out, ap)
	}
	sortAuthorizationPolicies(out)
	return out
}

func sortAuthorizationPolicies(aps []*AuthorizationPolicy) {
	slices.SortFunc(aps, func(a, b *AuthorizationPolicy) int { return strings.Compare(a.Name, b.Name) })
}

func (v storeView) AuthorizationPolicies(ns string) []*AuthorizationPolicy {
	if n := v.s.nss[ns]; n != nil {
		return n.apList
	}
	return nil
}

// WithAuthorizationPolicy returns base after one AuthorizationPolicy write
// (ap nil: deleted): only the policy list of that namespace is rebuilt.
func WithAuthorizationPolicy(base Snapshot, ns, name string, ap *AuthorizationPolicy) Snapshot {
	list := replaceNamed(base.AuthorizationPolicies(ns), name, ap, func(p *AuthorizationPolicy) string { return p.Name }, sortAuthorizationPolicies)
	return apOverlay{Snapshot: base, ns: ns, list: list}
}

type apOverlay struct {
	Snapshot
	ns   string
	list []*AuthorizationPolicy
}

func (o apOverlay) AuthorizationPolicies(ns string) []*AuthorizationPolicy {
	if ns == o.ns {
		return o.list
	}
	return o.Snapshot.AuthorizationPolicies(ns)
}

func (o apOverlay) NamespaceNames() []string { return withName(o.Snapshot.NamespaceNames(), o.ns) }

// countCalledAcross counts (add) or uncounts one route or DestinationRule
// of namespace ns naming host h when it proves callers outside the host's
// namespace: it is written in another namespace, or (sameNS false) the
// route binds a gateway. A wildcard host may cover any namespace's hosts.
func (s *Store) countCalledAcross(h, ns string, sameNS, add bool) {
	if sameNS && !strings.HasPrefix(h, "*") && hostNamespace(h) == ns {
		return
	}
	if add {
		s.calledAcross[h]++
		return
	}
	if s.calledAcross[h]--; s.calledAcross[h] <= 0 {
		delete(s.calledAcross, h)
	}
}

// hostNamespace is the namespace of a resolved Service host
// ("name.ns.svc.<domain>"), or "" for any other host.
func hostNamespace(h string) string {
	_, rest, _ := strings.Cut(h, ".")
	ns, rest, _ := strings.Cut(rest, ".")
	if !strings.HasPrefix(rest, "svc.") {
		return ""
	}
	return ns
}

func (v storeView) HostsCalledAcross() []string {
	return slices.Sorted(maps.Keys(v.s.calledAcross))
}

// HostsCalledAcross adds the hosts the written route sends to (a superset).
func (o vsOverlay) HostsCalledAcross() []string {
	return o.withRoutedHosts(o.Snapshot.HostsCalledAcross())
}

// HostsCalledAcross adds the hosts of the written namespace's rules (a superset).
func (o drOverlay) HostsCalledAcross() []string {
	hosts := o.Snapshot.HostsCalledAcross()
	for _, dr := range o.list {
		hosts = withName(hosts, o.Snapshot.ResolveHost(dr.Host, dr.Namespace))
	}
	return hosts
}
