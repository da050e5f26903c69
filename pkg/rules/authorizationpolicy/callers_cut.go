// Package authorizationpolicy holds the rules that judge AuthorizationPolicy
// writes (MG7xx).
package authorizationpolicy

import (
	"fmt"
	"slices"
	"strings"

	"github.com/meshguard/meshguard/pkg/authz"
	"github.com/meshguard/meshguard/pkg/mesh"
	"github.com/meshguard/meshguard/pkg/rules"
	"github.com/meshguard/meshguard/pkg/state"
)

// All returns the AuthorizationPolicy rules.
func All() []rules.Rule { return []rules.Rule{callersCut{}} }

// trustDomain is the mesh's trust domain. meshguard does not read the mesh
// config yet, so Istio's default is assumed.
const trustDomain = "cluster.local"

// callersCut (MG701) judges who can still call the workloads a policy
// write concerns: for each Service whose pods the policy (before or after)
// applies to and each of its ports, every caller class the configuration
// proves — the gateway pods of a Gateway bound to a VirtualService routing
// to the Service, and the sidecars of a namespace holding a VirtualService
// or DestinationRule for the host — and, for namespace policies, the other
// namespaces with sidecars and with pods outside the mesh (potential
// callers). A proven caller cut off by the write denies it; a potential one
// warns, naming it: a restrictive policy is meant to deny someone.
type callersCut struct{}

func (callersCut) ID() string { return "MG701" }

func (callersCut) Kind() string { return rules.KindAuthorizationPolicy }

func (callersCut) Reads() []state.Kind {
	return []state.Kind{state.AuthorizationPolicyKind, state.ServiceKind, state.PodKind, state.VirtualServiceKind,
		state.GatewayKind, state.DestinationRuleKind}
}

// caller is a class with the evidence that it calls.
type caller struct {
	authz.Caller
	evidence string // empty: a potential caller
	gateway  bool   // gateway pods, not sidecars
}

func (c caller) String() string {
	who := "sidecars in " + c.Namespace
	switch {
	case c.gateway:
		who = "gateway pods in " + c.Namespace
	case !c.MTLS:
		who = "plaintext callers in " + c.Namespace
	}
	if c.ServiceAccount != "" {
		who += " (service account " + c.ServiceAccount + ")"
	}
	return who
}

func (r callersCut) Check(in *rules.Input) []rules.Finding {
	old, new := policyOf(in.Change.Old), policyOf(in.Change.New)
	written := new
	if in.Phase == rules.Before {
		written = old
	}
	root := in.Routing.RootNamespace()
	var out []rules.Finding
	memo := &lookups{s: in.State, sidecars: map[string][]caller{}, gateways: map[string][]*state.Pod{}}
	for _, svc := range targets(in.State, root, old, new) {
		pod := appliedPod(in.State, root, svc, old, new)
		if pod == nil || !pod.Sidecar && !pod.AmbientRedirected {
			continue // no proxy: no RBAC filter enforces anything
		}
		policies := applying(in.State, root, pod)
		split := namesIdentities(policies) || namesIdentities([]*state.AuthorizationPolicy{old, new})
		fqdn := svc.Name + "." + svc.Namespace + ".svc." + domain(in)
		callers := memo.provenCallers(svc, fqdn, split)
		if old == nil || old.Namespace != root {
			if new == nil || new.Namespace != root {
				callers = append(callers, memo.potentialCallers(callers)...)
			}
		}
		callers = namedPlaintext(in.State, callers, new)
		// Potential callers cut off make one warning per Service, naming
		// the first and counting the others: a namespace policy has as many
		// potential callers as the mesh has namespaces.
		var first *potentialCut
		var others []string
		seen := make([]bool, len(callers))
		for _, sp := range svc.Ports {
			port, tcp := workloadPort(sp, pod), tcpPort(sp)
			for i, c := range callers {
				c.MTLS = c.MTLS && (pod.Sidecar || pod.AmbientRedirected)
				v := authz.Evaluate(policies, authz.Request{Caller: c.Caller, Port: port, TCP: tcp}, trustDomain)
				switch {
				case !v.Denied:
				case c.evidence != "":
					out = append(out, rules.Finding{Rule: r.ID(), Action: rules.Deny, Field: field(written, v),
						Key:      fmt.Sprintf("%s/%s:%d|%s", svc.Namespace, svc.Name, port, c),
						Subjects: []string{c.String()},
						Message:  message(svc, port, tcp, c, v, written, nil)})
				case first == nil:
					first = &potentialCut{c: c, v: v, port: port, tcp: tcp}
					seen[i] = true
				case !seen[i]:
					seen[i] = true
					others = append(others, c.String())
				}
			}
		}
		if first != nil {
			out = append(out, rules.Finding{Rule: r.ID(), Action: rules.Warn, Field: field(written, first.v),
				Key: svc.Namespace + "/" + svc.Name + "|potential", Subjects: append([]string{first.c.String()}, others[:min(len(others), 9)]...),
				Message: message(svc, first.port, first.tcp, first.c, first.v, written, others)})
		}
	}
	return out
}

