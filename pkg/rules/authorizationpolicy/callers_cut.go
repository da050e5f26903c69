// Package authorizationpolicy holds the rules that judge AuthorizationPolicy
// writes (MG7xx).
package authorizationpolicy

import (
	"fmt"
	"slices"
	"strings"

	"istio.io/api/label"

	"github.com/meshguard/meshguard/pkg/authz"
	"github.com/meshguard/meshguard/pkg/mesh"
	"github.com/meshguard/meshguard/pkg/rules"
	"github.com/meshguard/meshguard/pkg/state"
)

// All returns the AuthorizationPolicy rules.
func All() []rules.Rule {
	return []rules.Rule{callersCut{}, identityChanged{}, appliesToNothing{}, routeDenied{}}
}

// trustDomain is the mesh's trust domain from meshguard's configuration
// (Istio's default without one).
func trustDomain(in *rules.Input) authz.TrustDomain {
	if in.Config == nil || in.Config.TrustDomain == "" {
		return authz.TrustDomain{Name: authz.DefaultTrustDomain}
	}
	return authz.TrustDomain{Name: in.Config.TrustDomain, Aliases: in.Config.TrustDomainAliases}
}

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
		state.GatewayKind, state.KubeGatewayKind, state.DestinationRuleKind, state.PeerAuthenticationKind}
}

// caller is a class with the evidence that it calls.
type caller struct {
	authz.Caller
	evidence string // empty: a potential caller
	gateway  bool   // gateway pods, not sidecars
	outside  bool   // clients outside the mesh, calling a gateway's listener
	// foreign is the principal naming the class in another trust domain.
	foreign string
}

