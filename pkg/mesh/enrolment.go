// Package mesh models the Istio semantics meshguard's rules rely on: which
// pods are in the mesh, which are servers, and which mTLS mode applies to a
// workload port.
package mesh

import (
	"istio.io/api/label"

	"github.com/meshguard/meshguard/pkg/state"
)

// InjectionEnabled reports whether pods created in ns later will join the
// mesh: sidecar injection (istio-injection=enabled, or an istio.io/rev label
// that an injector in s serves) or ambient enrolment
// (istio.io/dataplane-mode=ambient). istio-injection=disabled wins over a
// revision label, as the injectors' namespace selectors make it. When s holds
// no injector at all (a state file without MutatingWebhookConfigurations),
// a revision label counts: unknown is not missing.
func InjectionEnabled(s state.Snapshot, ns *state.Namespace) bool {
	if ns == nil {
		return false
	}
	return ns.Labels[label.IoIstioDataplaneMode.Name] == "ambient" || SidecarInjection(s, ns)
}

// SidecarInjection reports whether pods created in ns later get a sidecar:
// istio-injection=enabled, or an istio.io/rev label an injector in s serves
// (unknown without injectors: the label counts), unless
// istio-injection=disabled.
func SidecarInjection(s state.Snapshot, ns *state.Namespace) bool {
	if ns.Labels["istio-injection"] == "enabled" {
		return true
	}
	rev, ok := ns.Labels[label.IoIstioRev.Name]
	if !ok || ns.Labels["istio-injection"] == "disabled" {
		return false
	}
	served, known := s.ServesRevision(rev)
	return served || !known
}

// RevisionUnserved reports whether ns asks for a revision no injector in s
// serves (known only when s holds injectors).
func RevisionUnserved(s state.Snapshot, ns *state.Namespace) (rev string, unserved bool) {
	if ns == nil || ns.Labels["istio-injection"] == "enabled" {
		return "", false
	}
	rev, ok := ns.Labels[label.IoIstioRev.Name]
	if !ok || ns.Labels["istio-injection"] == "disabled" {
		return "", false
	}
	served, known := s.ServesRevision(rev)
	return rev, known && !served
}

// Ambient reports whether the pod's inbound traffic is captured by ztunnel:
// the CNI has marked it, or its namespace is labelled for ambient and the pod
// neither carries a sidecar nor opts out.
func Ambient(p *state.Pod, ns *state.Namespace) bool {
	if p.AmbientRedirected {
		return true
	}
	if p.Sidecar || p.DataplaneNone || ns == nil {
		return false
	}
	return ns.Labels[label.IoIstioDataplaneMode.Name] == "ambient"
}

// InMesh reports whether inbound mTLS reaches a proxy for this pod: an
// injected sidecar (native or not) or ambient enrolment.
func InMesh(p *state.Pod, ns *state.Namespace) bool {
	return p.Sidecar || Ambient(p, ns)
}

// IsServer reports whether the pod can receive traffic: not finished, not on
// the host network, and selected by a Service or declaring a container port.
// A finished Job pod or a hostNetwork agent is never a server.
func IsServer(p *state.Pod, selectedByService bool) bool {
	if p.Finished() || p.HostNetwork {
		return false
	}
	return selectedByService || len(p.Ports) > 0
}

// IsIstioComponent reports whether the pod is part of Istio's control or data
// plane that runs without a sidecar by design (istiod, istio-cni, ztunnel).
// Gateways run an istio-proxy container and count as meshed instead.
func IsIstioComponent(labels map[string]string) bool {
	return labels["app"] == "istiod" || labels["istio"] == "pilot" ||
		labels["k8s-app"] == "istio-cni-node" || labels["app"] == "ztunnel"
}

// DeliberateOutsider reports whether a pod outside the mesh was kept out on
// purpose (README, "How it decides": STRICT breaks sidecar-less callers): the pod
// opts out of injection (sidecar.istio.io/inject: "false", annotation or
// label) or of ambient (istio.io/dataplane-mode: none), its namespace does
// (istio-injection=disabled, istio.io/dataplane-mode=none), or it runs on the
// host network, where Istio never injects a proxy. Every other outsider is
// accidental: created before its namespace was enrolled, or in a namespace
// nobody enrolled.
func DeliberateOutsider(p *state.Pod, ns *state.Namespace) bool {
	if p.InjectOptOut || p.DataplaneNone || p.HostNetwork {
		return true
	}
	if ns == nil {
		return false
	}
	return ns.Labels["istio-injection"] == "disabled" || ns.Labels[label.IoIstioDataplaneMode.Name] == "none"
}

// Classify is the state.ClassifyFunc the store uses to keep coverage aggregates.
func Classify(p *state.Pod, ns *state.Namespace, selected bool) state.PodClass {
	return state.PodClass{
		Server: IsServer(p, selected),
		Meshed: InMesh(p, ns),
		Exempt: IsIstioComponent(p.Labels),
		Live:   !p.Finished(),
		// Only outsiders (live, unmeshed, not exempt) read this.
		Deliberate: DeliberateOutsider(p, ns),
		Gateway:    p.Router && !p.Finished(),
	}
}

// MeshedEntries are the WorkloadEntries of ns with a proxy that terminates
// Istio mTLS (state.WorkloadEntry.Meshed: VMs joined as Istio's VM install
// page joins them), as pods standing for them: such a proxy takes its
// namespace's and its labels' PeerAuthentications as a sidecar does.
func MeshedEntries(s state.Snapshot, ns string) []*state.Pod {
	var out []*state.Pod
	s.ForEachWorkloadEntry(ns, func(we *state.WorkloadEntry) bool {
		if we.Meshed {
			out = append(out, &state.Pod{Namespace: we.Namespace, Name: "WorkloadEntry " + we.Name, Labels: we.Labels, Sidecar: true, Ready: we.Healthy})
		}
		return true
	})
	return out
}