// potentialCut is the first potential caller a Service's ports refuse.
type potentialCut struct {
	c    caller
	v    authz.Verdict
	port uint32
	tcp  bool
}

func policyOf(o *state.Object) *state.AuthorizationPolicy {
	if o == nil {
		return nil
	}
	return o.AuthorizationPolicy
}

func domain(in *rules.Input) string {
	if in.Config != nil && in.Config.ClusterDomain != "" {
		return in.Config.ClusterDomain
	}
	return "cluster.local"
}

// targets lists the Services whose pods either side of the policy may
// apply to: the Services of its namespace, or, for a policy of the root
// namespace (mesh-wide, or by selector in every namespace), the Services
// some VirtualService routes to — the hosts whose callers the
// configuration proves — so that a mesh-wide write costs the routed hosts,
// not every Service.
func targets(s state.Snapshot, root string, aps ...*state.AuthorizationPolicy) []*state.Service {
	var out []*state.Service
	seen := map[string]bool{}
	add := func(svc *state.Service) {
		if k := svc.Namespace + "/" + svc.Name; svc != nil && !seen[k] {
			seen[k] = true
			out = append(out, svc)
		}
	}
	for _, ap := range aps {
		switch {
		case ap == nil || ap.TargetRefs:
		case ap.Namespace == root:
			for _, h := range s.RoutedHosts() {
				if ns, name, ok := (mesh.Hosts{}).ServiceName(h); ok {
					if svc := s.Service(ns, name); svc != nil {
						add(svc)
					}
				}
			}
		default:
			for _, svc := range s.Services(ap.Namespace) {
				add(svc)
			}
		}
	}
	return out
}

// appliedPod is a live pod of svc that one side of the policy applies to.
func appliedPod(s state.Snapshot, root string, svc *state.Service, aps ...*state.AuthorizationPolicy) *state.Pod {
	var found *state.Pod
	s.ForEachServicePod(svc.Namespace, svc.Name, func(p *state.Pod) bool {
		if p.Phase == "Succeeded" || p.Phase == "Failed" {
			return true
		}
		for _, ap := range aps {
			if ap != nil && authz.Applies(ap, root, svc.Namespace, p.Labels) {
				found = p
				return false
			}
		}
		return true
	})
	return found
}

// applying lists the policies that apply to pod in s.
func applying(s state.Snapshot, root string, pod *state.Pod) []*state.AuthorizationPolicy {
	var out []*state.AuthorizationPolicy
	for _, ns := range []string{root, pod.Namespace} {
		for _, ap := range s.AuthorizationPolicies(ns) {
			if authz.Applies(ap, root, pod.Namespace, pod.Labels) {
				out = append(out, ap)
			}
		}
		if ns == pod.Namespace {
			break
		}
	}
	return out
}

// namesIdentities reports whether a policy names principals or service
// accounts: only then do callers split by service account.
func namesIdentities(aps []*state.AuthorizationPolicy) bool {
	for _, ap := range aps {
		if ap == nil {
			continue
		}
		for _, r := range ap.Rules {
			for _, f := range r.From {
				if len(f.Principals)+len(f.NotPrincipals)+len(f.ServiceAccounts)+len(f.NotServiceAccounts) > 0 {
					return true
				}
			}
			for _, w := range r.When {
				if w.Key == "source.principal" {
					return true
				}
			}
		}
	}
	return false
}

// lookups memoizes, within one review, the pod walks a policy's Services
// share: each client namespace's sidecars and each Gateway's pods are read
// once, however many Services they call.
type lookups struct {
	s        state.Snapshot
	sidecars map[string][]caller
	gateways map[string][]*state.Pod
	// potential is every potential caller class, built on first use.
	potential []caller
}

func (l *lookups) sidecarsOf(ns string, split bool) []caller {
	k := ns + "|" + fmt.Sprint(split)
	if cs, ok := l.sidecars[k]; ok {
		return cs
	}
	cs := sidecars(l.s, ns, split)
	l.sidecars[k] = cs
	return cs
}

func (l *lookups) gatewayPods(key string, gw *state.Gateway) []*state.Pod {
	if ps, ok := l.gateways[key]; ok {
		return ps
	}
	var ps []*state.Pod
	for _, ns := range l.s.NamespacesWithGateways() {
		l.s.ForEachPod(ns, func(p *state.Pod) bool {
			if p.Router && selects(gw.Selector, p.Labels) {
				ps = append(ps, p)
			}
			return true
		})
	}
	l.gateways[key] = ps
	return ps
}

