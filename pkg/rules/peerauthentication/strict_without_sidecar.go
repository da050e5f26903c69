package peerauthentication

import (
	"fmt"
	"iter"
	"slices"
	"strings"

	"github.com/meshguard/meshguard/pkg/mesh"
	"github.com/meshguard/meshguard/pkg/rules"
	"github.com/meshguard/meshguard/pkg/state"
)

// strictWithoutSidecar (MG101) denies STRICT newly enforced across a
// namespace, or across the mesh, while pods outside the mesh that nobody kept
// out on purpose may still call the workloads now enforcing it.
//
// Istio's behaviour followed here: a PeerAuthentication is enforced by the
// *server's* proxy (pilot/pkg/security/authn builds the inbound listener's TLS
// mode from it), and a pod without a proxy can only send plaintext. So STRICT
// cuts off sidecar-less *callers*; a sidecar-less server is untouched (meshed
// clients reach it in plaintext through auto mTLS). This is the order of
// Istio's mTLS migration task: inject every client, then turn on STRICT; the
// authn-policy task shows `sleep` in the un-injected `legacy` namespace failing
// once mesh-wide STRICT is applied.
type strictWithoutSidecar struct{ paRule }

func (strictWithoutSidecar) ID() string { return "MG101" }

func (strictWithoutSidecar) Reads() []state.Kind {
	return append([]state.Kind{state.NamespaceKind, state.PeerAuthenticationKind, state.PodKind, state.ServiceKind, state.WorkloadEntryKind}, state.APIServerCallerKinds...)
}

func (r strictWithoutSidecar) Check(in *rules.Input) []rules.Finding {
	level, ok := scope(in)
	if !ok {
		return nil
	}
	var out []rules.Finding
	switch level {
	case mesh.LevelMesh:
		out = r.meshWide(in)
	case mesh.LevelNamespace:
		out = r.namespaceWide(in, in.Change.Ref.Namespace)
	case mesh.LevelIgnored:
		return nil
	}
	// Workload policies need no coverage of their in-mesh neighbours (MG102),
	// but callers from outside the cluster are cut off at any level.
	out = append(out, r.apiServerCallers(in, level)...) // the kube-apiserver, another plaintext caller: apiserver_callers.go
	return append(out, r.externalCallers(in, level)...)
}

// externalCallers denies STRICT over meshed pods that a Service reachable
// from outside the cluster (LoadBalancer, NodePort, externalIPs) selects
// directly: outside clients and cloud load balancers' health checks send
// plaintext, and no proxy of the mesh sits in front of them. A port left out
// of interception or kept PERMISSIVE still takes it; gateways enforce no
// PeerAuthentication, so Services fronting them are fine.
func (r strictWithoutSidecar) externalCallers(in *rules.Input, level mesh.Level) []rules.Finding {
	var out []rules.Finding
	for ns := range callerNamespaces(in, level, in.State.NamespaceNames) {
		for _, svc := range in.State.Services(ns) {
			if !svc.External {
				continue
			}
			var pods []string
			var ports []string
			count := 0
			in.State.ForEachServicePod(svc.Namespace, svc.Name, func(p *state.Pod) bool {
				for _, sp := range svc.Ports {
					if refusingPort(in, sp, p) != 0 {
						count++
						if len(pods) < examples {
							pods = append(pods, p.Name)
						}
						port := fmt.Sprint(sp.Port)
						if !slices.Contains(ports, port) {
							ports = append(ports, port)
						}
						break
					}
				}
				return true
			})
			if count == 0 {
				continue
			}
			ref := svc.Namespace + "/" + svc.Name
			out = append(out, rules.Finding{Rule: r.ID(), Action: rules.Deny, Field: modeField(in.PA), Key: "external:" + ref, Subjects: []string{ref},
				Message: fmt.Sprintf("STRICT would reject the plaintext that callers outside the cluster (clients, load balancers' health checks) send through Service %s, reachable from outside, to %s on port %s: %s — keep those ports PERMISSIVE (portLevelMtls), exclude them from interception (traffic.sidecar.istio.io/excludeInboundPorts), or route outside traffic through an ingress gateway",
					ref, plural(count, "meshed pod", "meshed pods"), strings.Join(ports, ", "), list(pods, count))})
		}
	}
	return out
}

// callerNamespaces are the namespaces whose Services a policy at level may
// close to callers that are no pods: the policy's own, or for a mesh-wide
// policy those meshWide lists; excluded namespaces are never judged.
func callerNamespaces(in *rules.Input, level mesh.Level, meshWide func() []string) iter.Seq[string] {
	nss := []string{in.Change.Ref.Namespace}
	if level == mesh.LevelMesh {
		nss = meshWide()
	}
	return func(yield func(string) bool) {
		for _, ns := range nss {
			if !in.Config.Excluded(ns) && !yield(ns) {
				return
			}
		}
	}
}