func (c caller) String() string {
	who := "sidecars in " + c.Namespace
	switch {
	case c.outside:
		return "clients outside the mesh"
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
	// A namespace policy's Services may be called by any namespace; a
	// root-namespace one is judged by the callers routing proves only.
	namespaced := (old == nil || old.Namespace != root) && (new == nil || new.Namespace != root)
	named := namedNamespaces(new)
	td := trustDomain(in)
	var out []rules.Finding
	memo := &lookups{s: in.State, sidecars: map[string][]caller{}, gateways: map[string][]*state.Pod{}}
	for _, svc := range targets(in.State, in.Routing.Hosts, root, named, old, new) {
		pod := appliedPod(in.State, root, svc, old, new)
		if pod == nil || !pod.Sidecar && !pod.AmbientRedirected {
			continue // no proxy: no RBAC filter enforces anything
		}
		policies := authz.ApplyingTo(in.State, root, pod)
		if !authz.Enforcing(policies) {
			continue // nothing can deny a request
		}
		moved := movedOff(root, pod, old, new)
		split := namesIdentities(policies) || namesIdentities([]*state.AuthorizationPolicy{old, new})
		fqdn := svc.Name + "." + svc.Namespace + ".svc." + domain(in)
		proven := memo.provenCallers(svc, fqdn, split)
		var pot *potential
		if namespaced {
			pot = memo.potentialCallers(proven, policies, named)
		}
		proven = append(proven, namedPlaintext(in.State, new, named, pot)...)
		proven = append(proven, foreignNamed(in.State, new, td, proven)...)
		// Potential callers cut off make one warning per Service, naming
		// the first and counting the others: a namespace policy has as many
		// potential callers as the mesh has namespaces, judged by class.
		var cut cutTally
		for _, sp := range svc.Ports {
			port, tcp := workloadPort(sp, pod), authz.TCPPort(sp.Name, sp.AppProtocol)
			eval := func(c authz.Caller) authz.Verdict {
				return authz.Evaluate(policies, authz.Request{Caller: c, Port: port, TCP: tcp}, td)
			}
			// A STRICT port refuses plaintext before any RBAC filter sees it
			// (under STRICT istiod builds only the TLS inbound filter chain:
			// pilot/pkg/security/authn policy_applier.go
			// InboundMTLSSettings), so plaintext callers lose nothing a
			// policy takes.
			strict := in.Policies.WorkloadMode(in.State, pod.Namespace, pod.Labels, port).Mode == state.ModeStrict
			for _, c := range proven {
				if strict && !c.MTLS {
					continue
				}
				if v := eval(c.Caller); v.Denied {
					out = append(out, rules.Finding{Rule: r.ID(), Action: rules.Deny, Field: field(written, v, moved),
						Key:      fmt.Sprintf("%s/%s:%d|%s", svc.Namespace, svc.Name, port, c),
						Subjects: []string{c.String()},
						Message:  message(target{svc.Namespace + "/" + svc.Name, port, tcp, moved}, c, v, written, nil, 0, td)})
				}
			}
			if pot == nil {
				continue
			}
			for i := 0; i+1 < len(pot.bounds); i++ {
				lo, hi := pot.bounds[i], pot.bounds[i+1]
				if hi == lo+1 && pot.proven[pot.sidecars[lo]] {
					continue // a proven caller, judged above
				}
				if v := eval(authz.Caller{Namespace: pot.sidecars[lo], MTLS: true}); v.Denied {
					cut.add(i, v, port, tcp, hi-lo, func(j int) caller {
						return caller{Caller: authz.Caller{Namespace: pot.sidecars[lo+j], MTLS: true}}
					})
				}
			}
			if len(pot.plaintext) > 0 && !strict {
				if v := eval(authz.Caller{Namespace: pot.plaintext[0]}); v.Denied {
					cut.add(-1, v, port, tcp, len(pot.plaintext), func(j int) caller {
						return caller{Caller: authz.Caller{Namespace: pot.plaintext[j]}}
					})
				}
			}
		}
		if f := cut.first; f != nil {
			out = append(out, rules.Finding{Rule: r.ID(), Action: rules.Warn, Field: field(written, f.v, moved),
				Key: svc.Namespace + "/" + svc.Name + "|potential", Subjects: append([]string{f.c.String()}, cut.names...),
				Message: message(target{svc.Namespace + "/" + svc.Name, f.port, f.tcp, moved}, f.c, f.v, written, cut.names, cut.others, td)})
		}
	}
	out = append(out, r.judgeGateways(in, root, written, td, old, new)...)
	return append(out, r.notJudged(in.State, written)...)
}

// potentialCut is the first potential caller a Service's ports refuse.
type potentialCut struct {
	c    caller
	v    authz.Verdict
	port uint32
	tcp  bool
}

// cutTally gathers the potential callers a Service's ports refuse, class by
// class, in the order of ports and then of callers: the first, the names of
// the next few and how many others there are.
type cutTally struct {
	first  *potentialCut
	names  []string
	others int
	seen   []int // a few classes: a slice beats a map
}

// add counts a refused class (key -1: the plaintext one) of size members,
// member(j) being its j-th, unless a port before refused it already.
func (t *cutTally) add(key int, v authz.Verdict, port uint32, tcp bool, size int, member func(j int) caller) {
	if slices.Contains(t.seen, key) {
		return
	}
	t.seen = append(t.seen, key)
	j := 0
	if t.first == nil {
		t.first = &potentialCut{c: member(0), v: v, port: port, tcp: tcp}
		j = 1
	}
	for ; j < size && len(t.names) < maxNamed; j++ {
		t.names = append(t.names, member(j).String())
		t.others++
	}
	t.others += size - j
}

// maxNamed is how many potential callers besides the first a warning's
// subjects name.
const maxNamed = 9

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
// some VirtualService routes to and whose callers the configuration proves
// outside their namespace (HostsCalledAcross), so that a mesh-wide write
// costs those hosts, not every Service. When the policy names namespaces
// with pods outside the mesh, those pods are proven callers of every
// routed host (namedPlaintext): then every routed host is a target.
func targets(s state.Snapshot, hosts mesh.Hosts, root string, named map[string]bool, aps ...*state.AuthorizationPolicy) []*state.Service {
	var out []*state.Service
	seen := map[string]bool{}
	add := func(svc *state.Service) {
		if k := svc.Namespace + "/" + svc.Name; svc != nil && !seen[k] {
			seen[k] = true
			out = append(out, svc)
		}
	}
	rootDone := false
	for _, ap := range aps {
		switch {
		case ap == nil || len(ap.TargetRefs) > 0:
		case ap.Namespace == root:
			if rootDone {
				continue
			}
			rootDone = true
			for _, h := range routedTargets(s, named) {
				if ns, name, ok := hosts.ServiceName(h); ok {
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

// routedTargets are the routed hosts, sorted, a root-namespace policy is
// judged on: those with callers proven outside their namespace, or all of
// them when named namespaces hold pods outside the mesh.
func routedTargets(s state.Snapshot, named map[string]bool) []string {
	for ns := range named {
		if cov := s.Coverage(ns); cov.AccidentalOutsiders+cov.DeliberateOutsiders > 0 {
			return s.RoutedHosts()
		}
	}
	var out []string
	var routed []string
	for _, h := range s.HostsCalledAcross() {
		if !strings.HasPrefix(h, "*") {
			if len(s.VirtualServicesRouting(h)) > 0 {
				out = append(out, h)
			}
			continue
		}
		// A wildcard DestinationRule proves callers only where its
		// namespaces run sidecars; then each routed host it covers.
		if !slices.ContainsFunc(s.DestinationRuleNamespaces(h), func(ns string) bool {
			_, ok := slices.BinarySearch(s.NamespacesWithSidecarClients(), ns)
			return ok
		}) {
			continue
		}
		if routed == nil {
			routed = s.RoutedHosts()
		}
		for _, r := range routed {
			if strings.HasSuffix(r, h[1:]) {
				out = append(out, r)
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// appliedPod is a live pod of svc that one side of the policy applies to.
func appliedPod(s state.Snapshot, root string, svc *state.Service, aps ...*state.AuthorizationPolicy) *state.Pod {
	var found *state.Pod
	s.ForEachServicePod(svc.Namespace, svc.Name, func(p *state.Pod) bool {
		if p.Phase == "Succeeded" || p.Phase == "Failed" {
			return true
		}
		if _, gw := p.Labels[label.IoK8sNetworkingGatewayGatewayName.Name]; gw {
			return true // a Gateway API gateway's pods: judged by their listeners (judgeGateways)
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
		if gw.Kubernetes && ns != gw.Namespace {
			continue // deployed in the Gateway's own namespace
		}
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
				// A Gateway API Gateway's pods carry its name
				// (policyattachment.go workloadGatewayName).
				if gw = s.KubeGateway(gns, gname); gw == nil {
					continue
				}
				gw = &state.Gateway{Namespace: gns, Name: gname, Kubernetes: true, Selector: map[string]string{label.IoK8sNetworkingGatewayGatewayName.Name: gname}}
			}
			for _, p := range l.gatewayPods(key, gw) {
				add(caller{Caller: authz.Caller{Namespace: p.Namespace, ServiceAccount: p.ServiceAccount, MTLS: true},
					gateway: true, evidence: "callers by Gateway " + key + " and " + routeKind(vs) + " " + vs.Namespace + "/" + vs.Name})
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

// potential are the namespaces that may call a Service, other than the
// proven ones, as classes: those running sidecars (one class per
// namespace, cut into runs that the policies' namespace patterns cannot
// tell apart, see authz.NamespaceClasses) and those running pods outside
// the mesh (plaintext: no identity, so one class for them all), less the
// ones the written policy names (proven, see namedPlaintext).
type potential struct {
	sidecars []string
	bounds   []int
	// proven are the namespaces whose sidecars are proven callers.
	proven    map[string]bool
	plaintext []string
}

func (l *lookups) potentialCallers(proven []caller, policies []*state.AuthorizationPolicy, named map[string]bool) *potential {
	p := &potential{sidecars: l.s.NamespacesWithSidecarClients(), proven: map[string]bool{}}
	for _, c := range proven {
		if c.MTLS && !c.gateway {
			p.proven[c.Namespace] = true
		}
	}
	p.bounds = authz.NamespaceClasses(p.sidecars, authz.NamespacePatterns(policies), sortedKeys(p.proven))
	p.plaintext = l.s.NamespacesWithAccidentalOutsiders()
	if slices.ContainsFunc(p.plaintext, func(ns string) bool { return named[ns] }) {
		p.plaintext = slices.DeleteFunc(slices.Clone(p.plaintext), func(ns string) bool { return named[ns] })
	}
	return p
}

// namedPlaintext are the plaintext callers of the namespaces the written
// ALLOW policy names (from.source.namespaces, or a principal's /ns/<ns>/),
// as proven callers: the policy's own intent is that they call, and
// without a peer identity they never match (a contradiction, not a
// restriction). A named namespace whose only pods outside the mesh were
// kept out on purpose counts too. Those among the potential plaintext
// callers come first, as they stand in that list.
func namedPlaintext(s state.Snapshot, ap *state.AuthorizationPolicy, named map[string]bool, pot *potential) []caller {
	var first, rest []caller
	for _, ns := range sortedKeys(named) {
		if cov := s.Coverage(ns); cov.AccidentalOutsiders+cov.DeliberateOutsiders == 0 {
			continue
		}
		c := caller{Caller: authz.Caller{Namespace: ns}, evidence: "named by AuthorizationPolicy " + ap.Namespace + "/" + ap.Name}
		if _, ok := slices.BinarySearch(s.NamespacesWithAccidentalOutsiders(), ns); ok && pot != nil {
			first = append(first, c)
		} else {
			rest = append(rest, c)
		}
	}
	return append(first, rest...)
}

// foreignNamed marks the proven callers, and adds as proven the sidecars,
// that an ALLOW policy names by a principal of
// another trust domain (not the mesh's, not an alias): the policy means
// them to call, and their certificates carry the mesh's trust domain, so
// the principal never matches them (authz.TrustDomain.Local). Only exact
// principals whose namespace runs sidecars with that service account.
// The message's fix then names the trust domain.
func foreignNamed(s state.Snapshot, ap *state.AuthorizationPolicy, td authz.TrustDomain, proven []caller) []caller {
	if ap == nil || ap.Action != state.AuthzAllow || ap.DryRun {
		return nil
	}
	var out []caller
	for _, r := range ap.Rules {
		for _, f := range r.From {
			for _, p := range f.Principals {
				parts := strings.Split(p, "/")
				if len(parts) != 5 || parts[1] != "ns" || parts[3] != "sa" || strings.Contains(p, "*") || td.Local(p) {
					continue
				}
				c := caller{Caller: authz.Caller{Namespace: parts[2], ServiceAccount: parts[4], MTLS: true},
					evidence: "named by AuthorizationPolicy " + ap.Namespace + "/" + ap.Name + " as " + p, foreign: p}
				if i := slices.IndexFunc(proven, func(o caller) bool { return o.Caller == c.Caller }); i >= 0 {
					proven[i].foreign = p // proven by routing already: say why it fails
					continue
				}
				if slices.ContainsFunc(out, func(o caller) bool { return o.Caller == c.Caller }) || !runsSidecar(s, c.Namespace, c.ServiceAccount) {
					continue
				}
				out = append(out, c)
			}
		}
	}
	return out
}

// runsSidecar reports whether ns runs a live sidecar pod with service account sa.
func runsSidecar(s state.Snapshot, ns, sa string) bool {
	found := false
	s.ForEachPod(ns, func(p *state.Pod) bool {
		found = p.Sidecar && !p.Router && !p.Finished() && p.ServiceAccount == sa
		return !found
	})
	return found
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

// field is where in the written policy a denial comes from.
// A write that moves the policy off the pods points at the field that
// moved it.
func field(written *state.AuthorizationPolicy, v authz.Verdict, moved string) string {
	switch {
	case written == nil:
		return "spec"
	case moved != "":
		return moved
	case v.Policy == written && v.Rule >= 0:
		return fmt.Sprintf("spec.rules[%d]", v.Rule)
	}
	return "spec.rules"
}

// target is what a caller can no longer call: a Service (namespace/name)
// or a Gateway, on a port whose filter chain is TCP or HTTP; movedOff names
// the field of the written policy (its selector or targetRefs) when the
// write moved the policy off the target's pods.
type target struct {
	name     string
	port     uint32
	tcp      bool
	movedOff string
}

// message says who can no longer call; names are the first few of the
// others more potential callers cut off with c.
func message(t target, c caller, v authz.Verdict, written *state.AuthorizationPolicy, names []string, others int, td authz.TrustDomain) string {
	who := c.String() + ", which may call it,"
	if others > 0 {
		named := names[:min(len(names), 3)]
		more := ""
		if others > 3 {
			more = fmt.Sprintf(" and %d more", others-3)
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
	msg := fmt.Sprintf("%s can no longer call %s port %d: %s", who, t.name, t.port, why)
	var fix string
	switch {
	case v.Rule >= 0:
		fix = "narrow that rule so it does not match them"
	case c.outside:
		fix = "they reach a gateway without an Istio certificate, so no principal or namespace can match them: allow them without a source (or by remoteIpBlocks)"
	case !c.MTLS:
		fix = "they arrive in plaintext, so no principal or namespace can match them: enroll them in the mesh first, or allow them without a source"
	case t.tcp && anyHTTPOnly(v.Policy):
		fix = "on a TCP port istiod drops ALLOW rules with HTTP-only fields (builder.go): allow the port in a rule without paths, methods, hosts or request headers"
	case c.foreign != "":
		fix = fmt.Sprintf("its trust domain is not the mesh's (%s) nor an alias, so no caller here matches it: write %s, or add the alias to trustDomainAliases", td.Name, c.Principal(td.Name))
	case c.ServiceAccount != "":
		fix = "add " + c.Principal(td.Name) + " to from.source.principals of an ALLOW rule"
	default:
		fix = "add namespace " + c.Namespace + " to from.source.namespaces of an ALLOW rule"
	}
	switch {
	case written == nil:
		fix = "keep the policy until the callers are allowed elsewhere, or " + fix
	case t.movedOff != "":
		fix = fmt.Sprintf("the write moves %s/%s off these pods (%s no longer matches them): restore it, or %s", written.Namespace, written.Name, t.movedOff, fix)
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

// routeKind is the kind of a route of the one route form.
func routeKind(vs *state.VirtualService) string {
	if vs.Kind != "" {
		return vs.Kind
	}
	return rules.KindVirtualService
}

// movedOff names the field by which an update moves a policy off pod (its
// selector, or its targetRefs), "" when both sides apply to it or the
// write is no update.
func movedOff(root string, pod *state.Pod, old, new *state.AuthorizationPolicy) string {
	if old == nil || new == nil || !authz.Applies(old, root, pod.Namespace, pod.Labels) || authz.Applies(new, root, pod.Namespace, pod.Labels) {
		return ""
	}
	if len(new.TargetRefs) > 0 {
		return "spec.targetRefs"
	}
	return "spec.selector"
}