// provenCallers are the callers routing proves: the gateway pods of each
// Gateway a VirtualService routing to fqdn binds, and the sidecars of each
// other namespace holding a VirtualService or DestinationRule for it.
func (l *lookups) provenCallers(svc *state.Service, fqdn string, split bool) []caller {
	s := l.s
	var out []caller
	seen := map[string]bool{}
	add := func(c caller) {
		if k := c.String(); !seen[k] {
			seen[k] = true
			out = append(out, c)
		}
	}
	for _, vs := range s.VirtualServicesRouting(fqdn) {
		for _, g := range vs.Gateways {
			if g == "mesh" {
				if vs.Namespace != svc.Namespace {
					for _, c := range l.sidecarsOf(vs.Namespace, split) {
						c.evidence = "callers by VirtualService " + vs.Namespace + "/" + vs.Name
						add(c)
					}
				}
				continue
			}
			key := state.GatewayKey(g, vs.Namespace)
			gns, gname, _ := strings.Cut(key, "/")
			gw := s.Gateway(gns, gname)
			if gw == nil || len(gw.Selector) == 0 {
				continue
			}
			for _, p := range l.gatewayPods(key, gw) {
				add(caller{Caller: authz.Caller{Namespace: p.Namespace, ServiceAccount: p.ServiceAccount, MTLS: true},
					gateway: true, evidence: "callers by Gateway " + key + " and VirtualService " + vs.Namespace + "/" + vs.Name})
			}
		}
		if len(vs.Gateways) == 0 && vs.Namespace != svc.Namespace {
			for _, c := range l.sidecarsOf(vs.Namespace, split) {
				c.evidence = "callers by VirtualService " + vs.Namespace + "/" + vs.Name
				add(c)
			}
		}
	}
	for _, ns := range s.DestinationRuleNamespaces(fqdn) {
		if ns != svc.Namespace {
			for _, c := range l.sidecarsOf(ns, split) {
				c.evidence = "callers by a DestinationRule in " + ns + " for the host"
				add(c)
			}
		}
	}
	return out
}

// sidecars are the sidecar caller classes of ns: one per service account
// when split, else one for the namespace. None when ns runs no sidecar.
func sidecars(s state.Snapshot, ns string, split bool) []caller {
	var sas []string
	any := false
	s.ForEachPod(ns, func(p *state.Pod) bool {
		if p.Sidecar && !p.Router && p.Phase != "Succeeded" && p.Phase != "Failed" {
			any = true
			if split && !slices.Contains(sas, p.ServiceAccount) {
				sas = append(sas, p.ServiceAccount)
			}
		}
		return true
	})
	if !any {
		return nil
	}
	if !split {
		return []caller{{Caller: authz.Caller{Namespace: ns, MTLS: true}}}
	}
	slices.Sort(sas)
	out := make([]caller, 0, len(sas))
	for _, sa := range sas {
		out = append(out, caller{Caller: authz.Caller{Namespace: ns, ServiceAccount: sa, MTLS: true}})
	}
	return out
}

// potentialCallers are the namespaces that may call: those running sidecars
// (one class per namespace) and those running pods outside the mesh
// (plaintext), other than the proven ones. The list is built once per
// review; only a Service with proven callers gets a filtered copy.
func (l *lookups) potentialCallers(proven []caller) []caller {
	if l.potential == nil {
		for _, ns := range l.s.NamespacesWithSidecarClients() {
			l.potential = append(l.potential, caller{Caller: authz.Caller{Namespace: ns, MTLS: true}})
		}
		for _, ns := range l.s.NamespacesWithAccidentalOutsiders() {
			l.potential = append(l.potential, caller{Caller: authz.Caller{Namespace: ns}})
		}
	}
	if len(proven) == 0 {
		return l.potential
	}
	have := map[string]bool{}
	for _, c := range proven {
		if c.MTLS && !c.gateway {
			have[c.Namespace] = true
		}
	}
	out := make([]caller, 0, len(l.potential))
	for _, c := range l.potential {
		if !c.MTLS || !have[c.Namespace] {
			out = append(out, c)
		}
	}
	return out
}

// namedPlaintext turns the plaintext callers of the namespaces the written
// ALLOW policy names (from.source.namespaces, or a principal's /ns/<ns>/)
// into proven ones: the policy's own intent is that they call, and without
// a peer identity they never match (a contradiction, not a restriction).
// A named namespace whose only pods outside the mesh were kept out on
// purpose gets its plaintext class here too.
func namedPlaintext(s state.Snapshot, callers []caller, ap *state.AuthorizationPolicy) []caller {
	named := namedNamespaces(ap)
	if len(named) == 0 {
		return callers
	}
	have := map[string]bool{}
	for i, c := range callers {
		if !c.MTLS && named[c.Namespace] {
			callers[i].evidence = "named by AuthorizationPolicy " + ap.Namespace + "/" + ap.Name
			have[c.Namespace] = true
		}
	}
	for _, ns := range sortedKeys(named) {
		if cov := s.Coverage(ns); !have[ns] && cov.AccidentalOutsiders+cov.DeliberateOutsiders > 0 {
			callers = append(callers, caller{Caller: authz.Caller{Namespace: ns}, evidence: "named by AuthorizationPolicy " + ap.Namespace + "/" + ap.Name})
		}
	}
	return callers
}