// strictServers reports whether some meshed pod or VM of ns enforces STRICT
// on a port. Without workload policies in ns that is the namespace's mode
// over its meshed servers; with them, pods a workload policy keeps PERMISSIVE
// (or DISABLE) enforce nothing, and a namespace whose every meshed pod is so
// excepted changes no path. A VM's proxy (a WorkloadEntry istiod says
// terminates mTLS) takes its namespace's and its labels' policies as a
// sidecar does: its namespace, labels and service account come from the
// WorkloadGroup (istio.io's VM install page), and pilot builds its inbound
// listener from PeerAuthentication as for any sidecar
// (pilot/pkg/networking/core/listener_inbound.go, security/authn). A
// namespace of VMs alone, as the install page's VM namespace, has no
// meshed pod.
func strictServers(in *rules.Input, ns string) bool {
	s := in.State
	vms := mesh.MeshedEntries(s, ns)
	if s.Coverage(ns).MeshedServers == 0 && len(vms) == 0 {
		return false
	}
	workload := false
	for _, pa := range s.PeerAuthentications(ns) {
		workload = workload || pa.HasSelector()
	}
	if !workload && in.Policies.NamespaceMode(s, ns).Mode != state.ModeStrict {
		return false
	}
	found := false
	services := s.Services(ns)
	s.ForEachPod(ns, func(p *state.Pod) bool {
		if p.Finished() || gatewayPod(p) || !(p.Sidecar || mesh.Ambient(p, s.Namespace(ns))) || !server(p, services) || !interceptsAPort(p) {
			return true
		}
		found = !workload || in.Policies.StrictAnywhere(s, p)
		return !found
	})
	for _, vm := range vms {
		found = found || in.Policies.StrictAnywhere(s, vm)
	}
	return found
}

// interceptsAPort: a sidecar whose every declared container port is left
// out of interception (traffic.sidecar.istio.io/excludeInboundPorts, or not
// in includeInboundPorts) enforces nothing: iptables hands those ports to
// the application around Envoy, whose inbound listener never sees them
// (the oracle's judge found a namespace STRICT over such a pod denied).
func interceptsAPort(p *state.Pod) bool {
	if !p.Sidecar || len(p.Ports) == 0 {
		return true
	}
	for _, np := range p.Ports {
		if p.InboundIntercepted(uint32(np.Port)) {
			return true
		}
	}
	return false
}

// server reports whether a pod can receive traffic (mesh.IsServer): only
// servers enforce anything, so a meshed client with no port and no Service
// that a workload policy leaves out of its exceptions refuses no caller.
func server(p *state.Pod, services []*state.Service) bool {
	selected := false
	for _, svc := range services {
		if len(svc.Selector) > 0 && state.SelectorMatches(svc.Selector, p.Labels) {
			selected = true
			break
		}
	}
	return mesh.IsServer(p, selected)
}

// gatewayPod: a proxy running as a gateway or waypoint (its listeners
// follow its Gateway's servers, not PeerAuthentication).
func gatewayPod(p *state.Pod) bool { return p.Router }

// fixes are the remedies that work for an accidental outsider: a PERMISSIVE
// policy in the caller's own namespace would not help (it governs calls into
// that namespace, not out of it), so it is never offered.
const fixes = `inject or enroll them (label the namespace, then kubectl rollout restart their owners)%s, or, if they never call meshed workloads, opt them out with sidecar.istio.io/inject: "false"`