// namedNamespaces are the namespaces an ALLOW policy names exactly in its
// sources.
func namedNamespaces(ap *state.AuthorizationPolicy) map[string]bool {
	out := map[string]bool{}
	if ap == nil || ap.Action != state.AuthzAllow || ap.DryRun {
		return out
	}
	for _, r := range ap.Rules {
		for _, f := range r.From {
			for _, ns := range f.Namespaces {
				if !strings.Contains(ns, "*") {
					out[ns] = true
				}
			}
			for _, p := range f.Principals {
				if _, rest, ok := strings.Cut(p, "/ns/"); ok {
					if ns, _, ok := strings.Cut(rest, "/sa/"); ok && !strings.Contains(ns, "*") {
						out[ns] = true
					}
				}
			}
		}
	}
	return out
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func selects(sel, labels map[string]string) bool {
	for k, v := range sel {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// workloadPort is the container port a Service port targets.
func workloadPort(sp state.ServicePort, pod *state.Pod) uint32 {
	if sp.TargetPortName != "" {
		for _, p := range pod.Ports {
			if p.Name == sp.TargetPortName {
				return uint32(p.Port)
			}
		}
	}
	if sp.TargetPort != 0 {
		return uint32(sp.TargetPort)
	}
	return uint32(sp.Port)
}

// tcpPort reports whether the port declares a protocol that is not HTTP
// (appProtocol, else the name's prefix), so that istiod builds only a TCP
// filter chain, and the TCP RBAC filter, for it. A port without a declared
// protocol is sniffed: HTTP requests go through the HTTP filter.
func tcpPort(sp state.ServicePort) bool {
	proto := strings.ToLower(sp.AppProtocol)
	if proto == "" {
		proto, _, _ = strings.Cut(strings.ToLower(sp.Name), "-")
	}
	switch proto {
	case "tcp", "tls", "https", "mongo", "mysql", "redis":
		return true
	}
	return false
}

// field is where in the written policy a denial comes from.
func field(written *state.AuthorizationPolicy, v authz.Verdict) string {
	switch {
	case written == nil:
		return "spec"
	case v.Policy == written && v.Rule >= 0:
		return fmt.Sprintf("spec.rules[%d]", v.Rule)
	}
	return "spec.rules"
}

func message(svc *state.Service, port uint32, tcp bool, c caller, v authz.Verdict, written *state.AuthorizationPolicy, others []string) string {
	who := c.String() + ", which may call it,"
	if len(others) > 0 {
		named := others[:min(len(others), 3)]
		more := ""
		if len(others) > 3 {
			more = fmt.Sprintf(" and %d more", len(others)-3)
		}
		who = fmt.Sprintf("%s (and %s%s), which may call it,", c.String(), strings.Join(named, ", "), more)
	}
	if c.evidence != "" {
		who = c.String() + ", " + c.evidence + ","
	}
	why := v.Why
	if v.Rule < 0 {
		why = fmt.Sprintf("ALLOW policy %s/%s applies and %s", v.Policy.Namespace, v.Policy.Name, v.Why)
	}
	msg := fmt.Sprintf("%s can no longer call %s/%s port %d: %s", who, svc.Namespace, svc.Name, port, why)
	var fix string
	switch {
	case v.Rule >= 0:
		fix = "narrow that rule so it does not match them"
	case !c.MTLS:
		fix = "they arrive in plaintext, so no principal or namespace can match them: enroll them in the mesh first, or allow them without a source"
	case tcp && anyHTTPOnly(v.Policy):
		fix = "on a TCP port istiod drops ALLOW rules with HTTP-only fields (builder.go): allow the port in a rule without paths, methods, hosts or request headers"
	case c.ServiceAccount != "":
		fix = "add " + c.Principal(trustDomain) + " to from.source.principals of an ALLOW rule"
	default:
		fix = "add namespace " + c.Namespace + " to from.source.namespaces of an ALLOW rule"
	}
	if written == nil {
		fix = "keep the policy until the callers are allowed elsewhere, or " + fix
	}
	return msg + " — " + fix
}

func anyHTTPOnly(ap *state.AuthorizationPolicy) bool {
	for _, r := range ap.Rules {
		if len(authz.HTTPOnlyFields(r)) > 0 {
			return true
		}
	}
	return false
}