func (r strictWithoutSidecar) meshWide(in *rules.Input) []rules.Finding {
	meshEff := in.Policies.MeshMode(in.State)
	if meshEff.Mode != state.ModeStrict {
		return nil
	}
	enforced := meshStrictEnforced(in, meshEff)
	var namespaces, pods []string
	total := 0
	// Only namespaces with accidental outsiders can fail; the store keeps
	// them sorted. A namespace with a PERMISSIVE policy of its own still
	// counts: that policy protects calls into it, not the calls its pods make.
	for _, ns := range in.State.NamespacesWithAccidentalOutsiders() {
		if in.Config.Excluded(ns) {
			continue
		}
		namespaces = append(namespaces, ns)
		total += in.State.Coverage(ns).AccidentalOutsiders
		for _, p := range in.State.AccidentalOutsiders(ns, examples-len(pods)) {
			pods = append(pods, p.Ref())
		}
	}
	if total == 0 {
		return nil
	}
	if !enforced {
		// Every namespace with meshed servers was STRICT already: no path
		// changes now, but namespaces that come to inherit the policy will.
		return []rules.Finding{{Rule: r.ID(), Action: rules.Warn, Field: modeField(in.PA), Key: "mesh-idle", Subjects: namespaces,
			Message: fmt.Sprintf("mesh-wide STRICT changes no server now (every namespace with meshed servers enforces STRICT already), but servers that come to inherit it will reject plaintext from %s outside the mesh in %s",
				plural(total, "pod", "pods"), list(namespaces[:min(len(namespaces), examples)], len(namespaces)))}}
	}
	return []rules.Finding{{
		Rule: r.ID(), Action: rules.Deny, Field: modeField(in.PA), Key: "mesh", Subjects: namespaces,
		Message: fmt.Sprintf("mesh-wide STRICT would reject plaintext from %s outside the mesh in %s (%s) that may call meshed workloads: %s — "+fixes,
			plural(total, "pod", "pods"), plural(len(namespaces), "namespace", "namespaces"),
			list(namespaces[:min(len(namespaces), examples)], len(namespaces)), list(pods, total),
			", keep the mesh-wide policy PERMISSIVE until then"),
	}}
}

func (r strictWithoutSidecar) namespaceWide(in *rules.Input, ns string) []rules.Finding {
	if in.Config.Excluded(ns) {
		return nil
	}
	eff := in.Policies.NamespaceMode(in.State, ns)
	// STRICT over a namespace without a meshed server enforces nothing.
	if eff.Mode != state.ModeStrict || !strictServers(in, ns) {
		return nil
	}
	// The namespace's own STRICT is judged by its own outsiders (MG102 warns
	// about the rest). The mesh-wide STRICT newly reaching it (an override
	// deleted or unset) is judged like the mesh-wide write itself: every
	// accidental outsider in the mesh could call into the namespace the
	// override was keeping open, and none can any more. A namespace that was
	// STRICT already (its own STRICT policy deleted under a STRICT mesh)
	// changes no path.
	nss := []string{ns}
	what, keep := "STRICT", ", keep "+ns+" PERMISSIVE until then"
	if eff.Source != nil && eff.Source.Namespace != ns {
		what = fmt.Sprintf("the mesh-wide STRICT of %s/%s now reaching %s", eff.Source.Namespace, eff.Source.Name, ns)
		if in.Policies.NamespaceMode(in.Prior, ns).Mode != state.ModeStrict {
			nss = in.State.NamespacesWithAccidentalOutsiders()
			keep = ", keep the PERMISSIVE override of " + ns + " until then"
		}
	}
	var namespaces, pods []string
	total := 0
	for _, ons := range nss {
		n := in.State.Coverage(ons).AccidentalOutsiders
		if n == 0 || in.Config.Excluded(ons) {
			continue
		}
		namespaces = append(namespaces, ons)
		total += n
		for _, p := range in.State.AccidentalOutsiders(ons, examples-len(pods)) {
			pods = append(pods, p.Ref())
		}
	}
	if total == 0 {
		return nil
	}
	return []rules.Finding{{
		Rule: r.ID(), Action: rules.Deny, Field: modeField(in.PA), Key: ns, Subjects: namespaces,
		Message: fmt.Sprintf("%s would reject plaintext from %s outside the mesh in %s that may call its meshed workloads: %s — "+fixes,
			what, plural(total, "pod", "pods"), list(namespaces[:min(len(namespaces), examples)], len(namespaces)), list(pods, total), keep),
	}}
}

// meshStrictEnforced reports whether the mesh-wide STRICT newly reaches a
// namespace where a meshed server enforces it: one governed by the mesh
// policy that was not STRICT before the write. When every namespace with
// meshed servers was STRICT already (by policies of their own), the mesh-wide
// policy breaks no path that worked (istiod's generated listeners are the
// same), so it is not judged here; a namespace that took STRICT from the
// mesh policy before still counts, so that keeping it is a pre-existing
// finding. It stops at the first such namespace.
func meshStrictEnforced(in *rules.Input, meshEff mesh.Effective) bool {
	for _, ns := range in.State.NamespaceNames() {
		if strictServers(in, ns) && governedByMeshStrict(in, ns, meshEff) &&
			(in.Phase == rules.Before || in.Policies.InheritsMesh(in.Prior, ns) || in.Policies.NamespaceMode(in.Prior, ns).Mode != state.ModeStrict) {
			return true
		}
	}
	return false
}
